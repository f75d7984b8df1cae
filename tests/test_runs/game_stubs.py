"""Stub simulations for game tests: payoffs from a known table instead of the model.

Module level and picklable, so process-pool workers and subprocesses can import them. A stub reads the forced
moves from the run's validated config (the real path a game's configs take) and returns a RunResult whose
outcomes carry ``owners_value_usd``, as the model will.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.simulate import RunResult


@dataclass(frozen=True)
class TableStub:
    """Payoff ($) of each lab from a table keyed by the labs' options.

    ``table``: ((((lab, option), …), ((lab, $), …)), …). ``noise_usd``: sd of normal noise added to each lab's
    payoff; ``common`` noise depends only on (seed, lab) — the same in every profile, as common random numbers
    give — else also on the profile. ``free``: options the labs record choosing in a run with nothing forced
    (decision rows in events), or None to record no decisions (a model without the hook). ``delay_s``: sleep
    per run (for interrupting a game part-way)."""

    table: tuple
    noise_usd: float = 0.0
    common: bool = True
    free: tuple[tuple[str, str], ...] | None = None
    delay_s: float = 0.0
    rounds: int = 3

    def payoffs(self, options: dict[str, str]) -> dict[str, float]:
        key = tuple(sorted(options.items()))
        for k, v in self.table:
            if tuple(sorted(k)) == key:
                return dict(v)
        raise KeyError(f"no payoff for {key}")

    def __call__(self, task) -> RunResult:
        if self.delay_s:
            time.sleep(self.delay_s)
        config = task.config()
        forced = {m.firm: m.option for m in config.forced}
        free = not forced
        # A free run plays the recorded choices, or (recording none) the table's first profile.
        options = forced if not free else dict(self.free) if self.free is not None else dict(self.table[0][0])
        payoffs = self.payoffs(options)
        labs = sorted(payoffs)
        profile = zlib.crc32(repr(sorted(options.items())).encode())  # stable across processes, unlike hash()
        for i, lab in enumerate(labs):
            key = (i,) if self.common else (i, profile)
            payoffs[lab] += self.noise_usd * np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=key)).normal()
        model = pd.DataFrame({"round": np.arange(1, self.rounds + 1), "price_usd": np.linspace(1, 2, self.rounds)})
        events = pd.DataFrame(columns=["round", "kind", "actor", "target", "amount", "unit", "vertical"])
        if free and self.free is not None:
            events = pd.DataFrame([{"round": 1, "kind": "decision", "actor": lab, "target": option, "amount": 0.0,
                                    "unit": "usd", "vertical": ""} for lab, option in self.free])
        return RunResult(model, pd.DataFrame(), events,
                         outcomes={"owners_value_usd": payoffs, "flags": {"dumb_pipe": False}})


def table_stub(payoff, labs: list[str], strategies: list[list[str]], **kw) -> TableStub:
    """A :class:`TableStub` over every assignment of ``strategies[i]`` to ``labs[i]``; ``payoff(options)`` gives
    {lab: $} for an assignment {lab: option}. Only for small games (every assignment is listed)."""
    import itertools

    rows = []
    for combo in itertools.product(*strategies):
        options = dict(zip(labs, combo))
        rows.append((tuple(options.items()), tuple(payoff(options).items())))
    return TableStub(tuple(rows), **kw)


def no_owners_value(task) -> RunResult:
    """A run whose outcomes lack ``owners_value_usd`` (today's model)."""
    return RunResult(pd.DataFrame({"round": [1, 2]}), pd.DataFrame(), pd.DataFrame(), outcomes={"flags": {}})


@dataclass(frozen=True)
class ByAppetite:
    """Different stub games per condition: the stub whose appetite equals the run's
    ``capital.appetites`` (how the test conditions differ)."""

    stubs: tuple[tuple[float, TableStub], ...]

    def __call__(self, task) -> RunResult:
        appetite = task.config().capital.appetites[0]
        return next(stub for a, stub in self.stubs if a == appetite)(task)


@dataclass(frozen=True)
class Interrupting:
    """Runs ``stub`` but raises KeyboardInterrupt (Ctrl-C) at the runs named in ``stop_at``."""

    stub: TableStub
    stop_at: frozenset[str]

    def __call__(self, task) -> RunResult:
        if task.run_id in self.stop_at:
            raise KeyboardInterrupt
        return self.stub(task)


@dataclass(frozen=True)
class Failing:
    """Runs ``stub`` but raises RuntimeError in the runs of profile ``profile`` (replicate ``replicate`` only,
    or every replicate when None; condition ``condition`` only, or every condition when None)."""

    stub: TableStub
    profile: str
    replicate: int | None = None
    condition: str | None = None

    def __call__(self, task) -> RunResult:
        if task.profile == self.profile and self.replicate in (None, task.replicate) and \
                self.condition in (None, task.condition):
            raise RuntimeError(f"injected failure in {task.run_id}")
        return self.stub(task)


@dataclass(frozen=True)
class Disobeying:
    """Like ``stub``, but every forced lab records choosing ``option`` (a model that ignores forced moves)."""

    stub: TableStub
    option: str

    def __call__(self, task) -> RunResult:
        result = self.stub(task)
        forced = [m.firm for m in task.config().forced]
        if not forced:
            return result
        events = pd.DataFrame([{"round": 1, "kind": "decision", "actor": lab, "target": self.option, "amount": 0.0,
                                "unit": "usd", "vertical": ""} for lab in forced])
        return RunResult(result.model, result.agents, events, outcomes=result.outcomes)


@dataclass(frozen=True)
class PseudoRandomGame:
    """A generic stub for any game: each lab's payoff is a fixed pseudo-random function of the lab and every
    forced option ($1B–$2B, from a CRC of the profile), plus a small noise per seed; free runs use each lab's
    first listed option in ``free`` (or record nothing)."""

    labs: tuple[str, ...]
    free: tuple[tuple[str, str], ...] | None = None

    def __call__(self, task) -> RunResult:
        config = task.config()
        forced = {m.firm: m.option for m in config.forced}
        options = forced or dict(self.free or ())
        key = repr(sorted(options.items()))
        payoffs = {}
        for i, lab in enumerate(self.labs):
            u = zlib.crc32(f"{lab}|{key}".encode()) / 2**32
            noise = np.random.default_rng(np.random.SeedSequence(task.seed, spawn_key=(i,))).normal()
            payoffs[lab] = (1 + u) * 1e9 + 1e7 * noise
        events = pd.DataFrame(columns=["round", "kind", "actor", "target", "amount", "unit", "vertical"])
        if not forced and self.free:
            events = pd.DataFrame([{"round": 1, "kind": "decision", "actor": lab, "target": o, "amount": 0.0,
                                    "unit": "usd", "vertical": ""} for lab, o in self.free])
        return RunResult(pd.DataFrame({"round": [1, 2]}), pd.DataFrame(), events,
                         outcomes={"owners_value_usd": payoffs, "flags": {}})
