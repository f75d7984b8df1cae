"""The customers a strategic forecast works on, and the terms of offers under an option (docs/design.md,
"Strategic moves").

:class:`SampleBase` takes, from the demand oracle of the round (market/oracle.py), the first
``moves.sample_per_cell`` customers of each (segment, vertical) cell of its stratified sample: their utilities
without switching costs, the tokens they would use and what they would pay on every offer, their switching cost,
their current holding and how often they reconsider. An option changes the terms of a few offers (prices, quality,
caps, whether they are open) or adds offers (a vertical app): :func:`terms_on_sample` recomputes those rows with the
demand model's own functions (market/demand.py), so the forecast and the market use one demand system.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from market import demand
from market.oracle import DemandOracle


@dataclass(frozen=True)
class SampleBase:
    """The forecast's customers and the offers' terms now; arrays over offers (J) and customers (M).

    Attributes:
        v0, x, pay: (J, M) utility without switching cost (units of the customer's logit scale; −inf: closed to
            it), tokens (Mtok/month) and payment ($/month) on each offer.
        penalty: (M,) switching cost per month in utility units; inside: (M,) holds an offer now; holding: (M,)
            offer id held now (−1 outside, or an offer newer than the oracle).
        rho, rho_news: (M,) monthly reconsideration probability without and with news; w: (M,) real customers
            each stands for ($ flows are w-weighted sums); cells: (segment, vertical, positions) per cell;
            vertical: (M,) vertical index.
        offers: the oracle's offers; lam: (3,) nest parameters; positions: (M,) indices into the oracle's sample.
        aware: (M,) awareness bit masks the terms are computed with (``agents.customers``: AI, each lab's apps);
            None: the oracle's (the customers' own).
    """

    v0: np.ndarray
    x: np.ndarray
    pay: np.ndarray
    penalty: np.ndarray
    inside: np.ndarray
    holding: np.ndarray
    rho: np.ndarray
    rho_news: np.ndarray
    w: np.ndarray
    cells: tuple[tuple[int, int, np.ndarray], ...]
    vertical: np.ndarray
    offers: demand.Offers
    lam: np.ndarray
    positions: np.ndarray
    oracle: DemandOracle
    aware: np.ndarray | None = None

    @property
    def n(self) -> int:
        """M, customers in the forecast."""
        return int(self.w.size)

    def subset(self, cols: np.ndarray) -> "SampleBase":
        """The same forecast on customers ``cols`` (indices into this one's M) only."""
        cols = np.asarray(cols, dtype=np.int64)
        where = np.full(self.n, -1)
        where[cols] = np.arange(cols.size)
        cells = tuple((s, v, where[c][where[c] >= 0]) for s, v, c in self.cells)
        return dataclasses.replace(
            self, v0=self.v0[:, cols], x=self.x[:, cols], pay=self.pay[:, cols], penalty=self.penalty[cols],
            inside=self.inside[cols], holding=self.holding[cols], rho=self.rho[cols], rho_news=self.rho_news[cols],
            w=self.w[cols], cells=tuple(c for c in cells if c[2].size), vertical=self.vertical[cols],
            positions=self.positions[cols], aware=None if self.aware is None else self.aware[cols])


def sample_base(oracle: DemandOracle, choice_now: np.ndarray, per_cell: int, reconsider: np.ndarray,
                reconsider_news: np.ndarray) -> SampleBase:
    """The forecast's customers from ``oracle``: the first ``per_cell`` of each of its cells, reweighted to stand for
    the whole cell.

    Args: choice_now: (n,) every simulated customer's offer now (the population's ``choice``); reconsider,
    reconsider_news: (segments,) monthly probabilities of looking around, without and with news.
    """
    picks, weights, cells = [], [], []
    start = 0
    for s, v, b in oracle.cells:
        k = min(per_cell, b.size)
        picks.append(b[:k])
        weights.append(oracle.w[b[:k]] * (b.size / k))
        cells.append((s, v, np.arange(start, start + k)))
        start += k
    pos = np.concatenate(picks) if picks else np.empty(0, np.int64)
    w = np.concatenate(weights) if weights else np.empty(0)
    st, offers = oracle.state, oracle.offers
    pen = st.switching_monthly[pos] * oracle.inv_mu[pos]
    was = oracle.owner_now[pos]
    moving = (offers.owner[:, None] != was[None, :]) & (was >= 0)[None, :]
    v = oracle.V[:, pos]
    v0 = np.where(np.isfinite(v), v + moving * pen[None, :], -np.inf)
    holding = choice_now[oracle.sample.positions[pos]].astype(np.int64)
    holding = np.where(holding < offers.n, holding, -1)
    seg = oracle.sample.segment[pos]
    return SampleBase(v0=v0, x=oracle.X[:, pos], pay=oracle.PAY[:, pos], penalty=pen, inside=holding >= 0,
                      holding=holding, rho=reconsider[seg], rho_news=reconsider_news[seg], w=w, cells=tuple(cells),
                      vertical=oracle.sample.vertical[pos], offers=offers, lam=oracle.lam, positions=pos, oracle=oracle,
                      aware=st.aware[pos])


def pick_offers(offers: demand.Offers, rows: np.ndarray, **changes: np.ndarray) -> demand.Offers:
    """Offers ``rows`` of ``offers`` (K rows, in that order) with some arrays replaced by ``changes`` ((K,) each,
    or (V, K) for ``fit``)."""
    rows = np.asarray(rows, dtype=np.int64)
    fields = {f.name: (getattr(offers, f.name)[:, rows] if f.name == "fit" else getattr(offers, f.name)[rows])
              for f in dataclasses.fields(offers)}
    fields.update(changes)
    return demand.Offers(**fields)


def terms_on_sample(base: SampleBase, offers: demand.Offers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(v0, tokens, payment), each (K, M), of the K offers of ``offers`` for the forecast's customers: nested-logit
    utility without switching cost (units of the customer's logit scale; −inf where the offer is closed to the
    customer: not alive, not sold in its vertical, an API its segment cannot use, a brand it does not know, or it is
    unaware of AI), Mtok/month, $/month — the terms of market/demand.py (``demand.outcome``), for every customer at
    once."""
    oracle, st = base.oracle, base.oracle.state
    pos = base.positions
    seg = oracle.sample.segment[pos]
    gamma = oracle.gamma[pos]
    capable = np.array([s.api_capable for s in oracle.segments])[seg]
    quality = offers.fit[base.vertical] * offers.quality[None, :]  # (M, K) fit × quality in each one's vertical
    benefit = (st.wtp_usd[pos][:, None] * quality ** gamma[:, None]).T
    need = st.need_mtok[pos][None, :]
    surplus, x, pay = demand.outcome(need, benefit, offers.price_month[:, None], offers.price_mtok[:, None],
                                     offers.cap_mtok[:, None], offers.overage_usd_per_mtok[:, None])
    v0 = surplus * oracle.inv_mu[pos][None, :]
    closed = (~offers.alive[:, None]) | (quality.T <= 0) | (offers.api[:, None] & ~capable[None, :])
    aware = st.aware[pos] if base.aware is None else base.aware
    branded = offers.brand >= 0
    bits = np.left_shift(np.int64(1), np.where(branded, offers.brand + 1, 0).astype(np.int64))
    closed |= branded[:, None] & ((aware[None, :] & bits[:, None]) == 0)
    closed |= ((aware & demand.AI_AWARE) == 0)[None, :]
    v0 = np.where(closed, -np.inf, v0)
    return v0, np.where(closed, 0.0, x), np.where(closed, 0.0, pay)
