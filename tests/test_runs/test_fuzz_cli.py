"""Property test: generated malformed ``--set`` values and keys and scenario files make ``tokenmarket run`` exit
2 with one error line naming the field, start no simulation and touch nothing in the output location
(tests/fuzz_support.py generates and classifies; benchmarks/fuzz_cli.py runs many more)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz_support import outcome, set_case, toml_case

TRIED: Counter = Counter()
FUZZ = settings(max_examples=400, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(f"\nfuzzed tokenmarket run with {sum(TRIED.values())} malformed inputs: {dict(TRIED)}")


@FUZZ
@given(case=set_case())
def test_malformed_set_values_and_keys_exit_2_naming_the_field(tmp_path_factory, case):
    got, err = outcome(case, tmp_path_factory.getbasetemp())
    TRIED[f"--set {got}"] += 1
    assert got == "clean", (case, err)


@FUZZ
@given(case=toml_case())
def test_malformed_scenario_files_exit_2_naming_the_field(tmp_path_factory, case):
    got, err = outcome(case, tmp_path_factory.getbasetemp())
    TRIED[f"toml {got}"] += 1
    assert got == "clean", (case, err)
