"""The demand oracle: a seller's profit at candidate prices on the model's own demand (docs/design.md, "Prices").

A fixed stratified sample of the real customers (up to ``pricing.sample_per_cell`` from each segment × vertical,
each standing for its share of the cell) carries the customers' current holdings, awareness and switching costs.
Each round the oracle evaluates, for every sampled customer and every offer, the nested logit utility, the tokens
the customer would use and what it would pay (market/demand.py). A seller's firm-level profit when one of its
prices moves is then exact on the sample:

    Π_f(p) = Σ_i w_i Σ_{k ∈ f} P_ik(p) · margin_ik(p)        (× the share its capacity can serve)

where P_ik are the nested logit probabilities of a customer who reconsiders now (with its current holding and
switching costs), the margin of an own offer is payment − marginal cost × tokens, and the margin of a wrapper's
offer built on the seller's API is the wrapper's tokens × (its price to the wrapper − marginal cost). Only the
priced offer's row and its nest's sums change with its price, so the curve costs O(grid × sample) per product:

    log S'_g = log(S_g without j + exp(V_j(p)/λ_g)),   log D' = log(D without g + S'_g^λ_g),
    P_j(p) = exp(V_j(p)/λ_g − log S'_g + λ_g log S'_g − log D'),
    P_k(p) = P_k · exp((λ_g − 1)(log S'_g − log S_g) − (log D' − log D))   for k ≠ j in nest g,
    P_k(p) = P_k · exp(log D − log D')                                    for k in another nest.

Wrappers buying from the seller respond to its API price by their sourcing rule (agents/wrapper.py): each stays
while the price leaves its forecast profit within its switching threshold of its best alternative, and a wrapper
elsewhere joins when the price makes the seller its best option (forecast from the wrapper's last review, its
tokens and the envelope theorem: a price change of Δp moves its profit by −tokens × Δp). A full pool serves a
share cap / load of what is asked, so the seller's profit is scaled by min(1, capacity / load): a seller whose
pool is full finds its best response at or above the price where demand fits (it prices up to where it clears).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from market import demand
from market.config import VERTICALS


@dataclass(frozen=True)
class DemandSample:
    """A fixed stratified sample of the population.

    Attributes: positions (M,) population indices (segment-major, then vertical); segment (M,), vertical (M,)
    indices; weight (M,) simulated customers each sampled customer stands for (cell size / sampled).
    """

    positions: np.ndarray
    segment: np.ndarray
    vertical: np.ndarray
    weight: np.ndarray

    @property
    def size(self) -> int:
        """M, customers in the sample."""
        return int(self.positions.size)

    @cached_property
    def cells(self) -> list[tuple[int, int, np.ndarray]]:
        """(segment, vertical, sample positions) of every non-empty cell, segment-major; computed once (the sample
        is fixed for a run)."""
        n_segments = int(self.segment.max()) + 1 if self.segment.size else 0
        cells = [(s, v, np.flatnonzero((self.segment == s) & (self.vertical == v)))
                 for s in range(n_segments) for v in range(len(VERTICALS))]
        return [c for c in cells if c[2].size]

    @classmethod
    def draw(cls, cells: list[list[np.ndarray]], per_cell: int, rng: np.random.Generator,
             wtp: np.ndarray | None = None, need: np.ndarray | None = None) -> "DemandSample":
        """Up to ``per_cell`` customers from each cell; ``cells[s][v]`` (n_sv,) population indices of segment s and
        vertical v. Without ``wtp`` and ``need`` ((n,) population arrays: $/month, Mtok/month), a simple random
        sample of each cell; with them, :func:`spend_sample` (what a seller earns is dominated by the customers
        with the highest willingness to pay and token need: they are taken whole)."""
        pos, seg, vert, wt = [], [], [], []
        for s, by_v in enumerate(cells):
            for v, members in enumerate(by_v):
                if members.size == 0:
                    continue
                k = min(per_cell, members.size)
                if wtp is None or need is None:
                    pick = np.sort(rng.choice(members.size, size=k, replace=False))
                    weight = np.full(k, members.size / k)
                else:
                    pick, weight = spend_sample(wtp[members], need[members], k, rng)
                pos.append(members[pick])
                seg.append(np.full(pick.size, s))
                vert.append(np.full(pick.size, v))
                wt.append(weight)
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.empty(0, dt)  # noqa: E731
        return cls(cat(pos, np.int64), cat(seg, np.int64), cat(vert, np.int64), cat(wt, float))


def spend_sample(wtp: np.ndarray, need: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(positions (k,) sorted, weights (k,)): k of n customers (arrays (n,): willingness to pay $/month, token
    need Mtok/month) standing for all n.

    Willingness to pay and need are lognormal, and a seller's profit from a cell rests on its tail (a plan's
    buyers are those who value it most, an API's revenue is tokens): the k/10 customers with the highest need and
    the k/10 with the highest willingness to pay are taken whole (weight 1; fewer when the two overlap), and the
    rest by a systematic sample over the others in order of willingness to pay from a uniform random start (each
    drawn with probability 1/m, m the weight). All n with weight 1 when k ≥ n.
    """
    n = wtp.size
    if k >= n:
        return np.arange(n), np.ones(n)
    top = np.union1d(np.argsort(need, kind="stable")[n - k // 10:], np.argsort(wtp, kind="stable")[n - k // 10:])
    rest_mask = np.ones(n, dtype=bool)
    rest_mask[top] = False
    rest = np.flatnonzero(rest_mask)
    rest = rest[np.argsort(wtp[rest], kind="stable")]
    j = k - top.size
    m = rest.size / j
    picks = rest[np.minimum(np.floor((np.arange(j) + rng.random()) * m).astype(np.int64), rest.size - 1)]
    pos = np.concatenate([top, picks])
    weight = np.concatenate([np.ones(top.size), np.full(j, m)])
    order = np.argsort(pos)
    return pos[order], weight[order]


@dataclass(frozen=True)
class SampleState:
    """The sampled customers' traits and holdings this round, arrays (M,): wtp_usd ($/month), need_mtok (this
    round's token need, Mtok/month), switching_monthly ($/month), aware (bit masks), choice (offer id or OUTSIDE)."""

    wtp_usd: np.ndarray
    need_mtok: np.ndarray
    switching_monthly: np.ndarray
    aware: np.ndarray
    choice: np.ndarray


@dataclass(frozen=True)
class SegmentTerms:
    """What the oracle needs of each segment: logit scale μ of its median customer ($/month), quality exponent γ,
    API-capable, median willingness to pay ($/month: a customer's μ scales with its own)."""

    mu: float
    gamma: float
    api_capable: bool
    wtp_median: float = 1.0


@dataclass(frozen=True)
class WrapperLink:
    """A wrapper's offers as seen by an API seller it buys from, or could buy from.

    Attributes: wrapper_id; rows (offer ids of its plans); tier_price (the tier's list price now, $/Mtok);
    markup_factor (1 + surcharge the seller charges it); size (compute per token of the tier relative to the
    seller's reference model); stay_below ($/Mtok: the tier price up to which the wrapper keeps, or moves, its
    tokens there; ``inf`` always, −inf never).
    """

    wrapper_id: int
    rows: np.ndarray
    tier_price: float
    markup_factor: float
    size: float
    stay_below: float


@dataclass(frozen=True)
class FirmView:
    """A seller's side of the oracle.

    Attributes:
        rows: (R,) its own offer ids.
        cost_per_mtok: (R,) marginal cost of a real Mtok on each ($/Mtok: GPU time of the offer's model size, or a
            wrapper's token price).
        load: (R,) load of one token on its capacity pool (model size; 0 for a free tier in its own pool).
        capacity_mtok: its paid pool's capacity, reference-model Mtok/month, real units (``inf``: elastic).
        marginal_cost: its GPU cost of one more reference-model Mtok ($/Mtok; 0 for wrappers).
        wrappers: wrappers buying tokens from it, per API tier: tier → links (their margin depends on the tier's
            price); ``joiners``: tier → links of wrappers elsewhere that would move to that tier.
    """

    firm_id: int
    rows: np.ndarray
    cost_per_mtok: np.ndarray
    load: np.ndarray
    capacity_mtok: float
    marginal_cost: float
    wrappers: dict[int, tuple[WrapperLink, ...]]
    joiners: dict[int, tuple[WrapperLink, ...]]


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    """log Σ exp over axis 0 of (K, n), −inf where every entry is −inf (or K = 0)."""
    if x.shape[0] == 0:
        return np.full(x.shape[1:], -np.inf)
    top = x.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(x - safe).sum(axis=0)) + safe


class DemandOracle:
    """One round's demand on the sample. Build it from the round's offers; after a seller changes a price, call
    :meth:`update` with the offer ids whose terms changed.

    Args:
        sample: the fixed :class:`DemandSample`; state: its :class:`SampleState` this round; offers: this round's
        offers; segments: per segment :class:`SegmentTerms`; lam: (3,) nest parameters; weight: real customers per
        simulated customer.
    """

    def __init__(self, sample: DemandSample, state: SampleState, offers: demand.Offers,
                 segments: list[SegmentTerms], lam: np.ndarray, weight: float) -> None:
        self.sample, self.state, self.lam = sample, state, np.asarray(lam, dtype=float)
        self.segments = segments
        self.w = sample.weight * weight  # real customers per sampled customer
        m = sample.size
        # Per segment, then read per sampled customer: the same numbers as per customer, without a Python loop.
        ratio = np.array([seg.wtp_median / seg.mu for seg in segments])
        self.inv_mu = ratio[sample.segment] / state.wtp_usd if m else np.zeros(0)
        self.gamma = np.array([seg.gamma for seg in segments], dtype=float)[sample.segment] if m else np.zeros(0)
        self.cells = sample.cells
        self.owner_now = demand.current_owners(offers, state.choice)
        self._build(offers)

    # ------------------------------------------------------------------------------------------ state

    def _build(self, offers: demand.Offers) -> None:
        j, m = offers.n, self.sample.size
        self.offers = offers
        self.V = np.full((j, m), -np.inf)
        self.X = np.zeros((j, m))
        self.PAY = np.zeros((j, m))
        self.BEN = np.zeros((j, m))
        for s, v, b in self.cells:
            self._fill(offers, s, v, b, None)
        self._nests()

    def _fill(self, offers: demand.Offers, s: int, v: int, b: np.ndarray, only: np.ndarray | None) -> None:
        """(Re)compute rows of the cell (segment s, vertical v, sample positions b): all open offers, or ``only``."""
        seg = self.segments[s]
        open_cols = demand.open_offers(offers, v, seg.api_capable)
        if only is not None:
            closed = only[~np.isin(only, open_cols)]
            if closed.size:
                self.V[np.ix_(closed, b)] = -np.inf
                self.X[np.ix_(closed, b)] = 0.0
                self.PAY[np.ix_(closed, b)] = 0.0
            open_cols = open_cols[np.isin(open_cols, only)]
        if open_cols.size == 0:
            return
        mnu = demand.menu(offers, v, seg.api_capable, seg.mu, seg.gamma, self.lam, cols=open_cols,
                          wtp_median=seg.wtp_median)
        st = self.state
        surplus, tokens, pay = demand.menu_terms(mnu, st.wtp_usd[b], st.need_mtok[b])
        idx = np.ix_(open_cols, b)
        self.X[idx], self.PAY[idx] = tokens, pay
        self.BEN[idx] = np.multiply.outer(mnu.quality_term, st.wtp_usd[b])
        v = demand.menu_utilities(mnu, st.wtp_usd[b], st.need_mtok[b], st.switching_monthly[b],
                                  self.owner_now[b], st.aware[b], surplus=surplus)
        v[:, (st.aware[b] & demand.AI_AWARE) == 0] = -np.inf  # those unaware of AI choose nothing
        self.V[idx] = v

    def _nests(self) -> None:
        """Nest sums log S_g (3, M) and log D (M,), and log D without each nest (3, M)."""
        nest = self.offers.nest
        self._p_all = None  # the choice probabilities of every offer, computed on first use (:meth:`_all`)
        self.nest_rows = [np.flatnonzero(nest == g) for g in range(len(demand.NESTS))]
        self.log_s = np.vstack([_logsumexp_rows(self.V[r] / self.lam[g]) for g, r in enumerate(self.nest_rows)])
        self._outer()

    def _outer(self) -> None:
        """log D and log D without each nest from the three nests' inclusive values (there are exactly three)."""
        i0, i1, i2 = self.lam[:, None] * self.log_s
        without0 = np.logaddexp(np.logaddexp(0.0, i1), i2)
        without1 = np.logaddexp(np.logaddexp(0.0, i0), i2)
        without2 = np.logaddexp(np.logaddexp(0.0, i0), i1)
        self.log_d = np.logaddexp(without0, i0)
        self.log_d_without = np.vstack([without0, without1, without2])

    def update(self, offers: demand.Offers, changed: np.ndarray) -> None:
        """Take this round's offers after a seller changed the terms of offers ``changed`` (ids)."""
        changed = np.atleast_1d(np.asarray(changed, dtype=np.int64))
        if offers.n != self.offers.n:
            self._build(offers)
            return
        self.offers = offers
        for s, v, b in self.cells:
            self._fill(offers, s, v, b, changed)
        self._nests()

    def _per_token(self, j: int) -> bool:
        """Whether offer j's price is per token (an API) rather than per month (a plan)."""
        o = self.offers
        return bool(o.price_mtok[j] > 0 or (o.price_month[j] == 0 and not np.isfinite(o.cap_mtok[j])))

    def mean_units(self, j: int) -> float:
        """Tokens (Mtok/month) an average customer choosing offer ``j`` would use, at current terms."""
        p = self.probabilities(np.array([j]))[0] * self.w
        total = float(p.sum())
        return float(p @ self.X[j]) / total if total > 0 else 0.0

    def probabilities(self, rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """Current choice probabilities (len(rows), len(cols)) of offers ``rows`` for sampled customers ``cols``."""
        p = self._all()
        return p[rows] if cols is None else p[rows][:, cols]

    def _all(self) -> np.ndarray:
        """(J, M) current choice probabilities of every offer for every sampled customer, computed once per state
        of the oracle (pricing, sourcing and fleet forecasts read rows of it many times a round). Entry by entry
        the same arithmetic as on any subset of rows, so a row read from it equals the row computed alone."""
        if self._p_all is None:
            lam = self.lam[self.offers.nest][:, None]
            with np.errstate(invalid="ignore"):
                lp = self.V / lam + (lam - 1.0) * self.log_s[self.offers.nest] - self.log_d[None, :]
            self._p_all = np.where(np.isfinite(lp), np.exp(lp), 0.0)
        return self._p_all

    # ------------------------------------------------------------------------------------------ profit

    def curves(self, views: dict[int, FirmView], products: list[tuple[int, int, int | None, np.ndarray]],
               loads: list | None = None) -> list[np.ndarray]:
        """Profit curves of many products at once, against the current terms of every other offer.

        Args: views: each seller's :class:`FirmView` by firm id; products: (firm id, offer id j, API tier or None,
        candidate prices (G,)) per product. Returns, per product, the seller's profit ($/month) at each candidate
        price of j — all its other prices and every rival's held — scaled by the share of the load its paid pool
        can serve. The probabilities of the seller's other offers move with j's price through j's nest sums
        (module docstring); what wrappers buy from the seller is held at its current level except that, when j is
        the API tier they buy, its margin and their choice of supplier (``WrapperLink.stay_below``) move with the
        price. If ``loads`` is a list, it receives per product the (profit before the capacity limit $/month,
        load on the paid pool reference-Mtok/month) at each candidate price, so that a caller can rescale the
        curve to another capacity (a lab's capacity shadow price, market/compute_split.py).
        """
        p_all = self._all()
        w = self.w
        agg: dict[int, tuple] = {}
        wrapper_flow: dict[int, float] = {}  # a wrapper's tokens at current terms, whichever seller looks at it

        def flow_of(link: WrapperLink) -> float:
            flow = wrapper_flow.get(link.wrapper_id)
            if flow is None:
                flow = wrapper_flow[link.wrapper_id] = float((p_all[link.rows] * self.X[link.rows]).sum(axis=0) @ w)
            return flow

        for fid, view in views.items():
            rows = view.rows
            p = p_all[rows]
            margin = self.PAY[rows] - view.cost_per_mtok[:, None] * self.X[rows]
            pm, pl = p * margin, p * self.X[rows] * view.load[:, None]
            nest = self.offers.nest[rows]
            s_g = np.vstack([pm[nest == g].sum(axis=0) for g in range(len(demand.NESTS))])
            l_g = np.vstack([pl[nest == g].sum(axis=0) for g in range(len(demand.NESTS))])
            profit, load = float(s_g.sum(axis=0) @ w), float(l_g.sum(axis=0) @ w)
            flows = {}
            for t, links in view.wrappers.items():
                for link in links:
                    flow = flows[link.wrapper_id] = flow_of(link)
                    profit += flow * (link.markup_factor * link.tier_price - view.marginal_cost * link.size)
                    load += flow * link.size
            for t, links in view.joiners.items():
                for link in links:
                    flows[link.wrapper_id] = flow_of(link)
            position = {j: k for k, j in enumerate(rows.tolist())}
            agg[fid] = (s_g, l_g, s_g.sum(axis=0), l_g.sum(axis=0), profit, load, flows, position)
        # over: a capacity over a load of a few 1e-300 Mtok overflows where the load is within capacity, where it
        # is not used
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._curves(views, products, loads, p_all, agg)

    def _curves(self, views, products, loads, p_all, agg) -> list[np.ndarray]:
        w = self.w
        out = []
        for fid, j, tier, prices in products:
            view = views[fid]
            s_g, l_g, s_tot, l_tot, base_profit, base_load, flows, position = agg[fid]
            k = position[int(j)]
            prices = np.asarray(prices, dtype=float)
            cols = np.flatnonzero(np.isfinite(self.V[j]))
            g = int(self.offers.nest[j])
            lam = self.lam[g]
            cost_j, load_j = float(view.cost_per_mtok[k]), float(view.load[k])
            d_profit = np.zeros(prices.size)
            d_load = np.zeros(prices.size)
            if cols.size:
                # In relative terms (t = S'_g / S_g, u = D'/D, π_g = S_g^λ / D the nest's share) the ratios of the
                # other offers' probabilities are t^(λ−1)/u in j's nest and 1/u elsewhere, and j's new probability
                # is (e_j(p)/S_g) t^(λ−1) π_g / u: no sums over other offers per candidate price.
                log_s0, log_d0 = self.log_s[g, cols], self.log_d[cols]
                flat = self._flat(j)
                if flat:
                    # A flat plan's price moves V one for one over μ_i and leaves tokens and payments per customer
                    # as they are: the exponent is an outer product, the sums below matrix-vector products.
                    e_rel = np.multiply.outer(self.offers.price_month[j] - prices, self.inv_mu[cols] / lam)
                    e_rel += self.V[j, cols] / lam - log_s0
                    x_new = pay_new = None
                else:
                    e_rel, x_new, pay_new = self._terms_at(j, cols, prices)
                    e_rel *= 1.0 / lam
                    e_rel -= log_s0
                np.minimum(e_rel, 700.0, out=e_rel)
                np.exp(e_rel, out=e_rel)
                p_j0 = p_all[j, cols]
                x_j0 = self.X[j, cols]
                m_j0 = self.PAY[j, cols] - cost_j * x_j0
                others_rel = np.maximum(1.0 - np.exp(self.V[j, cols] / lam - log_s0), 0.0)
                nest_share = np.exp(lam * log_s0 - log_d0)
                rest_share = np.exp(self.log_d_without[g, cols] - log_d0)  # 1 − nest_share, without cancellation
                t = others_rel + e_rel
                # t^(λ−1) from one logarithm; 0 where the nest empties (then no offer of it is chosen); log 0 is
                # silenced for the whole batch (one errstate, not one per product)
                r_same = np.log(t)
                r_same *= lam - 1.0
                np.exp(r_same, out=r_same)
                if not others_rel.all():  # only where j is alone in its nest can t be 0
                    r_same[t <= 0] = 0.0
                r_other = t * r_same  # t^λ
                r_other *= nest_share
                r_other += rest_share
                np.reciprocal(r_other, out=r_other)
                r_same *= r_other
                p_j = e_rel
                p_j *= r_same
                p_j *= nest_share
                wc = w[cols]
                # Sums over customers as matrix products: Σ_i w_i a_i (r_i − 1) = r @ (w a) − Σ w a.
                a_same = s_g[g, cols] - p_j0 * m_j0
                a_other = s_tot[cols] - s_g[g, cols]
                l_same = l_g[g, cols] - p_j0 * x_j0 * load_j
                l_other = l_tot[cols] - l_g[g, cols]
                same = r_same @ np.column_stack([a_same * wc, l_same * wc])
                other = r_other @ np.column_stack([a_other * wc, l_other * wc])
                if flat:
                    buyers, tokens_j = (p_j @ np.column_stack([wc, x_j0 * wc])).T
                    revenue = prices * buyers
                else:
                    tokens_j = (p_j * x_new) @ wc
                    revenue = (p_j * pay_new) @ wc
                base = np.array([(a_same + a_other + p_j0 * m_j0) @ wc, (l_same + l_other + p_j0 * x_j0 * load_j) @ wc])
                d_profit = same[:, 0] + other[:, 0] + revenue - cost_j * tokens_j - base[0]
                d_load = same[:, 1] + other[:, 1] + load_j * tokens_j - base[1]
            if tier is not None:
                for link in view.wrappers.get(tier, ()):
                    flow = flows[link.wrapper_id]
                    stay = prices <= link.stay_below
                    m_new = link.markup_factor * prices - view.marginal_cost * link.size
                    m_old = link.markup_factor * link.tier_price - view.marginal_cost * link.size
                    d_profit = d_profit + np.where(stay, flow * m_new, 0.0) - flow * m_old
                    d_load = d_load + np.where(stay, 0.0, -flow * link.size)
                joiners = view.joiners.get(tier, ())
                if joiners:
                    # All joiners at once; np.add.accumulate adds the rows one after another, in the links' order,
                    # as a loop over them would (the same sums to the last bit).
                    flow = np.array([flows[link.wrapper_id] for link in joiners])[:, None]
                    size = np.array([link.size for link in joiners])
                    join = prices[None, :] <= np.array([link.stay_below for link in joiners])[:, None]
                    markup = np.array([link.markup_factor for link in joiners])[:, None]
                    gain = flow * (markup * prices[None, :] - (view.marginal_cost * size)[:, None])
                    d_profit = np.add.accumulate(np.vstack([d_profit, np.where(join, gain, 0.0)]), axis=0)[-1]
                    d_load = np.add.accumulate(np.vstack([d_load, np.where(join, flow * size[:, None], 0.0)]), axis=0)[-1]
            profit = base_profit + d_profit
            load = base_load + d_load
            cap = view.capacity_mtok
            out.append(profit * np.where(load > cap, cap / np.maximum(load, 1e-300), 1.0))
            if loads is not None:
                loads.append((profit, load))
        return out

    def firm_totals(self, view: FirmView, quality_factor: float = 1.0,
                    market_factors: np.ndarray | None = None) -> tuple[float, float, float]:
        """A seller's (profit $/month, revenue $/month, load reference-Mtok/month) at posted prices before any
        capacity limit, with the quality of every offer it sells — and of every wrapper offer built on its API —
        multiplied by ``quality_factor`` (> 0; 1: as posted). Revenue and load cover its paid offers and the
        token bills of wrappers buying from it (the paid pool); profit is revenue less marginal cost.

        A finite difference in ``quality_factor`` gives the profit a quality point brings at current prices
        (market/compute_split.py prices training with it). Only the seller's rows (and its wrappers') change, so
        the nest sums are updated incrementally: O(rows × sample).

        ``market_factors`` ((n_offers,), > 0, or None: all 1) multiplies the quality of every offer first — a
        forecast state of the market in which rivals' models have moved (market/compute_split.py reads a
        quality point's worth there); ``quality_factor`` then multiplies the seller's own rows and its wrappers'
        on top. Rows whose factor is 1 are not recomputed.

        Raises:
            ValueError: ``quality_factor`` ≤ 0, or ``market_factors`` of the wrong shape or not all > 0.
        """
        return self.firm_totals_many(view, (quality_factor,), market_factors)[0]

    def firm_totals_many(self, view: FirmView, quality_factors, market_factors: np.ndarray | None = None
                         ) -> list[tuple[float, float, float]]:
        """:meth:`firm_totals` at each of ``quality_factors`` (each > 0) in one market state: the state moved
        by ``market_factors`` is computed once, then only the seller's rows move for each factor. Same units
        and errors."""
        for qf in quality_factors:
            if not qf > 0:
                raise ValueError(f"quality_factor={qf!r}: must be > 0")
        o = self.offers
        links = [link for ls in view.wrappers.values() for link in ls]
        link_rows = [link.rows for link in links]
        own = np.concatenate([view.rows, *link_rows]).astype(np.int64) if (view.rows.size or links) else view.rows
        if own.size == 0:
            return [(0.0, 0.0, 0.0) for _ in quality_factors]
        base_v, base_x, base_pay, base_s = self.V[own], self.X[own], self.PAY[own], None
        log_s, log_d = self.log_s, self.log_d
        shift = np.ones(own.size)
        if market_factors is not None:
            market_factors = np.asarray(market_factors, float)
            if market_factors.shape != (o.n,) or not np.all(market_factors > 0):
                raise ValueError(f"market_factors: shape {market_factors.shape} must be ({o.n},) with every factor > 0")
            shift = market_factors[own]
            others = np.flatnonzero(market_factors != 1.0)
            others = others[~np.isin(others, own)]
            rows = np.concatenate([own, others]).astype(np.int64)
            factors = np.concatenate([shift, market_factors[others]])
            if np.any(factors != 1.0):
                moved = self._moved(rows, factors, self.V[rows], self._surplus(rows), self.log_s)
                v, x, pay, s_new, log_s, log_d = moved
                base_v, base_x, base_pay, base_s = v[:own.size], x[:own.size], pay[:own.size], s_new[:own.size]
        out = []
        for qf in quality_factors:
            if qf == 1.0:
                v, x, pay, ls, ld = base_v, base_x, base_pay, log_s, log_d
            else:
                s_old = base_s if base_s is not None else self._surplus(own)
                v, x, pay, _, ls, ld = self._moved(own, shift * qf, base_v, s_old, log_s)
            out.append(self._own_totals(view, links, link_rows, own, v, x, pay, ls, ld))
        return out

    def _surplus(self, rows: np.ndarray) -> np.ndarray:
        """(R, M) surplus ($/month) of the sample on offers ``rows`` as posted."""
        need = self.state.need_mtok[None, :]
        return self.BEN[rows] * demand.phi(np.minimum(1.0, self.X[rows] / need)) - self.PAY[rows]

    def _moved(self, rows: np.ndarray, factors: np.ndarray, v_old: np.ndarray, s_old: np.ndarray,
               log_s_old: np.ndarray):
        """(V, tokens, payment, surplus, log nest sums, log denominators) when the quality of offers ``rows``
        (R,) is multiplied by ``factors`` (R,) from a state with utilities ``v_old`` and surplus ``s_old``
        ((R, M)) and log nest sums ``log_s_old`` ((3, M)); the nest sums are updated incrementally."""
        o = self.offers
        need = self.state.need_mtok[None, :]
        terms = (o.price_month[rows][:, None], o.price_mtok[rows][:, None], o.cap_mtok[rows][:, None],
                 o.overage_usd_per_mtok[rows][:, None])
        s_new, x, pay = demand.outcome(need, self.BEN[rows] * factors[:, None] ** self.gamma[None, :], *terms)
        finite = np.isfinite(v_old)
        v = np.where(finite, v_old + np.where(finite, s_new - s_old, 0.0) * self.inv_mu[None, :], -np.inf)
        log_s = log_s_old.copy()
        nest = o.nest[rows]
        for g in np.unique(nest):
            k = nest == g
            lam, base = self.lam[g], log_s_old[g]
            ok = np.isfinite(base)
            safe = np.where(ok, base, 0.0)
            with np.errstate(over="ignore", invalid="ignore"):
                delta = (np.where(np.isfinite(v[k]), np.exp(v[k] / lam - safe), 0.0)
                         - np.where(np.isfinite(v_old[k]), np.exp(v_old[k] / lam - safe), 0.0)).sum(axis=0)
            log_s[g] = np.where(ok, base + np.log(np.maximum(1.0 + delta, 1e-300)), base)
        inclusive = self.lam[:, None] * log_s
        log_d = np.logaddexp(np.logaddexp(np.logaddexp(0.0, inclusive[0]), inclusive[1]), inclusive[2])
        return v, x, pay, s_new, log_s, log_d

    def _own_totals(self, view: FirmView, links, link_rows, rows: np.ndarray, v, x, pay, log_s, log_d
                    ) -> tuple[float, float, float]:
        """(profit, revenue, load) of the seller from its rows and its wrappers' (``rows``, in that order)."""
        w = self.w
        g = self.offers.nest[rows]
        lam = self.lam[g][:, None]
        with np.errstate(invalid="ignore"):
            lp = v / lam + (lam - 1.0) * log_s[g] - log_d[None, :]
        p = np.where(np.isfinite(lp), np.exp(lp), 0.0)
        n_own = view.rows.size
        own_p = p[:n_own]
        paid = (view.load > 0)[:, None]
        revenue = float((own_p * pay[:n_own] * paid).sum(axis=0) @ w)
        cost = float((own_p * x[:n_own] * view.cost_per_mtok[:, None]).sum(axis=0) @ w)
        load = float((own_p * x[:n_own] * view.load[:, None]).sum(axis=0) @ w)
        start = n_own
        for link, lr in zip(links, link_rows):
            flow = float((p[start:start + lr.size] * x[start:start + lr.size]).sum(axis=0) @ w)
            start += lr.size
            revenue += flow * link.markup_factor * link.tier_price
            cost += flow * view.marginal_cost * link.size
            load += flow * link.size
        return revenue - cost, revenue, load

    def profit_curve(self, view: FirmView, j: int, prices: np.ndarray, tier: int | None = None) -> np.ndarray:
        """One product's curve (see :meth:`curves`): the seller's profit ($/month) at each price of ``prices``."""
        return self.curves({view.firm_id: view}, [(view.firm_id, j, tier, prices)])[0]

    def _flat(self, j: int) -> bool:
        """Whether offer j is a flat plan (priced per month, no per-token or overage terms)."""
        o = self.offers
        return bool(not self._per_token(j) and o.price_mtok[j] == 0 and not np.isfinite(o.overage_usd_per_mtok[j]))

    def _terms_at(self, j: int, cols: np.ndarray, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(V, tokens, payment), each (G, len(cols)), of offer j at each candidate price for customers ``cols``."""
        o = self.offers
        st = self.state
        per_token = self._per_token(j)
        if not per_token and o.price_mtok[j] == 0 and not np.isfinite(o.overage_usd_per_mtok[j]):
            # A flat plan: its price moves utility one for one and leaves tokens unchanged.
            shift = (prices - o.price_month[j])[:, None] * self.inv_mu[cols][None, :]
            g = len(prices)
            return (self.V[j, cols][None, :] - shift, np.broadcast_to(self.X[j, cols], (g, cols.size)),
                    np.broadcast_to(prices[:, None], (g, cols.size)))
        need = st.need_mtok[cols][None, :]
        moving = (o.owner[j] != self.owner_now[cols]) & (self.owner_now[cols] >= 0)
        penalty = np.where(moving, st.switching_monthly[cols], 0.0)
        if per_token and o.price_month[j] == 0 and not np.isfinite(o.cap_mtok[j]):
            # A pure per-token offer: z = max(0, 1 − p·a/2B), tokens a·z, payment p·a·z, surplus B·z².
            benefit = self.BEN[j, cols]
            z = np.multiply.outer(prices, need[0] / (2.0 * np.maximum(benefit, 1e-300)))
            np.subtract(1.0, z, out=z)
            np.maximum(z, 0.0, out=z)
            x = z * need
            v = z * z
            v *= benefit
            v -= penalty
            v *= self.inv_mu[cols]
            return v, x, x * prices[:, None]
        price_month = np.full_like(prices, o.price_month[j]) if per_token else prices
        price_mtok = prices if per_token else np.full_like(prices, o.price_mtok[j])
        surplus, x, pay = demand.outcome(need, self.BEN[j, cols][None, :], price_month[:, None], price_mtok[:, None],
                                         o.cap_mtok[j], o.overage_usd_per_mtok[j])
        v = (surplus - penalty[None, :]) * self.inv_mu[cols][None, :]
        return v, x, pay

    # ------------------------------------------------------------------------------------------ sourcing

    def option_profits(self, rows: np.ndarray, qualities: np.ndarray, token_prices: np.ndarray,
                       vertical: int) -> tuple[np.ndarray, np.ndarray]:
        """A wrapper's forecast (gross profit $/month, tokens Mtok/month), each (O,), under each upstream option:
        its plans ``rows`` (one nest, current prices, sold in ``vertical``) with the option's model quality
        (index, shape (O,)) and token price ($/Mtok, (O,)), for every sampled customer of that vertical who is
        aware of AI."""
        rows = np.asarray(rows, dtype=np.int64)
        o, st = self.offers, self.state
        cols = np.flatnonzero((self.sample.vertical == vertical) & ((st.aware & demand.AI_AWARE) != 0))
        if cols.size == 0 or rows.size == 0:
            return np.zeros(len(qualities)), np.zeros(len(qualities))
        g = int(o.nest[rows[0]])
        lam = self.lam[g]
        rows_g = self.nest_rows[g][~np.isin(self.nest_rows[g], rows)]
        log_s_minus = _logsumexp_rows(self.V[rows_g][:, cols] / lam)  # (C,)
        w = self.w[cols]
        fit = o.fit[self.sample.vertical[cols][None, :], rows[:, None]]  # (R, C)
        moving = (o.owner[rows][:, None] != self.owner_now[cols][None, :]) & (self.owner_now[cols] >= 0)[None, :]
        penalty = np.where(moving, st.switching_monthly[cols][None, :], 0.0)
        # Options of one quality (hosts of the same open weights, say) give the customers the same choice: only the
        # margin differs, so the choice is computed once per distinct quality.
        distinct, which = np.unique(np.asarray(qualities, dtype=float), return_inverse=True)
        q = distinct[:, None, None]  # (Q, 1, 1): every distinct quality at once
        benefit = st.wtp_usd[cols][None, None, :] * (fit[None] * q) ** self.gamma[cols][None, None, :]
        surplus, x, pay = demand.outcome(st.need_mtok[cols][None, None, :], benefit, o.price_month[rows][None, :, None],
                                         o.price_mtok[rows][None, :, None], o.cap_mtok[rows][None, :, None],
                                         o.overage_usd_per_mtok[rows][None, :, None])
        v = np.where((fit > 0)[None], (surplus - penalty[None]) * self.inv_mu[cols][None, None, :], -np.inf)
        log_s_new = np.logaddexp(log_s_minus[None, :], _logsumexp_rows(np.moveaxis(v, 1, 0) / lam))  # (O, C)
        log_d_new = np.logaddexp(self.log_d_without[g, cols][None, :], lam * log_s_new)
        with np.errstate(invalid="ignore"):
            lp = v / lam + ((lam - 1.0) * log_s_new - log_d_new)[:, None, :]
        p = np.where(np.isfinite(lp), np.exp(lp), 0.0)
        revenue = (p * pay).sum(axis=1) @ w  # (Q,) $/month
        tokens = (p * x).sum(axis=1) @ w  # (Q,) Mtok/month
        tokens = tokens[which]
        return revenue[which] - np.asarray(token_prices, dtype=float) * tokens, tokens
