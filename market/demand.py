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


def open_offers(offers: Offers, vertical: int, api_capable: bool, blocked: np.ndarray | None = None) -> np.ndarray:
    """Ids (shape (K,)) of the offers a customer of ``vertical`` may choose: alive, sold in that vertical, not
    an API for a segment that cannot use one, not ``blocked`` ((J,) bool: full capacity)."""
    closed = ~offers.alive | (offers.api & (not api_capable))
    if blocked is not None:
        closed = closed | blocked
    return np.flatnonzero(~closed & (offers.fit[vertical] > 0))


@dataclass(frozen=True)
class Menu:
    """The offers open to one segment's customers in one vertical, with their terms scaled by 1/μ; arrays (K,).

    Attributes: cols (offer ids); value ((fit · q)^γ / μ); price (price_month / μ); per_token (price_mtok / μ);
    cap (Mtok/month, inf: uncapped); owner (firm ids); capped, paid (rows with a finite cap, with a per-token
    price); inv_mu (1/μ, per $/month).
    """

    cols: np.ndarray
    value: np.ndarray
    price: np.ndarray
    per_token: np.ndarray
    cap: np.ndarray
    owner: np.ndarray
    capped: np.ndarray
    paid: np.ndarray
    inv_mu: float


def menu(offers: Offers, vertical: int, api_capable: bool, mu: float, gamma: float,
         blocked: np.ndarray | None = None, cols: np.ndarray | None = None) -> Menu:
    """The :class:`Menu` of ``vertical`` for a segment with logit scale ``mu`` ($/month) and quality exponent
    ``gamma``: :func:`open_offers` unless ``cols`` is given."""
    cols = open_offers(offers, vertical, api_capable, blocked) if cols is None else cols
    inv_mu = 1.0 / mu
    cap = offers.cap_mtok[cols]
    per_token = offers.price_mtok[cols] * inv_mu
    owner = (np.arange(offers.n) if offers.owner is None else offers.owner)[cols]
    return Menu(cols=cols, value=(offers.fit[vertical, cols] * offers.quality[cols]) ** gamma * inv_mu,
                price=offers.price_month[cols] * inv_mu, per_token=per_token, cap=cap, owner=owner,
                capped=np.flatnonzero(np.isfinite(cap)), paid=np.flatnonzero(per_token > 0), inv_mu=inv_mu)


def menu_utilities(m: Menu, wtp: np.ndarray, usage: np.ndarray, switching: np.ndarray | None = None,
                   current_owner: np.ndarray | None = None) -> np.ndarray:
    """Utilities V (units of μ) of n customers for the offers of menu ``m``, shape (K, n): one row per offer, so
    that sums and maxima over offers run along whole rows.

    Args: wtp: (n,) $/month; usage: (n,) Mtok/month; switching: (n,) $, or None to leave switching costs out
    (welfare measures); current_owner: (n,) firm id of each customer's current offer, −1 when outside.
    """
    v = np.multiply.outer(m.value, wtp)
    v -= m.price[:, None]
    # Only capped offers (free tiers) deliver less than the full value, only per-token offers bill by use.
    if m.capped.size:
        c = m.capped
        served = np.minimum(1.0, m.cap[c][:, None] / np.maximum(usage, 1e-12)[None, :])
        v[c] = m.value[c][:, None] * wtp[None, :] * served - m.price[c][:, None]
    if m.paid.size:
        p = m.paid
        v[p] -= np.minimum(usage[None, :], m.cap[p][:, None]) * m.per_token[p][:, None]
    if switching is not None:
        # Moving between two offers of one firm, or in from the outside option, costs nothing.
        moving = m.owner[:, None] != current_owner[None, :]
        np.subtract(v, (switching * (current_owner >= 0) * m.inv_mu)[None, :], out=v, where=moving)
    return v


def current_owners(offers: Offers, current: np.ndarray) -> np.ndarray:
    """(n,) firm id of each customer's current offer (``current``: offer id or OUTSIDE), −1 when outside."""
    owner = np.arange(offers.n) if offers.owner is None else offers.owner
    return np.where(current != OUTSIDE, np.append(owner, -1)[current], -1)


def utilities(offers: Offers, vertical: np.ndarray, wtp: np.ndarray, usage: np.ndarray, switching: np.ndarray,
              current: np.ndarray, mu: float, gamma: float, api_capable: bool,
              blocked: np.ndarray | None = None, with_switching: bool = True) -> np.ndarray:
    """Deterministic utilities V, shape (n, J), in units of μ; unavailable offers get −inf.

    The full matrix, for tests and small populations; the simulation works per vertical on the open offers only
    (:func:`menu`, :func:`menu_utilities`), which gives the same numbers.

    Args:
        vertical: (n,) vertical index; wtp: (n,) $/month; usage: (n,) Mtok/month; switching: (n,) $;
        current: (n,) current offer id or OUTSIDE; mu: logit scale $/month (> 0); gamma: quality exponent;
        api_capable: whether the segment may buy direct API access; blocked: (J,) offers closed to these
        customers (full capacity); with_switching: include switching costs (False for welfare measures).
    """
    v = np.full((vertical.shape[0], offers.n), -np.inf)
    owners = current_owners(offers, current)
    for vv in np.unique(vertical):
        rows = np.flatnonzero(vertical == vv)
        m = menu(offers, int(vv), api_capable, mu, gamma, blocked)
        if m.cols.size:
            sub = menu_utilities(m, wtp[rows], usage[rows], switching[rows] if with_switching else None, owners[rows])
            v[np.ix_(rows, m.cols)] = sub.T
    return v


def logit_draw_rows(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF logit draw on utilities laid out one row per offer: V (K, n; −inf allowed; overwritten) and a
    uniform u (n,) in [0, 1). Returns (n,) the offer row k whose cumulative logit probability first exceeds u,
    or K for the outside option (V = 0).

    One uniform per customer instead of K + 1 Gumbel variates: the same choice probabilities
    exp V_k / (1 + Σ exp V) (McFadden 1974; Train 2009, ch. 3), a fraction of the random numbers.
    """
    m = np.maximum(v.max(axis=0, initial=-np.inf), 0.0)  # shift by the best option: exp cannot overflow
    v -= m
    np.exp(v, out=v)
    np.cumsum(v, axis=0, out=v)
    target = u * (v[-1] + np.exp(-m)) if v.shape[0] else u
    # Rows whose cumulative weight is at or below the target come before the chosen one.
    return np.count_nonzero(v <= target, axis=0)


def logit_draw(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """:func:`logit_draw_rows` for V laid out one row per customer, shape (n, K); V is not modified."""
    return logit_draw_rows(np.array(v.T, dtype=float), u)


def by_vertical(vertical: np.ndarray, n_verticals: int) -> list[np.ndarray]:
    """Positions of each vertical's customers in ``vertical`` (n,), ascending: one sort, not a scan per vertical."""
    order = np.argsort(vertical, kind="stable")
    ends = np.cumsum(np.bincount(vertical, minlength=n_verticals))
    return [order[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends)]


def choose(offers: Offers, vertical: np.ndarray, wtp: np.ndarray, usage: np.ndarray, switching: np.ndarray,
           current: np.ndarray, mu: float, gamma: float, api_capable: bool, rng: np.random.Generator,
           blocked: np.ndarray | None = None, menus: list[Menu] | None = None) -> np.ndarray:
    """Logit choice of n customers of one segment: the fast path (vectorised per vertical, one uniform each).

    Args: as :func:`utilities`; ``rng`` the model's Generator; ``menus``: the segment's :class:`Menu` per
    vertical for these offers (built here when None). Returns: (n,) int32 offer ids or OUTSIDE.
    """
    u = rng.random(vertical.shape[0])
    out = np.full(vertical.shape[0], OUTSIDE, dtype=np.int32)
    owners = current_owners(offers, current)
    n_verticals = offers.fit.shape[0]
    for vv, rows in enumerate(by_vertical(vertical, n_verticals)):
        if rows.size == 0:
            continue
        m = menus[vv] if menus is not None else menu(offers, vv, api_capable, mu, gamma, blocked)
        if m.cols.size == 0:
            continue
        v = menu_utilities(m, wtp[rows], usage[rows], switching[rows], owners[rows])
        pick = logit_draw_rows(v, u[rows])
        out[rows] = np.append(m.cols, OUTSIDE)[pick]
    return out


def logit_choice(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw each row's choice among the offers and the outside option (V = 0) with logit probabilities.

    Args: v: (n, J) utilities in units of μ (−inf: unavailable). Returns: (n,) offer ids, or OUTSIDE (−1).
    """
    pick = logit_draw(v, rng.random(v.shape[0]))
    return np.where(pick == v.shape[1], OUTSIDE, pick).astype(np.int32)


def choice_probabilities(v: np.ndarray) -> np.ndarray:
    """Logit probabilities, shape (n, J + 1); the last column is the outside option."""
    full = np.concatenate([v, np.zeros((v.shape[0], 1))], axis=1)
    full -= full.max(axis=1, keepdims=True)
    e = np.exp(full)
    return e / e.sum(axis=1, keepdims=True)


def inclusive_value(v: np.ndarray) -> np.ndarray:
    """Logit inclusive value log(1 + Σ_j exp V_j), shape (n,), of V (n, J); × μ it is expected consumer surplus
    in $/month over the outside option (Small & Rosen 1981)."""
    return inclusive_value_rows(np.array(v.T, dtype=float))


def inclusive_value_rows(v: np.ndarray) -> np.ndarray:
    """:func:`inclusive_value` of V laid out one row per offer, (K, n); V is overwritten."""
    m = np.maximum(v.max(axis=0, initial=-np.inf), 0.0)
    v -= m
    np.exp(v, out=v)
    return m + np.log(np.exp(-m) + v.sum(axis=0))


def pool_loads(pools: np.ndarray, tokens: np.ndarray, n_pools: int) -> np.ndarray:
    """Token demand per capacity pool (Mtok/month), shape (P,); ``pools`` (n,) pool of each customer or offer,
    −1 for none; ``tokens`` (n,) Mtok/month."""
    inside = pools >= 0
    return np.bincount(pools[inside], weights=tokens[inside], minlength=n_pools)


def turned_away(pools: np.ndarray, tokens: np.ndarray, capacity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Admission control of over-full pools: (m,) bool, True for the members turned away.

    Args: pools: (m,) pool of each member (all in over-full pools); tokens: (m,) Mtok/month each wants;
    capacity: (P,) Mtok/month.

    Members arrive in random order and are admitted while their pool has capacity left; the one whose demand
    crosses the capacity still gets in, everyone after is turned away (assumption: a rate limit rejects
    requests once the pool is full, at random with respect to who asks). The small excess of the last admitted
    member is throttled pro rata afterwards (:func:`served_fraction`), so an over-full pool always runs full,
    however coarse its customers (one simulated customer may stand for 10⁵ real ones).
    """
    order = np.lexsort((rng.random(pools.size), pools))
    p = pools[order]
    t = tokens[order]
    cum = np.cumsum(t)
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    base = np.repeat(cum[starts] - t[starts], np.diff(np.r_[starts, p.size]))
    before = cum - t - base  # pool load admitted before this member
    out = np.zeros(pools.size, dtype=bool)
    out[order[before >= capacity[p] * (1 - 1e-12)]] = True
    return out


def served_fraction(load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Share of each pool's demand served when load exceeds capacity (pro-rata throttling), shape (P,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(load > capacity, capacity / np.maximum(load, 1e-300), 1.0)
