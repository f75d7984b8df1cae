"""Roles and strategy profiles, reduced by symmetry; forced moves of a profile.

A role with ``n`` labs and ``k`` strategies is *symmetric*: its labs are treated as exchangeable, so a profile
says only how many of them play each strategy (a composition of ``n`` into ``k`` parts, C(n + k − 1, k − 1) of
them, instead of k^n assignments). A profile of the game is one such count vector per role. Within a role the
counts are given to the labs in the role's order, strategy by strategy in the strategy set's order: counts
(1, 2) over (stay_out, build) for labs (a, b, c) make a stay out and b, c build. The reduction is the standard
one of role-symmetric games in empirical game-theoretic analysis (Wellman 2006, "Methods for empirical
game-theoretic analysis", AAAI).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

Counts = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Role:
    """A role of a game: ``labs`` (lab names) choose ``move`` from ``strategies``; ``vertical`` restricts a
    ``vertical`` move to one vertical (None: every vertical)."""

    name: str
    labs: tuple[str, ...]
    move: str
    strategies: tuple[str, ...]
    vertical: str | None = None

    @property
    def n_firms(self) -> int:
        """Labs playing the role."""
        return len(self.labs)

    @property
    def k(self) -> int:
        """Strategies in the role's set."""
        return len(self.strategies)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (manifest.json)."""
        return {"name": self.name, "labs": list(self.labs), "move": self.move, "strategies": list(self.strategies),
                "vertical": self.vertical}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Role":
        """Inverse of :meth:`to_dict`."""
        return cls(data["name"], tuple(data["labs"]), data["move"], tuple(data["strategies"]), data.get("vertical"))


def compositions(n: int, k: int) -> list[tuple[int, ...]]:
    """Every way to place ``n`` firms on ``k`` strategies, as count vectors, first strategy's count descending
    ((n, 0, …) first). ``len == comb(n + k − 1, k − 1)``."""
    if k == 1:
        return [(n,)]
    return [(first, *rest) for first in range(n, -1, -1) for rest in compositions(n - first, k - 1)]


def n_profiles(roles: tuple[Role, ...] | list[Role]) -> int:
    """Number of reduced profiles: the product over roles of C(n + k − 1, k − 1)."""
    return math.prod(math.comb(r.n_firms + r.k - 1, r.k - 1) for r in roles)


@dataclass(frozen=True)
class Profile:
    """One reduced strategy profile: its ``index`` in the game and ``counts[i][s]``, the number of role ``i``'s
    labs playing its strategy ``s``."""

    index: int
    counts: Counts

    @property
    def id(self) -> str:
        """``p0000``-style identifier (sorted order = index order)."""
        return f"p{self.index:04d}"

    def assignment(self, roles: tuple[Role, ...]) -> dict[str, str]:
        """Lab name → strategy played (counts given to a role's labs in order, strategies in set order)."""
        out = {}
        for role, counts in zip(roles, self.counts):
            labs = iter(role.labs)
            for strategy, c in zip(role.strategies, counts):
                for _ in range(c):
                    out[next(labs)] = strategy
        return out

    def forced(self, roles: tuple[Role, ...]) -> list[dict[str, Any]]:
        """The profile as :class:`market.config.ForcedMove` data, one per lab of every role."""
        assigned = self.assignment(roles)
        return [{"firm": lab, "move": role.move, "option": assigned[lab], "vertical": role.vertical}
                for role in roles for lab in role.labs]

    def label(self, roles: tuple[Role, ...]) -> str:
        """Readable profile: ``role=strategy`` for one-lab roles, ``role=2×build+1×stay_out`` for symmetric ones."""
        parts = []
        for role, counts in zip(roles, self.counts):
            if role.n_firms == 1:
                parts.append(f"{role.name}={role.strategies[counts.index(1)]}")
            else:
                parts.append(f"{role.name}=" + "+".join(f"{c}×{s}" for s, c in zip(role.strategies, counts) if c))
        return "; ".join(parts)


def enumerate_profiles(roles: tuple[Role, ...]) -> list[Profile]:
    """All reduced profiles of a game, the first role's counts varying slowest."""
    per_role = [compositions(r.n_firms, r.k) for r in roles]
    return [Profile(i, tuple(combo)) for i, combo in enumerate(itertools.product(*per_role))]


def deviate(counts: Counts, role: int, s_from: int, s_to: int) -> Counts:
    """The counts after one lab of ``role`` switches from strategy ``s_from`` to ``s_to`` (a unilateral
    deviation). Raises ValueError when no lab of the role plays ``s_from``."""
    if counts[role][s_from] < 1:
        raise ValueError(f"no lab of role {role} plays strategy {s_from} in {counts}")
    row = list(counts[role])
    row[s_from] -= 1
    row[s_to] += 1
    return tuple(tuple(row) if i == role else c for i, c in enumerate(counts))


def counts_of(roles: tuple[Role, ...], strategies: dict[str, str]) -> Counts | None:
    """The reduced profile of a lab → strategy assignment, or None when a lab's strategy is not in its role's
    set (a choice outside the game) or a lab is missing."""
    out = []
    for role in roles:
        row = [0] * role.k
        for lab in role.labs:
            s = strategies.get(lab)
            if s not in role.strategies:
                return None
            row[role.strategies.index(s)] += 1
        out.append(tuple(row))
    return tuple(out)
