"""Strategic moves chosen by value: what a lab observes at a review and the rules that choose (docs/design.md,
"Strategic moves").

At a review the market forecasts, for each option of a move, the present value to the lab's owners of the cash
they will get under that option (market/moves/); the lab's rule only compares those numbers. A rule holds no
reference to the model and never calls the market: it maps a typed observation to a typed decision, so it can be
tested alone on hand-made observations whose right answer is known.

Moves and options are those of ``market.config.MOVES``: ``api_conduct`` (best_response, penetration, premium),
``vertical`` (stay_out, build, acquire), ``rival_terms`` (normal, surcharge, cut_off), ``free_tier`` (off, small,
large), ``publish`` (closed, publish). Each move has a default option (:data:`DEFAULTS`): the option a decision's
gain is measured against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The option each move's gain is measured against: static best-response prices, no entry, normal terms, the 2025
# status quo of a small free tier, closed weights.
DEFAULTS: dict[str, str] = {"api_conduct": "best_response", "vertical": "stay_out", "rival_terms": "normal",
                            "free_tier": "small", "publish": "closed"}


@dataclass(frozen=True)
class MoveObservation:
    """One move at a review, as the lab sees it.

    Attributes:
        move: a key of ``market.config.MOVES``.
        options: the options on the menu (allowed by the scenario's conditions), (K,).
        values_usd: (K,) forecast present value to the owners of each option, $ (NaN: not evaluated).
        feasible: (K,) whether the lab can play each option now (it can pay for it, a target exists).
        current: the option being played now (one of ``options``).
        horizon_months: months the forecast runs before its terminal value.
        vertical: the vertical the move concerns (vertical entry, rival terms), else None.
        forced: an option imposed by a strategy game (``MarketConfig.forced``), else None.
    """

    move: str
    options: tuple[str, ...]
    values_usd: tuple[float, ...]
    feasible: tuple[bool, ...]
    current: str
    horizon_months: int
    vertical: str | None = None
    forced: str | None = None

    def __post_init__(self) -> None:
        if not (len(self.options) == len(self.values_usd) == len(self.feasible)) or not self.options:
            raise ValueError(f"MoveObservation {self.move}: options, values_usd and feasible must have one equal, "
                             f"non-zero length, got {len(self.options)}, {len(self.values_usd)}, {len(self.feasible)}")
        if self.current not in self.options:
            raise ValueError(f"MoveObservation {self.move}: current {self.current!r} is not among {self.options}")

    def value_of(self, option: str) -> float:
        """Forecast value ($) of ``option`` (NaN when it is not on the menu or not evaluated)."""
        return self.values_usd[self.options.index(option)] if option in self.options else math.nan

    @property
    def default(self) -> str:
        """The move's default option if on the menu, else the current one."""
        d = DEFAULTS[self.move]
        return d if d in self.options else self.current


@dataclass(frozen=True)
class MoveDecision:
    """The option a lab plays after a review.

    Attributes: move, option (played), vertical (or None); gain_usd: forecast value of the option played minus that
    of the default option ($; 0 when they coincide); forced: the option was imposed by a game; values: (option,
    forecast value $) pairs as observed; horizon_months as observed.
    """

    move: str
    option: str
    vertical: str | None
    gain_usd: float
    forced: bool
    values: tuple[tuple[str, float], ...]
    horizon_months: int


@dataclass(frozen=True)
class ChooseByValue:
    """Play the feasible option of highest forecast value, but leave the current option only when the best beats
    it by more than ``min_gain_share`` of the current option's value (assumption: gains inside the forecast's
    error do not justify a change of strategy; config ``moves.min_gain_share``).

    A forced option (a strategy game) is played whenever it is feasible, and the decision says so; an infeasible
    forced option leaves the current one in place (still marked forced). Options whose value is NaN are never
    chosen by value.
    """

    min_gain_share: float = 0.002

    def decide(self, obs: MoveObservation) -> MoveDecision:
        """The decision for ``obs`` (see class docstring)."""
        values = dict(zip(obs.options, obs.values_usd))
        ok = {o for o, f in zip(obs.options, obs.feasible) if f}
        if obs.forced is not None:
            option = obs.forced if obs.forced in ok else obs.current
            return self._decision(obs, option, values, forced=True)
        ranked = sorted((o for o in obs.options if o in ok and math.isfinite(values[o])),
                        key=lambda o: (-values[o], obs.options.index(o)))
        if not ranked:
            return self._decision(obs, obs.current, values, forced=False)
        best = ranked[0]
        current = values.get(obs.current, math.nan)
        keep = obs.current in ok and math.isfinite(current)
        if keep and best != obs.current and values[best] - current <= self.min_gain_share * abs(current):
            best = obs.current
        return self._decision(obs, best, values, forced=False)

    @staticmethod
    def _decision(obs: MoveObservation, option: str, values: dict[str, float], forced: bool) -> MoveDecision:
        base = values.get(obs.default, math.nan)
        mine = values.get(option, math.nan)
        gain = 0.0 if option == obs.default else (mine - base if math.isfinite(mine) and math.isfinite(base) else math.nan)
        return MoveDecision(obs.move, option, obs.vertical, gain, forced, tuple(values.items()), obs.horizon_months)


@dataclass(frozen=True)
class AcquisitionTarget:
    """A wrapper a lab could buy: its id, the forecast value of the lab's owners if it buys it at ``price_usd``
    (the price already deducted, $), the price from the bargaining rule ($), and whether the lab can pay it."""

    wrapper_id: int
    value_usd: float
    price_usd: float
    feasible: bool


@dataclass(frozen=True)
class VerticalObservation:
    """A vertical-entry review: the move's observation, whose ``acquire`` value is that of the best target, and
    every target with its own value and price (the rule picks the target)."""

    move: MoveObservation
    targets: tuple[AcquisitionTarget, ...] = ()


@dataclass(frozen=True)
class VerticalDecision:
    """The entry decision and, for ``acquire``, the target (wrapper id) and the price to pay ($)."""

    decision: MoveDecision
    target_id: int | None = None
    price_usd: float = 0.0


@dataclass(frozen=True)
class VerticalEntry:
    """Stay out, build an app, or buy the wrapper whose purchase leaves the owners best off, by
    :class:`ChooseByValue` over the three options (``acquire`` valued at the best feasible target)."""

    rule: ChooseByValue = ChooseByValue()

    def decide(self, obs: VerticalObservation) -> VerticalDecision:
        """The entry decision for ``obs``."""
        decision = self.rule.decide(obs.move)
        if decision.option != "acquire":
            return VerticalDecision(decision)
        ok = [t for t in obs.targets if t.feasible and math.isfinite(t.value_usd)]
        if not ok:  # a forced acquisition with nobody to buy: stay out
            return VerticalDecision(ChooseByValue._decision(obs.move, "stay_out", dict(decision.values),
                                                            decision.forced))
        best = max(ok, key=lambda t: (t.value_usd, -t.wrapper_id))
        return VerticalDecision(decision, best.wrapper_id, best.price_usd)
