"""The game file: a TOML document validated by :class:`GameSpec`, and its resolution into run configs.

A game file names a base scenario with overrides, the run length and population, one or more *conditions*
(named override sets, each solved as its own game) and one or more *roles* (labs that choose one strategic
move of :data:`market.config.MOVES` from a strategy set). The worked example is in docs/games.md; shipped
examples are in ``runs/games/examples/``.

Every problem is found here, before any run: bad TOML, unknown or mistyped keys, options that are not options
of the move, labs that are not in the scenario or sit in two roles, override keys the config schema rejects,
a game too large to run. Each raises :class:`GameError` naming the file, the field, the value and what is
allowed (the CLI turns it into exit status 2).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from market.config import MOVES, VERTICALS, ConfigError, build_config
from market.scenario import load_scenario

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
MAX_PROFILES = 20_000  # assumption: beyond this a game is better sampled than enumerated (issue 16 speaks of 3 × 3)
MAX_RUNS = 1_000_000  # the sweep's cap (runs.sweeps.designs.MAX_RUNS): the folder and its CSVs stay manageable


class GameError(ConfigError):
    """A game file or game option that cannot be used: names the field, the value and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"capital": {"appetites": [1]}}`` → ``{"capital.appetites": [1]}`` (dotted keys kept)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


class RoleSpec(_Strict):
    """A role: the labs that play it (several labs form a symmetric role), the move they choose and the
    strategies (options of that move) they choose from; ``vertical`` limits a ``vertical`` move to one
    vertical."""

    name: str = Field(..., pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=40,
                      description="role name (letters, digits, _; starts with a letter)")
    labs: list[str] = Field(..., min_length=1, max_length=20, description="lab names of the scenario")
    move: Literal[tuple(MOVES)] = Field(..., description="a move of market.config.MOVES")  # type: ignore[valid-type]
    strategies: list[str] = Field(..., min_length=2, description="options of the move, at least two")
    vertical: str | None = Field(None, description="vertical of a 'vertical' move (None: every vertical)")

    @field_validator("labs")
    @classmethod
    def _unique_labs(cls, labs: list[str]) -> list[str]:
        dup = next((lab for lab in labs if labs.count(lab) > 1), None)
        if dup is not None:
            raise ValueError(f"lab {dup!r} listed twice; allowed: each lab once")
        return labs

    @model_validator(mode="after")
    def _options(self) -> "RoleSpec":
        allowed = MOVES[self.move]
        for i, option in enumerate(self.strategies):
            if option not in allowed:
                raise ValueError(f"strategies.{i}: {option!r} is not an option of move {self.move!r}; "
                                 f"allowed: {', '.join(allowed)}")
            if self.strategies.index(option) != i:
                raise ValueError(f"strategies.{i}: {option!r} listed twice; allowed: each option once")
        if self.vertical is not None:
            if self.move != "vertical":
                raise ValueError(f"vertical: {self.vertical!r} given for move {self.move!r}; allowed only with "
                                 f"move 'vertical'")
            if self.vertical not in VERTICALS:
                raise ValueError(f"vertical: {self.vertical!r} is not a vertical; allowed: {', '.join(VERTICALS)}")
        return self


class ConditionSpec(_Strict):
    """A condition: a named set of config overrides (dotted keys or nested tables) solved as its own game."""

    name: str = Field(..., pattern=NAME_PATTERN, max_length=40, description="letters, digits, _ and -")
    description: str = ""
    overrides: dict[str, Any] = Field(default_factory=dict)


class GameSpec(_Strict):
    """A whole game file. ``rounds`` and ``customers`` set ``world.rounds`` and ``customers.n_customers``;
    ``replicates`` seeds per profile (the same seeds for every profile and condition: common random numbers);
    ``seed`` the master seed they come from; ``unforced`` adds, per condition, the same replicates without
    forced moves, to read what the firms choose themselves; ``tolerance_usd`` the ε of an ε-equilibrium
    ($ of owners' value); ``bootstrap`` resamples of the replicates for robustness (0: none)."""

    name: str = Field(..., pattern=NAME_PATTERN, max_length=60)
    description: str = ""
    scenario: str | None = Field(None, description="shipped scenario name or TOML path (relative to the game file)")
    overrides: dict[str, Any] = Field(default_factory=dict)
    rounds: int | None = Field(None, ge=1, le=1200)
    customers: int | None = Field(None, ge=1, le=100_000_000)
    replicates: int = Field(10, ge=1, le=10_000)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    unforced: bool = True
    tolerance_usd: float = Field(0.0, ge=0)
    bootstrap: int = Field(200, ge=0, le=100_000)
    conditions: list[ConditionSpec] = Field(default_factory=lambda: [ConditionSpec(name="base")], min_length=1,
                                            max_length=50)
    roles: list[RoleSpec] = Field(..., min_length=1, max_length=20)

    @field_validator("tolerance_usd")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not finite; allowed: a number ≥ 0")
        return value

    @model_validator(mode="after")
    def _cross(self) -> "GameSpec":
        names = [c.name for c in self.conditions]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise ValueError(f"conditions.{i}.name: {name!r} used twice; allowed: unique names")
        roles = [r.name for r in self.roles]
        for i, name in enumerate(roles):
            if roles.index(name) != i:
                raise ValueError(f"roles.{i}.name: {name!r} used twice; allowed: unique names")
        seen: dict[str, int] = {}
        for i, role in enumerate(self.roles):
            for j, lab in enumerate(role.labs):
                if lab in seen:
                    raise ValueError(f"roles.{i}.labs.{j}: lab {lab!r} is already in role {roles[seen[lab]]!r}; "
                                     f"allowed: each lab in one role (a lab chooses one move per game)")
                seen[lab] = i
        return self


def _format(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"])
        if e["type"] == "value_error":
            msg = e["msg"].removeprefix("Value error, ")
            # Model validators name the field themselves; field validators are located by pydantic.
            lines.append(f"{path}.{msg}" if path and re.match(r"^[a-z_]+(\.\d+)?: ", msg) else
                         f"{path}: {msg}" if path else msg)
            continue
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        value = e.get("input")
        shown = "{…}" if isinstance(value, dict) else repr(value)
        lines.append(f"{path or '<root>'}: {msg}; got {shown}")
    return "; ".join(lines)


def parse_game(text: str, source: str = "game file") -> GameSpec:
    """Validate the TOML ``text`` of a game file (``source`` names it in messages).

    Raises:
        GameError: bad TOML or any field the schema rejects (message: source, field path, value, allowed).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise GameError(f"{source}: bad TOML: {err}") from None
    try:
        return GameSpec.model_validate(data)
    except ValidationError as err:
        raise GameError(f"{source}: {_format(err)}") from None


def load_game(path: str | Path) -> GameSpec:
    """Read and validate a game file.

    Raises:
        GameError: missing or unreadable file, bad TOML, or a field the schema rejects.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GameError(f"GAME: file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise GameError(f"GAME: {str(path)!r} is a folder, not a game file (TOML)") from None
    except UnicodeDecodeError as err:
        raise GameError(f"GAME: {str(path)!r} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise GameError(f"GAME: cannot read {str(path)!r} ({err.strerror})") from None
    return parse_game(text, str(path))


# ------------------------------------------------------------------------------------------- resolution

@dataclass(frozen=True)
class Condition:
    """A resolved condition: name, description, its overrides (dotted) and the validated run config data
    (a dumped :class:`~market.config.MarketConfig`, no forced moves yet)."""

    name: str
    description: str
    overrides: dict[str, Any]
    config: dict[str, Any]


def _scenario_data(spec: GameSpec, base_dir: Path | None, source: str) -> dict[str, Any]:
    if spec.scenario is None:
        return {}
    scenario = Path(spec.scenario)
    if scenario.suffix and not scenario.is_absolute() and base_dir is not None:
        scenario = base_dir / scenario  # a path in a game file is relative to the game file
    try:
        return load_scenario(scenario if scenario.suffix else spec.scenario)
    except ConfigError as err:
        raise GameError(f"{source}: {err}") from None


def resolve_conditions(spec: GameSpec, *, base_dir: Path | None = None, source: str = "game file",
                       sets: dict[str, Any] | None = None, rounds: int | None = None) -> list[Condition]:
    """Build and validate each condition's run config: scenario, the game's overrides, ``sets`` (``--set``),
    rounds and customers (``rounds`` from ``--rounds`` wins over the file's), then the condition's overrides.

    Raises:
        GameError: an override the schema rejects (naming condition and key), a role lab missing from a
            condition's labs, or a forced move in the scenario on a lab that plays a role.
    """
    base = _scenario_data(spec, base_dir, source)
    common = _flatten(dict(spec.overrides))
    if spec.customers is not None:
        common["customers.n_customers"] = spec.customers
    if (rounds or spec.rounds) is not None:
        common["world.rounds"] = rounds or spec.rounds
    try:
        build_config(base, common)
    except ConfigError as err:
        raise GameError(f"{source}: overrides: {err}") from None
    try:
        build_config(base, {**common, **(sets or {})})
    except ConfigError as err:
        raise GameError(f"--set: {err}") from None
    common.update(sets or {})
    out = []
    for i, cond in enumerate(spec.conditions):
        extra = _flatten(dict(cond.overrides))
        try:
            config = build_config(base, {**common, **extra})
        except ConfigError as err:
            raise GameError(f"{source}: conditions.{i} ({cond.name}).overrides: {err}") from None
        labs = [lab.name for lab in config.labs]
        for r, role in enumerate(spec.roles):
            for j, lab in enumerate(role.labs):
                if lab not in labs:
                    raise GameError(f"{source}: roles.{r}.labs.{j}: {lab!r} is not a lab of condition "
                                    f"{cond.name!r}; allowed: {', '.join(labs)}")
        role_labs = {lab for role in spec.roles for lab in role.labs}
        clash = [m.firm for m in config.forced if m.firm in role_labs]
        if clash:
            raise GameError(f"{source}: conditions.{i} ({cond.name}): the scenario or overrides force a move on "
                            f"{', '.join(sorted(set(clash)))}, which play roles; the game forces their moves itself "
                            f"(allowed: forced moves on labs outside the roles only)")
        out.append(Condition(cond.name, cond.description, extra, config.model_dump(mode="json")))
    return out


def symmetric_role_notes(spec: GameSpec, conditions: list[Condition]) -> list[str]:
    """Notes on symmetric roles whose labs differ in configuration (other than the name): the reduction by
    symmetry treats a role's labs as exchangeable, which is exact only when they are identical."""
    notes = []
    first = conditions[0].config
    by_name = {lab["name"]: lab for lab in first["labs"]}
    for role in spec.roles:
        if len(role.labs) < 2:
            continue
        ref = {k: v for k, v in by_name[role.labs[0]].items() if k != "name"}
        for lab in role.labs[1:]:
            differ = sorted(k for k, v in by_name[lab].items() if k != "name" and ref.get(k) != v)
            if differ:
                notes.append(f"role {role.name}: {lab} differs from {role.labs[0]} in {', '.join(differ)}; the "
                             f"symmetric reduction treats them as exchangeable (payoffs averaged over the labs "
                             f"playing a strategy), which is exact only for identical labs")
    return notes
