"""The objective's arithmetic and the calendar, against hand calculations."""

import math

import numpy as np
import pytest

from market import calendar, objective


def test_monthly_rate_compounds_to_the_annual_rate():
    r = objective.monthly_rate(0.25)
    assert (1 + r) ** 12 == pytest.approx(1.25, rel=1e-12)
    with pytest.raises(ValueError, match="annual_rate"):
        objective.monthly_rate(-1.0)


def test_present_value_of_a_level_annuity_equals_the_closed_form():
    r = 0.01
    flows = np.full(24, 100.0)
    # 100 × (1 − 1.01^−24) / 0.01 = 2124.34 (hand calculation)
    assert objective.present_value(flows, r) == pytest.approx(2124.3387, rel=1e-7)
    assert objective.annuity_factor(24, r) * 100 == pytest.approx(2124.3387, rel=1e-7)
    assert objective.annuity_factor(math.inf, r) == pytest.approx(100.0)
    assert objective.annuity_factor(5, 0.0) == 5.0


def test_terminal_value_is_a_floored_gordon_perpetuity():
    assert objective.terminal_value(50.0, 10.0, 0.02, 0.01) == pytest.approx(50 + 10 / 0.01)
    assert objective.terminal_value(50.0, -10.0, 0.02) == 0.0  # limited liability
    with pytest.raises(ValueError, match="growth"):
        objective.terminal_value(0.0, 1.0, 0.01, 0.01)


def test_owners_value_discounts_the_diluted_terminal_value():
    r = 0.01
    v = objective.owners_value(np.array([-10.0, 0.0]), 0.5, 100.0, 1.0, r)
    expected = -10 / 1.01 + 0.5 * (100 + 1 / 0.01) / 1.01 ** 2
    assert v == pytest.approx(expected, rel=1e-12)
    assert objective.owners_value(np.array([-10.0]), 1.0, 1e9, 1e9, r, alive_at_horizon=False) == pytest.approx(-10 / 1.01)


@pytest.mark.parametrize("date, expected", [("2024-07", 0.0), ("2025-07", 12.0), ("2024-08-15", 1 - 0.5 / 30.5),
                                            ("2025-Q3", 13.0), ("2025Q1", 7.0), ("2025", 11.5), ("2023-11", -8.0)])
def test_round_of_places_dates_at_the_middle_of_their_period(date, expected):
    assert calendar.round_of(date) == pytest.approx(expected)


def test_date_of_inverts_round_of_for_months():
    for r in range(-12, 121):
        assert calendar.round_of(calendar.date_of(r)) == r


@pytest.mark.parametrize("bad", ["2025-13", "soon", "2025-Q5", "2025-02-40", ""])
def test_bad_dates_name_the_text(bad):
    with pytest.raises(calendar.DateError, match="date"):
        calendar.round_of(bad)
