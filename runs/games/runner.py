"""One run of a game, in a worker: simulate, read each lab's payoff and its recorded choices, return a record.

:class:`GameRunner` is the run function handed to the sweep executors (``executor.outcomes(tasks, fn)``). The
executors send a run's table back to the main process; for a game that table is the run's one-row *game record*
(payoff per lab, each role lab's recorded choices, the model's summary metrics), which
:mod:`runs.games.execute` writes as the run's ``runs.csv`` row. Keeping the record small means a worker never
ships a run's full tables back.

The payoff function is pluggable (``payoff_fn(task, result) -> {lab: $}``): :func:`owners_value_payoff` reads
the model's ``outcomes["owners_value_usd"]``; tests and benchmarks pass stubs (with a stub ``simulate_fn``) so
the game machinery runs without the model.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from market.config import MOVES
from market.simulate import RunResult
from runs.sweeps.executors import RunTask, simulate, summary_metrics

PAYOFF_KEY = "owners_value_usd"
DECISION_KIND = "decision"
# Every option names its move: the options of market.config.MOVES are distinct across moves.
OPTION_MOVE = {option: move for move, options in MOVES.items() for option in options}
assert len(OPTION_MOVE) == sum(len(v) for v in MOVES.values()), "an option appears under two moves"


class PayoffUnavailable(RuntimeError):
    """The run's outcomes lack the payoff the game needs (the key, or a role lab's entry, or a finite value)."""


@dataclass(frozen=True)
class GameTask(RunTask):
    """A :class:`~runs.sweeps.executors.RunTask` of a game: its ``condition``, ``profile`` id (``free`` for a run
    without forced moves) and the strategy each role lab plays (``strategies``: (lab, option) pairs; empty
    for a free run). ``base_config`` already holds the condition's overrides and the profile's forced moves."""

    condition: str = ""
    profile: str = ""
    strategies: tuple[tuple[str, str], ...] = ()

    def identity(self) -> dict[str, Any]:
        """run_id, condition, profile, replicate, seed and ``strategy__<lab>`` per role lab: the first columns of
        the run's ``runs.csv`` row."""
        out = {"run_id": self.run_id, "condition": self.condition, "profile": self.profile,
               "replicate": self.replicate, "seed": self.seed}
        out.update({f"strategy__{lab}": option for lab, option in self.strategies})
        return out


def owners_value_payoff(task: RunTask, result: RunResult) -> dict[str, float]:
    """Each firm's payoff: its owners' present value ($, at the firm's cost of capital, as of round 0), from
    ``result.outcomes["owners_value_usd"]`` (``market.objective.owners_value``, written by the model).

    Raises:
        PayoffUnavailable: the outcomes have no ``owners_value_usd`` key (a model that does not report owners'
            values yet).
    """
    values = result.outcomes.get(PAYOFF_KEY)
    if values is None:
        raise PayoffUnavailable(
            f"outcomes.json has no {PAYOFF_KEY!r} key (each firm's owners' present value, the game's payoff); "
            f"the model does not report owners' values yet, so this game cannot be scored")
    return {str(firm): value for firm, value in dict(values).items()}


def _move_of(row: dict[str, Any]) -> str | None:
    if row.get("move"):
        return str(row["move"])
    detail = row.get("detail")
    if isinstance(detail, str) and detail.startswith("{"):
        try:
            move = json.loads(detail).get("move")
        except (json.JSONDecodeError, AttributeError):
            move = None
        if move:
            return str(move)
    return OPTION_MOVE.get(str(row.get("target")))


def recorded_choices(events: pd.DataFrame, lab: str, move: str, vertical: str | None) -> list[str]:
    """The options ``lab`` chose for ``move`` in a run, in event order: events.csv rows with kind ``decision``,
    actor ``lab``, target = the option. The move comes from a ``move`` column or the ``detail`` JSON when present,
    else from the option's name (options are distinct across moves); ``vertical`` keeps only rows of that
    vertical. Empty when the model records no decisions."""
    if events is None or events.empty or "kind" not in events or "actor" not in events:
        return []
    rows = events[(events["kind"] == DECISION_KIND) & (events["actor"] == lab)]
    out = []
    for row in rows.to_dict("records"):
        if _move_of(row) != move:
            continue
        if vertical is not None and "vertical" in row and row["vertical"] not in (vertical, None, "") and \
                not (isinstance(row["vertical"], float) and math.isnan(row["vertical"])):
            continue
        out.append(str(row["target"]))
    return out


def modal_choice(choices: list[str]) -> str:
    """The option chosen most often (ties: the one chosen last); "" for no choice. The option in force for most
    review dates is the run's strategy, as a forced profile plays one option throughout."""
    if not choices:
        return ""
    counts = Counter(choices)
    top = max(counts.values())
    return next(c for c in reversed(choices) if counts[c] == top)


@dataclass(frozen=True)
class GameRunner:
    """The run function of a game (picklable: sent to worker processes or Dask workers).

    ``labs``: (lab, move, vertical) of every role lab; ``simulate_fn(task) -> RunResult`` runs the model;
    ``payoff_fn(task, result) -> {lab: $}`` scores it. Returns a :class:`RunResult` whose ``model`` table is the
    run's one-row game record: ``rounds_completed``, ``payoff_usd__<lab>`` (every lab the payoff function
    scores), ``chosen__<lab>`` (modal recorded option, "" if none) and ``decisions__<lab>`` (decisions recorded
    on the role's move) per role lab, and the model's ``last_``/``mean_`` summary metrics; its outcomes carry
    the run's outcome flags.

    Raises:
        PayoffUnavailable: from ``payoff_fn``, or a role lab without a finite payoff.
    """

    labs: tuple[tuple[str, str, str | None], ...]
    simulate_fn: Callable[[RunTask], RunResult] = simulate
    payoff_fn: Callable[[RunTask, RunResult], dict[str, float]] = owners_value_payoff

    def __call__(self, task: RunTask) -> RunResult:
        result = self.simulate_fn(task)
        payoffs = self.payoff_fn(task, result)
        record: dict[str, Any] = {"rounds_completed": len(result.model)}
        for lab, _, _ in self.labs:
            value = payoffs.get(lab)
            if value is None:
                raise PayoffUnavailable(f"{PAYOFF_KEY}: no value for lab {lab!r} (it plays a role); "
                                        f"firms scored: {', '.join(sorted(payoffs)) or 'none'}")
            if not math.isfinite(float(value)):
                raise PayoffUnavailable(f"{PAYOFF_KEY}: the value of lab {lab!r} is {value!r}, not a finite $ amount")
        for firm, value in payoffs.items():
            record[f"payoff_usd__{firm}"] = float(value)
        for lab, move, vertical in self.labs:
            choices = recorded_choices(result.events, lab, move, vertical)
            record[f"chosen__{lab}"] = modal_choice(choices)
            record[f"decisions__{lab}"] = len(choices)
        record.update(summary_metrics(result.model))
        return RunResult(pd.DataFrame([record]), pd.DataFrame(), pd.DataFrame(),
                         outcomes={"flags": result.flags()})
