"""Nothing silently accepted: every malformed input listed in issue 15 (defects 4, 6, 7 and 9) exits with
status 2 and one line naming the field, the value and what is allowed, before any work and touching no file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from runs.commands.main import main

SMALL = ["--set", "customers.n_customers=2000", "--rounds", "2", "--quiet"]


def refused(capsys, tmp_path, argv, *words) -> str:
    """Run ``argv`` (argparse errors included); require exit 2, one error line holding ``words``, nothing written."""
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("usage:") and ln.startswith(("tokenmarket", " "))]
    assert len([ln for ln in lines if "error:" in ln]) == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return err


# ------------------------------------------------------------------------------ defect 6: wrong types

@pytest.mark.parametrize("setting, words", [
    ("gpu_market.reference_rent_usd_per_hour=true", ["gpu_market.reference_rent_usd_per_hour", "true", "number"]),
    ("world.rounds=6.0", ["world.rounds", "6.0", "integer"]),
    ("world.data_flywheel=yes", ["world.data_flywheel", "'yes'", "true or false"]),
    ("world.data_flywheel=1", ["world.data_flywheel", "1", "true or false"]),
    ("providers.n=abc", ["providers.n", "'abc'", "integer"]),
    ("labs.0.pricing.levels=[]", ["labs.0.pricing.levels", "at least 1"]),
    ("labs.0.pricing.levels=[nan]", ["labs.0.pricing.levels.0", "nan", "finite"]),
    ("labs.0.pricing.levels=[0.1, inf]", ["labs.0.pricing.levels.1", "inf", "finite"]),
    ("labs.0.pricing.levels=[0.1, 99]", ["labs.0.pricing.levels.1", "99", "[-0.9, 50]"]),
    ("labs.0.pricing.levels=['a']", ["labs.0.pricing.levels.0", "'a'", "number"]),
    ("labs.0.funding=3", ["labs.0.funding", "3"]),
    ("world.efficiency_gain_per_year=nan", ["world.efficiency_gain_per_year", "nan", "finite"]),
])
def test_wrong_types_are_refused(tmp_path, capsys, setting, words):
    refused(capsys, tmp_path, ["run", "--set", "customers.n_customers=2000", "--quiet", "--set", setting,
                               "--out", str(tmp_path / "o")], *words)


@pytest.mark.parametrize("toml, words", [
    ('[world]\nrounds = "60"\n', ["world.rounds", "'60'", "integer"]),
    ("[world]\ndata_flywheel = \"yes\"\n", ["world.data_flywheel", "'yes'", "boolean"]),
    ("[gpu_market]\nreference_rent_usd_per_hour = true\n", ["gpu_market.reference_rent_usd_per_hour", "True", "number"]),
    ("[gpu_market]\nreference_rent_usd_per_hour = nan\n", ["gpu_market.reference_rent_usd_per_hour", "nan", "finite"]),
    ("[providers]\nn = 2.0\n", ["providers.n", "2.0", "integer"]),
])
def test_wrong_types_in_scenario_files_are_refused(tmp_path, capsys, toml, words):
    path = tmp_path / "s.toml"
    path.write_text(toml)
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(path), "--out", str(tmp_path / "o")], *words)


def test_rounds_given_twice_is_refused_not_dropped(tmp_path, capsys):
    refused(capsys, tmp_path, ["run", *SMALL, "--set", "world.rounds=abc", "--out", str(tmp_path / "o")],
            "--rounds", "world.rounds")
    refused(capsys, tmp_path, ["sweep", *SMALL, "--set", "world.rounds=5", "--out", str(tmp_path / "o")],
            "--rounds", "world.rounds")


@pytest.mark.parametrize("argv, flag", [
    (["run", *SMALL, "--scenario", ""], "--scenario"),
    (["run", *SMALL, "--out", ""], "--out"),
    (["run", *SMALL, "--out", "  "], "--out"),
    (["sweep", *SMALL, "--out", ""], "--out"),
    (["sweep", *SMALL, "--scenario", ""], "--scenario"),
    (["sweep", *SMALL, "--dask-scheduler", "", "--out", "x"], "--dask-scheduler"),
    (["params", "--scenario", ""], "--scenario"),
    (["viz", "--scenario", ""], "--scenario"),
    (["report", ""], "RUN_DIR"),
])
def test_empty_strings_are_refused(tmp_path, capsys, monkeypatch, argv, flag):
    monkeypatch.chdir(tmp_path)
    refused(capsys, tmp_path, argv, flag, "empty")


# ------------------------------------------------------------------------------ defect 4: valid-looking configs

def test_a_market_without_sellers_is_refused_with_the_reason(tmp_path, capsys):
    refused(capsys, tmp_path, ["run", *SMALL, "--set", "labs=[]", "--set", "providers.n=0",
                               "--out", str(tmp_path / "o")], "labs", "providers.n", "no seller")


def test_a_market_of_providers_only_runs(tmp_path):
    assert main(["run", *SMALL, "--set", "labs=[]", "--out", str(tmp_path / "o")]) == 0


def test_the_summary_survives_every_firm_exiting(tmp_path, capsys):
    out = tmp_path / "o"
    code = main(["run", "--set", "customers.n_customers=2000", "--rounds", "3", "--quiet", "--set", "labs=[]",
                 "--set", "providers.n=1", "--set", "providers.entry=false", "--set", "providers.cash_usd=0",
                 "--set", "providers.opex_usd_per_month=1e10", "--set", "capital.appetites.0=0",
                 "--set", "wrappers.cash_usd=0", "--set", "wrappers.opex_usd_per_month=1e10",
                 "--set", "wrappers.entry=false", "--out", str(out)])
    assert code == 0
    agents = pd.read_csv(out / "agents.csv")
    assert not agents.loc[agents["round"] == agents["round"].max(), "alive"].any()  # really no firm left
    assert "no firm alive" in capsys.readouterr().out


# ------------------------------------------------------------------------------ defect 7: no tracebacks

@pytest.mark.parametrize("setting, words", [
    ("world.rounds.x=3", ["world.rounds.x", "world.rounds", "not a group"]),
    ("world=3", ["world", "3", "group of fields"]),
    ("labs.0=3", ["labs.0", "3"]),
    ("labs.x.skill=2", ["labs.x", "list index"]),
    ("labs.-1.skill=2", ["labs.-1", "list index"]),
    ("wrappers.per_vertical.coding.x=1", ["wrappers.per_vertical.coding", "not a group"]),
])
def test_keys_into_scalars_and_sections_set_to_scalars(tmp_path, capsys, setting, words):
    refused(capsys, tmp_path, ["run", "--set", "customers.n_customers=2000", "--quiet", "--set", setting,
                               "--out", str(tmp_path / "o")], *words)


def test_deeply_nested_toml(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(path), "--out", str(tmp_path / "o")],
            "scenario", "nested")
    path.write_text("[" + ".".join(["a"] * 3000) + "]\n")
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(path), "--out", str(tmp_path / "o")], "a: unknown key")


def test_nesting_refused_before_the_parser_recurses(tmp_path, capsys):
    # 100 levels parse without reaching the interpreter's recursion limit: refused by the nesting pre-check
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100 + "]" * 100 + "\n")
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(path), "--out", str(tmp_path / "o")],
            "scenario", "more than 64 levels")


def test_an_over_long_out_name(tmp_path, capsys):
    refused(capsys, tmp_path, ["run", *SMALL, "--out", str(tmp_path / ("x" * 300))], "--out", "300 bytes", "allowed")


@pytest.mark.parametrize("path, words", [("/dev/zero", ["/dev/zero", "not a regular file"]),
                                         ("/dev/null", ["/dev/null", "not a regular file"])])
def test_special_files_as_scenarios(tmp_path, capsys, path, words):
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", path, "--out", str(tmp_path / "o")], *words)


def test_a_huge_scenario_file(tmp_path, capsys):
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(big), "--out", str(tmp_path / "o")],
            "big.toml", "MB")


def test_analyze_with_huge_resamples(tmp_path, capsys):
    refused(capsys, tmp_path, ["analyze", str(tmp_path), "--resamples", "99999999999999"], "--resamples", "≤")


# ------------------------------------------------------------------------------ defect 9: smaller

def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("tokenmarket ")


@pytest.mark.parametrize("setting, words", [("=3", ["--set", "'=3'", "empty key"]),
                                            ("world.=3", ["'world.'", "empty"]),
                                            ("labs..skill=3", ["'labs..skill'", "empty"])])
def test_an_empty_key_names_itself(tmp_path, capsys, setting, words):
    refused(capsys, tmp_path, ["run", *SMALL, "--set", setting, "--out", str(tmp_path / "o")], *words)


def test_an_empty_key_in_a_scenario_file_names_itself(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('"" = 3\n')
    err = refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(path), "--out", str(tmp_path / "o")],
                  "'' (empty key)", "unknown key")
    assert ": unknown key" not in err.split("error: ", 1)[1][:3]


def test_duplicate_lab_names_name_the_element(tmp_path, capsys):
    refused(capsys, tmp_path, ["run", *SMALL, "--set", "labs.2.name=lab_investor_a", "--out", str(tmp_path / "o")],
            "labs.2.name", "'lab_investor_a'", "labs.0.name", "unique")


def test_excel_csvs_have_a_bom_and_neutralised_formulas(tmp_path):
    plain, excel = tmp_path / "plain", tmp_path / "excel"
    evil = ["--set", "labs.0.name==HYPERLINK(\"x\")", "--set", "labs.1.name=@SUM(A1)"]
    assert main(["run", *SMALL, *evil, "--out", str(plain)]) == 0
    assert main(["run", *SMALL, *evil, "--excel", "--out", str(excel)]) == 0
    for name in ("model.csv", "agents.csv", "events.csv"):
        raw = (excel / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and not (plain / name).read_bytes().startswith(b"\xef\xbb\xbf")
    agents = pd.read_csv(excel / "agents.csv", encoding="utf-8-sig")
    names = set(agents["name"])
    assert "'=HYPERLINK(\"x\")" in names and "'@SUM(A1)" in names
    assert not any(str(n).startswith(("=", "+", "-", "@")) for n in names)
    numeric = pd.read_csv(plain / "model.csv")
    assert pd.read_csv(excel / "model.csv", encoding="utf-8-sig").equals(numeric)  # numbers stay numbers
    assert json.loads((excel / "manifest.json").read_text())["csv"] == "excel"


def test_sweeps_doc_batch_run_snippet_is_guarded_and_runs():
    """mesa.batch_run uses the spawn start method: a script without the guard re-runs itself in every worker."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "sweeps.md").read_text()
    at = text.index("mesa.batch_run(")
    start = text.rfind("```python", 0, at) + len("```python")
    snippet = text[start:text.index("```", start)]
    assert 'if __name__ == "__main__":' in snippet
    assert snippet.index('if __name__ == "__main__":') < snippet.index("mesa.batch_run(")
    scope = {"__name__": "__main__"}
    exec(compile(snippet, "docs/sweeps.md", "exec"), scope)
    assert len(scope["rows"]) > 0


# ------------------------------------------------------------------------------ issue 12: demand parameters
# A plan's cap, the free tier's cap and an overage price must be positive; the value of tokens, W·(f·q)^γ·φ(x/a)
# with the fixed concave φ, needs a positive willingness to pay W, token need a and exponent γ (so no setting can
# make it non-concave in tokens); each nesting parameter must lie in (0.01, 1] (1: plain logit; above 1 the nested
# logit is not consistent with utility maximisation).

@pytest.mark.parametrize("setting, words", [
    ("labs.0.plans.0.cap_mtok=0", ["labs.0.plans.0.cap_mtok", "got 0", "(0, 1e+06]"]),
    ("wrappers.plans.1.cap_mtok=-1", ["wrappers.plans.1.cap_mtok", "got -1", "(0, 1e+06]"]),
    ("customers.free_tier_cap_mtok=0", ["customers.free_tier_cap_mtok", "got 0", "(0, 10000]"]),
    ("wrappers.plans.0.overage_usd_per_mtok=0", ["wrappers.plans.0.overage_usd_per_mtok", "got 0", "(0, 10000]"]),
    ("customers.segments.0.usage_median_mtok=0", ["customers.segments.0.usage_median_mtok", "got 0", "(0, 1e+06]"]),
    ("customers.segments.1.wtp_median_usd_per_month=-5",
     ["customers.segments.1.wtp_median_usd_per_month", "got -5", "(0, 1e+06]"]),
    ("customers.segments.2.quality_exponent=0", ["customers.segments.2.quality_exponent", "got 0", "(0, 10]"]),
    ("customers.segments.0.tenure_months=0", ["customers.segments.0.tenure_months", "got 0", "(0, 600]"]),
    ("customers.nest_lambda_apps=0", ["customers.nest_lambda_apps", "got 0", "(0.01, 1]"]),
    ("customers.nest_lambda_chat=1.5", ["customers.nest_lambda_chat", "got 1.5", "(0.01, 1]"]),
    ("customers.nest_lambda_api=-0.2", ["customers.nest_lambda_api", "got -0.2", "(0.01, 1]"]),
])
def test_bad_demand_parameters_are_refused(tmp_path, capsys, setting, words):
    refused(capsys, tmp_path, ["run", *SMALL, "--set", setting, "--out", str(tmp_path / "o")], *words)


def test_a_zero_cap_in_a_scenario_file_is_refused(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text("[[wrappers.plans]]\nname = \"pro\"\ncap_mtok = 0.0\nprice_usd_per_month = 20.0\n")
    refused(capsys, tmp_path, ["run", *SMALL, "--scenario", str(scenario), "--out", str(tmp_path / "o")],
            "wrappers.plans.0.cap_mtok", "(0, 1e+06]")
