"""The calibration's inputs: the shipped targets table (dates → rounds, figures, coverage of path_targets.csv), the
moments read from model outputs (known values on hand-made tables), the objective, and bad files refused with
exit 2 naming the row and the field."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market import calibration, path_targets
from market.calendar import round_of
from runs.calibration import CalibrationError
from runs.calibration.moments import at_target, comparison_error, moment_frame, objective, series_path
from runs.calibration.parameters import load_parameters, parse_parameters
from runs.calibration.targets import MINUTES_PER_MONTH, load_targets, parse_targets
from runs.commands.main import main

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "calibration.md"


@pytest.fixture(scope="module")
def table():
    return load_targets()


def by_name(table, name):
    return next(t for t in table.targets if t.name == name)


# ------------------------------------------------------------------------------------------ the shipped table

def test_every_path_target_row_is_used_or_listed_unused_with_a_reason(table):
    cited = {k for t in table.targets for k in t.keys}
    unused = {u.key for u in table.unused}
    keys = set(path_targets.keys())
    assert not keys - cited - unused, f"rows neither used nor listed unused: {sorted(keys - cited - unused)}"
    assert not cited & unused
    assert all(u.reason for u in table.unused)


def test_docs_list_every_unused_row(table):
    text = DOC.read_text()
    missing = [u.key for u in table.unused if f"`{u.key}`" not in text]
    assert not missing, f"docs/calibration.md does not list these unused rows: {missing}"


@pytest.mark.parametrize("name, start, end", [
    ("google_tokens_2025_05", 10, 10),                     # May 2025 is month 10 after July 2024
    ("gemini_api_2025_10", 15 + (29 - 15.5) / 30.5, None),  # 29 Oct 2025: October plus the day's fraction
    ("openai_revenue_2025", 6, 17),                          # calendar 2025 = January (6) … December (17)
    ("chatgpt_plus_price_second_year", 12, 23),
    ("hosts_run_rate_2026_q1", 19, 19),                      # a quarter at its middle month (Feb 2026)
    ("labs_run_rate_first_month", 1, 1),                     # August 2024, the first recorded round
])
def test_dates_map_to_rounds_through_the_calendar(table, name, start, end):
    t = by_name(table, name)
    assert t.start == pytest.approx(start, abs=1e-9)
    assert t.end == pytest.approx(start if end is None else end, abs=1e-9)
    first = t.when.split("..")[0]
    assert t.start == pytest.approx(round_of(first))


def test_figures_are_recomputed_from_the_rows(table):
    mix_in, mix_out = calibration.value("deepseek_input_tokens_per_day"), calibration.value("deepseek_output_tokens_per_day")
    assert by_name(table, "openai_api_price_first_month").value == pytest.approx((608 * 2.5 + 168 * 10) / 776)
    assert mix_in / (mix_in + mix_out) == pytest.approx(608 / 776)
    assert by_name(table, "openai_training_share_2024").value == pytest.approx(100 * 3.0 / 4.8)
    assert by_name(table, "openrouter_closed_share_2025_12").value == pytest.approx(67.0)
    assert by_name(table, "market_tokens_2025_07").value == pytest.approx(980.0)
    assert by_name(table, "hosts_run_rate_2026_q1_with_together").value == pytest.approx(1 + 0.315 + 0.6)


def test_soft_rows_weigh_less_than_one(table):
    for t in table.targets:
        if {"UNVERIFIED", "secondary", "ESTIMATE"} & set(t.tags) and not t.quality_note:
            assert t.weight < 1, t.name


# ------------------------------------------------------------------------------------------ moments on known tables

def _agents():
    rows = []
    for r in (1, 2, 3):
        rows += [dict(round=r, type="lab", name="a", funding="investor", vertical="", revenue_usd=100.0 * r,
                      api_tokens_mtok=10.0 * r, price=2.0, customers_chat=5.0, customers_code=1.0,
                      training_gpus=30.0, gpus=100.0),
                 dict(round=r, type="lab", name="b", funding="investor", vertical="", revenue_usd=50.0,
                      api_tokens_mtok=30.0, price=1.0, customers_chat=2.0, customers_code=2.0,
                      training_gpus=10.0, gpus=100.0),
                 dict(round=r, type="wrapper", name="w", funding="investor", vertical="coding", revenue_usd=7.0,
                      api_tokens_mtok=np.nan, price=20.0, customers_chat=0.0, customers_code=9.0,
                      training_gpus=0.0, gpus=0.0)]
    return pd.DataFrame(rows)


def _model():
    return pd.DataFrame({"round": [1, 2, 3], "tokens_paid_mtok": [1.0, 2.0, 4.0], "tokens_free_mtok": [1.0, 1.0, 1.0]})


def _table(series: str, target: str) -> object:
    return parse_targets(textwrap.dedent(series) + textwrap.dedent(target))


SERIES = {
    "share": """
        [[series]]
        name = "s"
        table = "agents"
        column = "price * api_tokens_mtok"
        firms = {name = ["a"]}
        share_of = {type = ["lab"]}
        unit = "percent"
        compare = "diff"
        """,
    "rate": """
        [[series]]
        name = "s"
        table = "agents"
        column = "revenue_usd"
        firms = {type = ["lab"]}
        convert = "run_rate"
        """,
    "ratio": """
        [[series]]
        name = "s"
        table = "agents"
        column = "training_gpus / gpus"
        firms = {name = ["a", "b"]}
        unit = "percent"
        compare = "diff"
        """,
    "glob": """
        [[series]]
        name = "s"
        table = "agents"
        column = "customers_*"
        firms = {name = ["b", "w"]}
        """,
    "per_minute": """
        [[series]]
        name = "s"
        table = "agents"
        column = "api_tokens_mtok"
        convert = "per_minute"
        """,
    "model": """
        [[series]]
        name = "s"
        table = "model"
        column = "tokens_paid_mtok + tokens_free_mtok"
        convert = "tokens"
        unit = "million"
        """,
}
TARGET = """
    [[target]]
    name = "t"
    series = "s"
    figure = "openai_arr_2024_friar"
    date = "2024-12"
    date_note = "a test"
    tolerance = 2.0
    weight = 1.0
    reason = "a test"
    """


@pytest.mark.parametrize("kind, expected", [
    ("share", [100 * 20 / 50, 100 * 40 / 70, 100 * 60 / 90]),     # a's API spend over both labs', round by round
    ("rate", [12 * 150, 12 * 250, 12 * 350]),                     # labs' revenue × 12
    ("ratio", [100 * 40 / 200] * 3),                              # ratio of sums over the selected firms
    ("glob", [4 + 9] * 3),                                        # customers_* summed over columns and firms
    ("per_minute", [(10 * r + 30) * 1e6 / MINUTES_PER_MONTH for r in (1, 2, 3)]),  # the wrapper's NaN adds nothing
    ("model", [2.0, 3.0, 5.0]),                                   # Mtok → tokens → millions of tokens
])
def test_series_paths_have_hand_computed_values(kind, expected):
    t = _table(SERIES[kind], TARGET)
    path = series_path(t.series["s"], _model(), _agents())
    assert path.to_numpy() == pytest.approx(expected)


def test_a_target_interpolates_between_rounds_and_averages_windows():
    t = _table(SERIES["model"], TARGET)
    path = series_path(t.series["s"], _model(), _agents())
    dated = t.targets[0].__class__(**{**t.targets[0].__dict__, "start": 1.25, "end": 1.25, "when": "x"})
    assert at_target(dated, path) == pytest.approx(2.0 * 0.75 + 3.0 * 0.25)
    window = t.targets[0].__class__(**{**t.targets[0].__dict__, "start": 1, "end": 3, "when": "a..b"})
    assert at_target(window, path) == pytest.approx(10 / 3)


def test_comparison_errors_and_missing_values():
    t = _table(SERIES["rate"], TARGET)
    target, series = t.targets[0], t.series["s"]
    assert comparison_error(target, series, 12.0) == (pytest.approx(math.log(2.0)), False)  # figure 6, model 12
    d, missing = comparison_error(target, series, 0.0)
    assert missing and d == pytest.approx(-5 * math.log(2.0))   # the bounded penalty: 5 tolerances below
    share = _table(SERIES["share"], TARGET)
    assert comparison_error(share.targets[0], share.series["s"], 10.0) == (pytest.approx(4.0), False)


def test_objective_has_its_hand_computed_value():
    # two seeds × two targets; the second is a lower bound that the seed mean (+0.5) satisfies: it counts 0
    d = np.array([[0.2, 1.0], [0.4, 0.0]])
    j = objective(d, weights=[1.0, 0.5], scales=[0.1, 1.0], bounds=["point", "lower"])
    assert j == pytest.approx(1.0 * (0.3 / 0.1) ** 2 / 1.5)
    below = objective(np.array([[0.0, -2.0]]), [1.0, 1.0], [1.0, 1.0], ["point", "lower"])
    assert below == pytest.approx(4.0 / 2)


def test_moment_frame_names_a_missing_column():
    t = _table(SERIES["rate"].replace("revenue_usd", "revenue_total_usd"), TARGET)
    with pytest.raises(ValueError, match="series s: column: revenue_total_usd not in agents.csv"):
        moment_frame(t, _model(), _agents())


# ------------------------------------------------------------------------------------------ bad files

GOOD_SERIES = SERIES["rate"]


@pytest.mark.parametrize("target, message", [
    (TARGET.replace('tolerance = 2.0', 'tolerance = 0.5'), "target 1 (t): tolerance: 0.5 out of range"),
    (TARGET.replace('weight = 1.0', 'weight = 1.5'), "target 1 (t): weight: 1.5 out of range"),
    (TARGET.replace('"openai_arr_2024_friar"', '"openai_arr_2024_frair"'), "target 1 (t): figure:"),
    (TARGET.replace('"openai_arr_2024_friar"', '"__import__(1)"'), "target 1 (t): figure:"),
    (TARGET.replace('date = "2024-12"', 'date = "2024-13"'), "target 1 (t): date:"),
    (TARGET.replace('date = "2024-12"', 'date = "2024-05"'), "target 1 (t): date: '2024-05' is round -2"),
    (TARGET.replace('series = "s"', 'series = "nope"'), "target 1 (t): series: 'nope' is not a [[series]]"),
    (TARGET.replace('reason = "a test"', 'colour = "red"\nreason = "a test"'), "target 1 (t): colour: unknown field"),
    (TARGET.replace('date_note = "a test"\n', '').replace('"2024-12"', '"2025-06"'), "target 1 (t): date_note: missing"),
    (TARGET.replace('"openai_arr_2024_friar"', '"openai_arr_2026_02"').replace('"2024-12"', '"2026-02"'),
     "target 1 (t): weight: 1 but a cited row is tagged UNVERIFIED"),
])
def test_bad_targets_name_the_row_and_the_field(target, message):
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        _table(GOOD_SERIES, target)


def test_bad_series_and_unused_rows_are_named():
    with pytest.raises(CalibrationError, match=r"series 1 \(s\): column:"):
        _table(GOOD_SERIES.replace('"revenue_usd"', '"revenue_usd -"'), TARGET)
    with pytest.raises(CalibrationError, match=r"series 1 \(s\): convert: 'per_hour' not allowed"):
        _table(GOOD_SERIES.replace('"run_rate"', '"per_hour"'), TARGET)
    with pytest.raises(CalibrationError, match=r"unused 1 \(openai_arr_2024_friar\): key: cited by a target"):
        _table(GOOD_SERIES, TARGET + '\n[[unused]]\nkey = "openai_arr_2024_friar"\nreason = "x"\n')


def test_a_bad_targets_file_exits_2_naming_the_row(tmp_path, capsys):
    bad = tmp_path / "targets.toml"
    bad.write_text(textwrap.dedent(GOOD_SERIES) + textwrap.dedent(TARGET).replace("weight = 1.0", "weight = 0"))
    code = main(["calibrate", "--targets", str(bad), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "target 1 (t): weight: 0 out of range" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


PARAM = """
    [[parameter]]
    path = "customers.segments.0.price_scale_usd"
    lo = 1.0
    hi = 25.0
    scale = "log"
    reason = "a test"
    """


@pytest.mark.parametrize("edit, message", [
    (("customers.segments.0.price_scale_usd", "customers.segments.0.price_scale"), "parameter 1 (customers.segments.0.price_scale): path: "),
    (("customers.segments.0.price_scale_usd", "world.data_flywheel"), "path: world.data_flywheel is a bool field"),
    (("hi = 25.0", "hi = 0.5"), "parameter 1 (customers.segments.0.price_scale_usd): lo/hi: 1 ≥ 0.5"),
    (("hi = 25.0", "hi = 2e6"), "parameter 1 (customers.segments.0.price_scale_usd): hi: 2e+06 rejected by the schema"),
    (("lo = 1.0", "lo = 0.0"), "lo: 0 ≤ 0 on a log scale"),
    (("scale = \"log\"", "scale = \"logit\""), "scale: 'logit' not allowed"),
    (("reason = \"a test\"", "why = \"a test\""), "why: unknown field"),
])
def test_bad_parameters_name_the_parameter_and_the_field(edit, message):
    text = textwrap.dedent(PARAM).replace(*edit)
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        parse_parameters(text, {})


def test_a_bad_parameters_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "params.toml"
    bad.write_text(textwrap.dedent(PARAM).replace("lo = 1.0", "lo = 30.0"))
    code = main(["calibrate", "--params", str(bad), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    assert "parameter 1 (customers.segments.0.price_scale_usd): lo/hi: 30 ≥ 25" in capsys.readouterr().err


def test_shipped_parameters_are_valid_and_at_most_twelve():
    params = load_parameters(None, {})
    assert 1 <= len(params.parameters) <= 12
    for p in params.parameters:
        assert p.lo < p.hi and p.reason
        u = p.to_unit(p.from_unit(0.3))
        assert u == pytest.approx(0.3, abs=1e-8)   # unit coordinates invert


def test_shipped_priors_contain_the_assumed_defaults():
    # A prior that excludes the hand-set default could not tell whether the data moved a parameter or the range did.
    params = load_parameters(None, {})
    outside = [(p.path, p.default, p.lo, p.hi) for p in params.parameters if not p.lo <= p.default <= p.hi]
    assert not outside, f"defaults outside their prior ranges: {outside}"


def test_calibrate_starts_from_the_baseline_scenario_by_default():
    # The help says "default: baseline". The estimation stands on the baseline's file without the calibrated layer
    # (it owes nothing to the last estimates); the population check on the market as runs see it (with the layer).
    from market.scenario import config_from
    from runs.commands.calibrate import _plan
    from runs.commands.main import build_parser

    args = build_parser().parse_args(["calibrate", "--population-check", "--customers", "1000"])
    for calibrated in (False, True):
        plan = _plan(args, calibrated=calibrated)
        baseline = config_from("baseline", {}, calibrated=calibrated).model_dump(mode="json")
        assert plan.base_config["world"]["usage_growth_per_year"] == baseline["world"]["usage_growth_per_year"]
        assert plan.base_config["customers"]["segments"] == baseline["customers"]["segments"]
        assert plan.scenario == "baseline"
    bare, layered = (config_from("baseline", {}, calibrated=c).model_dump(mode="json") for c in (False, True))
    assert bare["world"]["usage_growth_per_year"] != layered["world"]["usage_growth_per_year"]  # the two differ
