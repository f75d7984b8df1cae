"""Altair chart builders: tidy DataFrames in (the columns of model.csv, agents.csv, events.csv, runs.csv),
``alt.Chart`` out. Shared by the browser page (``runs/page/app.py``) and the report (``runs/reports/report.py``).

Pure functions: no file I/O, no model access. Every builder aggregates to firm × round or coarser before
drawing, and thins long runs to at most :data:`MAX_ROWS` rows, so a chart never carries customer-level data and
its size does not grow with the population. Empty inputs (round 0 on the page) give a "no data yet" chart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from market.config import VERTICALS
from runs.reports.labels import metric_label, param_label

WIDTH, HEIGHT = 380, 200  # px of one panel; page and report use the same sizes
MAX_ROWS = 4000  # below Altair's 5,000-row guard; time series are thinned to every k-th round above it
RUNWAY_CAP_MONTHS = 120.0  # runway of a firm that is not burning cash is drawn at this cap ("≥ 10 years")
API_SELLERS = ("lab", "provider")
LEGEND_RIGHT_MAX = 12  # firms listed in a legend on the right; more go below the chart in three columns
PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#bab0ac", "#1f77b4", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
           "#dbdb8d", "#9edae5")  # vega's tableau10 then tableau20's light tones: one colour per firm, all charts
EVENT_ORDER = ("entry", "exit", "acquisition", "vertical_build_started", "vertical_launch", "funding_round",
               "open_weight_release",
               "upstream_switch", "upstream_switch_started", "customers_released")


@dataclass(frozen=True)
class RunFrames:
    """The tables of one run: model.csv, agents.csv, events.csv rows, and each lab's configured compute split
    (``lab_shares``: name → (training share of GPUs, free-tier share of serving GPUs)); ``horizon``: the rounds the
    run will last when it is still running (the page), so the timeline's axis spans the whole run from the start
    (None: up to the last round recorded)."""

    model: pd.DataFrame
    agents: pd.DataFrame
    events: pd.DataFrame
    lab_shares: dict[str, tuple[float, float]] = field(default_factory=dict)
    horizon: int | None = None


# ----------------------------------------------------------------------------------------------- helpers

def _empty(title: str, message: str = "no data yet: press Step") -> alt.Chart:
    return (alt.Chart(pd.DataFrame({"text": [message]})).mark_text(size=14, color="gray")
            .encode(text=alt.Text("text:N")).properties(title=title, width=WIDTH, height=HEIGHT))


def thin_rounds(df: pd.DataFrame, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """Keep every k-th round (and the last) so that ``df`` has at most about ``max_rows`` rows."""
    if len(df) <= max_rows or "round" not in df:
        return df
    rounds = np.sort(df["round"].unique())
    k = int(np.ceil(len(df) / max_rows))
    keep = set(rounds[::k]) | {rounds[-1]}
    return df[df["round"].isin(keep)]


def firm_names(agents: pd.DataFrame) -> list[str]:
    """Firm names in agent-id order: the colour domain shared by every chart of a run."""
    if agents.empty:
        return []
    return list(agents.sort_values(["agent_id", "round"]).drop_duplicates("name")["name"])


LAB_COLOURS = ("#1f4e9c", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22",
               "#393b79", "#843c39", "#637939")  # bold, far apart: the labs are the story of most charts
VERTICAL_HUES = {"general_chat": 195.0, "coding": 95.0, "customer_support": 30.0, "writing": 290.0}  # degrees


def _hsl(h: float, s: float, lightness: float) -> str:
    """'#rrggbb' of a colour given hue (degrees), saturation and lightness (0-1)."""
    import colorsys

    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, lightness, s)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def firm_colours(agents: pd.DataFrame) -> dict[str, str]:
    """A fixed, distinct colour per firm of a run (name → '#rrggbb'), the same in every chart.

    Labs take bold colours (:data:`LAB_COLOURS`, then golden-angle hues); hosts (``provider``) muted golden-angle
    hues (low saturation); wrappers light, saturated shades of one hue family per vertical (:data:`VERTICAL_HUES`).
    Colours never repeat: a clash moves to the next shade.
    """
    if agents.empty:
        return {}
    firms = agents.sort_values(["agent_id", "round"]).drop_duplicates("name")
    vertical = firms["vertical"] if "vertical" in firms else pd.Series("", index=firms.index)
    out: dict[str, str] = {}
    used: set[str] = set()
    counters: dict[str, int] = {}

    def take(colour_at) -> str:
        k = 0
        while (c := colour_at(k)) in used:
            k += 1
        used.add(c)
        return c

    for (_, row), vert in zip(firms.iterrows(), vertical):
        kind = str(row.get("type", ""))
        i = counters.get(kind if kind != "wrapper" else f"wrapper:{vert}", 0)
        counters[kind if kind != "wrapper" else f"wrapper:{vert}"] = i + 1
        if kind == "lab":
            out[row["name"]] = take(lambda k, i=i: LAB_COLOURS[i + k] if i + k < len(LAB_COLOURS) else
                                    _hsl(137.508 * (i + k), 0.75, 0.35))
        elif kind == "wrapper":
            hue = VERTICAL_HUES.get(str(vert), 0.0)
            out[row["name"]] = take(lambda k, i=i, hue=hue: _hsl(hue + 9 * ((i + k) // 4), 0.75,
                                                                0.52 + 0.08 * ((i + k) % 4)))
        else:
            out[row["name"]] = take(lambda k, i=i: _hsl(15 + 137.508 * (i + k), 0.3, 0.45))
    return out


def _firm_color(all_names: list[str] | dict[str, str], names_here: list[str], title: str = "firm") -> alt.Color:
    """Colour by firm, the same colour for a firm in every chart (``all_names``: :func:`firm_colours`, or names
    in order for palette colours), legend listing only ``names_here``; full names in the legend (no cut)."""
    colour = all_names if isinstance(all_names, dict) else {
        n: PALETTE[i % len(PALETTE)] for i, n in enumerate(all_names)}
    here = [n for n in colour if n in set(names_here)]
    legend = (alt.Legend(symbolLimit=0, labelLimit=0) if len(here) <= LEGEND_RIGHT_MAX else
              alt.Legend(orient="bottom", columns=2, symbolLimit=0, labelLimit=0, labelFontSize=9, symbolSize=30,
                         rowPadding=0, title=None))
    return alt.Color("name:N", title=title, sort=here,
                     scale=alt.Scale(domain=here, range=[colour[n] for n in here]), legend=legend)


def _tips(*items: str | alt.Tooltip) -> list[alt.Tooltip]:
    """Tooltip channels; shorthand strings made explicit (altair resolves a string channel through its whole
    class table, ≈ 20 ms each, which dominated the page's time per round)."""
    return [alt.Tooltip(t) if isinstance(t, str) else t for t in items]


def _round_x() -> alt.X:
    return alt.X("round:Q", title="round (month)", axis=alt.Axis(tickMinStep=1, format="d"))


# ----------------------------------------------------------------------------------------------- data prep

def market_shares(agents: pd.DataFrame) -> pd.DataFrame:
    """Shares per round of the API market and of each vertical: columns round, market, name, share (0-1).

    API: API tokens (``api_tokens_mtok`` if recorded, else paid tokens ``tokens_mtok``) of labs and providers.
    Vertical v: customers served in v (``customers_<v>`` columns, API users counted for the API seller), only
    when those columns exist. Firms with no share in a market over the whole run are left out of it.
    """
    if agents.empty:
        return pd.DataFrame(columns=["round", "market", "name", "share"])
    parts = []
    qty = "api_tokens_mtok" if "api_tokens_mtok" in agents else "tokens_mtok"
    markets = [("API", qty, agents[agents["type"].isin(API_SELLERS)])]
    markets += [(v, f"customers_{v}", agents) for v in VERTICALS if f"customers_{v}" in agents]
    for market, col, df in markets:
        wide = df.groupby(["round", "name"], sort=False)[col].sum().astype(float).unstack(fill_value=0.0).fillna(0.0)
        wide = wide.loc[:, wide.sum() > 0]
        if wide.empty:
            continue
        shares = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0).fillna(0.0)
        long = shares.reset_index().melt(id_vars="round", var_name="name", value_name="share")
        parts.append(long.assign(market=market))
    if not parts:
        return pd.DataFrame(columns=["round", "market", "name", "share"])
    return pd.concat(parts, ignore_index=True)[["round", "market", "name", "share"]]


def runway_months(agents: pd.DataFrame) -> pd.Series:
    """Runway (months) = cash ÷ burn, burn = max(0, −operating profit) ($/month); capped at
    :data:`RUNWAY_CAP_MONTHS` for firms not burning cash; 0 when cash is gone. Ignores future funding."""
    burn = (-agents["operating_profit_usd"]).clip(lower=0.0)
    cash = agents["cash_usd"].clip(lower=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        months = np.where(burn > 0, cash / burn, RUNWAY_CAP_MONTHS)
    return pd.Series(np.minimum(months, RUNWAY_CAP_MONTHS), index=agents.index)


def lab_shares_from(config: dict) -> dict[str, tuple[float, float]]:
    """Each lab's configured (training share, free-tier share of serving GPUs) from config data (a dumped
    MarketConfig, as in manifest.json); the fallback of :func:`compute_split` for runs that did not record
    the live split. Shares a config does not have count as 0."""
    return {lab["name"]: (float(lab.get("training_share", 0.0)),
                          float(lab.get("free_share", 0.0)) if lab.get("free_tier", True) else 0.0)
            for lab in config.get("labs", [])}


def compute_split(agents: pd.DataFrame, lab_shares: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Each lab's GPUs by use per round: columns round, name, use (training | free tier | paid serving | inference
    R&D when recorded), gpus.

    Uses, in this order: ``training_gpus``/``free_gpus``/``paid_gpus`` columns (the lab's allocation each
    round); ``training_share``/``free_share`` columns; the configured shares ``lab_shares`` (name → (training
    share of the fleet, free-tier share of serving GPUs)) applied to ``gpus``.
    """
    labs = agents[agents["type"] == "lab"] if "type" in agents else agents.iloc[0:0]
    if labs.empty:
        return pd.DataFrame(columns=["round", "name", "use", "gpus"])
    uses = {"training": "training_gpus", "free tier": "free_gpus", "paid serving": "paid_gpus"}
    if "rd_gpus" in labs.columns:
        uses["inference R&D"] = "rd_gpus"
    if set(uses.values()) <= set(labs.columns):
        out = pd.DataFrame({"round": labs["round"], "name": labs["name"],
                            **{use: labs[col] for use, col in uses.items()}})
    else:
        if {"training_share", "free_share"} <= set(labs.columns):
            train, free = labs["training_share"], labs["free_share"]
        else:
            train = labs["name"].map(lambda n: lab_shares.get(n, (np.nan, np.nan))[0])
            free = labs["name"].map(lambda n: lab_shares.get(n, (np.nan, np.nan))[1])
        gpus = labs["gpus"]
        out = pd.DataFrame({"round": labs["round"], "name": labs["name"], "training": gpus * train,
                            "free tier": gpus * (1 - train) * free,
                            "paid serving": gpus * (1 - train) * (1 - free)})
    return out.melt(id_vars=["round", "name"], var_name="use", value_name="gpus").dropna()


def as_flag(s: pd.Series) -> pd.Series:
    """An outcome column as booleans: True, a count > 0 (e.g. firms loss-leading) or the text "True" (a CSV
    round trip) are true; missing, False, 0 and other text are false."""
    def one(v) -> bool:
        if isinstance(v, str):
            return v.strip() == "True"
        try:
            return bool(v > 0) and not pd.isna(v)
        except TypeError:
            return False
    return s.map(one).astype(bool)


def outcome_flags(model: pd.DataFrame) -> list[tuple[str, int]]:
    """Outcome detectors that fired: (name without the ``outcome_`` prefix, first round true), from the
    ``outcome_*`` columns of model rows (booleans, or counts such as firms loss-leading); empty when none."""
    out = []
    for col in [c for c in model.columns if c.startswith("outcome_")]:
        fired = model.loc[as_flag(model[col]), "round"]
        if not fired.empty:
            out.append((col.removeprefix("outcome_"), int(fired.min())))
    return out


# ----------------------------------------------------------------------------------------------- run charts

def price_cost_chart(agents: pd.DataFrame) -> alt.Chart:
    """API price and unit cost ($/Mtok, log scale) per lab and provider, per round."""
    title = "API price (solid) and unit cost (dashed) per seller"
    sellers = agents[agents["type"].isin(API_SELLERS)] if not agents.empty else agents
    if sellers.empty:
        return _empty(title)
    long = sellers.melt(id_vars=["round", "name"], value_vars=["price", "unit_cost"], var_name="measure",
                        value_name="usd_per_mtok")
    long = thin_rounds(long[long["usd_per_mtok"] > 0].replace({"measure": {"price": "API price",
                                                                          "unit_cost": "unit cost"}}))
    return alt.Chart(long).mark_line().encode(
        x=_round_x(), y=alt.Y("usd_per_mtok:Q", title="$/Mtok (log)", scale=alt.Scale(type="log")),
        color=_firm_color(firm_colours(agents), list(sellers["name"].unique()), "seller"),
        strokeDash=alt.StrokeDash("measure:N", title="", sort=["API price", "unit cost"]),
        tooltip=_tips("round:Q", "name:N", "measure:N", alt.Tooltip("usd_per_mtok:Q", format=".3f")),
    ).properties(title=title, width=WIDTH, height=HEIGHT)


def market_share_chart(agents: pd.DataFrame) -> alt.Chart:
    """Stacked shares per round, one panel per market (API; each vertical when recorded)."""
    title = "Market shares: API (tokens) and verticals (customers)"
    shares = thin_rounds(market_shares(agents))
    if shares.empty:
        return _empty(title)
    markets = [m for m in ("API", *VERTICALS) if m in set(shares["market"])]
    cols = min(3, len(markets))
    return alt.Chart(shares).mark_area().encode(
        x=alt.X("round:Q", title="round", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("share:Q", stack="normalize", title="share", axis=alt.Axis(format="%")),
        color=_firm_color(firm_colours(agents), list(shares["name"].unique())),
        tooltip=_tips("round:Q", "market:N", "name:N", alt.Tooltip("share:Q", format=".1%")),
    ).properties(width=(WIDTH - 60) // cols, height=HEIGHT // 2 - 30).facet(
        facet=alt.Facet("market:N", sort=markets, title=None), columns=cols).properties(title=title)


def gross_profit_share_chart(model: pd.DataFrame) -> alt.Chart:
    """Share of industry gross profit earned by the pipe (API) and the app layer, per round."""
    title = "Share of industry gross profit: pipe (API) vs apps"
    if model.empty:
        return _empty(title)
    df = model[["round", "gross_profit_api_usd", "gross_profit_app_usd"]].copy()
    total = df["gross_profit_api_usd"] + df["gross_profit_app_usd"]
    df["pipe (API)"] = np.where(total > 0, df["gross_profit_api_usd"] / total, np.nan)
    df["apps"] = np.where(total > 0, df["gross_profit_app_usd"] / total, np.nan)
    long = thin_rounds(df.melt(id_vars=["round"], value_vars=["pipe (API)", "apps"], var_name="layer",
                               value_name="share").dropna())
    return alt.Chart(long).mark_line(point=len(df) < 30).encode(
        x=_round_x(), y=alt.Y("share:Q", title="share of gross profit", axis=alt.Axis(format="%")),
        color=alt.Color("layer:N", sort=["pipe (API)", "apps"], scale=alt.Scale(range=["#4c78a8", "#e45756"])),
        tooltip=_tips("round:Q", "layer:N", alt.Tooltip("share:Q", format=".1%")),
    ).properties(title=title, width=WIDTH, height=HEIGHT)


VALUE_OWNERS = (("consumers", "consumers"), ("labs", "labs (API and own apps)"),
                ("independent_apps", "independent apps"), ("hosts", "hosts"), ("gpu_suppliers", "GPU suppliers"))


def value_capture_chart(model: pd.DataFrame) -> alt.Chart:
    """Value captured by owner per round (model.csv ``value_<owner>_usd``, market/value.py), stacked as shares
    of the month's total; the tooltip gives $/month."""
    title = "Value captured by owner (share of the month's total)"
    cols = [f"value_{o}_usd" for o, _ in VALUE_OWNERS]
    if model.empty or not set(cols) <= set(model.columns):
        return _empty(title, "no data yet: press Step" if model.empty else "no value columns in model.csv")
    names = dict((f"value_{o}_usd", label) for o, label in VALUE_OWNERS)
    long = model[["round", *cols]].melt(id_vars="round", var_name="owner", value_name="usd")
    long["owner"] = long["owner"].map(names)
    long["usd"] = long["usd"].clip(lower=0.0)  # a loss-making owner captures nothing that month
    order = [label for _, label in VALUE_OWNERS]
    return alt.Chart(thin_rounds(long)).mark_area().encode(
        x=_round_x(), y=alt.Y("usd:Q", stack="normalize", title="share of value", axis=alt.Axis(format="%")),
        color=alt.Color("owner:N", sort=order, scale=alt.Scale(domain=order, range=list(PALETTE[:5]))),
        order=alt.Order("owner_order:Q"),
        tooltip=_tips("round:Q", "owner:N", alt.Tooltip("usd:Q", format="$,.3s", title="$/month")),
    ).transform_calculate(owner_order=f"indexof({order!r}, datum.owner)").properties(
        title=title, width=WIDTH, height=HEIGHT)


def lerner_chart(model: pd.DataFrame) -> alt.LayerChart | alt.Chart:
    """Revenue-weighted Lerner index (P − unit cost)/P of the API and app layers per round, with a rule at 0."""
    title = "Lerner index by layer (price − unit cost) / price"
    if model.empty:
        return _empty(title)
    long = thin_rounds(model.melt(id_vars=["round"], value_vars=["lerner_api", "lerner_app"], var_name="layer",
                                  value_name="lerner").dropna()
                       .replace({"layer": {"lerner_api": "pipe (API)", "lerner_app": "apps"}}))
    lines = alt.Chart(long).mark_line(point=len(model) < 30).encode(
        x=_round_x(), y=alt.Y("lerner:Q", title="Lerner index"),
        color=alt.Color("layer:N", sort=["pipe (API)", "apps"], scale=alt.Scale(range=["#4c78a8", "#e45756"])),
        tooltip=_tips("round:Q", "layer:N", alt.Tooltip("lerner:Q", format=".3f")))
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="gray", strokeDash=[4, 4]).encode(y=alt.Y("y:Q"))
    return alt.layer(lines, zero).properties(title=title, width=WIDTH, height=HEIGHT)


MONEY_LABEL = ("datum.value == 0 ? '$0' : "
               "abs(datum.value) >= 1e9 ? '$' + format(datum.value / 1e9, ',.3~f') + 'B' : "
               "abs(datum.value) >= 1e6 ? '$' + format(datum.value / 1e6, ',.3~f') + 'M' : "
               "'$' + format(datum.value / 1e3, ',.3~f') + 'k'")  # axis labels of dollars: $1.5B, $300M, $20k
FIRM_TYPES = (("lab", "labs"), ("provider", "hosts"), ("wrapper", "wrappers"))  # agents.csv type → panel title


def cash_runway_chart(agents: pd.DataFrame) -> alt.VConcatChart | alt.Chart:
    """Cash ($M, linear) and runway (months, capped) per firm per round, one row of panels per firm type (labs,
    hosts, wrappers), each row with its own cash scale and its own legend: a lab's billions and a wrapper's
    millions are read on separate axes. Types with no firm in the run are left out."""
    title = "Cash and runway per firm, by firm type"
    if agents.empty:
        return _empty(title)
    df = agents[["round", "name", "type", "cash_usd"]].assign(cash_musd=agents["cash_usd"] / 1e6,
                                                              runway_months=runway_months(agents))
    df = thin_rounds(df, MAX_ROWS // 2)
    colours = firm_colours(agents)
    tip = _tips("round:Q", "name:N", alt.Tooltip("cash_musd:Q", format=",.1f", title="cash ($M)"),
                alt.Tooltip("runway_months:Q", format=".1f", title="runway (months)"))
    kinds = list(FIRM_TYPES) + [(k, k) for k in sorted(set(df["type"]) - {t for t, _ in FIRM_TYPES})]
    rows = []
    for kind, label in kinds:
        names = list(df.loc[df["type"] == kind, "name"].unique())
        if not names:
            continue
        base = alt.Chart(df).transform_filter(alt.FieldOneOfPredicate(field="type", oneOf=[kind])).encode(
            x=_round_x(), color=_firm_color(colours, names, label), tooltip=tip)
        cash = base.mark_line().encode(
            y=alt.Y("cash_usd:Q", title=f"{label}: cash", axis=alt.Axis(labelExpr=MONEY_LABEL))).properties(
            width=WIDTH // 2, height=HEIGHT // 2)
        runway = base.mark_line().encode(
            y=alt.Y("runway_months:Q", title=f"runway (months, ≤ {RUNWAY_CAP_MONTHS:.0f})",
                    scale=alt.Scale(domain=[0, RUNWAY_CAP_MONTHS]))).properties(width=WIDTH // 2, height=HEIGHT // 2)
        rows.append(alt.hconcat(cash, runway, spacing=12).resolve_scale(y="independent"))
    return alt.vconcat(*rows, title=title, spacing=14).resolve_scale(y="independent", color="independent")


def compute_split_chart(agents: pd.DataFrame, lab_shares: dict[str, tuple[float, float]]) -> alt.Chart:
    """Each lab's GPUs split into training, free tier, paid serving and inference R&D (when recorded) per round
    (stacked, one panel per lab)."""
    title = "Compute split per lab (GPUs)"
    split = thin_rounds(compute_split(agents, lab_shares)) if not agents.empty else pd.DataFrame()
    if split.empty:
        return _empty(title)
    uses = ["training", "free tier", "paid serving", "inference R&D"]
    return alt.Chart(split).mark_area().encode(
        x=alt.X("round:Q", title="round", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("gpus:Q", stack="zero", title="GPUs", axis=alt.Axis(format=".2~s")),
        color=alt.Color("use:N", sort=uses, scale=alt.Scale(domain=uses, range=["#54a24b", "#eeca3b", "#4c78a8", "#b279a2"])),
        order=alt.Order("use_order:Q"),
        tooltip=_tips("round:Q", "name:N", "use:N", alt.Tooltip("gpus:Q", format=",.0f")),
    ).transform_calculate(
        use_order="indexof(['training', 'free tier', 'paid serving', 'inference R&D'], datum.use)"
    ).properties(width=WIDTH // 2 - 10, height=HEIGHT // 2 - 10).facet(
        facet=alt.Facet("name:N", title=None, sort=[n for n in firm_names(agents) if n in set(split["name"])]),
        columns=2).properties(title=title)


def events_chart(events: pd.DataFrame, last_round: int | None = None, x_max: int | None = None) -> alt.Chart:
    """Events timeline: one mark per (round, kind), sized by how many happened, actors in the tooltip. The round
    axis runs to ``x_max`` (the run's horizon on the page, so the spec stays the same round to round), else to
    ``last_round`` (the last round recorded)."""
    title = "Events: entries, exits, acquisitions, vertical launches, funding rounds"
    if events.empty:
        return _empty(title, f"no events in rounds 1–{last_round}" if last_round else "no data yet: press Step")
    agg = (events.groupby(["round", "kind"], as_index=False)
           .agg(n=("kind", "size"), amount_usd=("amount", "sum"),
                actors=("actor", lambda s: ", ".join(sorted(set(map(str, s)))[:6]))))
    agg = thin_rounds(agg)
    kinds = [k for k in EVENT_ORDER if k in set(agg["kind"])] + sorted(set(agg["kind"]) - set(EVENT_ORDER))
    x_max = max(int(agg["round"].max()), x_max or last_round or 0)
    return alt.Chart(agg).mark_circle(opacity=0.8).encode(
        x=alt.X("round:Q", title="round (month)", scale=alt.Scale(domain=[0, x_max]),
                axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("kind:N", sort=kinds, title=None),
        color=alt.Color("kind:N", sort=kinds, legend=None),
        size=alt.Size("n:Q", legend=None, scale=alt.Scale(domainMin=1, range=[60, 400])),
        tooltip=_tips("round:Q", "kind:N", "n:Q", "actors:N", alt.Tooltip("amount_usd:Q", format="$,.3s")),
    ).properties(title=title, width=WIDTH, height=HEIGHT)


RunChart = Callable[[RunFrames], alt.TopLevelMixin]

# The charts of a run, in page and report order: key → (title, builder). The page shows each as one panel.
RUN_CHARTS: dict[str, tuple[str, RunChart]] = {
    "prices": ("API price and unit cost per seller", lambda f: price_cost_chart(f.agents)),
    "shares": ("Market shares", lambda f: market_share_chart(f.agents)),
    "gross_profit": ("Gross-profit share: pipe vs apps", lambda f: gross_profit_share_chart(f.model)),
    "value": ("Value captured by owner", lambda f: value_capture_chart(f.model)),
    "lerner": ("Lerner index by layer", lambda f: lerner_chart(f.model)),
    "cash": ("Cash and runway per firm", lambda f: cash_runway_chart(f.agents)),
    "compute": ("Compute split per lab", lambda f: compute_split_chart(f.agents, f.lab_shares)),
    "events": ("Events timeline", lambda f: events_chart(
        f.events, int(f.model["round"].max()) if not f.model.empty else None, f.horizon)),
}


def run_charts(frames: RunFrames) -> dict[str, alt.TopLevelMixin]:
    """Every chart of :data:`RUN_CHARTS` for one run."""
    return {key: build(frames) for key, (_, build) in RUN_CHARTS.items()}


# ----------------------------------------------------------------------------------------------- sweep charts

def outcome_heatmap(runs: pd.DataFrame, x: str, y: str, outcome: str) -> alt.Chart:
    """Frequency of ``outcome`` (share of runs where the flag is true) over parameters ``x`` and ``y``.

    Aggregated in pandas: one row per (x, y) cell with ``frequency`` and ``n`` runs. Parameter columns are
    renamed ``x``/``y`` in the chart data (dotted config paths would read as nested fields in Vega-Lite).
    """
    hits = pd.DataFrame({"x": runs[x], "y": runs[y], "hit": as_flag(runs[outcome]).astype(float)})
    cells = hits.groupby(["x", "y"], as_index=False).agg(frequency=("hit", "mean"), n=("hit", "size"))
    name = outcome.removeprefix("outcome_").replace("_", " ")
    return alt.Chart(cells).mark_rect().encode(
        x=alt.X("x:O", title=param_label(x)), y=alt.Y("y:O", title=param_label(y), sort="descending"),
        color=alt.Color("frequency:Q", title="frequency", scale=alt.Scale(domain=[0, 1], scheme="blues")),
        tooltip=_tips(alt.Tooltip("x:O", title=x), alt.Tooltip("y:O", title=y),
                 alt.Tooltip("frequency:Q", format=".0%"), "n:Q"),
    ).properties(title=f"Outcome '{name}': share of runs where it fired", width=WIDTH * 2 // 3, height=HEIGHT)


def metric_distribution_chart(runs: pd.DataFrame, param: str, metric: str) -> alt.LayerChart:
    """Distribution of ``metric`` over runs per value of ``param``: whiskers min–max, box q1–q3, median tick.

    Aggregated in pandas: one row per parameter value (column ``value``), with min, q1, median, q3, max, count.
    """
    q = runs.groupby(param)[metric].describe()[["min", "25%", "50%", "75%", "max", "count"]]
    q = q.rename(columns={"25%": "q1", "50%": "median", "75%": "q3"}).rename_axis("value").reset_index()
    base = alt.Chart(q).encode(x=alt.X("value:O", title=param_label(param)))
    tip = _tips(alt.Tooltip("value:O", title=param), "count:Q",
                *[alt.Tooltip(f"{c}:Q", format=".3g") for c in ("min", "q1", "median", "q3", "max")])
    whisker = base.mark_rule().encode(y=alt.Y("min:Q", title=metric_label(metric)), y2="max:Q", tooltip=tip)
    box = base.mark_bar(size=18, opacity=0.6).encode(y="q1:Q", y2="q3:Q", tooltip=tip)
    median = base.mark_tick(color="black", size=18, thickness=2).encode(y="median:Q", tooltip=tip)
    return alt.layer(whisker, box, median).properties(
        title=f"{metric_label(metric)} by {param}", width=WIDTH * 2 // 3, height=HEIGHT)


# ----------------------------------------------------------------------------------------------- replicate charts

SHORT_LABEL = ("abs(datum.value) >= 1e12 ? format(datum.value / 1e12, ',.3~f') + 'T' : "
               "abs(datum.value) >= 1e9 ? format(datum.value / 1e9, ',.3~f') + 'B' : "
               "abs(datum.value) >= 1e6 ? format(datum.value / 1e6, ',.3~f') + 'M' : "
               "abs(datum.value) >= 1e4 ? format(datum.value / 1e3, ',.3~f') + 'k' : format(datum.value, ',.3~f')")
GROUP_TITLES = {"point_label": "design point", "arm": "scenario"}  # legend titles of band charts' groups


def band_chart(bands: pd.DataFrame, group: str, title: str, labels: dict[str, str] | None = None,
               columns: int = 2) -> alt.FacetChart | alt.Chart:
    """Median line with 50 % (q25–q75) and 90 % (q05–q95) bands over rounds, one colour per value of ``group``
    (an arm, a design point), one panel per metric (independent y axes; ``labels`` maps a metric to its panel
    title). ``bands``: columns ``group``, round, metric, median, q05, q25, q75, q95 (runs.compare.stats.bands)."""
    if bands.empty:
        return _empty(title, "no finished runs yet")
    df = bands.copy()
    df["group"] = df[group].astype(str)
    df["panel"] = df["metric"].map(lambda m: (labels or {}).get(m, m))
    df = thin_rounds(df)
    order = list(dict.fromkeys(df["group"]))
    colour = alt.Color("group:N", title=GROUP_TITLES.get(group, group), sort=order,
                       legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0),
                       scale=alt.Scale(domain=order, range=list(PALETTE[:len(order)]) or None))
    base = alt.Chart().encode(x=alt.X("round:Q", title="round (month)", axis=alt.Axis(tickMinStep=1, format="d")),
                              color=colour)
    outer = base.mark_area(opacity=0.15).encode(y=alt.Y("q05:Q", title=None, axis=alt.Axis(labelExpr=SHORT_LABEL)),
                                                y2="q95:Q")
    inner = base.mark_area(opacity=0.3).encode(y="q25:Q", y2="q75:Q")
    line = base.mark_line().encode(y="median:Q", tooltip=_tips(
        "group:N", "round:Q", alt.Tooltip("median:Q", format=".3g"), alt.Tooltip("q05:Q", format=".3g"),
        alt.Tooltip("q95:Q", format=".3g")))
    panels = [p for p in dict.fromkeys(df["panel"])]
    return alt.layer(outer, inner, line, data=df).properties(width=WIDTH - 60, height=HEIGHT - 60).facet(
        facet=alt.Facet("panel:N", sort=panels, title=None), columns=columns).resolve_scale(
        y="independent").properties(title=title)


def difference_chart(diffs: pd.DataFrame, title: str, labels: dict[str, str] | None = None,
                     columns: int = 2) -> alt.FacetChart | alt.Chart:
    """Mean paired difference per round with its confidence band and a rule at 0, one panel per metric.
    ``diffs``: round, metric, mean_difference, ci_low, ci_high (runs.compare.summaries.differences)."""
    if diffs.empty:
        return _empty(title, "no paired runs yet")
    df = diffs.copy()
    df["panel"] = df["metric"].map(lambda m: (labels or {}).get(m, m))
    df["zero"] = 0.0
    df = thin_rounds(df)
    base = alt.Chart().encode(x=alt.X("round:Q", title="round (month)", axis=alt.Axis(tickMinStep=1, format="d")))
    band = base.mark_area(opacity=0.25, color="#4c78a8").encode(y=alt.Y("ci_low:Q", title=None), y2="ci_high:Q")
    line = base.mark_line(color="#4c78a8").encode(
        y="mean_difference:Q", tooltip=_tips("round:Q", alt.Tooltip("mean_difference:Q", format=".3g"),
                                        alt.Tooltip("ci_low:Q", format=".3g"), alt.Tooltip("ci_high:Q", format=".3g"),
                                        "n_pairs:Q"))
    zero = base.mark_rule(color="gray", strokeDash=[4, 4]).encode(y="zero:Q")
    panels = [p for p in dict.fromkeys(df["panel"])]
    return alt.layer(band, line, zero, data=df).properties(width=WIDTH - 60, height=HEIGHT - 60).facet(
        facet=alt.Facet("panel:N", sort=panels, title=None), columns=columns).resolve_scale(
        y="independent").properties(title=title)


def frequency_chart(freq: pd.DataFrame, group: str, title: str) -> alt.LayerChart | alt.Chart:
    """Outcome frequencies with Wilson intervals: one row per outcome, a point per value of ``group`` with its
    interval as a bar. ``freq``: ``group``, outcome, frequency, wilson_low, wilson_high, fired, runs."""
    if freq.empty:
        return _empty(title, "no finished runs yet")
    df = freq.copy()
    df["group"] = df[group].astype(str)
    order = list(dict.fromkeys(df["group"]))
    y = alt.Y("outcome:N", title=None, sort=list(dict.fromkeys(df["outcome"])))
    offset = alt.YOffset("group:N", sort=order)
    colour = alt.Color("group:N", title=GROUP_TITLES.get(group, group), sort=order, legend=alt.Legend(labelLimit=0),
                       scale=alt.Scale(domain=order, range=list(PALETTE[:len(order)]) or None))
    tip = _tips("group:N", "outcome:N", "fired:Q", "runs:Q", alt.Tooltip("frequency:Q", format=".0%"),
                alt.Tooltip("wilson_low:Q", format=".0%"), alt.Tooltip("wilson_high:Q", format=".0%"))
    rule = alt.Chart(df).mark_rule(strokeWidth=2).encode(
        x=alt.X("wilson_low:Q", title="frequency (95 % Wilson interval)", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")), x2="wilson_high:Q", y=y, yOffset=offset, color=colour, tooltip=tip)
    point = alt.Chart(df).mark_point(filled=True, size=70).encode(x="frequency:Q", y=y, yOffset=offset, color=colour,
                                                                 tooltip=tip)
    return alt.layer(rule, point).properties(title=title, width=WIDTH, height=max(HEIGHT, 28 * len(df)))
