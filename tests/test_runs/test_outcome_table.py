"""benchmarks/outcome_frequencies.py: the pair table read from a study's runs (known counts by hand)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from runs.compare.pairs import Pair

_SPEC = importlib.util.spec_from_file_location(
    "outcome_frequencies", Path(__file__).resolve().parents[2] / "benchmarks" / "outcome_frequencies.py")
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)


def test_pair_table_counts_detectors_and_choices_by_hand():
    runs = pd.DataFrame({
        "scenario": ["a", "a", "a", "b", "b"], "status": ["ok", "ok", "failed", "ok", "ok"],
        "outcome_loss_leading": ["True", "False", "", "True", "True"],
        "choice_api_conduct_best_response": [7, 9, 0, 5, 5], "choice_api_conduct_penetration": [3, 1, 0, 0, 0],
        "choice_vertical_build": [0, 0, 0, 3, 3], "choice_vertical_acquire": [0, 0, 0, 2, 0]})
    text = bench.table(runs, [Pair("Q4", "a", "b", "condition")]).splitlines()
    row_a, row_b = text[2], text[3]
    assert "| a |" in row_a and "1/2 [" in row_a  # the failed run is not counted
    assert "api_conduct penetration 0.20" in row_a  # 4 of 20 conduct decisions
    assert "2/2 [0.34, 1.00]" in row_b  # Wilson 95 % of 2 of 2
    assert "vertical acquire 0.25" in row_b and "penetration" not in row_b  # 2 of 8 vertical decisions


def test_unknown_pair_key_exits_2(capsys):
    import pytest

    with pytest.raises(SystemExit) as err:
        bench.main(["--pairs", "Q9:x-y", "somewhere"])
    assert err.value.code == 2 and "--pairs" in capsys.readouterr().err
