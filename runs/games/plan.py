"""The runs of a game: every condition × reduced profile × replicate seed (plus, optionally, free runs).

Seeds come from the game's master seed through :func:`runs.sweeps.designs.run_seed` with common random numbers:
replicate ``r`` has the same seed in every profile and condition, so payoff differences between profiles are
not blurred by different draws of the world (the variance-reduction device of EGTA, and of paired
comparisons). A *free* run (profile id ``free``) is a condition's config with no move forced: it shows what
the labs choose by themselves, whose regret the analysis reports.

A :class:`GamePlan` is all that fixes a game's results; it is stored in the game folder's manifest.json and
compared on ``--resume``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from market.config import ConfigError, build_config
from runs.sweeps.designs import run_seed
from runs.games.profiles import Profile, Role, enumerate_profiles, n_profiles
from runs.games.runner import GameTask
from runs.games.spec import (MAX_PROFILES, MAX_RUNS, Condition, GameError, GameSpec, load_game, resolve_conditions,
                             symmetric_role_notes)

FREE = "free"


@dataclass(frozen=True)
class GamePlan:
    """A validated game: roles, conditions (with their run configs), replicates per profile, master seed,
    whether free runs are added, the ε of equilibria ($), bootstrap resamples, the game file's path and
    parsed content and the command line's ``--set``/``--rounds``/``--replicates`` (for the record), and notes
    found while validating."""

    name: str
    description: str
    roles: tuple[Role, ...]
    conditions: tuple[Condition, ...]
    replicates: int
    master_seed: int
    unforced: bool = True
    tolerance_usd: float = 0.0
    bootstrap: int = 200
    source: str | None = None
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    notes: tuple[str, ...] = ()
    command_line: dict[str, Any] = field(default_factory=dict)

    @property
    def profiles(self) -> list[Profile]:
        """The reduced profiles (same for every condition)."""
        return enumerate_profiles(self.roles)

    @property
    def role_labs(self) -> list[str]:
        """Every lab that plays a role, role by role."""
        return [lab for role in self.roles for lab in role.labs]

    def seeds(self) -> list[int]:
        """Seed of each replicate (common to every profile and condition)."""
        return [run_seed(self.master_seed, 0, r, common_random_numbers=True) for r in range(self.replicates)]

    def _run_id(self, condition: str, profile: str, replicate: int) -> str:
        return f"{condition}-{profile}-r{replicate:0{max(2, len(str(self.replicates - 1)))}d}"

    def table(self) -> pd.DataFrame:
        """design.csv: one row per run: run_id, condition, profile, replicate, seed, ``strategy__<lab>``."""
        rows, seeds = [], self.seeds()
        labs = self.role_labs
        for cond in self.conditions:
            if self.unforced:
                rows += [{"run_id": self._run_id(cond.name, FREE, r), "condition": cond.name, "profile": FREE,
                          "replicate": r, "seed": seed, **{f"strategy__{lab}": "" for lab in labs}}
                         for r, seed in enumerate(seeds)]
            for prof in self.profiles:
                assigned = prof.assignment(self.roles)
                rows += [{"run_id": self._run_id(cond.name, prof.id, r), "condition": cond.name, "profile": prof.id,
                          "replicate": r, "seed": seed, **{f"strategy__{lab}": assigned[lab] for lab in labs}}
                         for r, seed in enumerate(seeds)]
        return pd.DataFrame(rows, columns=["run_id", "condition", "profile", "replicate", "seed",
                                           *[f"strategy__{lab}" for lab in labs]])

    def tasks(self) -> list[GameTask]:
        """One :class:`GameTask` per run, in design order."""
        configs = {}
        for cond in self.conditions:
            if self.unforced:
                configs[cond.name, FREE] = (cond.config, tuple((lab, "") for lab in self.role_labs))
            for prof in self.profiles:
                assigned = prof.assignment(self.roles)
                data = {**cond.config, "forced": [*cond.config.get("forced", []), *prof.forced(self.roles)]}
                configs[cond.name, prof.id] = (data, tuple((lab, assigned[lab]) for lab in self.role_labs))
        out = []
        for rec in self.table().to_dict("records"):
            data, strategies = configs[rec["condition"], rec["profile"]]
            point = -1 if rec["profile"] == FREE else int(rec["profile"][1:])
            out.append(GameTask(rec["run_id"], point, int(rec["replicate"]), int(rec["seed"]), {}, data,
                                None, True, rec["condition"], rec["profile"], strategies))
        return out

    def check_configs(self) -> None:
        """Validate every (condition, profile) run config once.

        Raises:
            GameError: naming the condition and profile whose config the schema rejects.
        """
        for cond in self.conditions:
            for prof in self.profiles:
                try:
                    build_config({**cond.config, "forced": [*cond.config.get("forced", []),
                                                              *prof.forced(self.roles)]})
                except ConfigError as err:
                    raise GameError(f"condition {cond.name!r}, profile {prof.label(self.roles)}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (manifest.json ``plan``); :meth:`from_dict` inverts it."""
        return {"name": self.name, "description": self.description, "roles": [r.to_dict() for r in self.roles],
                "conditions": [{"name": c.name, "description": c.description, "overrides": c.overrides,
                                "config": c.config} for c in self.conditions],
                "replicates": self.replicates, "master_seed": self.master_seed, "unforced": self.unforced,
                "tolerance_usd": self.tolerance_usd, "bootstrap": self.bootstrap, "source": self.source,
                "spec": self.spec, "notes": list(self.notes), "command_line": self.command_line}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GamePlan":
        """Inverse of :meth:`to_dict` (no validation: the plan was validated when the game started)."""
        return cls(data["name"], data.get("description", ""), tuple(Role.from_dict(r) for r in data["roles"]),
                   tuple(Condition(c["name"], c.get("description", ""), c.get("overrides", {}), c["config"])
                         for c in data["conditions"]),
                   int(data["replicates"]), int(data["master_seed"]), bool(data.get("unforced", True)),
                   float(data.get("tolerance_usd", 0.0)), int(data.get("bootstrap", 200)), data.get("source"),
                   data.get("spec", {}), tuple(data.get("notes", ())), data.get("command_line", {}))

    def differences(self, other: "GamePlan") -> list[str]:
        """Names of the plan parts that change the runs (empty when both plans give the same runs)."""
        a, b = self.to_dict(), other.to_dict()
        keys = ("roles", "conditions", "replicates", "master_seed", "unforced")
        return [k for k in keys if a[k] != b[k]]


def make_game_plan(game: str | Path | GameSpec, *, sets: dict[str, Any] | None = None, rounds: int | None = None,
                   replicates: int | None = None) -> GamePlan:
    """Validate a game (a file path, or a parsed :class:`GameSpec` with no base folder) with the command line's
    ``--set`` overrides, ``--rounds`` and ``--replicates``, and return its plan. Every run config is checked
    here, before any run.

    Raises:
        GameError: a bad file or field (naming it), too many profiles or runs, a config the schema rejects.
    """
    if isinstance(game, GameSpec):
        spec, base_dir, source = game, None, "game"
    else:
        spec, base_dir, source = load_game(game), Path(game).resolve().parent, str(game)
    if replicates is not None and replicates < 1:
        raise GameError(f"--replicates: {replicates} out of range (allowed: ≥ 1)")
    if rounds is not None and rounds < 1:
        raise GameError(f"--rounds: {rounds} out of range (allowed: ≥ 1)")
    reps = replicates or spec.replicates
    roles = tuple(Role(r.name, tuple(r.labs), r.move, tuple(r.strategies), r.vertical) for r in spec.roles)
    count = n_profiles(roles)
    if count > MAX_PROFILES:
        raise GameError(f"{source}: roles: {count} profiles after the symmetric reduction (allowed: ≤ {MAX_PROFILES}); "
                        f"use fewer labs, roles or strategies")
    n_runs = len(spec.conditions) * (count + spec.unforced) * reps
    if n_runs > MAX_RUNS:
        raise GameError(f"{source}: {len(spec.conditions)} conditions × ({count} profiles"
                        f"{' + 1 free' if spec.unforced else ''}) × {reps} replicates = {n_runs} runs "
                        f"(allowed: ≤ {MAX_RUNS})")
    conditions = resolve_conditions(spec, base_dir=base_dir, source=source, sets=sets, rounds=rounds)
    plan = GamePlan(spec.name, spec.description, roles, tuple(conditions), reps, spec.seed, spec.unforced,
                    spec.tolerance_usd, spec.bootstrap, None if isinstance(game, GameSpec) else str(game),
                    spec.model_dump(mode="json"), tuple(symmetric_role_notes(spec, conditions)),
                    {"set": dict(sets or {}), "rounds": rounds, "replicates": replicates})
    plan.check_configs()
    return plan
