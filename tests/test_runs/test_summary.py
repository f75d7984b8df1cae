"""The summary printed after a run: human units, no scientific notation, within 100 columns, one entry per verdict."""

import re

import pytest

from market.simulate import run_once
from runs.reports.summary import WIDTH, firm_type_table, human, money, summary_table
from tests.conftest import small_config


@pytest.mark.parametrize("x, text", [(-137_080_000, "−$137.1M"), (67_300_000, "$67.30M"), (0.969, "$0.9690"),
                                     (12.6e9, "$12.60B"), (-5.0, "−$5.000"), (float("nan"), "n/a")])
def test_money_puts_the_sign_before_the_dollar(x, text):
    assert money(x) == text


@pytest.mark.parametrize("x, text", [(6.73e7, "67.3M"), (2.93e7, "29.3M"), (3007.0, "3.01k"), (0.0, "0"),
                                     (1.5e13, "15.0T"), (0.000123, "0.000123")])
def test_human_counts_never_use_scientific_notation(x, text):
    assert human(x) == text


@pytest.fixture(scope="module")
def result():
    return run_once(small_config(**{"world.rounds": 4}), 1, run_id="t")


def test_summary_fits_100_columns_in_human_units(result):
    text = summary_table(result)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert not re.search(r"\de[+-]\d", text) and "$-" not in text
    assert "HHI, API" in text and "by firm type" in text


def test_one_entry_per_verdict(result):
    text = summary_table(result).splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("outcomes at round"))
    entries = [line for line in text[start + 1:] if line.startswith("  ") and not line.startswith("      ")]
    assert [e.split(":")[0].strip() for e in entries[:3]] == ["dumb pipe", "loss leading", "vertical takeover"]


def test_firm_type_table_has_money_with_units(result):
    table = firm_type_table(result.agents, 4)
    assert set(table.index) >= {"lab", "wrapper"}
    assert all(cell.startswith(("$", "−$")) for cell in table["revenue/mo"])
    assert table.loc["lab", "price"].endswith("$/Mtok") and table.loc["wrapper", "price"].endswith("$/month")
