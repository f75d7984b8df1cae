"""`tokenmarket params` and the rows behind it: every parameter has a unit, a range and a source that resolves."""

import io
import re

import pandas as pd
import pytest

from market import calibration
from market.config import ConfigError, GpuMarketConfig, WorldConfig, build_config, list_scenarios, schema_fields
from market.provenance import VALUE_SOURCES, SourceError, comment_for, resolve_source, scenario_comments
from runs.commands.main import main
from runs.reports.params import ODD_BEGIN, ODD_END, ORIGINS, fmt, format_csv, odd_block, parameter_rows, range_text

SCENARIOS = [None, *list_scenarios()]


@pytest.fixture(scope="module")
def baseline():
    return parameter_rows()


def test_one_collapsed_row_per_schema_field_with_unit_range_and_source():
    rows = parameter_rows(collapse=True)
    assert [r.path for r in rows] == [f.path for f in schema_fields()]
    assert {"labs[].skill", "customers.segments[].wtp_median_usd_per_month"} <= {r.path for r in rows}
    for r in rows:
        assert r.unit and r.range and r.source, r.path
        for kind in r.kind.split(", "):  # elements with sources of different kinds: their kinds, joined
            assert kind in ("calibration", "derived", "assumption", "design", "code", "literature", "label"), r.path


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_value_of_every_scenario_has_unit_range_and_a_source(scenario):
    rows = parameter_rows(scenario)
    assert rows
    unsourced = [f"{r.path} = {fmt(r.value)}" for r in rows if r.kind == "unsourced"]
    assert not unsourced, f"{scenario}: values without a source (add a comment in the scenario file or a " \
                          f"VALUE_SOURCES entry): {unsourced}"
    for r in rows:
        assert r.unit and r.range and r.origin in ORIGINS, r.path
        for key in r.keys:
            assert calibration.row(key)["source_title"], key
        if r.keys:
            assert len(r.titles.split(" | ")) == len(r.dates.split(" | ")) == len(r.keys)


def test_paths_are_the_set_syntax_and_values_round_trip(baseline):
    for r in baseline:
        config = build_config({}, {r.path: r.value})
        node = config
        for part in r.path.split("."):
            node = node[int(part)] if part.isdigit() else getattr(node, part)
        assert node == r.value, r.path
    paths = {r.path for r in baseline}
    assert {"labs.0.skill", "labs.3.pricing.markup", "labs.1.tiers.1.size_factor",
            "customers.segments.2.usage_median_mtok"} <= paths


def test_calibrated_defaults_show_key_title_and_date(baseline):
    row = next(r for r in baseline if r.path == "gpu_market.reference_rent_usd_per_hour")
    cal = calibration.row("h100_rental_oct_2024_ondemand_usd_per_hour")
    assert (row.kind, row.keys) == ("calibration", (cal["key"],))
    assert (row.titles, row.dates) == (cal["source_title"], cal["as_of"])
    assert row.value == float(cal["value"]) and row.unit == "$/GPU-hour" and row.range == "(0, 50]"
    assumed = next(r for r in baseline if r.path == "capital.growth_multiple")
    assert assumed.kind == "assumption" and assumed.source.startswith("assumption: ") and len(assumed.source) > 20


def test_default_list_values_carry_their_own_source(baseline):
    by_path = {r.path: r for r in baseline}
    sonnet = by_path["labs.1.tiers.0.price_usd_per_mtok"]
    assert sonnet.value == 5.61 and sonnet.origin == "defaults"
    assert sonnet.keys == ("price_claude35_sonnet_input_usd_per_m", "price_claude35_sonnet_output_usd_per_m")
    assert by_path["labs.0.tiers.0.price_usd_per_mtok"].keys[0] == "price_gpt4o_2024_08_input_usd_per_m"
    assert by_path["labs.0.tiers.1.size_factor"].kind == "derived"


def test_value_sources_are_all_used_and_resolve(baseline):
    fields = {f.path for f in schema_fields()}
    used = {(r.path.split(".", 2)[0], r.source) for r in baseline if r.origin == "defaults"}
    texts = {r.source for r in baseline if r.origin == "defaults"}
    for field, table in VALUE_SOURCES.items():
        assert field in fields, field
        for value, text in table.items():
            resolve_source(text)
            assert text in texts, f"VALUE_SOURCES[{field!r}][{value!r}] matches no value of the default lists"
    assert used


def test_scenario_values_differ_from_baseline_and_give_the_files_reason(baseline):
    rows = {r.path: r for r in parameter_rows("commodity_pipe")}
    base = {r.path: r for r in baseline}
    lag = rows["open_weights.distill_lag_months"]
    assert (lag.value, base[lag.path].value) == (2, 6)
    assert lag.origin == "scenario" and lag.kind == "scenario" and "two months on" in lag.source
    host = rows["providers.skill"]
    assert host.value == 5.0 and host.keys == ("sglang_ep_vs_tp_output_gain",)
    fit = rows["customers.api_fit"]
    assert fit.value == 0.95 and "same protocol" in fit.source
    untouched = rows["gpu_market.reference_rent_usd_per_hour"]
    assert untouched.value == base[untouched.path].value and untouched.origin == "schema"
    # A restated default value keeps the default's source, not the [[labs]] table's comment.
    restated = {r.path: r for r in parameter_rows("giant_small_parent")}["labs.1.tiers.0.price_usd_per_mtok"]
    assert restated.value == 5.61 and restated.origin == "defaults"


def test_overrides_are_reported_as_such():
    rows = {r.path: r for r in parameter_rows("baseline", {"labs.0.skill": "2", "world__rounds": "12"})}
    assert rows["labs.0.skill"].value == 2 and rows["labs.0.skill"].origin == "--set"
    assert rows["world.rounds"].value == 12 and rows["world.rounds"].kind == "override"
    with pytest.raises(ConfigError, match="labs.9"):
        parameter_rows(None, {"labs.9.skill": "2"})


@pytest.mark.parametrize("text, fragment", [
    ("price_gpt4o_2024_08 input 2.5 / output 10", "unknown calibration key 'price_gpt4o_2024_08'"),
    ("not_a_key_2025_usd", "unknown calibration key"),
    ("assumption", "assumption: <reason>"),
    ("assumption:   ", "assumption: <reason>"),
    ("assumption: as in chatgpt_wau_2031_01", "'chatgpt_wau_2031_01' is neither"),
    ("DERIVED: 3 × 4", "must cite"),
    ("costs.no_such_function (x)", "has no 'no_such_function'"),
    ("nosuchmodule.thing (x)", "no module market.nosuchmodule"),
    ("assumption: like the nothing_like_this_* rows", "matches no calibration key"),
    ("Somebody said so", "not a calibration key"),
    ("", "empty"),
])
def test_sources_that_do_not_resolve_are_errors(text, fragment):
    with pytest.raises(SourceError, match=fragment.replace("(", r"\(").replace("*", r"\*")):
        resolve_source(text)


@pytest.mark.parametrize("text, kind, keys", [
    ("h100_median_posted_usd_per_hour", "calibration", ("h100_median_posted_usd_per_hour",)),
    ("assumption: near openai_api_* rows and self_funded labs", "assumption", ()),
    ("DERIVED: deepseek_peak_nodes / deepseek_avg_nodes", "derived", ("deepseek_peak_nodes", "deepseek_avg_nodes")),
    ("DESIGN.md Q2", "design", ()),
    ("costs.lab_tech (a note)", "code", ()),
    ("Sutton & Barto (2018) §2.2", "literature", ()),
    ("label: a name", "label", ()),
])
def test_each_kind_of_source_resolves(text, kind, keys):
    src = resolve_source(text)
    assert (src.kind, src.keys) == (kind, keys)


def test_a_schema_source_naming_a_missing_key_breaks_the_listing(monkeypatch):
    extra = GpuMarketConfig.model_fields["reference_rent_usd_per_hour"].json_schema_extra
    monkeypatch.setitem(extra, "source", "h100_rental_oct_2024_ondemand_usd_per_hour_typo")
    with pytest.raises(SourceError, match="did you mean h100_rental_oct_2024_ondemand_usd_per_hour"):
        parameter_rows()


def test_scenario_comments_cover_keys_blocks_inline_tables_and_table_arrays():
    text = '''name = "x"
description = """two
lines # not a comment"""

[world]
# Why the lag.
open_weight_lag_months = 2
open_weight_quality_gap = 0.01
scale_economies = false  # inline reason

# loose comment

rounds = 12

# Labs of a kind.
[[labs]]
name = "a"
api_policy = { name = "competitive" }   # undercut

[[labs]]
name = "b"

# Other labs.
[[labs]]
name = "c"
'''
    c = scenario_comments(text)
    assert comment_for("world.open_weight_lag_months", c) == ("key", "Why the lag.")
    assert comment_for("world.open_weight_quality_gap", c) == ("key", "Why the lag.")
    assert comment_for("world.scale_economies", c) == ("key", "Why the lag. inline reason")
    assert comment_for("world.rounds", c) is None
    assert comment_for("labs.0.api_policy.step", c) == ("key", "undercut")
    assert comment_for("labs.0.name", c) == ("table", "Labs of a kind.")
    assert comment_for("labs.1.name", c) == ("table", "Labs of a kind.")
    assert comment_for("labs.2.name", c) == ("table", "Other labs.")
    assert comment_for("description", c) is None


def test_formatting_helpers():
    assert [fmt(1e10), fmt(9.4e9), fmt(0.0144), fmt(True), fmt(150_000), fmt((-0.2, 1.0))] == \
        ["1e10", "9.4e9", "0.0144", "true", "150000", "(-0.2, 1)"]
    assert range_text(GpuMarketConfig, "reference_rent_usd_per_hour") == "(0, 50]"
    assert range_text(WorldConfig, "scale_economies") == "{true, false}"
    from market.config import LabConfig
    assert range_text(LabConfig, "funding") == "{investor, self_funded, efficient}"


# ------------------------------------------------------------------------------------------------ the CLI

def test_cli_csv_parses_with_one_row_per_value(capsys, baseline):
    assert main(["params", "--scenario", "switching_costs_high", "--format", "csv"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False)
    assert list(df.columns) == ["path", "value", "unit", "range", "kind", "keys", "titles", "dates", "source",
                                "origin", "description"]
    assert len(df) == len(baseline) and (df["unit"] != "").all() and (df["range"] != "").all()
    row = df.set_index("path").loc["customers.segments.1.switching_cost_usd"]
    assert (row["value"], row["origin"], row["source"]) == ("720", "scenario", "three times the baseline")
    assert df.set_index("path").loc["gpu_market.capex_usd_per_gpu", "titles"]


def test_cli_markdown_is_a_table_with_a_row_per_value_and_the_cited_rows(capsys, baseline):
    assert main(["params", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(rows) == len(baseline)
    assert all(line.count(" | ") == rows[0].count(" | ") for line in rows)
    assert out.splitlines()[0].startswith("| parameter | value | unit | allowed |")
    assert "- `h100_rental_oct_2024_ondemand_usd_per_hour` = 2.99" in out


def test_cli_default_table_and_collapse(capsys):
    assert main(["params", "--collapse"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["parameter", "value", "unit", "range"] and set(lines[1]) <= {"-", " "}
    assert any(line.startswith("labs[].skill ") for line in lines)
    assert len(lines) == 2 + len(schema_fields())


@pytest.mark.parametrize("args, fragment", [
    (["--format", "json"], "unknown format 'json'; allowed: table, csv, markdown"),
    (["--scenario", "nope"], "unknown scenario 'nope'; shipped: api_war_disciplined_money, api_war_growth_money, baseline"),
    (["--set", "world.bogus=1"], "world.bogus: unknown key"),
    (["--set", "novalue"], "expected key=value"),
    (["--check"], "--check: only with --odd"),
    (["--odd", "docs/ODD.md", "--scenario", "commodity_pipe"], "the ODD table documents the schema's hand-set defaults"),
])
def test_cli_bad_input_exits_2_naming_value_and_what_is_allowed(capsys, args, fragment):
    try:
        code = main(["params", *args])
    except SystemExit as err:  # argparse's own usage errors
        code = err.code
    assert code == 2
    assert fragment in capsys.readouterr().err


def test_cli_odd_rewrites_only_between_markers_and_check_reports_staleness(tmp_path, capsys):
    doc = tmp_path / "odd.md"
    doc.write_text(f"# Title\n\n{ODD_BEGIN}\nold table\n{ODD_END}\n\nafter\n")
    assert main(["params", "--odd", str(doc), "--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert main(["params", "--odd", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\n") and text.endswith("\n\nafter\n") and odd_block() in text
    assert main(["params", "--odd", str(doc), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out.splitlines()[-1]
    (tmp_path / "plain.md").write_text("no markers\n")
    assert main(["params", "--odd", str(tmp_path / "plain.md")]) == 2
    assert "expected one <!-- params:begin -->" in capsys.readouterr().err
    assert main(["params", "--odd", str(tmp_path / "missing.md")]) == 2


def _elements(rows):
    """Non-collapsed rows grouped by their collapsed path: {"labs[].skill": [("0", row), ("1", row), …]}."""
    out = {}
    for r in rows:
        field = re.sub(r"\.\d+\.", "[].", r.path)
        out.setdefault(field, []).append((".".join(p for p in r.path.split(".") if p.isdigit()), r))
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_collapsed_rows_give_the_elements_origins_and_sources(scenario):
    """A collapsed row says who set each element and why, exactly as the elements' own rows do: one origin and one
    source when the elements share them, else each with the elements it covers; never the schema default's reason
    for a value the default lists or the scenario set, and never an empty element list."""
    overrides = {"labs.0.skill": "2"}
    elements = _elements(parameter_rows(scenario, overrides))
    for row in parameter_rows(scenario, overrides, collapse=True):
        members = elements.get(row.path)
        if members is None:  # a list left empty (forced moves): the schema's own row, nothing collapsed
            assert row.value == [] and row.origin == "schema", (row.path, row.value, row.origin)
            continue
        origins = dict.fromkeys(r.origin for _, r in members)
        if len(origins) == 1:
            assert row.origin == next(iter(origins)), row.path
        else:
            for origin in origins:
                idx = ", ".join(i for i, r in members if r.origin == origin)
                assert f"{origin} [{idx}]" in row.origin, (row.path, row.origin)
        sources = dict.fromkeys(r.source for _, r in members)
        if len(sources) == 1:
            assert row.source == next(iter(sources)), (row.path, row.source)
            assert row.kind == members[0][1].kind and row.keys == members[0][1].keys, row.path
        else:
            for source in sources:
                idx = ", ".join(i for i, r in members if r.source == source)
                assert f"[{idx}]" in row.source and source in row.source, (row.path, row.source)
        assert "[]" not in row.source and "elements:" not in row.source, (row.path, row.source)


def test_collapsed_rows_name_the_scenario_defaults_and_overrides_that_set_them():
    pipe = {r.path: r for r in parameter_rows("commodity_pipe", collapse=True)}
    assert (pipe["providers.n"].value, pipe["providers.n"].origin) == (8, "scenario")
    assert pipe["providers.n"].source.startswith("A crowded hosting market")
    assert pipe["customers.api_fit"].origin == "scenario" and "same protocol" in pipe["customers.api_fit"].source
    assert pipe["gpu_market.reference_rent_usd_per_hour"].origin == "schema"
    giant = {r.path: r for r in parameter_rows("giant_small_parent", {"labs.3.skill": "2"}, collapse=True)}
    budget = giant["labs[].parent_budget_usd_per_month"]
    assert budget.origin == "schema [0, 1]; scenario [2]; defaults [3]"
    assert budget.source.startswith("[0, 1] 0: alphabet_q2_2025_net_income_usd")
    assert "[2] 1e8: the frugal lab's parent budget instead of 9.4e9" in budget.source
    skill = giant["labs[].skill"]
    assert skill.origin == "schema [0, 1, 2]; --set [3]" and "[3] 2: --set labs.3.skill=2" in skill.source
    assert skill.kind == "code, override"


def test_collapsed_baseline_rows_give_the_default_lists_reason_alone(baseline):
    rows = {r.path: r for r in parameter_rows(collapse=True)}
    cap = rows["wrappers.plans[].cap_mtok"]  # required field: the default list's values carry their own reasons
    assert (cap.value, cap.origin) == ([5.0, 100.0], "defaults")
    assert "[0] 5: assumption: a $20 app plan" in cap.source and "[1] 100: assumption: the $200 app plan" in cap.source
    assert rows["providers.policy.name"].origin == "schema" and rows["providers.policy.name"].value == "best_response"
    aware = rows["labs[].brand_awareness"]
    assert aware.origin == "defaults" and "[0] 0.9: chatgpt_wau_2024_08" in aware.source
    cash = rows["labs[].cash_usd"]
    assert cash.origin == "defaults [0, 2, 3]; schema [1]"
    assert cash.source.startswith("[0] 1e10: assumption: the larger investor-funded lab")
    assert "[1] 5e9: assumption: order of a 2024-25 frontier-lab funding round" in cash.source
    assert rows["labs[].skill"].origin == "schema" and rows["labs[].skill"].source.startswith("costs.lab_tech")


def test_csv_of_collapsed_rows_keeps_list_values():
    out = format_csv(parameter_rows(collapse=True))
    df = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False).set_index("path")
    assert df.loc["labs[].brand_awareness", "value"] == "0.9; 0.15; 0.45; 0.05"
    assert df.loc["labs[].skill", "value"] == "1 (all 4)"


def test_a_calibrated_scenarios_estimated_values_keep_kind_estimated(tmp_path):
    text = ("estimated by tokenmarket calibrate against out/targets.toml (fit: J = 1.2 at trial 3 of 40, 30 of 56 "
            "targets within tolerance; draws 5-95 %: 0.5 to 0.9)")
    f = tmp_path / "calibrated.toml"
    f.write_text(f"[capital]\ngrowth_multiple = 3.5  # {text}\n")
    rows = {r.path: r for r in parameter_rows(f)}
    assert rows["capital.growth_multiple"].kind == "estimated" and rows["capital.growth_multiple"].value == 3.5
    assert rows["capital.growth_multiple"].source == text



def test_params_grep_keeps_matching_rows_only(capsys):
    from runs.commands.main import main

    assert main(["params", "--grep", "GPU_RENT"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines()[2:] if line.strip()]
    assert lines and all("gpu_rent" in line.lower() for line in lines)
    assert main(["params", "--grep", "no-such-parameter-text"]) == 1
    assert "no parameter matches" in capsys.readouterr().out


def test_scenarios_lists_pairs_and_horizons_within_100_columns(capsys):
    from runs.commands.main import main
    from runs.compare.pairs import SHIPPED_PAIRS

    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    for pair in SHIPPED_PAIRS:
        assert f"{pair.a} vs {pair.b}" in out
    assert "baseline " in out and " 60 mo " in out and "Horizon: " in out
