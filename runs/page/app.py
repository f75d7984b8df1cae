"""The SolaraViz page: sliders for the key levers, Altair charts updated each round, step / play / reset.

Run it with ``tokenmarket viz [--scenario NAME] [--port P]`` (or ``solara run runs.page.app``). Each browser tab
builds its own :class:`PageMarket` (a module-level model would be shared by every tab).

Levers: each is one entry of :data:`LEVERS`, mapping a slider to a config path of ``market.config``. Slider
ranges come from the schema (``field_meta``) and slider start values are those of the startup scenario
(so the schema's defaults for the baseline): nothing here repeats a default. Three kinds:

* ``field``: the slider sets the field at ``path`` (``labs.*.x`` sets it for every lab);
* ``scale``: a multiplier (1 = as the scenario has it) on every field matched by ``paths``;
* ``count``: keep the first N elements of a list (``labs``: the first N labs of the scenario).

On reset, a ``field``/``count`` lever left at its start value keeps the selected scenario's own value; a lever
that was moved overrides it. A lever whose path is not in the schema yet is left off the page.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pandas as pd
import solara
from pydantic import BaseModel

from market import outcomes as detectors
from market.config import ConfigError, MarketConfig, build_config, field_meta, list_scenarios, resolve
from market.scenario import load_scenario
from market.model import TokenMarket
from runs.page.copy_button import CopyButton
from runs.page.vega import VegaChart, spec_json
from runs.reports.charts import RUN_CHARTS, RunFrames, lab_shares_from
from runs.reports.horizon import horizon_warning
from runs.reports.report import render_html, run_sections, verdict_badges

SCENARIO_ENV = "TOKENMARKET_VIZ_SCENARIO"  # set by `tokenmarket viz --scenario`
PAGE_CUSTOMERS = 20_000  # simulated customers on the page (the schema's 1M is for batch runs): keeps it fast
CUSTOMER_CHOICES = (5_000, 20_000, 100_000, 1_000_000)
AS_SCENARIO = "(as in scenario)"  # start value of a choice lever whose elements differ (e.g. per-lab settings)


@dataclass(frozen=True)
class Lever:
    """One slider (or checkbox) of the page and the config path(s) it drives.

    ``page_min``/``page_max`` narrow the schema's range to something a slider can use (they must lie inside
    it); ``step`` is the slider step. ``kind``: ``field`` sets the field(s), ``scale`` multiplies them, ``count``
    keeps the first N elements of a list, ``single`` sets a list field to one value (``capital.appetites``: one
    investor of that appetite).
    """

    name: str
    label: str
    paths: tuple[str, ...]
    kind: Literal["field", "scale", "count", "single"] = "field"
    page_min: float | None = None
    page_max: float | None = None
    step: float | None = None
    unit: str | None = None  # shown next to the value; None: the schema's unit of the field


LEVERS: tuple[Lever, ...] = (
    Lever("rounds", "rounds", ("world.rounds",), page_max=240, unit="months"),
    Lever("n_labs", "labs (first N)", ("labs",), kind="count", unit="labs"),
    Lever("n_providers", "providers", ("providers.n",), page_max=20, unit="hosts"),
    Lever("open_weight_quality", "open model at the start", ("open_weights.initial_quality",),
          page_max=1.2, step=0.01, unit="quality"),
    Lever("switching_cost_x", "switching cost", ("customers.segments.*.switching_cost_usd",),
          kind="scale", page_min=0.0, page_max=5.0, step=0.1, unit="× scenario"),
    Lever("investor_appetite", "investor appetite", ("capital.appetites",), kind="single", page_min=0.0,
          page_max=1.0, step=0.05, unit="(1 = growth)"),
    Lever("gpu_supply_x", "GPU supply", ("gpu_market.supply_share",),
          kind="scale", page_min=0.5, page_max=4.0, step=0.05, unit="× scenario"),
    Lever("scale_economies", "scale economies", ("world.scale_economies",)),
    Lever("allow_acquisitions", "acquisitions allowed (merger control off)", ("moves.allow_acquisitions",)),
)


# ----------------------------------------------------------------------------------------------- schema

def schema_field(path: str) -> tuple[type[BaseModel], str] | None:
    """(pydantic model, field name) that a dotted config path ends in, or None if the schema lacks it
    (:func:`market.config.resolve`; ``*`` or a digit steps into a list element: ``labs.*.skill`` →
    (LabConfig, "skill"))."""
    try:
        slot = resolve(path)
    except ConfigError:
        return None
    return slot.model, slot.name


def available(lever: Lever) -> bool:
    """Whether every path of ``lever`` exists in the schema (``count`` levers name a list field)."""
    return all(schema_field(p) is not None for p in lever.paths)


def _get(data: Any, path: str) -> list[Any]:
    """Values at a dotted path in nested config data (``*`` fans out over a list)."""
    nodes = [data]
    for part in path.split("."):
        nxt = []
        for node in nodes:
            if isinstance(node, list):
                nxt.extend(node if part == "*" else [node[int(part)]])
            else:
                nxt.append(node[part])
        nodes = nxt
    return nodes


def _expand(data: dict, path: str) -> list[str]:
    """Concrete dotted paths matched by ``path`` (``labs.*.x`` → ``labs.0.x``, ``labs.1.x``, …)."""
    head, _, tail = path.partition(".*.")
    if not tail:
        return [path]
    return [p for i in range(len(_get(data, head)[0])) for p in _expand(data, f"{head}.{i}.{tail}")]


def startup_scenario() -> str:
    """The scenario the page starts with: ``$TOKENMARKET_VIZ_SCENARIO`` or the baseline."""
    return os.environ.get(SCENARIO_ENV) or "baseline"


def _base_data(scenario: str, n_customers: int) -> dict[str, Any]:
    return build_config(load_scenario(scenario), {"customers.n_customers": n_customers}).model_dump()


# ----------------------------------------------------------------------------------------------- sliders

def lever_spec(lever: Lever, base: dict[str, Any]) -> dict[str, Any]:
    """Control spec of one lever (type, label, value, unit, range): start value from ``base`` config data, range
    and unit from the schema (the lever's own ``unit`` where the schema's would mislead, e.g. a multiplier)."""
    spec = _lever_spec(lever, base)
    unit = lever.unit
    if unit is None and lever.kind == "field":
        unit = field_meta(*schema_field(lever.paths[0])).get("unit")
    return {**spec, "unit": unit if unit and unit not in ("bool", "flag", "choice", "switch") else ""}


def _lever_spec(lever: Lever, base: dict[str, Any]) -> dict[str, Any]:
    if lever.kind == "scale":
        lo, hi = lever.page_min or 0.0, lever.page_max or 4.0
        for path in lever.paths:  # never offer a multiplier the schema would reject at this base
            meta = field_meta(*schema_field(path))
            top = meta.get("le", meta.get("lt"))
            values = [v for v in _get(base, path) if v]
            if top is not None and values:
                hi = min(hi, top / max(values))
        return dict(type="SliderFloat", label=lever.label, value=1.0, min=lo, max=round(hi, 2),
                    step=lever.step or 0.05)
    if lever.kind == "single":  # a list field set to one value (capital.appetites: one investor)
        values = _get(base, lever.paths[0])[0]
        return dict(type="SliderFloat", label=lever.label, value=float(values[0]), min=lever.page_min,
                    max=lever.page_max, step=lever.step or 0.05)
    if lever.kind == "count":
        model, name = schema_field(lever.paths[0])
        limit = next(m.max_length for m in model.model_fields[name].metadata if hasattr(m, "max_length"))
        n = len(_get(base, lever.paths[0])[0])
        return dict(type="SliderInt", label=lever.label, value=n, min=1, max=min(limit, max(n, 1)), step=1)
    model, name = schema_field(lever.paths[0])
    meta = field_meta(model, name)
    values = _get(base, lever.paths[0])
    choices = get_args(model.model_fields[name].annotation) if get_origin(
        model.model_fields[name].annotation) is Literal else ()
    if choices:  # a choice: one select for every element a "*" path matches, or "as in scenario" if they differ
        start = values[0] if len(set(values)) == 1 else AS_SCENARIO
        return dict(type="Select", label=lever.label, value=start,
                    values=[c for c in (AS_SCENARIO, *choices) if c != AS_SCENARIO or start == AS_SCENARIO])
    value = values[0]
    if isinstance(value, bool):
        return dict(type="Checkbox", label=lever.label, value=value)
    lo = max(meta.get("ge", meta.get("gt", 0)), lever.page_min if lever.page_min is not None else -np.inf)
    hi = min(meta.get("le", meta.get("lt", 1e9)), lever.page_max if lever.page_max is not None else np.inf)
    if isinstance(value, int):
        return dict(type="SliderInt", label=lever.label, value=value, min=int(lo), max=int(max(hi, value)),
                    step=int(lever.step or 1))
    return dict(type="SliderFloat", label=lever.label, value=value, min=lo, max=max(hi, value),
                step=lever.step or 0.05)


def model_params(scenario: str | None = None) -> dict[str, Any]:
    """SolaraViz ``model_params``: scenario select, population size, seed, then one entry per available lever."""
    scenario = scenario or startup_scenario()
    base = _base_data(scenario, PAGE_CUSTOMERS)
    names = list(list_scenarios())
    if scenario not in names:
        names.insert(0, scenario)
    params: dict[str, Any] = {
        "scenario_name": dict(type="Select", label="scenario", value=scenario, values=names),
        "n_customers": dict(type="Select", label="simulated customers", value=PAGE_CUSTOMERS,
                            values=list(CUSTOMER_CHOICES)),
        "seed": dict(type="InputText", label="seed (integer ≥ 0)", value="0"),
    }
    params.update({lv.name: lever_spec(lv, base) for lv in LEVERS if available(lv)})
    return params


def initial_params(scenario: str | None = None) -> dict[str, Any]:
    """Start values of every page parameter: the keyword arguments of the first :class:`PageMarket`."""
    return {k: v["value"] for k, v in model_params(scenario).items()}


# ----------------------------------------------------------------------------------------------- the model

def parse_seed(value: Any) -> int:
    """Seed from the page's text box (a string once edited). Raises ConfigError unless an integer ≥ 0."""
    try:
        seed = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"seed: expected an integer ≥ 0, got {value!r}") from None
    if seed < 0:
        raise ConfigError(f"seed: expected an integer ≥ 0, got {seed}")
    return seed


def page_config(scenario_name: str, n_customers: int, levers: dict[str, Any]) -> MarketConfig:
    """Validated config: the scenario, the page population, then each moved lever's overrides.

    Raises:
        ConfigError: unknown scenario or lever, or a value the schema rejects.
    """
    by_name = {lv.name: lv for lv in LEVERS}
    unknown = sorted(set(levers) - set(by_name))
    if unknown:
        raise ConfigError(f"page levers: unknown {unknown}; allowed: {sorted(by_name)}")
    data = _base_data(scenario_name, int(n_customers))
    start = initial_params(scenario_name)  # the controls are re-seeded from the scenario chosen
    overrides: dict[str, Any] = {}
    for name, value in levers.items():
        lever = by_name[name]
        if lever.kind == "scale":
            for path in lever.paths:
                overrides.update({p: v * float(value) for p in _expand(data, path) for v in _get(data, p)})
        elif value == start.get(name) or value == AS_SCENARIO:
            continue  # not moved: the selected scenario keeps its own value
        elif lever.kind == "count":
            data["labs"] = data["labs"][: max(1, int(value))]
        elif lever.kind == "single":
            overrides.update({path: [float(value)] for path in lever.paths})
        else:
            overrides.update({p: value for path in lever.paths for p in _expand(data, path)})
    return build_config(data, overrides)


PAGE_ROUNDS = 60  # rounds drawn at most: past it the page shows every k-th round (the last always), so a
# long run costs the tab and the server no more than a 60-round one; reports draw every round


def shown_rounds(df: pd.DataFrame, limit: int = PAGE_ROUNDS) -> pd.DataFrame:
    """Rows of ``df`` (with a ``round`` column) at every k-th round, k = ⌈rounds / limit⌉, plus the last round."""
    if df.empty or "round" not in df:
        return df
    last = int(df["round"].max())
    k = -(-last // limit)
    if k <= 1:
        return df
    keep = (df["round"] % k == 0) | (df["round"] == last)
    return df[keep]


class PageMarket(TokenMarket):
    """TokenMarket built from page parameters (scenario, population, seed, levers) via ``market.config``.

    ``page_params`` keeps the parameters it was asked for (the controls compare against them to show "changes
    pending"). :meth:`step` does nothing once the horizon ``world.rounds`` is reached, so no play loop or redraw
    interval can step past it.
    """

    def __init__(self, *, scenario_name: str | None = None, seed: Any = 0, n_customers: int = PAGE_CUSTOMERS,
                 **levers: Any) -> None:
        name = scenario_name or startup_scenario()
        self.page_params = dict(scenario_name=name, seed=seed, n_customers=n_customers, **levers)
        self.page_error: str | None = None
        try:
            config, rng = page_config(name, n_customers, levers), parse_seed(seed)
        except ConfigError as err:  # keep the page alive: say what was wrong, run the start settings
            self.page_error = f"{err} (running the start settings instead)"
            name = startup_scenario()
            config, rng = page_config(name, PAGE_CUSTOMERS, {}), 0
        super().__init__(config, rng=rng)
        self.scenario_name = name
        self._frames: tuple[int, RunFrames, dict] | None = None

    @property
    def horizon(self) -> int:
        """Rounds this run lasts (``world.rounds``, months)."""
        return int(self.config.world.rounds)

    def step(self) -> None:
        """One round, unless the horizon is reached (then ``running`` is False and nothing happens)."""
        if self.round >= self.horizon:
            self.running = False
            return
        super().step()

    def _refresh(self) -> None:  # detectors on every round; the charts' tables thinned to PAGE_ROUNDS
        if self._frames is None or self._frames[0] != self.round:
            model, agents, events = self.recorder.frames()
            found = detectors.detect(model, agents, events, self.config.outcomes, self.config.finance)
            model = model.join(found.per_round) if len(model) else model
            shares = lab_shares_from(self.config.model_dump())  # fallback if the live split is missing
            model, agents = shown_rounds(model), shown_rounds(agents)
            self._frames = (self.round, RunFrames(model, agents, events, shares, self.horizon), found.verdicts)

    def frames(self) -> RunFrames:
        """This round's tables, the model table with the detectors' per-round ``outcome_*`` columns (computed
        once per round, shared by every chart)."""
        self._refresh()
        return self._frames[1]

    def verdicts(self) -> dict:
        """The outcome detectors' verdicts on the rounds so far (``market.outcomes.detect``), once per round."""
        self._refresh()
        return self._frames[2]


# ----------------------------------------------------------------------------------------------- text

def settings_text(model: PageMarket) -> str:
    """The settings of ``model`` as they took effect: scenario, seed, population, then each lever's value(s)."""
    c, data = model.config, model.config.model_dump()
    parts = [f"scenario {model.scenario_name}", f"seed {model.seed}",
             f"{c.customers.n_customers:,} simulated customers (each stands for {c.customers.population_weight:,.0f})"]
    for lever in (lv for lv in LEVERS if available(lv)):
        if lever.kind == "count":
            parts.append(f"{len(_get(data, lever.paths[0])[0])} labs")
            continue
        flat = [x for path in lever.paths for v in _get(data, path)
                for x in (v if isinstance(v, (list, tuple)) else [v])]  # capital.appetites is a list
        values = list(dict.fromkeys(map(str, flat)))
        parts.append(f"{lever.label.removesuffix(' ×')}: {'/'.join(_short(v) for v in values)}")
    return " · ".join(parts)


KEY_FIGURES = (("api_price_usd_per_mtok", "API price", "${:.3g}/Mtok"),
               ("api_unit_cost_usd_per_mtok", "API unit cost", "${:.3g}/Mtok"),
               ("lerner_api", "Lerner, API", "{:.2f}"),
               ("lerner_api_marginal_cost", "Lerner on marginal cost", "{:.2f}"),
               ("lerner_app", "Lerner, apps", "{:.2f}"),
               ("app_share_of_gross_profit", "apps' share of gross profit", "{:.0%}"),
               ("hhi_api", "HHI, API", "{:,.0f}"))


def key_figures(row: pd.Series) -> str:
    """This round's market figures (model row) in one line; figures missing from the row are skipped."""
    return "This round: " + " · ".join(f"{label} {fmt.format(row[col])}" for col, label, fmt in KEY_FIGURES
                                       if col in row and pd.notna(row[col]))


def _short(text: str) -> str:
    """A number's text in short scale, 3 significant figures, never scientific notation (2400.0 → '2.4k')."""
    if text in ("True", "False"):
        return text
    try:
        x = float(text)
    except ValueError:
        return text
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}" if x == 0 or abs(x) >= 1e-3 else f"{x:.1e}"


def control_label(spec: dict[str, Any], value: Any) -> str:
    """A control's label with its current value and unit (``GPU price × = 1.25 × the scenario's $/GPU-hour``)."""
    if spec["type"] in ("Checkbox", "InputText", "Select"):  # the value is on show already
        return spec["label"]
    shown = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}" \
        if isinstance(value, int) else str(value)
    return f"{spec['label']} = {shown} {spec.get('unit') or ''}".rstrip()


def pending_changes(values: dict[str, Any], applied: dict[str, Any], specs: dict[str, dict]) -> list[str]:
    """Labels of the controls whose value differs from what the running model was built with."""
    return [specs[k]["label"] for k in specs if k in values and values[k] != applied.get(k)]


def run_command(model: PageMarket) -> str:
    """The ``tokenmarket run`` command that reproduces the running model (scenario, seed, rounds, population and
    every config value the page's levers changed, as ``--set`` overrides of the scenario's config)."""
    base = _base_data(model.scenario_name, model.config.customers.n_customers)
    mine = model.config.model_dump()
    parts = ["tokenmarket", "run", "--scenario", model.scenario_name, "--seed", str(model.seed),
             "--rounds", str(model.horizon)]
    if len(mine["labs"]) != len(base["labs"]):  # "first N labs" is not a --set: the other labs' fields are cut
        return ("# the page keeps the first {} labs, which `tokenmarket run` cannot express with --set;"
                " use a scenario file with those labs\n").format(len(mine["labs"])) + " ".join(parts)
    parts += ["--set", f"customers.n_customers={model.config.customers.n_customers}"]
    for lever in (lv for lv in LEVERS if available(lv) and lv.kind != "count" and lv.name != "rounds"):
        for path in lever.paths:
            for p in _expand(mine, path):
                new, old = _get(mine, p)[0], _get(base, p)[0]
                if new != old:
                    parts += ["--set", f"{p}={str(new).lower() if isinstance(new, bool) else new}"]
    return " ".join(parts)


# ----------------------------------------------------------------------------------------------- components

@solara.component
def Summary(model: PageMarket, shown: int = 0):  # shown: as in the charts, a new value redraws
    """Round, the effective settings of this model, outcome badges and the verdicts in words: the detectors
    run on the rounds so far every time the page redraws, so a badge appears in the round its outcome fires."""
    frames = model.frames()
    verdicts = model.verdicts()
    with solara.Column(style={"padding": "8px"}) as main:
        solara.v.Html(tag="h3", children=[f"Round {model.round} of {model.horizon}"], class_="tm-round")
        if model.page_error:
            solara.v.Alert(type="error", dense=True, children=[model.page_error], class_="tm-error")
        beyond = horizon_warning(model.horizon)
        if beyond:
            solara.v.Alert(type="warning", dense=True, text=True, children=[beyond], class_="tm-horizon")
        solara.v.Html(tag="div", class_="tm-settings", children=[settings_text(model)],
                      style_="font-size: 13px; color: #444")
        with solara.Row(style={"flex-wrap": "wrap"}):
            for badge in verdict_badges(verdicts):
                solara.v.Chip(children=[badge], color="warning", class_="outcome-badge ma-1")
        if model.round:
            solara.v.Html(tag="div", class_="tm-verdicts", style_="font-size: 12px; color: #555",
                          children=[solara.v.Html(tag="div", children=[line])
                                    for line in detectors.verdict_lines(verdicts)])
        if not frames.model.empty:
            KeyFigures(frames.model)
    return main


@solara.component
def KeyFigures(model_rows: pd.DataFrame):
    """One card per key market figure: this round's value and a sparkline of the run so far."""
    last = model_rows.iloc[-1]
    with solara.Row(style={"flex-wrap": "wrap", "gap": "6px", "margin-top": "6px"}, classes=["tm-figures"]):
        for col, label, fmt in KEY_FIGURES:
            if col not in model_rows or pd.isna(last[col]):
                continue
            with solara.v.Sheet(outlined=True, rounded=True, class_="pa-2 tm-kpi",
                                style_="min-width: 150px; font-size: 12px"):
                solara.v.Html(tag="div", children=[label], style_="color: #666")
                solara.v.Html(tag="div", children=[fmt.format(last[col])], style_="font-size: 18px")
                values = model_rows[col].astype(float).tolist()
                if len(values) > 1:
                    solara.v.Sparkline(value=values[-120:], height=24, line_width=2, smooth=True,
                                       color="#1f4e9c", padding=2)
    return None


def _chart_component(key: str):
    title, build = RUN_CHARTS[key]

    @solara.component
    def ChartComponent(model: PageMarket, shown: int):  # shown: the round drawn; a new value redraws
        spec = solara.use_memo(lambda: spec_json(build(model.frames())), [model, shown])
        return VegaChart.element(spec=spec, name=key)

    ChartComponent.__name__ = ChartComponent.__qualname__ = f"Chart_{key}"
    ChartComponent.__doc__ = title
    return ChartComponent


CHARTS = {key: _chart_component(key) for key in RUN_CHARTS}
GRID = {"display": "grid", "grid-template-columns": "repeat(auto-fill, minmax(620px, 1fr))", "gap": "12px",
        "width": "100%"}
REDRAW_CHOICES = (1, 2, 5, 10, 20)  # rounds between redraws while playing
REDRAW_START = 10


@solara.component
def Control(name: str, spec: dict[str, Any], value: Any, on_value):
    """One control of the settings card, its label showing value and unit."""
    label = control_label(spec, value)
    if spec["type"] == "Select":
        solara.Select(label=label, value=value, values=list(spec["values"]), on_value=on_value)
    elif spec["type"] == "Checkbox":
        solara.Checkbox(label=label, value=value, on_value=on_value)
    elif spec["type"] == "InputText":
        solara.InputText(label=label, value=str(value), on_value=on_value, continuous_update=False)
    elif spec["type"] == "SliderInt":
        solara.SliderInt(label=label, value=value, min=spec["min"], max=spec["max"], step=spec.get("step", 1),
                         on_value=on_value)
    else:
        solara.SliderFloat(label=label, value=value, min=spec["min"], max=spec["max"], step=spec["step"],
                           on_value=on_value)


@solara.component
def Page():
    """The page: one model per browser tab, built on first render of the tab's page.

    State: ``specs``/``values`` (the controls: ranges and what they show), the model, ``shown`` (the round the
    charts show: they redraw when it changes), ``mode`` (None, "play" or "end": the stepping task runs while it is
    set) and ``every`` (rounds between redraws while playing).
    """
    specs = solara.use_reactive(solara.use_memo(model_params, []))
    values = solara.use_reactive(solara.use_memo(lambda: {k: v["value"] for k, v in specs.value.items()}, []))
    model = solara.use_reactive(solara.use_memo(lambda: PageMarket(**values.value), []))
    shown = solara.use_reactive(0)
    mode = solara.use_reactive(None)
    every = solara.use_reactive(REDRAW_START)
    m = model.value

    def stepping():
        # Plays ("play": redraws every k rounds) or runs to the horizon ("end": redraws once, at the end).
        while mode.value and m.round < m.horizon:
            m.step()
            if mode.value == "play" and (m.round % every.value == 0 or m.round >= m.horizon):
                shown.set(m.round)
        mode.set(None)
        if model.value is m:  # not reset meanwhile
            shown.set(m.round)

    solara.lab.use_task(stepping, dependencies=[mode.value is not None, m], prefer_threaded=True)

    def step():
        m.step()
        shown.set(m.round)

    def reset():
        mode.set(None)
        model.set(PageMarket(**values.value))
        shown.set(0)

    def set_value(name: str, value: Any) -> None:
        if name == "scenario_name" and value != values.value.get("scenario_name"):
            fresh = model_params(value)  # re-seed the controls from the chosen scenario; keep population, seed
            specs.set(fresh)
            values.set({**{k: v["value"] for k, v in fresh.items()}, "scenario_name": value,
                        "n_customers": values.value["n_customers"], "seed": values.value["seed"]})
        else:
            values.set({**values.value, name: value})

    pending = pending_changes(values.value, m.page_params, specs.value)
    at_end = m.round >= m.horizon
    solara.Title("tokenmarket")
    with solara.AppBar():
        solara.AppBarTitle("tokenmarket · LLM inference market")
    with solara.Sidebar():
        with solara.Card("Run", margin=0, classes=["tm-run"]):
            with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}):
                solara.Button("Reset", color="primary", on_click=reset, outlined=not pending)
                solara.Button("❚❚ Pause" if mode.value else "▶ Play", color="primary",
                              on_click=lambda: mode.set(None if mode.value else "play"), disabled=at_end)
                solara.Button("Step", color="primary", on_click=step, disabled=bool(mode.value) or at_end)
                solara.Button("Run to end", color="primary", on_click=lambda: mode.set("end"),
                              disabled=bool(mode.value) or at_end)
            solara.Select(label="redraw every (rounds, while playing)", value=every.value,
                          values=list(REDRAW_CHOICES), on_value=every.set)
            solara.Text(f"Round {m.round} of {m.horizon}" + (" · end of the run" if at_end else ""),
                        classes=["tm-round-side"])
        with solara.Card("Settings", margin=0, classes=["tm-params"]):
            if pending:
                solara.v.Alert(type="info", dense=True, text=True, class_="tm-pending",
                               children=["changes pending — press Reset to apply: " + ", ".join(pending)])
            for name, spec in specs.value.items():
                Control(name, spec, values.value.get(name, spec["value"]),
                        lambda value, name=name: set_value(name, value))
        with solara.Card("Take away", margin=0, classes=["tm-downloads"]):
            Downloads(m, shown.value)
    with solara.Column(style={"padding": "0 8px"}):
        Summary(m, shown.value)
        with solara.Div(style=GRID):
            for key, component in CHARTS.items():
                component(m, shown.value).key(f"chart-{key}")


@solara.component
def Downloads(model: PageMarket, shown: int):
    """Download buttons for this run's tables (CSV, as `tokenmarket run` writes them) and the equivalent command."""
    def table(i: int):
        return lambda: model.recorder.frames()[i].to_csv(index=False).encode()

    with solara.Column(gap="4px"):
        for i, name in enumerate(("model.csv", "agents.csv", "events.csv")):
            solara.FileDownload(table(i), filename=name, label=f"Download {name}")
        solara.FileDownload(lambda: page_report(model).encode(), filename="report.html",
                            label="Download report.html")
        command = run_command(model)
        solara.v.Textarea(v_model=command, label="the same run from a terminal", readonly=True, rows=3,
                          auto_grow=True, class_="tm-command", style_="font-family: monospace; font-size: 11px")
        CopyButton.element(text=command, label="Copy command")
    return None


def page_report(model: PageMarket) -> str:
    """The run so far as a self-contained report.html (the charts of ``tokenmarket report``, the settings, the
    verdicts and the equivalent command)."""
    frames, verdicts = model.frames(), model.verdicts()
    facts = [("scenario", model.scenario_name), ("seed", str(model.seed)),
             ("rounds", f"{model.round} of {model.horizon}"), ("settings", settings_text(model)),
             ("command", run_command(model))]
    lines = "".join(f"<p>{html.escape(line)}</p>" for line in detectors.verdict_lines(verdicts))
    return render_html(f"tokenmarket page run: {model.scenario_name}", run_sections(frames), facts,
                       verdict_badges(verdicts), png_links=False,
                       extra_html=f"<h2>Outcome verdicts</h2>{lines}" if model.round else "")
