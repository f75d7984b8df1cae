"""Regret, pure and mixed equilibria of an empirical game, and their robustness to payoff noise.

Definitions (one condition; payoffs are mean owners' values, $):

- A *unilateral deviation* moves one lab of role ``i`` from strategy ``s`` to ``s'``, everyone else unchanged;
  its *gain* is the deviator's payoff after (``u_i(s', P')``) minus before (``u_i(s, P)``), and its relative
  gain that gain over |u_i(s, P)|.
- A profile's *regret* is its largest deviation gain, floored at 0 (Wellman 2006; Jordan, Schvartzman and
  Wellman 2010). A pure (ε-)equilibrium is a profile with regret ≤ ε (the game file's ``tolerance_usd``).
- Mixed equilibria: each lab of a role is a player (the reduced table gives every player's payoff in every
  pure profile of the full game). Two players: nashpy's support enumeration (Nisan et al. 2007, alg. 3.4),
  checked by Lemke–Howson from every starting label (alg. 3.6), with vertex enumeration (alg. 3.5) added when
  the game is degenerate. Three or more players: pygambit when it is installed (``enumpure_solve``, and
  ``enumpoly_solve`` or ``logit_solve``; see :func:`_pygambit`); otherwise only pure equilibria, by the
  exhaustive deviation check, and the solution says so.
- Robustness: the share of bootstrap resamples of the replicates (:meth:`runs.games.table.PayoffTable.resample`)
  in which a pure equilibrium keeps regret ≤ ε, or in which the resampled game has an equilibrium with the same
  supports as a mixed one (with the 5–95 % range of its probabilities).

Every equilibrium a library returns is checked here: its mixed-strategy regret must be ≈ 0 (at most
:data:`REL_TOL` of the payoff scale).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np

from runs.games.profiles import Counts, Profile, Role, counts_of, deviate
from runs.games.table import PayoffTable

REL_TOL = 1e-7  # assumption: solver round-off, relative to the largest |payoff|, below any $ that matters
MAX_CELLS = 200_000  # assumption: a full normal form of this many cells (×players arrays) still fits in memory and solves
PROB_EPS = 1e-9  # probabilities below this count as outside a mixed strategy's support
POLY_CELLS = 100  # assumption: polynomial enumeration of every equilibrium takes < 1 s up to here (3×3×3: 0.04 s)


@dataclass(frozen=True)
class Player:
    """One lab of a role, as a player of the full game."""

    role: int
    lab: str


def players_of(roles: tuple[Role, ...]) -> list[Player]:
    """Every role lab as a player, role by role."""
    return [Player(i, lab) for i, role in enumerate(roles) for lab in role.labs]


@dataclass(frozen=True)
class Deviation:
    """The largest unilateral deviation from a profile: role, from and to strategy, gain ($ and relative)."""

    role: str
    from_strategy: str
    to_strategy: str
    gain_usd: float
    gain_rel: float

    def text(self) -> str:
        """``role: from → to``."""
        return f"{self.role}: {self.from_strategy} → {self.to_strategy}"


@dataclass(frozen=True)
class ProfileRegret:
    """A profile's regret ($, floored at 0; relative: the best deviation's gain over the deviator's payoff) and
    the deviation that attains it (None when no deviation gains)."""

    profile: Profile
    regret_usd: float
    regret_rel: float
    deviation: Deviation | None


@dataclass(frozen=True)
class Equilibrium:
    """An equilibrium: ``mixes[j][s]``, the probability player ``j`` (:func:`players_of` order) plays its role's
    strategy ``s``; each player's expected payoff ($); its regret ($, ≈ 0 or ≤ ε); the method that found it;
    the reduced profile when it is pure."""

    mixes: tuple[tuple[float, ...], ...]
    payoffs_usd: tuple[float, ...]
    regret_usd: float
    method: str
    profile: Profile | None = None

    @property
    def kind(self) -> str:
        """``pure`` or ``mixed``."""
        return "pure" if self.profile is not None else "mixed"

    def supports(self) -> tuple[tuple[int, ...], ...]:
        """Strategies played with positive probability, per player."""
        return tuple(tuple(s for s, p in enumerate(m) if p > PROB_EPS) for m in self.mixes)


@dataclass(frozen=True)
class Solution:
    """Equilibria of one mean table, the method used and notes (degeneracy, disagreements, limits)."""

    equilibria: tuple[Equilibrium, ...]
    method: str
    notes: tuple[str, ...] = ()


class EmpiricalGame:
    """A mean payoff table (one condition, or one bootstrap draw) as a game: payoffs, deviations, regret, the
    full normal form and its equilibria.

    ``means[p, i, s]``: mean payoff ($) of role ``i``'s labs playing ``s`` in profile ``p`` (NaN where unplayed).
    """

    def __init__(self, roles: tuple[Role, ...], profiles: tuple[Profile, ...], means: np.ndarray,
                 tolerance_usd: float = 0.0) -> None:
        self.roles, self.profiles, self.means = roles, profiles, np.asarray(means, float)
        self.index = {p.counts: j for j, p in enumerate(profiles)}
        self.players = players_of(roles)
        scale = np.nanmax(np.abs(self.means)) if np.isfinite(self.means).any() else 1.0
        self.tolerance_usd = tolerance_usd
        self.tol = tolerance_usd + REL_TOL * max(float(scale), 1.0)
        self._dev = _deviation_index(roles, profiles, self.index)

    # ---------------------------------------------------------------------------------------- pure profiles

    def payoff(self, counts: Counts, role: int, strategy: int) -> float:
        """Mean payoff ($) of a lab of ``role`` playing ``strategy`` in the profile ``counts``."""
        return float(self.means[self.index[counts], role, strategy])

    def regret_vector(self) -> np.ndarray:
        """Regret ($, ≥ 0) of every profile, vectorised; shape (profiles,)."""
        p, i, s, p2, s2 = self._dev
        gain = self.means[p2, i, s2] - self.means[p, i, s]
        out = np.zeros(len(self.profiles))
        np.maximum.at(out, p, np.nan_to_num(gain, nan=-np.inf))
        return out

    def regrets(self) -> list[ProfileRegret]:
        """Regret of every profile with its largest deviation."""
        p, i, s, p2, s2 = self._dev
        base = self.means[p, i, s]
        gain = self.means[p2, i, s2] - base
        out = []
        for j, prof in enumerate(self.profiles):
            mine = np.flatnonzero(p == j)
            if not len(mine) or not np.isfinite(gain[mine]).any():
                out.append(ProfileRegret(prof, 0.0, 0.0, None))
                continue
            k = mine[np.nanargmax(gain[mine])]
            g = float(gain[k])
            rel = g / abs(base[k]) if base[k] != 0 else float("inf") if g > 0 else 0.0
            role = self.roles[i[k]]
            dev = Deviation(role.name, role.strategies[s[k]], role.strategies[s2[k]], g, rel) if g > 0 else None
            out.append(ProfileRegret(prof, max(g, 0.0), max(rel, 0.0), dev))
        return out

    def pure_equilibria(self) -> list[Profile]:
        """Profiles whose regret ≤ ε (exhaustive check of every unilateral deviation)."""
        reg = self.regret_vector()
        return [prof for prof, r in zip(self.profiles, reg) if r <= self.tol]

    # ---------------------------------------------------------------------------------------- full game

    def n_cells(self) -> int:
        """Pure profiles of the full (unreduced) game: the product of every player's strategy count."""
        return int(np.prod([self.roles[pl.role].k for pl in self.players]))

    def normal_form(self) -> list[np.ndarray]:
        """Each player's payoff ($) in every pure profile of the full game; one array per player, axes = players,
        lengths = their roles' strategy counts."""
        shape = tuple(self.roles[pl.role].k for pl in self.players)
        arrays = [np.empty(shape) for _ in self.players]
        for cell in itertools.product(*(range(n) for n in shape)):
            chosen = {pl.lab: self.roles[pl.role].strategies[s] for pl, s in zip(self.players, cell)}
            counts = counts_of(self.roles, chosen)
            for j, pl in enumerate(self.players):
                arrays[j][cell] = self.payoff(counts, pl.role, cell[j])
        return arrays

    def mixed_regret(self, arrays: list[np.ndarray], mixes: list[np.ndarray]) -> tuple[float, list[float]]:
        """(largest gain of any player's best pure reply over its mix, $; each player's expected payoff, $)."""
        worst, values = 0.0, []
        for j in range(len(mixes)):
            against = _against(arrays[j], mixes, j)
            value = float(against @ mixes[j])
            values.append(value)
            worst = max(worst, float(against.max()) - value)
        return worst, values

    def pure_equilibrium(self, prof: Profile, method: str) -> Equilibrium:
        """A pure profile as an :class:`Equilibrium` (each player's strategy as a one-hot mix)."""
        assigned = prof.assignment(self.roles)
        mixes = tuple(tuple(1.0 if st == assigned[pl.lab] else 0.0 for st in self.roles[pl.role].strategies)
                      for pl in self.players)
        payoffs = tuple(self.payoff(prof.counts, pl.role, self.roles[pl.role].strategies.index(assigned[pl.lab]))
                        for pl in self.players)
        regret = float(self.regret_vector()[self.index[prof.counts]])
        return Equilibrium(mixes, payoffs, regret, method, prof)

    def as_equilibrium(self, arrays: list[np.ndarray], mixes: list[np.ndarray], method: str) -> Equilibrium | None:
        """A solver's mixed profile as an :class:`Equilibrium`, or None when its regret exceeds the tolerance
        (a solver error) — pure profiles map to their reduced profile."""
        mixes = [np.clip(np.asarray(m, float), 0, None) for m in mixes]
        mixes = [m / m.sum() for m in mixes]
        regret, values = self.mixed_regret(arrays, mixes)
        if regret > self.tol:
            return None
        canon = tuple(tuple(float(f"{x:.12g}") for x in m) for m in mixes)
        if all(max(m) > 1 - PROB_EPS for m in canon):
            chosen = {pl.lab: self.roles[pl.role].strategies[int(np.argmax(m))] for pl, m in zip(self.players, canon)}
            prof = self.profiles[self.index[counts_of(self.roles, chosen)]]
            return self.pure_equilibrium(prof, method)
        return Equilibrium(canon, tuple(values), regret, method)

    def _pure_only(self, pure: list[Profile], note: str | None = None) -> Solution:
        return Solution(tuple(self.pure_equilibrium(p, "exhaustive deviation check") for p in pure),
                        "pure equilibria only (exhaustive deviation check)", (note,) if note else ())

    def solve(self) -> Solution:
        """Pure equilibria by the exhaustive deviation check, plus mixed equilibria by nashpy (two players) or
        pygambit (three or more, when installed). See the module docstring."""
        pure = self.pure_equilibria()
        n = len(self.players)
        if n == 1:
            return Solution(tuple(self.pure_equilibrium(p, "one firm: its best strategy") for p in pure),
                            "one firm (a decision problem): the strategies with the highest payoff")
        if self.n_cells() > MAX_CELLS:
            return self._pure_only(pure, f"the full game has {self.n_cells()} pure profiles (> {MAX_CELLS}): mixed "
                                         f"equilibria were not sought")
        arrays = self.normal_form()
        if n == 2:
            found, method, notes = _nashpy(arrays[0], arrays[1])
        else:
            try:
                found, method, notes = _pygambit(arrays)
            except ModuleNotFoundError:
                return self._pure_only(pure, f"{n} players: mixed equilibria need pygambit (pip install "
                                             f"'tokenmarket[gambit]'); only pure equilibria were computed, by "
                                             f"checking every unilateral deviation")
        out: dict[tuple, Equilibrium] = {}
        rejected = 0
        for mixes in found:
            eq = self.as_equilibrium(arrays, [np.asarray(m) for m in mixes], method)
            if eq is None:
                rejected += 1
            elif eq.profile is None:
                out.setdefault(("mixed", self._canonical(eq.mixes)), eq)
        notes = list(notes)
        if rejected:
            notes.append(f"{rejected} profile(s) returned by {method} failed the equilibrium check and were dropped")
        solver_pure = {self.index[counts_of(self.roles, {pl.lab: self.roles[pl.role].strategies[int(np.argmax(m))]
                                                         for pl, m in zip(self.players, mixes)})]
                       for mixes in found if all(max(m) > 1 - PROB_EPS for m in mixes)}
        exhaustive = {self.index[p.counts] for p in pure}
        if solver_pure - exhaustive:
            notes.append(f"{method} returned pure profiles the deviation check rejects: "
                         f"{', '.join(self.profiles[j].label(self.roles) for j in sorted(solver_pure - exhaustive))}")
        exact = {j for j, r in enumerate(self.regret_vector()) if r <= self.tol - self.tolerance_usd}
        if exact - solver_pure:
            notes.append(f"{method} missed pure equilibria the deviation check finds: "
                         f"{', '.join(self.profiles[j].label(self.roles) for j in sorted(exact - solver_pure))}")
        eqs = [self.pure_equilibrium(p, f"exhaustive deviation check; {method}"
                                     if self.index[p.counts] in solver_pure else "exhaustive deviation check")
               for p in pure]
        return Solution(tuple(eqs) + tuple(out.values()), method, tuple(notes))

    def _canonical(self, mixes: tuple[tuple[float, ...], ...]) -> tuple:
        """Mixes with each role's players sorted: equilibria that differ only by which lab of a symmetric role
        plays which mix are one equilibrium of the reduced game."""
        out, j = [], 0
        for role in self.roles:
            block = sorted(tuple(round(x, 6) for x in m) for m in mixes[j:j + role.n_firms])
            out.append(tuple(block))
            j += role.n_firms
        return tuple(out)

    def canonical_supports(self, eq: Equilibrium) -> tuple:
        """Supports per role, sorted within a role (for matching equilibria across bootstrap draws)."""
        sup, out, j = eq.supports(), [], 0
        for role in self.roles:
            out.append(tuple(sorted(sup[j:j + role.n_firms])))
            j += role.n_firms
        return tuple(out)


def _deviation_index(roles: tuple[Role, ...], profiles: tuple[Profile, ...], index: dict[Counts, int]):
    """Arrays (p, i, s, p2, s2) listing every unilateral deviation: from profile p, a lab of role i switches from
    s to s2, giving profile p2."""
    cols: list[list[int]] = [[], [], [], [], []]
    for j, prof in enumerate(profiles):
        for i, role in enumerate(roles):
            for s in range(role.k):
                if not prof.counts[i][s]:
                    continue
                for s2 in range(role.k):
                    if s2 != s:
                        for col, v in zip(cols, (j, i, s, index[deviate(prof.counts, i, s, s2)], s2)):
                            col.append(v)
    return tuple(np.asarray(c, dtype=np.intp) for c in cols)


def _against(array: np.ndarray, mixes: list[np.ndarray], j: int) -> np.ndarray:
    """Player ``j``'s expected payoff of each of its pure strategies against the others' mixes."""
    out = array
    for axis in reversed(range(len(mixes))):  # last axes first, so the remaining axes keep their positions
        if axis != j:
            out = np.tensordot(out, mixes[axis], axes=([axis], [0]))
    return out


def _positive(a: np.ndarray, lo: float, span: float) -> np.ndarray:
    """An affine image of a payoff matrix in [1, 2]: equilibria are unchanged, and Lemke–Howson needs
    positive payoffs; well-scaled numbers keep support enumeration's linear solves accurate."""
    return 1.0 + (a - lo) / span


def _nashpy(a: np.ndarray, b: np.ndarray) -> tuple[list, str, list[str]]:
    """All equilibria of the bimatrix game (a, b) by support enumeration, checked by Lemke–Howson."""
    import nashpy

    notes = []
    lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
    span = hi - lo if hi > lo else 1.0
    game = nashpy.Game(_positive(a, lo, span), _positive(b, lo, span))
    method = "nashpy support enumeration"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = [tuple(np.asarray(x, float) for x in eq) for eq in game.support_enumeration(tol=1e-12)]
    degenerate = any("degenerate" in str(w.message) for w in caught)
    if degenerate:
        notes.append("the game is degenerate (ties in payoffs): vertex enumeration was added, and equilibria may "
                     "form continua of which only extreme points are listed")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found += [tuple(np.asarray(x, float) for x in eq) for eq in game.vertex_enumeration()]
        method += " + vertex enumeration"
    missed = 0
    for label in range(sum(a.shape)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                lh = tuple(np.asarray(x, float) for x in game.lemke_howson(initial_dropped_label=label))
            except (ValueError, IndexError, ZeroDivisionError, np.linalg.LinAlgError):
                continue
        if lh[0].shape != (a.shape[0],) or lh[1].shape != (a.shape[1],) or not all(np.isfinite(x).all() for x in lh):
            continue
        if not any(all(np.allclose(x, y, atol=1e-6) for x, y in zip(lh, eq)) for eq in found):
            missed += 1
            found.append(lh)
    if missed:
        notes.append(f"Lemke–Howson found {missed} equilibrium(s) that support enumeration missed (kept after the "
                     f"equilibrium check)")
    return [list(eq) for eq in found], method + ", checked by Lemke–Howson", notes


def _pygambit(arrays: list[np.ndarray]) -> tuple[list, str, list[str]]:
    """Equilibria of an N-player game by pygambit: every pure one (``enumpure_solve``) and, for games of at most
    :data:`POLY_CELLS` pure profiles, every isolated one by polynomial enumeration (``enumpoly_solve``), else
    one by following the logit quantal-response path to its limit (``logit_solve``). The global Newton method
    (``gnm_solve``) is not used: in pygambit 16.7 it did not return on a symmetric three-player entry game.
    Raises ModuleNotFoundError when pygambit is not installed."""
    import pygambit as gbt

    lo = float(min(x.min() for x in arrays))
    hi = float(max(x.max() for x in arrays))
    span = hi - lo if hi > lo else 1.0
    game = gbt.Game.from_arrays(*[_positive(x, lo, span) for x in arrays])
    small = arrays[0].size <= POLY_CELLS
    solvers = [gbt.nash.enumpure_solve, gbt.nash.enumpoly_solve if small else gbt.nash.logit_solve]
    found = []
    for solve in solvers:
        for eq in solve(game).equilibria:
            found.append([np.array([float(eq[st]) for st in player.strategies]) for player in game.players])
    if small:
        return found, "pygambit enumpure + enumpoly (every isolated equilibrium)", []
    return found, "pygambit enumpure + logit", [f"the full game has {arrays[0].size} pure profiles (> {POLY_CELLS}): "
                                                f"besides the pure equilibria, one mixed equilibrium was sought (the "
                                                f"limit of the logit quantal-response path), not all"]


# ------------------------------------------------------------------------------------------- robustness

@dataclass(frozen=True)
class Robustness:
    """Bootstrap results of one condition: per profile, the share of draws in which it is an (ε-)equilibrium and
    the 5 % / 95 % quantiles of its regret ($); per equilibrium (in :class:`Solution` order), the share of draws in
    which it survives and, for mixed ones, the 5 % / 95 % quantiles of each mix probability."""

    draws: int
    profile_share: np.ndarray
    regret_lo: np.ndarray
    regret_hi: np.ndarray
    equilibrium_share: tuple[float, ...]
    mix_lo: tuple[tuple[tuple[float, ...], ...] | None, ...] = field(default=())
    mix_hi: tuple[tuple[tuple[float, ...], ...] | None, ...] = field(default=())


def robustness(table: PayoffTable, solution: Solution, draws: int, tolerance_usd: float,
               rng: np.random.Generator) -> Robustness | None:
    """Resample the replicates ``draws`` times and measure how often each profile and each equilibrium of
    ``solution`` still holds (see the module docstring). None when there are fewer than 2 replicates or
    ``draws`` is 0 (nothing to resample)."""
    if draws < 1 or table.samples.shape[1] < 2:
        return None
    n_prof = len(table.profiles)
    regrets = np.empty((draws, n_prof))
    eqs = solution.equilibria
    mixed = [k for k, eq in enumerate(eqs) if eq.kind == "mixed"]
    hits = np.zeros(len(eqs))
    probs: dict[int, list[tuple]] = {k: [] for k in mixed}
    reference = EmpiricalGame(table.roles, table.profiles, table.mean(), tolerance_usd)
    targets = {k: reference.canonical_supports(eqs[k]) for k in mixed}
    for b in range(draws):
        game = EmpiricalGame(table.roles, table.profiles, table.resample(rng), tolerance_usd)
        regrets[b] = game.regret_vector()
        for k, eq in enumerate(eqs):
            if eq.profile is not None:
                hits[k] += regrets[b, eq.profile.index] <= reference.tol
        if mixed:
            sol = game.solve()
            for k in mixed:
                match = next((e for e in sol.equilibria if e.kind == "mixed"
                              and game.canonical_supports(e) == targets[k]), None)
                if match is not None:
                    hits[k] += 1
                    probs[k].append(match.mixes)
    tol = reference.tol
    lo, hi = [], []
    for k in range(len(eqs)):
        if k in probs and probs[k]:
            arr = np.asarray(probs[k], float)
            lo.append(tuple(map(tuple, np.quantile(arr, 0.05, axis=0))))
            hi.append(tuple(map(tuple, np.quantile(arr, 0.95, axis=0))))
        else:
            lo.append(None)
            hi.append(None)
    return Robustness(draws, (regrets <= tol).mean(axis=0), np.quantile(regrets, 0.05, axis=0),
                      np.quantile(regrets, 0.95, axis=0), tuple(hits / draws), tuple(lo), tuple(hi))
