"""Demand: what a customer gets from an offer, nested logit choice, rationing, consumer surplus.

Pure functions on numpy arrays (docs/design.md, "Demand"; docs/ODD.md §7.2).

**Value of tokens.** A customer has a willingness to pay W ($/month: the value of a quality-1 service used to
satiation) and a token need a (Mtok/month: the use at which more tokens add nothing). From an offer of quality q
and fit f the value of using x Mtok a month is

    v(x) = B · φ(x / a),   B = W · (f·q)^γ,   φ(z) = z(2 − z) for z ≤ 1, 1 beyond,

concave and saturating (the marginal value 2B(1 − x/a)/a falls linearly to zero at the need). Usage is chosen:

* per-token price p (an API): x = a · max(0, 1 − p·a / 2B), surplus B·z², z = x / a — heavy users (large a)
  cut back most, so usage responds to price;
* a plan (flat price P, cap c): x = min(a, c), surplus B·φ(x/a) − P — the heavy users who would pay most per
  token on an API prefer flat plans and sort into the high-cap ones;
* a plan with an overage price o beyond the cap: past the cap the customer faces o as a per-token price;
* a free tier is a plan with P = 0 and a tight cap.

**Choice.** Money-metric utility in units of the customer's logit scale μ_i ($/month):

    V_ij = ( surplus_ij − (s_i / T) · 1[owner(j) ≠ owner(current_i)] ) / μ_i,   μ_i = μ_s · W_i / W_median,s

with s_i the one-off switching cost ($) spread over the expected tenure T months (moving between two offers of one
firm, or in from the outside option, costs nothing). The taste shocks scale with what the service is worth to the
customer (μ_s is the scale of the segment's median customer): price sensitivity falls with willingness to pay, as
with income in Berry, Levinsohn & Pakes (1995), so that sellers cannot price for the few whose willingness to pay
is many times the median while the rest stay insensitive to what they pay. Offers are grouped in nests (chat apps, vertical apps, direct
APIs) and chosen by nested logit (McFadden 1978; Train 2009, ch. 4) against the outside option (V = 0):

    P_ij = exp(V_ij/λ_g) · S_g^(λ_g − 1) / (1 + Σ_h S_h^λ_h),   S_g = Σ_{k∈g} exp(V_ik/λ_g).

λ_g = 1 is plain logit; λ_g → 0 makes the products of a nest near-identical, so that adding clones splits a
nest's customers rather than growing it and competes their margins away (the nested-logit markup of a clone among
N tends to λμ). Offers a customer may not take (not sold in their vertical, an API for a segment that cannot use
one, a lab's app whose brand the customer has not heard of, a full pool) have V = −∞.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTSIDE = -1
NESTS = ("chat", "apps", "api")
NEST_CHAT, NEST_APPS, NEST_API = 0, 1, 2
NO_BRAND = -1
AI_AWARE = 1  # bit 0 of a customer's awareness mask; bit 1 + b: knows the apps of lab b


@dataclass(frozen=True)
class Offers:
    """The offers on the market this round; arrays of shape (J,) unless noted.

    Attributes:
        fit: (V, J) fit of offer j in vertical v (0 = not sold there; a lab's quality edge in a vertical is folded in).
        quality: quality index of the model behind the offer.
        price_month: flat price, $/month.
        price_mtok: per-token price, $/Mtok (direct APIs; 0 for plans).
        cap_mtok: tokens a customer may use a month, Mtok/month (``inf``: uncapped).
        overage_usd_per_mtok: price beyond the cap, $/Mtok (``inf``: a hard rate limit).
        api: True for direct-API offers (only API-capable segments may take them).
        alive: offer can be chosen.
        pool: capacity pool serving the offer's tokens (−1: none).
        owner: id of the selling firm; moving between two offers of one firm costs no switching.
        nest: index into ``NESTS``.
        size: compute per token relative to its pool's reference model (a small model's token loads a pool less).
        brand: lab index whose app the customer must know (``NO_BRAND``: none needed).
    """

    fit: np.ndarray
    quality: np.ndarray
    price_month: np.ndarray
    price_mtok: np.ndarray
    cap_mtok: np.ndarray
    overage_usd_per_mtok: np.ndarray
    api: np.ndarray
    alive: np.ndarray
    pool: np.ndarray
    owner: np.ndarray
    nest: np.ndarray
    size: np.ndarray
    brand: np.ndarray

    @property
    def n(self) -> int:
        """Number of offers J."""
        return self.quality.shape[0]

    def with_prices(self, price_month: np.ndarray | None = None, price_mtok: np.ndarray | None = None) -> "Offers":
        """A copy with new price arrays (shape (J,)); the rest shared."""
        import dataclasses

        changes = {}
        if price_month is not None:
            changes["price_month"] = price_month
        if price_mtok is not None:
            changes["price_mtok"] = price_mtok
        return dataclasses.replace(self, **changes)


def open_offers(offers: Offers, vertical: int, api_capable: bool, blocked: np.ndarray | None = None) -> np.ndarray:
    """Ids (K,) of the offers a customer of ``vertical`` may choose (brands aside): alive, sold in that vertical,
    not an API for a segment that cannot use one, not ``blocked`` ((J,) bool: full capacity)."""
    closed = ~offers.alive | (offers.api & (not api_capable))
    if blocked is not None:
        closed = closed | blocked
    return np.flatnonzero(~closed & (offers.fit[vertical] > 0))


# ------------------------------------------------------------------------------------------ value of tokens

def phi(z: np.ndarray) -> np.ndarray:
    """Share of satiation value from using a share z ∈ [0, 1] of one's need: z(2 − z); concave, φ(1) = 1."""
    return z * (2.0 - z)


def token_use(need: np.ndarray, benefit: np.ndarray, price_mtok: np.ndarray, cap: np.ndarray,
              overage: np.ndarray) -> np.ndarray:
    """Mtok/month a customer uses of an offer (broadcasting arrays).

    Args: need: token need a, Mtok/month (> 0); benefit: B = W·(f·q)^γ, $/month; price_mtok: p, $/Mtok below the
    cap; cap: Mtok/month (inf: none); overage: $/Mtok beyond the cap (inf: hard limit).
    The interior optimum of B·φ(x/a) − p·x is x = a·(1 − p·a/2B) (zero when p·a ≥ 2B); past the cap the marginal
    price is the overage price.
    """
    b = np.maximum(benefit, 1e-300)
    x = need * np.maximum(0.0, 1.0 - price_mtok * need / (2.0 * b))
    over = np.isfinite(overage)
    beyond = need * np.maximum(0.0, 1.0 - np.where(over, overage, 0.0) * need / (2.0 * b))
    return np.where(x <= cap, x, np.where(over, np.maximum(cap, beyond), cap))


def outcome(need: np.ndarray, benefit: np.ndarray, price_month: np.ndarray, price_mtok: np.ndarray,
            cap: np.ndarray, overage: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(surplus $/month, tokens Mtok/month, payment $/month) of a customer on an offer (broadcasting arrays, as
    :func:`token_use`): surplus = B·φ(x/a) − P − p·min(x, c) − o·max(0, x − c)."""
    x = token_use(need, benefit, price_mtok, cap, overage)
    extra = np.maximum(0.0, x - cap)
    pay = price_month + price_mtok * np.minimum(x, cap) + np.where(extra > 0, overage, 0.0) * extra
    value = benefit * phi(np.minimum(1.0, x / need))
    return value - pay, x, pay


# ------------------------------------------------------------------------------------------------ menus

@dataclass(frozen=True)
class Menu:
    """The offers open to one segment's customers in one vertical; arrays (K,).

    Attributes: cols (offer ids); quality_term ((f·q)^γ); price_month ($/month); price_mtok ($/Mtok); cap and
    overage (Mtok/month, $/Mtok); owner (firm ids); nest (nest index); brand (lab index or NO_BRAND); mu (logit
    scale of the segment's median customer, $/month); wtp_median ($/month: μ_i = mu · W_i / wtp_median); lam ((3,)
    nest parameters); rows by shape of terms: ``flat`` (plans and free tiers without
    overage), ``metered`` (per-token, uncapped), ``general`` (the rest); ``nest_rows`` (row ids per nest present);
    ``flat_by_cap`` (flat rows grouped by cap: the share of satiation a cap allows is computed once per cap).
    """

    cols: np.ndarray
    quality_term: np.ndarray
    price_month: np.ndarray
    price_mtok: np.ndarray
    cap: np.ndarray
    overage: np.ndarray
    owner: np.ndarray
    nest: np.ndarray
    brand: np.ndarray
    mu: float
    wtp_median: float
    lam: np.ndarray
    flat: np.ndarray
    metered: np.ndarray
    general: np.ndarray
    nest_rows: tuple[tuple[int, np.ndarray], ...]
    flat_by_cap: tuple[tuple[float, np.ndarray], ...] = ()


def menu(offers: Offers, vertical: int, api_capable: bool, mu: float, gamma: float, lam: np.ndarray,
         blocked: np.ndarray | None = None, cols: np.ndarray | None = None, wtp_median: float = 1.0) -> Menu:
    """The :class:`Menu` of ``vertical`` for a segment with logit scale ``mu`` ($/month, at willingness to pay
    ``wtp_median``), quality exponent ``gamma`` and nest parameters ``lam`` ((3,), each in (0, 1]):
    :func:`open_offers` unless ``cols`` is given."""
    cols = open_offers(offers, vertical, api_capable, blocked) if cols is None else cols
    pm, pt = offers.price_month[cols], offers.price_mtok[cols]
    cap, over = offers.cap_mtok[cols], offers.overage_usd_per_mtok[cols]
    flat = (pt == 0) & ~np.isfinite(over)
    metered = ~flat & (pm == 0) & ~np.isfinite(cap)
    nest = offers.nest[cols]
    return Menu(cols=cols, quality_term=(offers.fit[vertical, cols] * offers.quality[cols]) ** gamma,
                price_month=pm, price_mtok=pt, cap=cap, overage=over, owner=offers.owner[cols], nest=nest,
                brand=offers.brand[cols], mu=float(mu), wtp_median=float(wtp_median), lam=np.asarray(lam, dtype=float),
                flat=np.flatnonzero(flat), metered=np.flatnonzero(metered), general=np.flatnonzero(~flat & ~metered),
                nest_rows=tuple((int(g), np.flatnonzero(nest == g)) for g in np.unique(nest)),
                flat_by_cap=tuple((float(c), np.flatnonzero(flat & (cap == c))) for c in np.unique(cap[flat])))


def reorder(m: Menu, order: np.ndarray) -> Menu:
    """Menu ``m`` with its rows permuted by ``order`` ((K,) a permutation of its row positions)."""
    flat, metered = np.zeros(m.cols.size, dtype=bool), np.zeros(m.cols.size, dtype=bool)
    flat[m.flat], metered[m.metered] = True, True
    flat, metered = flat[order], metered[order]
    nest, cap = m.nest[order], m.cap[order]
    return Menu(cols=m.cols[order], quality_term=m.quality_term[order], price_month=m.price_month[order],
                price_mtok=m.price_mtok[order], cap=cap, overage=m.overage[order], owner=m.owner[order], nest=nest,
                brand=m.brand[order], mu=m.mu, wtp_median=m.wtp_median, lam=m.lam, flat=np.flatnonzero(flat),
                metered=np.flatnonzero(metered), general=np.flatnonzero(~flat & ~metered),
                nest_rows=tuple((int(g), np.flatnonzero(nest == g)) for g in np.unique(nest)),
                flat_by_cap=tuple((float(c), np.flatnonzero(flat & (cap == c))) for c in np.unique(cap[flat])))


def menu_terms(m: Menu, wtp: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(surplus $/month, tokens Mtok/month, payment $/month), each (K, n), of n customers (``wtp`` $/month,
    ``need`` Mtok/month, shape (n,)) on the menu's offers, one row per offer."""
    k, n = m.cols.size, wtp.size
    benefit = np.multiply.outer(m.quality_term, wtp)
    surplus, tokens, pay = np.empty((k, n)), np.empty((k, n)), np.empty((k, n))
    a = need[None, :]
    if m.flat.size:
        r = m.flat
        x = np.minimum(a, m.cap[r][:, None])
        tokens[r] = x
        pay[r] = m.price_month[r][:, None]
        surplus[r] = benefit[r] * phi(x / a) - pay[r]
    if m.metered.size:
        r = m.metered
        z = np.maximum(0.0, 1.0 - m.price_mtok[r][:, None] * a / (2.0 * np.maximum(benefit[r], 1e-300)))
        tokens[r] = a * z
        pay[r] = m.price_mtok[r][:, None] * tokens[r]
        surplus[r] = benefit[r] * z * z
    if m.general.size:
        r = m.general
        s, x, p = outcome(a, benefit[r], m.price_month[r][:, None], m.price_mtok[r][:, None], m.cap[r][:, None],
                          m.overage[r][:, None])
        surplus[r], tokens[r], pay[r] = s, x, p
    return surplus, tokens, pay


def menu_surplus(m: Menu, wtp: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Surplus ($/month), (K, n): :func:`menu_terms` without the token and payment arrays."""
    k, n = m.cols.size, wtp.size
    surplus = np.empty((k, n))
    a = need[None, :]
    if m.flat.size:
        # φ depends on the cap alone: once per distinct cap (free tier, plans), not once per offer.
        for cap, rows in m.flat_by_cap:
            value = wtp * phi(np.minimum(1.0, cap / need))
            surplus[rows] = np.multiply.outer(m.quality_term[rows], value)
            surplus[rows] -= m.price_month[rows][:, None]
    if m.metered.size:
        r = m.metered
        benefit = np.multiply.outer(m.quality_term[r], wtp)
        z = np.maximum(0.0, 1.0 - m.price_mtok[r][:, None] * a / (2.0 * np.maximum(benefit, 1e-300)))
        surplus[r] = benefit * z * z
    if m.general.size:
        r = m.general
        benefit = np.multiply.outer(m.quality_term[r], wtp)
        surplus[r] = outcome(a, benefit, m.price_month[r][:, None], m.price_mtok[r][:, None],
                             m.cap[r][:, None], m.overage[r][:, None])[0]
    return surplus


def menu_utilities(m: Menu, wtp: np.ndarray, need: np.ndarray, switching_monthly: np.ndarray | None = None,
                   current_owner: np.ndarray | None = None, aware: np.ndarray | None = None,
                   surplus: np.ndarray | None = None) -> np.ndarray:
    """Utilities V (units of μ), shape (K, n), of n customers for the menu's offers.

    Args: wtp: (n,) $/month; need: (n,) Mtok/month; switching_monthly: (n,) switching cost spread over the tenure,
    $/month, or None to leave switching out (welfare measures); current_owner: (n,) firm id of each customer's
    current offer, −1 outside; aware: (n,) awareness bit masks (None: every brand known); surplus: a precomputed
    :func:`menu_surplus` (overwritten).
    """
    v = menu_surplus(m, wtp, need) if surplus is None else surplus
    inv_mu = inverse_scale(m, wtp)
    if switching_monthly is not None:
        moving = m.owner[:, None] != current_owner[None, :]
        np.subtract(v, (switching_monthly * (current_owner >= 0))[None, :], out=v, where=moving)
    v *= inv_mu[None, :]
    if aware is not None:
        branded = np.flatnonzero(m.brand >= 0)
        if branded.size:
            bits = (np.int64(1) << (m.brand[branded] + 1).astype(np.int64))[:, None]
            unknown = (aware[None, :] & bits) == 0
            v[branded] = np.where(unknown, -np.inf, v[branded])
    return v


def inverse_scale(m: Menu, wtp: np.ndarray) -> np.ndarray:
    """(n,) 1/μ_i, per $/month: μ_i = μ_s · W_i / W_median (module docstring)."""
    return m.wtp_median / (m.mu * wtp)


# ------------------------------------------------------------------------------------------- nested logit

def nest_sums(v: np.ndarray, nest_rows, lam: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per nest g present, log S_g (n,) with S_g = Σ_{k∈g} exp(V_k/λ_g) (−inf when no offer of g is open), and
    log D (n,) with D = 1 + Σ_g S_g^λ_g. ``v``: (K, n) utilities (−inf allowed)."""
    log_s: dict[int, np.ndarray] = {}
    terms = [np.zeros(v.shape[1])]
    for g, rows in nest_rows:
        scaled = v[rows] / lam[g]
        top = scaled.max(axis=0, initial=-np.inf)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            ls = np.log(np.exp(scaled - safe).sum(axis=0)) + safe
        log_s[g] = ls
        terms.append(lam[g] * ls)
    return log_s, np.logaddexp.reduce(np.vstack(terms), axis=0)


def nested_probabilities(v: np.ndarray, nest_rows, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nested logit choice probabilities P (K, n) of utilities ``v`` (K, n; overwritten) and log D (n,); the
    outside option's probability is 1 − Σ_k P_k = exp(−log D).

    One exponential per entry: with E_k = exp(V_k/λ_g − m_g) (m_g the nest's largest V/λ) and s_g = Σ_{k∈g} E_k,
    P_k = E_k · s_g^(λ_g − 1) · exp(λ_g m_g − log D).
    """
    parts = []
    terms = [np.zeros(v.shape[1])]
    for g, rows in nest_rows:
        e = v[rows]
        e *= 1.0 / lam[g]
        top = e.max(axis=0, initial=-np.inf)
        safe = np.where(np.isfinite(top), top, 0.0)
        e -= safe
        np.exp(e, out=e)
        total = e.sum(axis=0)
        with np.errstate(divide="ignore"):
            log_s = np.log(total) + safe
        parts.append((g, rows, e, total, safe))
        terms.append(lam[g] * log_s)
    log_d = _log_one_plus_sum_exp(terms[1:], v.shape[1])
    p = v
    for g, rows, e, total, safe in parts:
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(total > 0, total ** (lam[g] - 1.0) * np.exp(lam[g] * safe - log_d), 0.0)
        e *= factor
        p[rows] = e
    return p, log_d


def _log_one_plus_sum_exp(terms: list[np.ndarray], n: int) -> np.ndarray:
    """log(1 + Σ_g exp(t_g)) of a few (n,) arrays (−inf allowed), shifted by their largest value."""
    if not terms:
        return np.zeros(n)
    top = np.maximum.reduce(terms + [np.zeros(n)])
    total = np.exp(-top)
    for t in terms:
        total += np.exp(t - top)
    return top + np.log(total)


def draw_rows(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: (n,) the row k of P (K, n; overwritten) whose cumulative probability first exceeds the
    uniform u (n,), or K for the outside option (one uniform per customer, the exact choice probabilities)."""
    np.cumsum(p, axis=0, out=p)
    return np.count_nonzero(p <= u[None, :], axis=0)


def current_owners(offers: Offers, current: np.ndarray) -> np.ndarray:
    """(n,) firm id of each customer's current offer (``current``: offer id or OUTSIDE), −1 when outside."""
    return np.where(current != OUTSIDE, np.append(offers.owner, -1)[current], -1)


def by_vertical(vertical: np.ndarray, n_verticals: int) -> list[np.ndarray]:
    """Positions of each vertical's customers in ``vertical`` (n,), ascending: one sort, not a scan per vertical."""
    order = np.argsort(vertical, kind="stable")
    ends = np.cumsum(np.bincount(vertical, minlength=n_verticals))
    return [order[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends)]


def inclusive_value(v: np.ndarray, nest_rows, lam: np.ndarray) -> np.ndarray:
    """log D (n,) of utilities ``v`` (K, n): × μ_i, the expected consumer surplus over the outside option in $/month
    under nested logit (McFadden 1978; Small & Rosen 1981)."""
    return nest_sums(v, nest_rows, lam)[1]


# --------------------------------------------------------------------------------------------- rationing

def pool_loads(pools: np.ndarray, tokens: np.ndarray, n_pools: int) -> np.ndarray:
    """Load per capacity pool, shape (P,): Σ of ``tokens`` (n,) by ``pools`` (n,), −1 for none (pass
    size-weighted tokens to get a pool's load in its reference model's tokens)."""
    inside = pools >= 0
    return np.bincount(pools[inside], weights=tokens[inside], minlength=n_pools)


def turned_away(pools: np.ndarray, pool_load: np.ndarray, capacity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Admission control of over-full pools: (m,) bool, True for the members turned away.

    Args: pools: (m,) pool of each member (all in over-full pools); pool_load: (P,) each pool's load asked
    (reference-model Mtok/month); capacity: (P,) the same unit.

    A rate limit rejects requests once a pool is full, at random with respect to who asks (assumption): each
    member gets in with probability capacity / load of its pool, so a full pool admits its capacity in
    expectation; what it admits beyond capacity is throttled pro rata afterwards (:func:`served_fraction`).
    """
    keep = capacity[pools] / np.maximum(pool_load[pools], 1e-300)
    return rng.random(pools.size) >= keep


def served_fraction(load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Share of each pool's demand served when load exceeds capacity (pro-rata throttling), shape (P,)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(load > capacity, capacity / np.maximum(load, 1e-300), 1.0)


def bernoulli_positions(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted positions in [0, n) of independent Bernoulli(p) successes, placed by geometric gaps so that the cost
    follows the n·p successes rather than n (the same distribution as one uniform per position)."""
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n)
    expected = n * p
    pos = np.cumsum(rng.geometric(p, size=int(expected + 6.0 * np.sqrt(expected) + 16))) - 1
    while pos.size and pos[-1] < n:  # rarely: the batch fell short of the end
        more = np.cumsum(rng.geometric(p, size=int(0.1 * expected) + 16)) + pos[-1]
        pos = np.concatenate([pos, more])
    return pos[pos < n]
