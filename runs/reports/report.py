"""Reports of a run folder or a sweep folder: ``report.html`` (self-contained) plus one PNG per chart.

``report.html`` embeds the Vega, Vega-Lite and vega-embed JavaScript inline (``vl_convert.javascript_bundle``)
and every chart's spec and data, so it opens offline and loads nothing from a CDN. PNGs (``figures/*.png``,
rendered by vl-convert at 2× scale) are for papers and slides. The charts are those of the browser page
(:data:`runs.reports.charts.RUN_CHARTS`) built from the CSVs; for a sweep (a folder with ``runs.csv``): outcome
frequency heatmaps over two parameters and metric distributions per parameter value.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from runs.reports.labels import CAPTIONS, metric_label
from runs.reports.charts import (RUN_CHARTS, RunFrames, as_flag, lab_shares_from, metric_distribution_chart,
                         outcome_flags, outcome_heatmap, run_charts)
from market.outcomes import verdict_lines
from runs.io import atomic_write_bytes, atomic_write_text

REPORT = "report.html"
FIGURES = "figures"
RUN_FILES = ("model.csv", "agents.csv", "events.csv")
REQUIRED = {"model.csv": {"round", "lerner_api", "lerner_app", "gross_profit_api_usd", "gross_profit_app_usd"},
            "agents.csv": {"round", "agent_id", "type", "name", "price", "unit_cost", "cash_usd",
                           "operating_profit_usd", "gpus", "tokens_mtok"},
            "events.csv": {"round", "kind", "actor", "target", "amount"}}
NOT_PARAMETERS = {"run_id", "seed", "point", "replicate", "round", "rounds_completed", "status", "error",
                  "elapsed_s", "index"}
KEY_METRICS = ("lerner_api", "lerner_app", "app_share_of_gross_profit", "hhi_api", "api_price_usd_per_mtok")


class ReportError(ValueError):
    """The folder is not a run or sweep folder, or its tables lack needed columns."""


@dataclass(frozen=True)
class Section:
    """One chart of the report: file stem, heading, chart."""

    key: str
    title: str
    chart: alt.TopLevelMixin
    caption: str = ""


# ----------------------------------------------------------------------------------------------- loading

def _read_csv(path: Path, required: set[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise ReportError(f"{path.parent}: not a run folder ({path.name} missing)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ReportError(f"{path}: unreadable CSV: {err}") from None
    missing = sorted(required - set(df.columns))
    if missing:
        raise ReportError(f"{path}: missing columns {missing}")
    return df


def load_run(run_dir: Path) -> tuple[RunFrames, dict]:
    """(frames, manifest) of a run folder. Raises ReportError on a missing file, bad CSV or missing column."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such folder")
    model, agents, events = (_read_csv(run_dir / f, REQUIRED[f]) for f in RUN_FILES)
    manifest: dict = {}
    if (run_dir / "manifest.json").is_file():
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text())
        except json.JSONDecodeError as err:
            raise ReportError(f"{run_dir / 'manifest.json'}: bad JSON: {err}") from None
    return RunFrames(model, agents, events, lab_shares_from(manifest.get("config", {}))), manifest


def load_runs_table(sweep_dir: Path) -> pd.DataFrame:
    """One row per successful run of a sweep: ``runs.sweeps.sweep.load_sweep`` for a sweep folder with its manifest,
    else ``runs.csv`` read directly (keeping the last round of each run if it has one row per run and round).

    Raises:
        ReportError: unreadable sweep folder or no successful run.
    """
    sweep_dir = Path(sweep_dir)
    try:
        from runs.sweeps.sweep import load_sweep
    except ImportError:
        load_sweep = None
    if load_sweep is not None and (sweep_dir / "manifest.json").is_file():
        try:
            loaded = load_sweep(sweep_dir)
        except (ValueError, KeyError, OSError) as err:
            raise ReportError(f"{sweep_dir}: cannot read the sweep: {err}") from None
        runs = loaded[0] if isinstance(loaded, tuple) else loaded
    else:
        runs = _read_csv(sweep_dir / "runs.csv", set())
    if "status" in runs:
        runs = runs[runs["status"] == "ok"]
    if "round" in runs and "run_id" in runs:
        runs = runs.sort_values("round").groupby("run_id", as_index=False).last()
    if runs.empty:
        raise ReportError(f"{sweep_dir}/runs.csv: no successful runs")
    return runs.reset_index(drop=True)


def _is_flag(s: pd.Series) -> bool:
    """Whether an outcome column holds flags or counts (bool, numbers, "True"/"False" text), not verdict text."""
    return s.dropna().map(lambda v: isinstance(v, (bool, int, float, np.bool_, np.number))
                          or v in ("True", "False")).all()


def sweep_columns(runs: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    """(parameters, outcomes, metrics) of a runs table.

    Parameters: columns named by a dotted config path (``world.x``: how runs/sweeps/sweep.py names the varied keys)
    or prefixed ``param_``, taking 2+ values. Outcomes: ``outcome_*`` columns of flags or counts. Metrics: the
    other numeric columns (per-run summaries such as ``<col>_last`` / ``<col>_mean``).
    """
    outcomes = [c for c in runs.columns if c.startswith("outcome_") and _is_flag(runs[c])]
    params = [c for c in runs.columns if c not in NOT_PARAMETERS and not c.startswith("outcome_")
              and ("." in c or c.startswith("param_")) and runs[c].nunique(dropna=True) > 1]
    numeric = runs.select_dtypes("number").columns
    metrics = [c for c in numeric if c not in params and not c.startswith("outcome_") and c not in NOT_PARAMETERS]
    return params, outcomes, metrics


# ----------------------------------------------------------------------------------------------- sections

def run_sections(frames: RunFrames) -> list[Section]:
    """The page's charts, built from a run's tables."""
    missing = []
    if "api_tokens_mtok" not in frames.agents:
        missing.append("no api_tokens_mtok column in agents.csv: API shares are by paid tokens (API + own apps)")
    if not any(c.startswith("customers_") for c in frames.agents):
        missing.append("no customers_<vertical> columns in agents.csv: vertical shares are not shown")
    notes = {"shares": " Note: " + "; ".join(missing) + "."} if missing else {}
    charts = run_charts(frames)
    return [Section(key, RUN_CHARTS[key][0], chart, CAPTIONS.get(key, "") + notes.get(key, ""))
            for key, chart in charts.items()]


def sweep_sections(runs: pd.DataFrame, x: str | None = None, y: str | None = None) -> list[Section]:
    """Outcome heatmaps over parameters ``x`` × ``y`` (default: the two with most values) and, per parameter,
    the distribution of up to four key metrics; for a replicates-only sweep (no parameter varies), the spread of
    those metrics over the runs. Raises ReportError for --x/--y without parameters, or nothing to show."""
    params, outcomes, metrics = sweep_columns(runs)
    for name in (x, y):
        if name is not None and name not in runs:
            raise ReportError(f"--x/--y: {name!r} is not a column of runs.csv; parameters: {params}")
    chosen = [c for m in KEY_METRICS for c in (f"{m}_last", f"last_{m}", m) if c in metrics] or metrics
    if not params:
        # Replicates only (seeds differ, nothing else): the spread of each key metric over the runs.
        if x is not None or y is not None:
            raise ReportError("--x/--y: runs.csv has no parameter columns (dotted config paths that vary across runs)")
        if not chosen:
            raise ReportError("runs.csv: no parameter columns and no numeric metrics to show")
        spread = runs.copy()  # a compact frame: runs.csv read column by column is fragmented
        spread["runs"] = f"{len(runs)} runs"
        return [Section(f"dist_{m}", f"{m} over the replicates", metric_distribution_chart(spread, "runs", m))
                for m in chosen[:4]]
    by_levels = sorted(params, key=lambda c: -runs[c].nunique())
    x = x or by_levels[0]
    y = y or next((p for p in by_levels if p != x), None)
    out = []
    if y is not None:
        out += [Section(f"heatmap_{o}", f"Outcome frequency: {o.removeprefix('outcome_')}",
                        outcome_heatmap(runs, x, y, o),
                        f"Share of the runs in each cell of {x} × {y} where the detector fired (0: never, 1: every "
                        f"run); the tooltip gives the number of runs per cell.") for o in outcomes]
    for p in params:
        out += [Section(f"dist_{m}_by_{p}", f"{metric_label(m)} by {p}", metric_distribution_chart(runs, p, m),
                        f"Spread over the runs at each value of {p}: whiskers min–max, box the middle half, tick "
                        f"the median. Overlapping boxes mean the parameter does not separate the outcomes.")
                for m in chosen[:4]]
    return out


# ----------------------------------------------------------------------------------------------- writing

@functools.lru_cache(maxsize=1)
def js_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one inline script (vl-convert's bundle; ≈ 0.9 MB, ≈ 2 s once)."""
    import vl_convert

    return vl_convert.javascript_bundle().replace("</script", "<\\/script")


def _script_json(spec: dict) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(spec).replace("</", "<\\/")


def render_html(title: str, sections: list[Section], facts: list[tuple[str, str]],
                badges: list[str], png_links: bool = True, extra_html: str = "") -> str:
    """A self-contained HTML page: inline JS bundle, facts, badges, ``extra_html`` (already escaped tables),
    then one heading and vega-embed call per section."""
    bundle = js_bundle()
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    chips = "".join(f'<span class="badge">{html.escape(b)}</span>' for b in badges) or \
        '<span class="none">no outcome detector fired (or none recorded)</span>'
    body = []
    for i, s in enumerate(sections):
        link = (f'<p class="png"><a href="{FIGURES}/{s.key}.png">PNG</a> · <a href="{FIGURES}/{s.key}.svg">SVG</a></p>'
                if png_links else "")
        embed = (f'vegaEmbed("#chart{i}", {_script_json(s.chart.to_dict())}, {{"actions": false, "renderer": "svg"}})'
                 f'.catch(e => document.getElementById("chart{i}").textContent = "chart failed: " + e);')
        body.append(f'<section><h2>{html.escape(s.title)}</h2><div id="chart{i}"></div>'
                    f'<p class="caption">{html.escape(s.caption)}</p>{link}<script>{embed}</script></section>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}}
table{{border-collapse:collapse}}th,td{{text-align:left;padding:2px 12px 2px 0;font-size:14px}}
.badge{{display:inline-block;background:#f58518;color:#fff;border-radius:12px;padding:3px 12px;margin:2px}}
.none{{color:#888}}section{{margin:2em 0}}.png{{font-size:12px}}.caption{{color:#666;font-size:13px}}
table.data{{margin:1em 0}}table.data th,table.data td{{border-bottom:1px solid #ddd;font-size:13px}}
table.data td.num{{text-align:right;font-variant-numeric:tabular-nums}}</style>
<script>{bundle}</script></head>
<body><h1>{html.escape(title)}</h1><table>{rows}</table><p>{chips}</p>
{extra_html}
{''.join(body)}
</body></html>
"""


def html_table(df: pd.DataFrame, formats: dict[str, str | Callable[[float], str]] | None = None) -> str:
    """An escaped HTML table of ``df`` (``formats``: column → format spec, or function, for numbers; NaN shown as
    n/a)."""
    formats = formats or {}

    def cell(col: str, v) -> str:
        if isinstance(v, (float, np.floating)) and not np.isfinite(v):
            return '<td class="num">n/a</td>'
        if col in formats and isinstance(v, (int, float, np.integer, np.floating)):
            f = formats[col]
            return f'<td class="num">{html.escape(f(v) if callable(f) else format(v, f))}</td>'
        return f"<td>{html.escape(str(v))}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(cell(c, v) for c, v in zip(df.columns, row)) + "</tr>"
                   for row in df.itertuples(index=False))
    return f'<table class="data"><tr>{head}</tr>{body}</table>'


def write_pngs(folder: Path, sections: list[Section], scale: float = 2.0) -> list[Path]:
    """One PNG (vl-convert, ``scale``× pixel density, for slides) and one SVG (vector, for papers) per section
    under ``folder/figures/``."""
    import vl_convert

    paths = []
    for s in sections:
        spec = s.chart.to_dict()
        png, svg = folder / FIGURES / f"{s.key}.png", folder / FIGURES / f"{s.key}.svg"
        atomic_write_bytes(png, vl_convert.vegalite_to_png(spec, scale=scale))
        atomic_write_text(svg, vl_convert.vegalite_to_svg(spec))
        paths += [png, svg]
    return paths


def sweep_provenance(folder: Path, runs: pd.DataFrame) -> list[tuple[str, str]]:
    """What a sweep ran, from its manifest.json ``plan`` and ``attempts`` and runs.csv: scenario, overrides,
    rounds, seeds and the commit(s) it ran from. Facts the folder does not hold are said to be missing."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    plan = manifest.get("plan") or {}
    rounds = plan.get("rounds") or (plan.get("base_config") or {}).get("world", {}).get("rounds")
    seeds = sorted({int(s) for s in runs["seed"].dropna()}) if "seed" in runs else []
    seed_text = (f"{len(seeds)} seeds, {seeds[0]}–{seeds[-1]}" if len(seeds) > 3 else ", ".join(map(str, seeds)))
    commits = sorted({str(a.get("git_commit")) for a in manifest.get("attempts", []) if a.get("git_commit")})
    missing = "not recorded (no manifest.json plan)"
    return [("scenario", str(plan.get("scenario") or ("baseline" if plan else missing))),
            ("overrides", json.dumps(plan.get("overrides") or {}) if plan else missing),
            ("rounds", str(rounds) if rounds else missing), ("seeds", seed_text or "not in runs.csv"),
            ("git commit", ", ".join(commits) or missing)]


def _run_facts(frames: RunFrames, manifest: dict) -> list[tuple[str, str]]:
    m = frames.model
    facts = [("run", str(manifest.get("run_id", ""))), ("scenario", str(manifest.get("scenario", ""))),
             ("seed", str(manifest.get("seed", ""))), ("rounds", str(int(m["round"].max())) if not m.empty else "0"),
             ("overrides", json.dumps(manifest.get("overrides", {}))),
             ("git commit", str(manifest.get("git_commit", ""))),
             ("finished", str(manifest.get("finished_utc", "")))]
    return [(k, v) for k, v in facts if v]


MAX_BAND_POINTS = 8  # design points drawn with bands in one chart; more would be unreadable
MAX_FREQUENCY_POINTS = 24


def _read_verdicts(folder: Path) -> dict | None:
    """outcomes.json of a run folder, or None when absent, unreadable or from before the current detectors."""
    try:
        data = json.loads((folder / "outcomes.json").read_text())
    except (OSError, ValueError):
        return None
    keys = ("dumb_pipe", "loss_leading", "vertical_takeover")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), dict) for k in keys):
        return None
    return data if "window" in data["dumb_pipe"] and "below_cost_not_chosen" in data["loss_leading"] else None


def verdict_badges(verdicts: dict) -> list[str]:
    """Badges of the outcomes that fired, from a verdicts dict (outcomes.json): dumb pipe (first round its
    window qualified), each chosen spell (firm, rounds, recouped or not) and each vertical taken over."""
    out = []
    if verdicts["dumb_pipe"]["detected"]:
        out.append(f"dumb pipe · since round {verdicts['dumb_pipe']['first_round']}")
    for sp in verdicts["loss_leading"]["spells"]:
        out.append(f"loss leading · {sp['firm']} rounds {sp['start']}–{sp['end']}"
                   + (f" · recouped by {sp['recoup_round']}" if sp["recouped"] else ""))
    for v, o in verdicts["vertical_takeover"]["verticals"].items():
        if o["takeover"]:
            out.append(f"vertical takeover · {v} since round {o['takeover_round']}")
    return out


def _point_labels(runs: pd.DataFrame, params: list[str]) -> pd.Series:
    if not params:
        return pd.Series("all runs", index=runs.index)
    return runs["point"].astype(int).map(lambda p: f"p{p}") + ": " + runs[params].astype(str).apply(
        lambda row: ", ".join(f"{k}={v}" for k, v in row.items()), axis=1)


def replicate_sections(folder: Path, params: list[str]) -> tuple[list[Section], str]:
    """A sweep's replicate-aware sections (from runs.csv and rounds.csv through ``load_sweep``): key series per
    design point with median and 50/90 % bands over its replicates (the first :data:`MAX_BAND_POINTS` points),
    and the outcome frequencies per point with 95 % Wilson intervals (chart for up to
    :data:`MAX_FREQUENCY_POINTS` points, table for all). A replicate-only sweep is one point, "all runs"."""
    from runs.compare.stats import bands
    from runs.compare.summaries import INDEPENDENT_SHARE, KEY_SERIES, outcome_frequencies
    from runs.reports.charts import band_chart, frequency_chart

    try:
        from runs.sweeps.sweep import load_sweep

        runs, rounds = load_sweep(folder)
    except (ImportError, ValueError, KeyError, OSError):
        return [], ""
    if runs.empty or "point" not in runs:
        return [], ""
    runs = runs.copy()  # runs.csv read column by column is fragmented
    runs["point_label"] = _point_labels(runs, params)
    freq = outcome_frequencies(runs, ["point", "point_label"])
    sections, tables = [], ""
    if len(freq):
        shown = freq.assign(cell=[f"{k}/{n} ({f:.0%}) [{lo:.0%}, {hi:.0%}]" if n else "no run"
                                  for k, n, f, lo, hi in zip(freq["fired"], freq["runs"], freq["frequency"],
                                                             freq["wilson_low"], freq["wilson_high"])])
        wide = shown.pivot_table(index="point_label", columns="outcome", values="cell", aggfunc="first",
                                 sort=False).reset_index().rename(columns={"point_label": "design point"})
        tables = ("<h2>Outcome frequencies per design point (fired/runs, 95 % Wilson interval)</h2>"
                  + html_table(wide))
        if freq["point"].nunique() <= MAX_FREQUENCY_POINTS:
            sections.append(Section("frequency_by_point", "Outcome frequencies per design point",
                                    frequency_chart(freq, "point_label", "Outcome frequencies (95 % Wilson intervals)")))
    if not rounds.empty:
        from market.outcomes import independent_share

        rounds = rounds.assign(**{INDEPENDENT_SHARE: independent_share(rounds)})
        labels = runs.drop_duplicates("point").set_index("point")["point_label"]
        keep = sorted(rounds["point"].unique())[:MAX_BAND_POINTS]
        sub = rounds[rounds["point"].isin(keep)].assign(point_label=lambda d: d["point"].map(labels))
        cols = [c for c, _ in KEY_SERIES if c in sub.columns][:6]
        note = (f"; the first {MAX_BAND_POINTS} of {rounds['point'].nunique()} design points"
                if rounds["point"].nunique() > MAX_BAND_POINTS else "")
        sections.insert(0, Section("bands_by_point", "Key series per design point: median, 50 % and 90 % bands",
                                   band_chart(bands(sub, ["point_label", "round"], cols), "point_label",
                                              "Key series over replicates", dict(KEY_SERIES)),
                                   "Line: median over the point's replicates; dark band: 25th–75th percentile; "
                                   f"light band: 5th–95th{note}."))
    return sections, tables


def write_report(folder: Path, *, png: bool = True, x: str | None = None, y: str | None = None) -> list[Path]:
    """Write ``report.html`` (+ ``figures/*.png`` unless ``png`` is False) into a run or sweep folder.

    Returns the paths written. Raises ReportError if ``folder`` is neither a run folder (model.csv …) nor a
    sweep folder (runs.csv), or its tables are unusable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    extra = ""
    if (folder / "runs.csv").is_file():
        runs = load_runs_table(folder)
        sections = sweep_sections(runs, x, y)
        params, outcomes, _ = sweep_columns(runs)
        more, extra = replicate_sections(folder, params)
        sections = more + sections
        title = f"tokenmarket sweep report: {folder.name}"
        facts = [("runs", str(len(runs))), ("parameters", ", ".join(params) or "none (replicates only)"),
                 ("outcomes", ", ".join(outcomes) or "none recorded in runs.csv"),
                 *sweep_provenance(folder, runs)]
        badges = [f"{o.removeprefix('outcome_').replace('_', ' ')}: {as_flag(runs[o]).mean():.0%} "
                  "of runs" for o in outcomes]
    elif (folder / "model.csv").is_file():
        frames, manifest = load_run(folder)
        sections = run_sections(frames)
        title = f"tokenmarket run report: {manifest.get('run_id', folder.name)}"
        facts = _run_facts(frames, manifest)
        verdicts = _read_verdicts(folder)
        if verdicts is not None:
            badges = verdict_badges(verdicts)
            extra = "<h2>Outcome verdicts</h2>" + "".join(f"<p>{html.escape(line)}</p>"
                                                         for line in verdict_lines(verdicts))
        else:
            badges = [f"{name.replace('_', ' ')} · since round {r}" for name, r in outcome_flags(frames.model)]
    else:
        raise ReportError(f"{folder}: not a run folder (no model.csv) nor a sweep folder (no runs.csv)")
    written = write_pngs(folder, sections) if png else []
    atomic_write_text(folder / REPORT, render_html(title, sections, facts, badges, png_links=png, extra_html=extra))
    return [folder / REPORT, *written]
