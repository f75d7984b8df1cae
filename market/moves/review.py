"""A lab's strategic review: forecast every option of every move on its menu, let the lab's rules choose, carry the
choices out and record them (docs/design.md, "Strategic moves").

Labs review every ``labs[].review_months`` months, staggered by their index (lab i of n first reviews in round
1 + ⌊i · review_months / n⌋), before they price. The moves are reviewed one after another, each forecast against
the status quo of the others: API conduct; in each vertical, entry if the lab has no app there, else its terms for
rival wrappers; free-tier size; publishing (for the funding type that may publish, ``efficient``). A move the
scenario's conditions take off the menu (``moves.allow_*``) keeps its default option. Every decision is an event
(kind ``decision``) with each option's forecast value, and ``moves.horizon_months`` later its forecast error is
recorded (kind ``forecast_error``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

import numpy as np

from agents.customers import AI_AWARE
from agents.moves import AcquisitionTarget, MoveDecision, MoveObservation, VerticalObservation
from market import objective
from market.config import MOVES, VERTICALS
from market.moves.awareness import diffusion_inputs, knowing_base
from market.moves.conduct import conduct_plans, wrapper_lag
from market.moves.context import LabContext, lab_context
from market.moves.entry import acquire_plan, app_rows, build_plan, entered, terms_plans
from market.moves.evaluate import Forecast, Plan, evaluate, per_quality_point
from market.moves.forecast import Phase
from market.moves.products import free_tier_plans, publish_plans
from market.moves.value import cost_of_capital, figures_now, make_pricer, nash_price, standalone_value
from market.offers import API, FREE
from market.verticals import acquire, set_free_tier, set_terms, start_build


@dataclass(frozen=True)
class OpenDecision:
    """A decision whose forecast error is still to be measured: who, which move and option, the round of the
    decision (month 1 of its forecast), the forecast operating cash flow of the option played ((T,) $/month) and
    the lab's monthly cost of capital."""

    lab_id: int
    move: str
    vertical: str
    option: str
    round: int
    forecast: np.ndarray
    rate: float


class MovesState:
    """The model's memory for strategic moves: each firm's monthly (revenue, gross profit, fixed costs) history,
    the capital market's pricing rule, and the decisions awaiting their forecast error."""

    def __init__(self, model) -> None:
        self.pricer = make_pricer(model.config)
        self.history: dict[int, list[tuple[float, float, float]]] = {}
        self.open: list[OpenDecision] = []
        self.trends: dict[tuple[int, int, int], tuple] = {}  # this round's extrapolated figures by firm

    def after_settlement(self, model) -> None:
        """Append this round's figures of every firm that settled, and record the forecast errors whose horizon
        ended this round (kind ``forecast_error``: amount = realised − forecast present value of the operating
        cash flow over the horizon, at the decision's date, $)."""
        self.trends.clear()  # the figures move on: next round's trends are new
        for firm in [*model.labs, *model.providers, *model.wrappers]:
            if firm.last.round == model.round:
                self.history.setdefault(firm.unique_id, []).append(figures_now(firm))
        due = [d for d in self.open if d.round + d.forecast.size - 1 <= model.round]
        self.open = [d for d in self.open if d.round + d.forecast.size - 1 > model.round]
        for d in due:
            lab = model.agent_by_id(d.lab_id)
            rows = self.history.get(d.lab_id, [])
            start = len(rows) - (model.round - d.round + 1)
            got = rows[max(0, start):]
            realised_flows = np.array([gp - fixed for _, gp, fixed in got])
            months = realised_flows.size
            forecast = objective.present_value(d.forecast[:months], d.rate)
            realised = objective.present_value(realised_flows, d.rate)
            detail = json.dumps({"move": d.move, "decision_round": d.round, "horizon_months": months,
                                 "forecast_usd": round(forecast, 2), "realised_usd": round(realised, 2)},
                                separators=(",", ":"))
            model.recorder.event(model, "forecast_error", lab, d.option, realised - forecast, unit="usd_pv",
                                 vertical=d.vertical, detail=detail)


ACQUISITION_CANDIDATES = 3


def review_due(model, lab) -> bool:
    """Whether ``lab`` reviews its strategy this round (module docstring)."""
    if model.round < 1:
        return False
    every = lab.cfg.review_months
    offset = (model.labs.index(lab) * every) // max(1, len(model.labs))
    return (model.round - 1 - offset) % every == 0


def _forced(model, lab, move: str, vertical: str | None) -> str | None:
    for f in model.config.forced:
        if f.firm == lab.name and f.move == move and (f.vertical is None or f.vertical == vertical):
            return f.option
    return None


def _observe(model, lab, move: str, forecasts: dict[str, Forecast], current: str, vertical: str | None = None
             ) -> MoveObservation:
    options = tuple(o for o in MOVES[move] if o in forecasts)
    return MoveObservation(move, options, tuple(float(forecasts[o].value_usd) for o in options),
                           tuple(bool(forecasts[o].feasible) for o in options), current,
                           model.config.moves.horizon_months, vertical, _forced(model, lab, move, vertical))


def _record(model, lab, decision: MoveDecision, forecast: Forecast, extra: dict | None = None) -> None:
    detail = {"move": decision.move, "options": {o: round(v, 2) if math.isfinite(v) else None
                                                 for o, v in decision.values},
              "forced": decision.forced, "horizon_months": decision.horizon_months}
    if forecast.rival_exits:
        detail["rival_exits"] = [list(e) for e in forecast.rival_exits]
    detail.update(extra or {})
    gain = decision.gain_usd if math.isfinite(decision.gain_usd) else 0.0
    model.recorder.event(model, "decision", lab, decision.option, gain, unit="usd_pv",
                         vertical=decision.vertical or "", detail=json.dumps(detail, separators=(",", ":")))
    model.moves.open.append(OpenDecision(lab.unique_id, decision.move, decision.vertical or "", decision.option,
                                         model.round, forecast.cash_flow, cost_of_capital(model, lab)))


def review(model, lab) -> None:
    """Review every move on ``lab``'s menu and carry out the decisions (module docstring)."""
    ctx = lab_context(model, lab)
    api = ctx.own_rows(API)
    if api.size:
        links = [lk.rows for lk in (*ctx.links, *ctx.joiners)]
        _api_conduct(model, lab, ctx.focus(ctx.open_to(np.concatenate([api, *links]))))
    for v, vertical in enumerate(VERTICALS):
        if vertical == "general_chat":
            continue
        here = ctx.focus(np.flatnonzero(ctx.base.vertical == v), rivals=False)
        if entered(lab, vertical):
            if (model.config.moves.allow_rival_terms and app_rows(ctx, vertical).size
                    and any(lk.wrapper.vertical == vertical for lk in ctx.links)):
                _rival_terms(model, lab, here, vertical)
        elif model.config.moves.allow_vertical_entry:
            _vertical(model, lab, here, vertical)
    if lab.cfg.free_tier and ctx.own_rows(FREE).size:
        _free_tier(model, lab, ctx)
    if lab.funding == "efficient":
        hosts = [r.rows for r in ctx.rivals if r.firm.kind == "provider"]
        if hosts and lab.quality > max(float(ctx.offers.quality[h].max()) for h in hosts):
            _publish(model, lab, ctx.focus(ctx.open_to(np.concatenate([ctx.own, *hosts]))))


def _api_conduct(model, lab, ctx: LabContext) -> None:
    forecasts = evaluate(ctx, conduct_plans(ctx, MOVES["api_conduct"]), "best_response")
    decision = lab.rules["api_conduct"].decide(_observe(model, lab, "api_conduct", forecasts, lab.conduct))
    lab.set_conduct(decision.option, _conduct_factor(model, decision.option))
    _record(model, lab, decision, forecasts[decision.option])


def _conduct_factor(model, option: str) -> float:
    m = model.config.moves
    return {"best_response": 1.0, "penetration": m.penetration_factor, "premium": m.premium_factor}[option]


def _vertical(model, lab, ctx: LabContext, vertical: str) -> None:
    cfg = model.config.moves
    plans: dict[str, Plan] = {"stay_out": Plan([Phase(1, ctx.terms())]), "build": build_plan(ctx, vertical)}
    # The largest wrappers by revenue are the candidates (assumption: a buyer screens the few that matter).
    candidates = sorted((w for w in model.alive(model.wrappers) if w.vertical == vertical and w.last.revenue_usd > 0),
                        key=lambda w: (-w.last.revenue_usd, w.unique_id))[:ACQUISITION_CANDIDATES]
    if cfg.allow_acquisitions:
        for w in candidates:
            plans[f"acquire:{w.unique_id}"] = acquire_plan(ctx, w, w.cash_usd)  # price = its cash: net outlay 0
    forecasts = evaluate(ctx, plans, "stay_out")
    out = forecasts["stay_out"].value_usd
    targets, prices = [], {}
    for w in candidates if cfg.allow_acquisitions else []:
        gross = forecasts[f"acquire:{w.unique_id}"]
        most = gross.value_usd - out + w.cash_usd  # the highest price at which buying still pays the lab's owners
        alone = standalone_value(model, w)
        price = nash_price(most, alone, cfg.bargaining_weight)
        if not math.isfinite(price):  # no surplus: the owners sell at no less than their value, a loss to the lab
            price = alone
        value = gross.value_usd - (price - w.cash_usd)
        ok = math.isfinite(value) and price <= lab.cash_usd
        targets.append(AcquisitionTarget(w.unique_id, value, price, ok))
        prices[w.unique_id] = (price, most, alone)
    shown = {"stay_out": forecasts["stay_out"], "build": forecasts["build"]}
    if cfg.allow_acquisitions:
        best = max((t for t in targets if math.isfinite(t.value_usd)), key=lambda t: t.value_usd, default=None)
        src = forecasts[f"acquire:{best.wrapper_id}"] if best is not None else forecasts["stay_out"]
        shown["acquire"] = Forecast(best.value_usd if best is not None else math.nan, src.d_revenue, src.d_gross,
                                    src.one_off, src.rival_exits, src.cash_flow,
                                    any(t.feasible for t in targets))
    obs = VerticalObservation(_observe(model, lab, "vertical", shown, "stay_out", vertical), tuple(targets))
    choice = lab.rules["vertical"].decide(obs)
    option = choice.decision.option
    extra = {}
    if option == "build":
        start_build(model, lab, vertical)
    elif option == "acquire" and choice.target_id is not None:
        wrapper = model.agent_by_id(choice.target_id)
        price, most, alone = prices[choice.target_id]
        extra = {"acquire_target": wrapper.name, "price_usd": round(price, 2), "standalone_usd": round(alone, 2),
                 "buyer_value_usd": round(most, 2)}
        acquire(model, lab, wrapper, price)
        shown["acquire"] = forecasts[f"acquire:{choice.target_id}"]
    _record(model, lab, choice.decision, shown[option], extra)


def _rival_terms(model, lab, ctx: LabContext, vertical: str) -> None:
    forecasts = evaluate(ctx, terms_plans(ctx, vertical, MOVES["rival_terms"], wrapper_lag(model)), "normal")
    current = lab.terms.get(vertical, "normal")
    decision = lab.rules["rival_terms"].decide(_observe(model, lab, "rival_terms", forecasts, current, vertical))
    if decision.option != current:
        set_terms(model, lab, vertical, decision.option)
    _record(model, lab, decision, forecasts[decision.option])


def _free_tier(model, lab, ctx: LabContext) -> None:
    """The free-tier size, forecast with the awareness its users spread (market/moves/awareness.py): on the
    customers to whom an offer of the lab is open, or would be if they knew its apps."""
    seen, brand_rows, knows = knowing_base(ctx.base, ctx.own, lab.brand)
    cols = np.flatnonzero(((seen.aware & AI_AWARE) != 0) & np.isfinite(seen.v0[ctx.own]).any(axis=0))
    diffusion = diffusion_inputs(seen, cols, ctx.own, brand_rows, knows, model.config.customers)
    plain = ctx.focus(ctx.open_to(ctx.own), rivals=False)  # what a quality point earns: customers as they are
    wide = dataclasses.replace(ctx, base=seen).focus(cols, rivals=False)
    plans = free_tier_plans(wide, MOVES["free_tier"], lab.last.free_tokens_mtok, diffusion, per_quality_point(plain))
    forecasts = evaluate(wide, plans, "small", reference=lab.free_tier_size)
    decision = lab.rules["free_tier"].decide(_observe(model, lab, "free_tier", forecasts, lab.free_tier_size))
    if decision.option != lab.free_tier_size:
        set_free_tier(model, lab, decision.option)
    held = {o: round(f.fixed_awareness_usd, 2) if math.isfinite(f.fixed_awareness_usd) else None
            for o, f in forecasts.items()}
    _record(model, lab, decision, forecasts[decision.option], {"at_fixed_awareness": held})


def _publish(model, lab, ctx: LabContext) -> None:
    forecasts = evaluate(ctx, publish_plans(ctx, MOVES["publish"]), "closed")
    current = "publish" if lab.publishing else "closed"
    decision = lab.rules["publish"].decide(_observe(model, lab, "publish", forecasts, current))
    lab.publishing = decision.option == "publish"
    _record(model, lab, decision, forecasts[decision.option])
