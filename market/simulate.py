"""run_once: the simulation as a pure function of (config, seed, rounds) → tables. No file I/O here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from market import outcomes as detectors
from market.config import MarketConfig
from market.finance import owners_values_usd
from market.model import TokenMarket
from market.recording import customer_rows


@dataclass(frozen=True)
class RunResult:
    """Tables of one run (every row carries ``run_id`` and ``seed``; model rows carry the per-round outcome
    columns) and ``outcomes.json``: the outcome detectors' verdicts and ``owners_value_usd`` ({firm: $}, each
    firm's original owners' present value at their cost of capital, ``market.finance.owners_values_usd``)."""

    model: pd.DataFrame
    agents: pd.DataFrame
    events: pd.DataFrame
    outcomes: dict = field(default_factory=dict)
    customers: pd.DataFrame | None = None

    def flags(self) -> dict[str, bool]:
        """Whether each outcome was detected: dumb_pipe, loss_leading, loss_leading_recouped, vertical_takeover."""
        return dict(self.outcomes.get("flags", {}))


def run_once(config: MarketConfig, seed: int, rounds: int | None = None, run_id: str = "run",
             on_round: Callable[[int], None] | None = None, customers: int = 0) -> RunResult:
    """Build a :class:`TokenMarket` with ``rng=seed`` and step it ``rounds`` times (default: the config's).

    Stops early if the model stops running. ``on_round(r)`` is called after each round (progress bars).
    Individual customers are not recorded unless ``customers`` > 0: then ``RunResult.customers`` holds that
    many (evenly spaced through the population) with their traits and final choice.

    Raises:
        ValueError: ``rounds`` < 1 or ``seed`` not an int.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed: must be an int, got {seed!r}")
    n = config.world.rounds if rounds is None else rounds
    if n < 1:
        raise ValueError(f"rounds: must be ≥ 1, got {n}")
    if not isinstance(customers, int) or customers < 0:
        raise ValueError(f"customers: must be an int ≥ 0, got {customers!r}")
    if n != config.world.rounds:
        config = config.model_copy(update={"world": config.world.model_copy(update={"rounds": n})})
    model = TokenMarket(config, rng=seed)
    while model.running and model.round < n:
        model.step()
        if on_round is not None:
            on_round(model.round)
    model_df, agents_df, events_df = model.recorder.frames()
    people = None
    if customers:
        people = customer_rows(model, customers)
        people.insert(0, "seed", seed)
        people.insert(0, "run_id", run_id)
    found = detectors.detect(model_df, agents_df, events_df, config.outcomes, config.finance)
    model_df = model_df.join(found.per_round)
    tagged = []
    for df in (model_df, agents_df, events_df):
        df = df.copy()
        df.insert(0, "seed", seed)
        df.insert(0, "run_id", run_id)
        tagged.append(df)
    verdicts = {"run_id": run_id, "seed": seed, **found.verdicts, "flags": found.flags(),
                "owners_value_usd": owners_values_usd(agents_df, config.finance)}
    return RunResult(*tagged, outcomes=verdicts, customers=people)
