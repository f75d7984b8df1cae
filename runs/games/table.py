"""The empirical payoff table of one condition's game, with standard errors and bootstrap resamples.

For profile ``p``, replicate ``r``, role ``i`` and strategy ``s`` played by at least one of the role's labs, the
sample is the mean payoff ($, owners' value) of the role's labs playing ``s`` in that run. Averaging within the
run first keeps the labs of one run together (they share its seed), so the standard error over replicates,
std / √n, is that of independent draws. Replicates are resampled jointly across profiles in the bootstrap,
which keeps the common-random-numbers pairing of profiles (replicate ``r`` has one seed everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from runs.games.profiles import Counts, Profile, Role
from runs.games.spec import GameError


@dataclass(frozen=True)
class PayoffTable:
    """Payoff samples of one condition: ``samples[p, r, i, s]`` ($) for profile ``p``, replicate ``r``, role
    ``i``, strategy ``s`` (NaN where no lab of the role plays ``s`` in ``p``, or the run is missing); shape
    (profiles, replicates, roles, max strategies per role)."""

    condition: str
    roles: tuple[Role, ...]
    profiles: tuple[Profile, ...]
    samples: np.ndarray = field(repr=False)

    @property
    def index(self) -> dict[Counts, int]:
        """Profile counts → row of the table."""
        return {p.counts: i for i, p in enumerate(self.profiles)}

    def n_replicates(self) -> np.ndarray:
        """Replicates with a finished run, per profile; shape (profiles,)."""
        return np.isfinite(self.samples).any(axis=(2, 3)).sum(axis=1)

    def mean(self) -> np.ndarray:
        """Mean payoff ($) per profile, role and strategy; shape (profiles, roles, strategies); NaN where unplayed."""
        return _nanmean(self.samples, axis=1)

    def se(self) -> np.ndarray:
        """Standard error of :meth:`mean` ($): sample std over replicates (ddof 1) / √n; NaN with < 2 replicates."""
        n = np.isfinite(self.samples).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(_nanvar(self.samples, axis=1, ddof=1))
            return np.where(n >= 2, sd / np.sqrt(n), np.nan)

    def resample(self, rng: np.random.Generator) -> np.ndarray:
        """One bootstrap mean table: replicates drawn with replacement (jointly across profiles); shape as
        :meth:`mean`. A profile with failed runs whose draw holds none of its finished replicates keeps its
        full-sample mean (so the draw stays a complete game; this narrows its spread a little)."""
        r = self.samples.shape[1]
        drawn = _nanmean(self.samples[:, rng.integers(0, r, size=r)], axis=1)
        full = self.mean()
        return np.where(np.isnan(drawn) & np.isfinite(full), full, drawn)

    def long(self) -> pd.DataFrame:
        """payoffs.csv rows: condition, profile, label, role, strategy, firms (labs of the role playing it),
        payoff_mean_usd, payoff_se_usd, replicates."""
        mean, se, n = self.mean(), self.se(), np.isfinite(self.samples).sum(axis=1)
        rows = []
        for p, prof in enumerate(self.profiles):
            label = prof.label(self.roles)
            for i, role in enumerate(self.roles):
                for s, strategy in enumerate(role.strategies):
                    if prof.counts[i][s]:
                        rows.append({"condition": self.condition, "profile": prof.id, "label": label,
                                     "role": role.name, "strategy": strategy, "firms": prof.counts[i][s],
                                     "payoff_mean_usd": mean[p, i, s], "payoff_se_usd": se[p, i, s],
                                     "replicates": int(n[p, i, s])})
        return pd.DataFrame(rows)


def _nanmean(x: np.ndarray, axis: int) -> np.ndarray:
    n = np.isfinite(x).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(x, axis=axis) / n, np.nan)


def _nanvar(x: np.ndarray, axis: int, ddof: int) -> np.ndarray:
    n = np.isfinite(x).sum(axis=axis)
    mu = np.expand_dims(_nanmean(x, axis), axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > ddof, np.nansum((x - mu) ** 2, axis=axis) / (n - ddof), np.nan)


def build_table(roles: tuple[Role, ...], profiles: list[Profile], replicates: int, condition: str,
                runs: pd.DataFrame) -> PayoffTable:
    """The payoff table of ``condition`` from a game's runs (``runs.csv`` rows; only status ok is used).

    Raises:
        GameError: a profile with no finished run (the table would have a hole; the message lists them).
    """
    k = max(r.k for r in roles)
    samples = np.full((len(profiles), replicates, len(roles), k), np.nan)
    pos = {p.id: j for j, p in enumerate(profiles)}
    ok = runs[(runs["condition"] == condition) & (runs["status"] == "ok") & runs["profile"].isin(pos)]
    for rec in ok.to_dict("records"):
        j, r = pos[rec["profile"]], int(rec["replicate"])
        assigned = profiles[j].assignment(roles)
        for i, role in enumerate(roles):
            for s, strategy in enumerate(role.strategies):
                labs = [lab for lab in role.labs if assigned[lab] == strategy]
                if labs:
                    samples[j, r, i, s] = float(np.mean([float(rec[f"payoff_usd__{lab}"]) for lab in labs]))
    table = PayoffTable(condition, tuple(roles), tuple(profiles), samples)
    empty = [profiles[j].label(roles) for j in np.flatnonzero(table.n_replicates() == 0)]
    if empty:
        raise GameError(f"condition {condition!r}: {len(empty)} profile(s) without a finished run "
                        f"({'; '.join(empty[:5])}{' …' if len(empty) > 5 else ''}); rerun them with --resume")
    return table
