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

import os
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pandas as pd
import solara
from mesa.visualization import SolaraViz
from pydantic import BaseModel

from market import outcomes as detectors
from market.config import ConfigError, MarketConfig, build_config, field_meta, list_scenarios, load_scenario, resolve
from market.model import TokenMarket
from runs.reports.charts import RUN_CHARTS, RunFrames, lab_shares_from
from runs.reports.report import verdict_badges

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


LEVERS: tuple[Lever, ...] = (
    Lever("n_labs", "labs (first N)", ("labs",), kind="count"),
    Lever("n_providers", "providers", ("providers.n",), page_max=20),
    Lever("open_weight_quality", "open model at the start (quality)", ("open_weights.initial_quality",),
          page_max=1.2, step=0.01),
    Lever("switching_cost_x", "switching cost ×", ("customers.segments.*.switching_cost_usd",),
          kind="scale", page_min=0.0, page_max=5.0, step=0.1),
    Lever("investor_appetite", "investor appetite", ("capital.appetites",), kind="single", page_min=0.0,
          page_max=1.0, step=0.05),
    Lever("gpu_supply_x", "GPU supply ×", ("gpu_market.supply_share",),
          kind="scale", page_min=0.5, page_max=4.0, step=0.05),
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
    """SolaraViz parameter dict of one lever: start value from ``base`` config data, range from the schema."""
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
    start = initial_params(startup_scenario())
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


class PageMarket(TokenMarket):
    """TokenMarket built from page parameters (scenario, population, seed, levers) via ``market.config``.

    ``scenario`` is what SolaraViz's reset passes (a mesa Scenario) and is ignored: the page's scenario
    selector is ``scenario_name``.
    """

    def __init__(self, *, scenario: Any = None, scenario_name: str | None = None, seed: Any = 0,
                 n_customers: int = PAGE_CUSTOMERS, **levers: Any) -> None:
        name = scenario_name or startup_scenario()
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

    def _refresh(self) -> None:
        if self._frames is None or self._frames[0] != self.round:
            model, agents, events = self.recorder.frames()
            found = detectors.detect(model, agents, events, self.config.outcomes, self.config.finance)
            model = model.join(found.per_round) if len(model) else model
            shares = lab_shares_from(self.config.model_dump())  # fallback if the live split is missing
            self._frames = (self.round, RunFrames(model, agents, events, shares), found.verdicts)

    def frames(self) -> RunFrames:
        """This round's tables, the model table with the detectors' per-round ``outcome_*`` columns (computed
        once per round, shared by every chart)."""
        self._refresh()
        return self._frames[1]

    def verdicts(self) -> dict:
        """The outcome detectors' verdicts on the rounds so far (``market.outcomes.detect``), once per round."""
        self._refresh()
        return self._frames[2]


# ----------------------------------------------------------------------------------------------- components

def settings_text(model: PageMarket) -> str:
    """The settings of ``model`` as they took effect: scenario, seed, population, then each lever's value(s)."""
    c, data = model.config, model.config.model_dump()
    parts = [f"scenario {model.scenario_name}", f"seed {model.seed}",
             f"{c.customers.n_customers:,} simulated customers (each stands for {c.customers.population_weight:,.0f})"]
    for lever in (lv for lv in LEVERS if available(lv)):
        if lever.kind == "count":
            parts.append(f"{len(_get(data, lever.paths[0])[0])} labs")
            continue
        values = [v for path in lever.paths for v in dict.fromkeys(map(str, _get(data, path)))]
        parts.append(f"{lever.label.removesuffix(' ×')}: {'/'.join(_short(v) for v in values)}")
    return " · ".join(parts)


KEY_FIGURES = (("api_price_usd_per_mtok", "API price ${:.3g}/Mtok"),
               ("api_unit_cost_usd_per_mtok", "unit cost ${:.3g}/Mtok"), ("lerner_api", "Lerner API {:.2f}"),
               ("lerner_api_marginal_cost", "on marginal cost {:.2f}"),
               ("lerner_app", "apps {:.2f}"),
               ("app_share_of_gross_profit", "apps' share of gross profit {:.0%}"), ("hhi_api", "HHI API {:,.0f}"))


def key_figures(row: pd.Series) -> str:
    """This round's market figures (model row) in one line; figures missing from the row are skipped."""
    return "This round: " + " · ".join(fmt.format(row[col]) for col, fmt in KEY_FIGURES
                                       if col in row and pd.notna(row[col]))


def _short(text: str) -> str:
    try:
        return f"{float(text):.3g}"
    except ValueError:
        return text


def Summary(model: PageMarket):
    """Round, the effective settings of this model, outcome badges and the verdicts in words: the detectors
    run on the rounds so far every round, so a badge appears in the round its outcome fires."""
    frames = model.frames()
    verdicts = model.verdicts()
    with solara.Column(style={"padding": "8px"}) as main:
        solara.v.Html(tag="h3", children=[f"Round {model.round} of {model.config.world.rounds}"], class_="tm-round")
        if model.page_error:
            solara.v.Alert(type="error", dense=True, children=[model.page_error], class_="tm-error")
        solara.v.Html(tag="div", class_="tm-settings", children=[settings_text(model)])
        with solara.Row(style={"flex-wrap": "wrap"}):
            for badge in verdict_badges(verdicts):
                solara.v.Chip(children=[badge], color="warning", class_="outcome-badge ma-1")
        if model.round:
            solara.v.Html(tag="div", class_="tm-verdicts", style_="font-size: 12px; color: #555",
                          children=[solara.v.Html(tag="div", children=[line])
                                    for line in detectors.verdict_lines(verdicts)])
        if not frames.model.empty:
            solara.v.Html(tag="div", class_="tm-figures", children=[key_figures(frames.model.iloc[-1])],
                          style_="margin-top: 8px")
    return main


def _chart_component(key: str):
    title, build = RUN_CHARTS[key]

    def ChartComponent(model: PageMarket):
        return solara.FigureAltair(build(model.frames()))

    ChartComponent.__name__ = ChartComponent.__qualname__ = f"Chart_{key}"
    ChartComponent.__doc__ = title
    return ChartComponent


COMPONENTS = [Summary, *[_chart_component(key) for key in RUN_CHARTS]]


@solara.component
def Page():
    """The page: one model per browser tab (built on first render of the tab's page)."""
    params = solara.use_memo(model_params, [])
    model = solara.use_memo(lambda: solara.reactive(PageMarket(**{k: v["value"] for k, v in params.items()})), [])
    SolaraViz(model, components=COMPONENTS, model_params=params, name="tokenmarket · LLM inference market",
              play_interval=200)
