"""Demand: individual logit choice among offers, capacity rationing with spill-over, consumer surplus.

Pure functions on numpy arrays. Utility is money-metric (McFadden 1974; Train 2009, ch. 3): for customer i and
offer j,

    V_ij = ( wtp_i · (fit_ij · q_j)^γ · served_ij  −  cost_ij  −  s_i · 1[j ≠ current_i] ) / μ

with ``wtp_i`` $/month for a quality-1 service, ``fit_ij`` how well offer j suits i's vertical (0 = not offered
there), ``q_j`` the quality index, ``served_ij = min(1, cap_j / usage_i)`` the share of i's token need the offer
covers (free tiers are capped), ``cost_ij = price_month_j + usage_i · price_mtok_j`` in $/month, ``s_i`` the
switching cost ($, charged when moving to another firm's offer, not when coming from the outside option or
moving between offers of one firm), and μ the
logit scale ($/month). The outside option (not using AI for this job) has V = 0. Choices draw type-I extreme
value noise, so choice probabilities are logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTSIDE = -1


@dataclass(frozen=True)
class Offers:
    """The offers on the market this round; arrays of shape (J,) unless noted.

    Attributes:
        fit: shape (V, J), fit of offer j in vertical v (0 = not available there).
        quality: quality index.
        price_month: flat price, $/month.
        price_mtok: per-token price, $/Mtok (direct API offers; 0 for apps).
        cap_mtok: token cap per customer, Mtok/month (``inf`` for uncapped).
        api: True for direct-API offers (only API-capable segments may take them).
        alive: offer can be chosen.
        pool: capacity pool serving the offer's tokens (index into the pool capacity array).
        owner: id of the firm selling the offer; moving between two offers of one firm costs no switching.
    """

    fit: np.ndarray
    quality: np.ndarray
    price_month: np.ndarray
    price_mtok: np.ndarray
    cap_mtok: np.ndarray
    api: np.ndarray
    alive: np.ndarray
    pool: np.ndarray
    owner: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of offers J."""
        return self.quality.shape[0]


def utilities(offers: Offers, vertical: np.ndarray, wtp: np.ndarray, usage: np.ndarray, switching: np.ndarray,
              current: np.ndarray, mu: float, gamma: float, api_capable: bool,
              blocked: np.ndarray | None = None, with_switching: bool = True) -> np.ndarray:
    """Deterministic utilities V, shape (n, J), in units of μ; unavailable offers get −inf.

    Args:
        vertical: (n,) vertical index; wtp: (n,) $/month; usage: (n,) Mtok/month; switching: (n,) $;
        current: (n,) current offer id or OUTSIDE; mu: logit scale $/month (> 0); gamma: quality exponent;
        api_capable: whether the segment may buy direct API access; blocked: (J,) offers closed to these
        customers (full capacity); with_switching: include switching costs (False for welfare measures).
    """
    n, j = vertical.shape[0], offers.n
    closed = ~offers.alive | (offers.api & (not api_capable))
    if blocked is not None:
        closed = closed | blocked
    owner = np.arange(j) if offers.owner is None else offers.owner
    inside = current != OUTSIDE
    current_owner = np.where(inside, owner[np.where(inside, current, 0)], -1)
    v = np.full((n, j), -np.inf)
    # Only the offers open in each vertical are computed (a wrapper sells in one vertical, consumers cannot use
    # APIs): same numbers as the full matrix, a fraction of the work.
    for vv in np.unique(vertical):
        rows = np.flatnonzero(vertical == vv)
        cols = np.flatnonzero(~closed & (offers.fit[vv] > 0))
        if cols.size == 0:
            continue
        usage_col = usage[rows, None]
        cap = offers.cap_mtok[None, cols]
        served = np.minimum(1.0, cap / np.maximum(usage_col, 1e-12))
        value = wtp[rows, None] * (offers.fit[vv, cols][None, :] * offers.quality[None, cols]) ** gamma * served
        cost = offers.price_month[None, cols] + np.minimum(usage_col, cap) * offers.price_mtok[None, cols]
        sub = value - cost
        if with_switching:
            moving = (current_owner[rows, None] != owner[None, cols]) & inside[rows, None]
            sub -= switching[rows, None] * moving
        sub /= mu
        v[np.ix_(rows, cols)] = sub
    return v


def logit_choice(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw each row's choice: argmax of V + Gumbel over the offers and the outside option (V = 0).

    Args: v: (n, J) utilities in units of μ. Returns: (n,) offer ids, or OUTSIDE (−1).
    """
    n, j = v.shape
    noise = rng.gumbel(size=(n, j + 1))
    noise[:, :j] += v
    best = noise.argmax(axis=1)
    return np.where(best == j, OUTSIDE, best).astype(np.int32)


def choice_probabilities(v: np.ndarray) -> np.ndarray:
    """Logit probabilities, shape (n, J + 1); the last column is the outside option."""
    full = np.concatenate([v, np.zeros((v.shape[0], 1))], axis=1)
    full -= full.max(axis=1, keepdims=True)
    e = np.exp(full)
    return e / e.sum(axis=1, keepdims=True)


def inclusive_value(v: np.ndarray) -> np.ndarray:
    """Logit inclusive value log(1 + Σ_j exp V_j), shape (n,); × μ it is expected consumer surplus in $/month
    over the outside option (Small & Rosen 1981)."""
    m = np.maximum(v.max(axis=1), 0.0) if v.shape[1] else np.zeros(v.shape[0])
    with np.errstate(invalid="ignore"):
        s = np.exp(-m) + np.exp(v - m[:, None]).sum(axis=1)
    return m + np.log(s)


def pool_loads(pools: np.ndarray, tokens: np.ndarray, n_pools: int) -> np.ndarray:
    """Token demand per capacity pool (Mtok/month); ``pools`` (n,) with −1 for customers outside any pool."""
    inside = pools >= 0
    return np.bincount(pools[inside], weights=tokens[inside], minlength=n_pools)


def ration(pools: np.ndarray, tokens: np.ndarray, capacity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which customers a full pool turns away (rate limits), at random until the rest fits.

    Args:
        pools: (n,) pool of each customer's choice (−1: none); tokens: (n,) Mtok/month each wants;
        capacity: (P,) Mtok/month each pool can serve.
    Returns:
        (n,) bool, True for customers turned away. Within an over-full pool, customers are ordered at random
        and served while the running total fits (assumption: rate limits hit arrivals at random).
    """
    load = pool_loads(pools, tokens, capacity.shape[0])
    over = np.flatnonzero(load > capacity * (1 + 1e-12))
    rationed = np.zeros(pools.shape[0], dtype=bool)
    if over.size == 0:
        return rationed
    idx = np.flatnonzero(np.isin(pools, over))
    order = np.lexsort((rng.random(idx.size), pools[idx]))
    idx = idx[order]
    p = pools[idx]
    cum = np.cumsum(tokens[idx])
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    base = np.repeat(cum[starts] - tokens[idx][starts], np.diff(np.r_[starts, idx.size]))
    rationed[idx[(cum - base) > capacity[p] * (1 + 1e-12)]] = True
    return rationed


def served_fraction(load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Share of each pool's demand served when load exceeds capacity (pro-rata throttling), shape (P,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(load > capacity, capacity / np.maximum(load, 1e-300), 1.0)
