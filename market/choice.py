"""The nested logit draw of many customers from one menu, fused (the population's hot path).

The same choice probabilities as :func:`demand.menu_utilities` followed by :func:`demand.nested_probabilities`
(market/demand.py states the model), with a few passes over the (offers × customers) array instead of some
twenty. Every term of a customer's utility over the nest parameter, less a per-nest constant, is a sum of a few
vectors over customers with per-offer coefficients:

    V_ik / λ_g − C_g = Σ_r A_kr · B_ri   (before own-firm and brand corrections)

with the rows of B the vectors (W_med/μ)·φ(min(1, c/a_i)) per distinct plan cap c, 1/μ_i, the switching cost per
month over μ_i (0 for a customer outside), and 1; A holds (f·q)^γ/λ_g, −price/λ_g, −1/λ_g and the constants. (The
ratio W_i/μ_i is the same for every customer of a segment, W_med/μ: the logit scale grows with willingness to
pay.) One matrix product gives the array; per-token and overage rows add their usage-dependent surplus; offers of a
customer's current firm get its switching cost back and offers of labs it has not heard of are removed — both on
contiguous blocks, because rows are ordered by nest, then firm, and customers by their current firm. Then one
exponential per entry, one running sum per nest, and a two-stage inverse-CDF draw (the nest or the outside option,
then the offer within the nest) with one uniform per customer: the same map from uniform to offer as the
single-stage draw over the rows in this order.

The constant C_g = (W_med/μ)·max_k (f·q)_k^γ / λ_g bounds V/λ_g from above (surplus never exceeds
B = W·(f·q)^γ), so no exponential overflows; they underflow only for a customer whose whole nest is worth e^−40 or
less against the outside option (the guard in :func:`kernel`: a menu beyond it takes the general path).

The matrix product goes through BLAS; run it on one thread (the model does, market/model.py): on small blocks the
threads cost more than they save and would share the cores with parallel runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market import demand

CHUNK = 8192  # customers per block (assumption: ~25 offers × 8,192 float64 stay within a core's L2 cache)
UNDERFLOW_MARGIN = 40.0  # a nest worth e^−40 of the outside option may be dropped (assumption: below any draw's resolution)
UNKNOWN_BRAND = -1.0e4  # added to V/λ of an app whose lab a customer has not heard of: its exp is exactly 0
EXP_LIMIT = 700.0  # largest exponent taken with room to spare (float64 exp overflows past 709.78)
METERED, FLAT, GENERAL = 0, 1, 2


@dataclass(frozen=True)
class Kernel:
    """One menu laid out for the fused draw; rows in kernel order (by nest, kind of terms, firm, brand).

    Attributes:
        menu: the :class:`demand.Menu` with its rows in kernel order (cols are the offer ids drawn).
        coef: (K, C + 3 + L) the matrix A (columns: each cap of ``caps``, 1/μ, switching/μ, constant, each lab of
            ``labs``).
        caps: (C,) the distinct finite caps of flat plans, Mtok/month.
        scale: W_med/μ, dimensionless.
        inv_lam: (K,) 1/λ of each row's nest.
        nests: (g, lo, hi, λ_g, C_g) per nest present; rows lo:hi.
        metered: (lo, hi) the block of per-token rows (rows of other kinds with per-token terms are ``general``).
        general: (K_g,) rows with overage or mixed terms.
        firms: (F,) firm ids present, ascending; firm_blocks: (lo, hi, index into firms) contiguous rows of one firm.
        labs: (L,) lab indices whose brand some row needs (columns C + 3 + i of A: UNKNOWN_BRAND on their rows).
        exact: False when the underflow guard fails (draw on the general path).
    """

    menu: demand.Menu
    coef: np.ndarray
    caps: np.ndarray
    scale: float
    inv_lam: np.ndarray
    nests: tuple[tuple[int, int, int, float, float], ...]
    metered: tuple[int, int]
    general: np.ndarray
    firms: np.ndarray
    firm_blocks: tuple[tuple[int, int, int], ...]
    labs: np.ndarray
    exact: bool

    @property
    def cols(self) -> np.ndarray:
        """(K,) offer ids in kernel order."""
        return self.menu.cols


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(lo, hi) of each run of equal consecutive rows of ``keys`` ((K,) or (K, d))."""
    if keys.shape[0] == 0:
        return []
    k = keys.reshape(keys.shape[0], -1)
    starts = [0, *(np.flatnonzero(np.any(k[1:] != k[:-1], axis=1)) + 1).tolist()]
    return list(zip(starts, starts[1:] + [keys.shape[0]]))


def kernel(m: demand.Menu) -> Kernel:
    """Lay out menu ``m`` for :func:`weights` and :func:`draw`."""
    kind = np.full(m.cols.size, GENERAL, dtype=np.int64)
    kind[m.flat], kind[m.metered] = FLAT, METERED
    order = np.lexsort((m.brand, m.owner, kind, m.nest))
    m = demand.reorder(m, order)
    kind = kind[order]
    lam_row = m.lam[m.nest]
    q = m.quality_term
    scale = m.wtp_median / m.mu
    nests, exact = [], True
    for lo, hi in _runs(m.nest):
        g = int(m.nest[lo])
        lam = float(m.lam[g])
        c_g = scale * float(q[lo:hi].max()) / lam
        exact &= c_g + UNDERFLOW_MARGIN / lam <= EXP_LIMIT
        nests.append((g, lo, hi, lam, c_g))
    shift = np.empty(m.cols.size)
    for g, lo, hi, lam, c_g in nests:
        shift[lo:hi] = c_g
    flat = kind == FLAT
    caps = np.unique(m.cap[flat & np.isfinite(m.cap)])
    r_inv, r_sw, r_one = caps.size, caps.size + 1, caps.size + 2
    labs = np.unique(m.brand[m.brand >= 0])
    coef = np.zeros((m.cols.size, caps.size + 3 + labs.size))
    capped = np.flatnonzero(flat & np.isfinite(m.cap))
    coef[capped, np.searchsorted(caps, m.cap[capped])] = q[capped] / lam_row[capped]
    uncapped = flat & ~np.isfinite(m.cap)  # the full value W·(f·q)^γ: over μ_i, the constant (W_med/μ)·(f·q)^γ
    coef[uncapped, r_one] = scale * q[uncapped] / lam_row[uncapped]
    coef[flat, r_inv] = -m.price_month[flat] / lam_row[flat]
    coef[:, r_sw] = -1.0 / lam_row
    coef[:, r_one] -= shift
    for i, lab in enumerate(labs):  # × 1 for a customer who does not know the lab: exp(−10⁴) is 0
        coef[m.brand == lab, r_one + 1 + i] = UNKNOWN_BRAND
    metered = [(lo, hi) for lo, hi in _runs(kind) if kind[lo] == METERED]
    block = metered[0] if metered else (0, 0)
    general = np.flatnonzero(kind == GENERAL)
    if len(metered) > 1:  # per-token rows in several nests: the later blocks take the general path
        general = np.sort(np.concatenate([general] + [np.arange(lo, hi) for lo, hi in metered[1:]]))
    firms = np.unique(m.owner)
    runs = _runs(np.column_stack([m.nest, kind, m.owner]))
    where = np.searchsorted(firms, m.owner[[lo for lo, _ in runs]]).tolist() if runs else []
    firm_blocks = tuple((lo, hi, f) for (lo, hi), f in zip(runs, where))
    return Kernel(menu=m, coef=coef, caps=caps, scale=float(scale), inv_lam=1.0 / lam_row, nests=tuple(nests),
                  metered=block, general=general, firms=firms, firm_blocks=firm_blocks, labs=labs,
                  exact=bool(exact))


def weights(kern: Kernel, wtp: np.ndarray, need: np.ndarray, switching_monthly: np.ndarray, owners: np.ndarray,
            aware: np.ndarray) -> np.ndarray:
    """E (K, n) = exp(V_ik/λ_g − C_g) of n customers, rows in kernel order; 0 for offers a customer cannot take.

    Args (each (n,)): wtp $/month; need Mtok/month; switching_monthly $/month; owners: current firm id or −1,
    **ascending** (customers grouped by current firm); aware: awareness bit masks.
    Raises: ValueError if ``owners`` is not ascending.
    """
    if owners.size > 1 and np.any(owners[1:] < owners[:-1]):
        raise ValueError("owners must be ascending (customers grouped by current firm)")
    m = kern.menu
    inv_mu = m.wtp_median / (m.mu * wtp)
    n = wtp.size
    basis = np.empty((kern.coef.shape[1], n))
    r_inv = kern.caps.size
    for r, cap in enumerate(kern.caps):
        np.minimum(1.0, cap / need, out=basis[r])
        np.multiply(basis[r], 2.0 - basis[r], out=basis[r])  # φ(z) = z(2 − z)
        basis[r] *= kern.scale
    basis[r_inv] = inv_mu
    sw = basis[r_inv + 1]
    np.multiply(switching_monthly, inv_mu, out=sw)
    outside = np.searchsorted(owners, 0)  # owners ascending: those outside (−1) come first
    sw[:outside] = 0.0
    basis[r_inv + 2] = 1.0
    for i, lab in enumerate(kern.labs):
        np.equal(aware & (np.int64(1) << (int(lab) + 1)), 0, out=basis[r_inv + 3 + i], casting="unsafe")
    e = kern.coef @ basis
    lo, hi = kern.metered
    if hi > lo:
        # Per-token rows: surplus B·z², z = max(0, 1 − p·a/2B), B = (f·q)^γ·W; over μ_i, (W_med/μ)·(f·q)^γ·z².
        q = m.quality_term[lo:hi]
        with np.errstate(divide="ignore"):  # q = 0 (a tier with no quality): z = inf, its surplus 0 below
            z = np.multiply.outer(m.price_mtok[lo:hi] / (2.0 * q), need / wtp)
        np.subtract(1.0, z, out=z)
        np.maximum(z, 0.0, out=z)
        z *= z
        z *= (kern.scale * q * kern.inv_lam[lo:hi])[:, None]
        e[lo:hi] += z
    if kern.general.size:
        r = kern.general
        benefit = np.multiply.outer(m.quality_term[r], wtp)
        surplus = demand.outcome(need[None, :], benefit, m.price_month[r][:, None], m.price_mtok[r][:, None],
                                 m.cap[r][:, None], m.overage[r][:, None])[0]
        e[r] += surplus * inv_mu[None, :] * kern.inv_lam[r][:, None]
    # Moving within one's current firm costs nothing: those rows get the switching cost back.
    bounds = np.searchsorted(owners, np.r_[kern.firms, kern.firms + 1]).reshape(2, -1)
    for lo, hi, f in kern.firm_blocks:
        a, b = bounds[0, f], bounds[1, f]
        if b > a:
            e[lo:hi, a:b] += np.multiply.outer(kern.inv_lam[lo:hi], sw[a:b])
    np.exp(e, out=e)
    return e


def draw(kern: Kernel, e: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(n,) offer ids (or OUTSIDE) drawn by inverse CDF with uniforms ``u`` (n,) from weights ``e`` (K, n, from
    :func:`weights`; overwritten by running sums): first the nest (or the outside option) with probability
    S_g^λ_g / D, then the offer within it with probability exp(V/λ_g) / S_g."""
    n = u.size
    log_terms = []
    for g, lo, hi, lam, c_g in kern.nests:
        for r in range(lo + 1, hi):  # a running sum row by row: numpy's cumsum along axis 0 strides badly
            np.add(e[r - 1], e[r], out=e[r])
        with np.errstate(divide="ignore"):
            log_terms.append(lam * (np.log(e[hi - 1]) + c_g))
    log_d = _log_one_plus_sum_exp(log_terms, n)
    out = np.full(n, demand.OUTSIDE, dtype=np.int32)
    below = np.zeros(n)  # probability of the nests before this one
    cols = kern.cols
    target = np.empty(n)
    k = np.empty(n, dtype=np.int64)
    for (g, lo, hi, lam, c_g), lt in zip(kern.nests, log_terms):
        share = np.exp(lt - log_d)
        inside = (u >= below) & (u < below + share)
        if inside.any():
            total = e[hi - 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                np.divide(u - below, share, out=target)
                target *= total
            # Strictly below the nest's total, so the row found has a positive weight; −1 for the rest (no row).
            np.minimum(target, total * (1.0 - 1e-15), out=target)
            target[~inside] = -1.0
            k[:] = 0
            for r in range(lo, hi - 1):  # rows whole and in order: cheaper than gathering the nest's customers
                k += e[r] <= target
            out[inside] = cols[lo + k[inside]]
        below += share
    return out


def inclusive_values(kern: Kernel, wtp: np.ndarray, need: np.ndarray, aware: np.ndarray) -> np.ndarray:
    """log D (n,) of n customers (arrays (n,): wtp $/month, need Mtok/month, awareness masks) with switching
    left out: × μ_i, the expected consumer surplus over the outside option in $/month (McFadden 1978; Small &
    Rosen 1981). The same value as :func:`demand.inclusive_value` on :func:`demand.menu_utilities`."""
    n = wtp.size
    if not kern.exact:
        m = kern.menu
        return demand.inclusive_value(demand.menu_utilities(m, wtp, need, aware=aware), m.nest_rows, m.lam)
    e = weights(kern, wtp, need, np.zeros(n), np.full(n, -1, dtype=np.int64), aware)
    terms = []
    for g, lo, hi, lam, c_g in kern.nests:
        with np.errstate(divide="ignore"):
            terms.append(lam * (np.log(e[lo:hi].sum(axis=0)) + c_g))
    return _log_one_plus_sum_exp(terms, n)


def _log_one_plus_sum_exp(terms: list[np.ndarray], n: int) -> np.ndarray:
    """log(1 + Σ_g exp(t_g)) of a few (n,) arrays (−inf allowed), shifted by their largest value."""
    top = np.maximum.reduce(terms + [np.zeros(n)])
    total = np.exp(-top)
    for t in terms:
        total += np.exp(t - top)
    return top + np.log(total)


def _rank(owners: np.ndarray) -> np.ndarray:
    """(n,) int16 rank of each firm id in ``owners`` (−1 outside) among those present, order kept: sorting by it
    groups customers by current firm in ascending id, and a 16-bit key sorts by radix (linear time)."""
    present = np.bincount(owners + 1)
    lut = np.cumsum(present > 0).astype(np.int16)
    return lut[owners + 1]


def choose(offers: demand.Offers, vertical: np.ndarray, wtp: np.ndarray, need: np.ndarray,
           switching_monthly: np.ndarray, current: np.ndarray, aware: np.ndarray, mu: float, gamma: float,
           lam: np.ndarray, api_capable: bool, rng: np.random.Generator, blocked: np.ndarray | None = None,
           kernels: list[Kernel] | None = None, wtp_median: float = 1.0) -> np.ndarray:
    """Nested logit choice of n customers of one segment, one uniform each (drawn in the given order).

    Args: vertical (n,) vertical index; wtp (n,) $/month; need (n,) Mtok/month; switching_monthly (n,) $/month;
    current (n,) offer id or OUTSIDE; aware (n,) awareness masks; mu ($/month, at ``wtp_median``), gamma, lam
    ((3,)) the segment's parameters; ``rng`` the model's Generator; blocked (J,) offers closed (full pools);
    ``kernels`` the segment's :class:`Kernel` per vertical for these offers (built here when None). Returns (n,)
    int32 offer ids or OUTSIDE.
    """
    u = rng.random(vertical.shape[0])
    out = np.full(vertical.shape[0], demand.OUTSIDE, dtype=np.int32)
    owners = demand.current_owners(offers, current)
    for vv, rows in enumerate(demand.by_vertical(vertical, offers.fit.shape[0])):
        if rows.size == 0:
            continue
        kern = kernels[vv] if kernels is not None else kernel(
            demand.menu(offers, vv, api_capable, mu, gamma, lam, blocked, wtp_median=wtp_median))
        if kern.cols.size == 0:
            continue
        if not kern.exact:
            m = kern.menu
            for lo in range(0, rows.size, CHUNK):
                r = rows[lo:lo + CHUNK]
                v = demand.menu_utilities(m, wtp[r], need[r], switching_monthly[r], owners[r], aware[r])
                p, _ = demand.nested_probabilities(v, m.nest_rows, m.lam)
                out[r] = np.append(m.cols, demand.OUTSIDE)[demand.draw_rows(p, u[r])]
            continue
        rows = rows[np.argsort(_rank(owners[rows]), kind="stable")]
        for lo in range(0, rows.size, CHUNK):
            r = rows[lo:lo + CHUNK]
            e = weights(kern, wtp[r], need[r], switching_monthly[r], owners[r], aware[r])
            out[r] = draw(kern, e, u[r])
    return out
