"""`tokenmarket report`: a self-contained report.html (no CDN) plus PNGs for run and sweep folders; exit 2 on
a missing or unusable folder."""

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runs.reports.charts import RUN_CHARTS
from runs.commands.main import main
from runs.reports.labels import CAPTIONS
from runs.reports.report import REPORT, js_bundle
from tests.browser_support import CHROMIUM_SKIP_REASON, chromium_available, launch_chromium

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    assert main(["run", "--set", "customers.n_customers=2000", "--rounds", "5", "--quiet", "--out", str(out)]) == 0
    return out


def external_scripts(text: str) -> list[str]:
    return re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^\"' >]+", text, flags=re.I)


def embedded_specs(text: str) -> list[dict]:
    specs = []
    for m in re.finditer(r'vegaEmbed\("#chart\d+", ', text):
        spec, _ = json.JSONDecoder().raw_decode(text, m.end())
        specs.append(spec)
    return specs


def test_run_report_is_self_contained_with_pngs(run_dir, capsys):
    assert main(["report", str(run_dir)]) == 0
    n = len(RUN_CHARTS)  # the figures are counted by format, not all called PNGs
    assert f"and {n} PNG and {n} SVG figures in" in capsys.readouterr().out
    text = (run_dir / REPORT).read_text()
    assert external_scripts(text) == []
    assert "<link" not in text  # no external stylesheet either
    assert js_bundle()[:2000] in text  # vega, vega-lite and vega-embed inline
    specs = embedded_specs(text)
    assert len(specs) == len(RUN_CHARTS)
    assert all(spec.get("datasets") for spec in specs)  # data travels inside the page
    pngs = sorted((run_dir / "figures").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(RUN_CHARTS)
    assert all(p.read_bytes()[:8] == PNG_MAGIC and p.stat().st_size > 5000 for p in pngs)
    svgs = sorted((run_dir / "figures").glob("*.svg"))
    assert [p.stem for p in svgs] == sorted(RUN_CHARTS) and all("<svg" in p.read_text()[:300] for p in svgs)
    for key in RUN_CHARTS:  # one caption per chart, saying what to read
        assert html.escape(CAPTIONS[key]) in text


def test_report_states_missing_share_columns(tmp_path, run_dir):
    # A run folder from before agents.csv had customers_<vertical>: the report says what it cannot show.
    import pandas as pd

    old = tmp_path / "old"
    old.mkdir()
    for name in ("model.csv", "events.csv", "manifest.json"):
        (old / name).write_bytes((run_dir / name).read_bytes())
    agents = pd.read_csv(run_dir / "agents.csv")
    agents.drop(columns=[c for c in agents if c.startswith("customers_")]).to_csv(old / "agents.csv", index=False)
    assert main(["report", str(old), "--no-png"]) == 0
    assert "vertical shares are not shown" in (old / REPORT).read_text()
    assert main(["report", str(run_dir), "--no-png"]) == 0
    assert "vertical shares are not shown" not in (run_dir / REPORT).read_text()


def test_no_png_writes_html_only(tmp_path, run_dir):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("model.csv", "agents.csv", "events.csv", "manifest.json"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    assert main(["report", str(copy), "--no-png"]) == 0
    assert (copy / REPORT).is_file() and not (copy / "figures").exists()
    assert 'href="figures/' not in (copy / REPORT).read_text()


@pytest.mark.parametrize("case", ["missing", "empty_folder", "file", "missing_column", "bad_csv"])
def test_bad_folder_exits_2_with_a_message(tmp_path, run_dir, capsys, case):
    target = tmp_path / "x"
    if case == "empty_folder":
        target.mkdir()
    elif case == "file":
        target.write_text("not a folder")
    elif case in ("missing_column", "bad_csv"):
        target.mkdir()
        for name in ("model.csv", "agents.csv", "events.csv"):
            (target / name).write_bytes((run_dir / name).read_bytes())
        if case == "missing_column":
            pd.read_csv(run_dir / "agents.csv").drop(columns=["cash_usd"]).to_csv(target / "agents.csv", index=False)
        else:
            (target / "model.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["report", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tokenmarket report: error:") and str(target) in err
    if case == "missing_column":
        assert "cash_usd" in err
    assert not (target / REPORT).exists() if target.is_dir() else True


def synthetic_sweep(folder: Path) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"run_id": f"r{i:03d}", "seed": s, "gpu_market.reference_rent_usd_per_hour": g, "open_weights.distill_lag_months": lag,
             "status": "ok", "lerner_api_last": float(rng.normal(0.3 - 0.05 * g, 0.1)),
             "hhi_api_last": float(rng.uniform(2e3, 8e3)), "outcome_dumb_pipe": bool(lag == 12),
             "outcome_loss_leading": bool(g > 3)}
            for i, (g, lag, s) in enumerate((g, lag, s) for g in (1.5, 3.0, 4.5) for lag in (0, 6, 12)
                                            for s in range(3))]
    rows.append({**rows[0], "run_id": "r999", "status": "failed", "lerner_api_last": np.nan})
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "runs.csv", index=False)
    return pd.DataFrame(rows)


def test_sweep_report_heatmaps_and_distributions(tmp_path):
    folder = tmp_path / "sweep"
    synthetic_sweep(folder)
    assert main(["report", str(folder)]) == 0
    text = (folder / REPORT).read_text()
    assert external_scripts(text) == []
    specs = embedded_specs(text)
    heatmaps = [s for s in specs if s.get("mark", {}).get("type") == "rect"]
    assert len(heatmaps) == 2  # one per outcome column
    cells = heatmaps[0]["datasets"][heatmaps[0]["data"]["name"]]
    assert len(cells) == 9 and sum(c["n"] for c in cells) == 27  # the failed run is left out
    dists = [s for s in specs if "layer" in s]
    assert len(dists) == 2 * 2  # two parameters × two metrics
    assert "dumb pipe: 33% of runs" in text
    for fact in ("scenario", "overrides", "rounds", "seeds", "git commit"):  # provenance block
        assert f"<th>{fact}</th>" in text
    assert len(list((folder / "figures").glob("*.png"))) == len(specs)
    assert len(list((folder / "figures").glob("*.svg"))) == len(specs)


def test_sweep_report_axis_choice_and_errors(tmp_path, capsys):
    folder = tmp_path / "sweep"
    synthetic_sweep(folder)
    assert main(["report", str(folder), "--no-png", "--x", "open_weights.distill_lag_months",
                 "--y", "gpu_market.reference_rent_usd_per_hour"]) == 0
    spec = next(s for s in embedded_specs((folder / REPORT).read_text()) if s.get("mark", {}).get("type") == "rect")
    assert spec["encoding"]["x"]["title"].startswith("open_weights.distill_lag_months (")  # path and unit
    assert main(["report", str(folder), "--x", "world.nope"]) == 2
    assert "world.nope" in capsys.readouterr().err
    # Replicates only: no parameter varies, so the page shows the spread of the metrics over the runs.
    pd.DataFrame({"run_id": ["a", "b"], "lerner_api_last": [0.1, 0.2]}).to_csv(folder / "runs.csv", index=False)
    assert main(["report", str(folder), "--no-png"]) == 0
    specs = embedded_specs((folder / REPORT).read_text())
    assert any("Lerner index, API" in json.dumps(s) and "last round" in json.dumps(s) for s in specs)
    assert main(["report", str(folder), "--x", "gpu_market.reference_rent_usd_per_hour"]) == 2
    assert "is not a column of runs.csv" in capsys.readouterr().err


def test_report_of_a_real_sweep_folder(tmp_path):
    out = tmp_path / "sw"
    assert main(["sweep", "--set", "customers.n_customers=1000", "--grid", "open_weights.distill_lag_months=0,12",
                 "--replicates", "2", "--rounds", "3", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(out), "--no-png"]) == 0
    dists = [s for s in embedded_specs((out / REPORT).read_text())
             if "layer" in s and str(s.get("title", "")).endswith(" by open_weights.distill_lag_months")]
    assert dists and all(s["layer"][0]["encoding"]["x"]["title"].startswith("open_weights.distill_lag_months (")
                         for s in dists)


@pytest.mark.browser
def test_report_renders_offline_in_chromium(run_dir):
    if not chromium_available():
        pytest.skip(CHROMIUM_SKIP_REASON)
    from playwright.sync_api import sync_playwright

    if not (run_dir / REPORT).exists():
        assert main(["report", str(run_dir), "--no-png"]) == 0
    requested, errors = [], []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                       else (requested.append(r.request.url), r.abort()))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto((run_dir / REPORT).as_uri())
            page.wait_for_function(f"document.querySelectorAll('svg.marks').length == {len(RUN_CHARTS)}",
                                   timeout=20_000)
            failed = page.evaluate("[...document.querySelectorAll('div[id^=chart]')]"
                                   ".filter(d => d.textContent.startsWith('chart failed')).length")
            assert failed == 0
        finally:
            browser.close()
    assert requested == [] and errors == []


def test_run_report_shows_the_verdicts_of_outcomes_json(run_dir, tmp_path):
    import shutil

    from market.outcomes import verdict_lines

    folder = tmp_path / "r"
    shutil.copytree(run_dir, folder)
    verdicts = json.loads((folder / "outcomes.json").read_text())
    spell = dict(firm="lab_x", type="lab", funding="investor", start=2, end=4, months=3, ongoing=False, forced=False,
                 months_below_avoidable_cost=1, subsidy_below_total_cost_usd=3e9,
                 subsidy_below_avoidable_cost_usd=2e8, who_paid=dict(investors_usd=1e9, parent_usd=0.0,
                                                                      own_cash_usd=2e9),
                 cost_of_capital_per_year=0.25, pv_subsidy_usd=2.9e9, pv_excess_after_usd=3.1e9, recouped=True,
                 recoup_round=5, recoup_status="recouped", firm_exited=False, exit_round=None)
    verdicts["loss_leading"].update(detected=True, recouped=True, spells=[spell])
    (folder / "outcomes.json").write_text(json.dumps(verdicts))
    assert main(["report", str(folder), "--no-png"]) == 0
    text = (folder / REPORT).read_text()
    assert "Outcome verdicts" in text and "loss leading · lab_x rounds 2–4 · recouped by 5" in text
    line = verdict_lines(verdicts)[1]
    assert "lab_x chose below-cost prices in rounds 2–4" in line and "paid by investors $1.00B" in line
    assert line.replace("'", "&#x27;") in text


@pytest.mark.parametrize("grid", [["--grid", "open_weights.distill_lag_months=0,12"], []], ids=["one-parameter", "replicates"])
def test_sweep_report_has_bands_and_frequencies_per_point(tmp_path, grid):
    out = tmp_path / "sw"
    assert main(["sweep", "--set", "customers.n_customers=1000", *grid, "--replicates", "2", "--rounds", "3",
                 "--workers", "1", "--out", str(out), "--quiet"]) == 0
    assert main(["report", str(out), "--no-png"]) == 0
    text = (out / REPORT).read_text()
    assert "Outcome frequencies per design point" in text
    points = ["p0: open_weights.distill_lag_months=0", "p1: open_weights.distill_lag_months=12"] if grid else ["all runs"]
    for label in points:
        assert f"<td>{label}</td>" in text
    assert text.count("0/2 (0%) [0%, 66%]") + text.count("1/2 (50%)") + text.count("2/2 (100%)") == 4 * len(points)
    bands = [s for s in embedded_specs(text) if "facet" in s and "Key series over replicates" in json.dumps(s)]
    assert len(bands) == 1
    data = next(iter(bands[0]["datasets"].values()))
    assert {d["point_label"] for d in data} == set(points) and {d["round"] for d in data} == {1, 2, 3}
    assert all(d["q05"] <= d["median"] <= d["q95"] for d in data)
