"""The offer book: which offers exist (lab free tier, lab paid app, direct API, wrapper apps), their capacity
pools, the per-round :class:`~market.demand.Offers` arrays, and what each seller observes before pricing.

Offer ids are stable for the whole run (customers keep their current choice across rounds); an offer whose
firm has exited stays in the book as not alive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.lab import FrontierLab
from agents.types import PriceObservation
from agents.wrapper import WrapperApp
from market import costs
from market.config import VERTICALS
from market.demand import Offers

FREE, APP, API, WRAPPER, VERTICAL = "free", "app", "api", "wrapper", "vertical"


@dataclass(frozen=True)
class OfferEntry:
    """One offer: the firm selling it, its kind (free | app | api | wrapper | vertical) and, for a lab's
    vertical app, its vertical."""

    firm: object
    kind: str
    vertical: str | None = None


class OfferBook:
    """Registry of offers and capacity pools for one model.

    Pools: every lab has a paid pool and a free pool, every provider a paid pool. A wrapper's tokens are
    served from its upstream's paid pool.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.entries: list[OfferEntry] = []
        self.pool_firm: list[object] = []
        self.pool_kind: list[str] = []
        self.paid_pool: dict[int, int] = {}
        self.free_pool: dict[int, int] = {}
        self._kinds: np.ndarray | None = None  # kind of each offer on the market, for _rivals
        self._kind_masks: dict[str, np.ndarray] = {}
        for lab in model.labs:
            self.add_seller(lab)
        for provider in model.providers:
            self.add_seller(provider)
        for wrapper in model.wrappers:
            self.add_wrapper(wrapper)

    def add_seller(self, firm) -> None:
        """Register a lab's (free tier, paid app, API) or a provider's (API) offers and pools."""
        self.paid_pool[firm.unique_id] = self._pool(firm, "paid")
        if isinstance(firm, FrontierLab):
            self.free_pool[firm.unique_id] = self._pool(firm, "free")
            if firm.offers_free_tier:
                self.entries.append(OfferEntry(firm, FREE))
            if firm.app_price > 0:
                self.entries.append(OfferEntry(firm, APP))
        self.entries.append(OfferEntry(firm, API))

    def add_wrapper(self, wrapper: WrapperApp) -> None:
        """Register a wrapper's app offer."""
        self.entries.append(OfferEntry(wrapper, WRAPPER))

    def add_vertical_app(self, lab: FrontierLab, vertical: str) -> int:
        """Register a lab's app for one vertical; returns its offer id."""
        self.entries.append(OfferEntry(lab, VERTICAL, vertical))
        return len(self.entries) - 1

    def _pool(self, firm, kind: str) -> int:
        self.pool_firm.append(firm)
        self.pool_kind.append(kind)
        return len(self.pool_firm) - 1

    @property
    def n_pools(self) -> int:
        """Number of capacity pools P."""
        return len(self.pool_firm)

    def ids(self, firm, kind: str | None = None) -> list[int]:
        """Offer ids of ``firm`` (optionally of one kind)."""
        return [j for j, e in enumerate(self.entries) if e.firm is firm and (kind is None or e.kind == kind)]

    def build(self) -> Offers:
        """This round's offer arrays from the firms' current prices, qualities and upstreams."""
        m, cc = self.model, self.model.config.customers
        n = len(self.entries)
        fit = np.zeros((len(VERTICALS), n))
        quality, price_month, price_mtok = np.zeros(n), np.zeros(n), np.zeros(n)
        cap, api, alive = np.full(n, np.inf), np.zeros(n, bool), np.zeros(n, bool)
        pool = np.full(n, -1, dtype=np.int64)
        owner = np.array([e.firm.unique_id for e in self.entries], dtype=np.int64)
        for j, e in enumerate(self.entries):
            f = e.firm
            alive[j] = f.alive
            if e.kind in (FREE, APP):
                fit[:, j] = cc.general_app_fit
                fit[VERTICALS.index("general_chat"), j] = 1.0
                pool[j] = self.free_pool[f.unique_id] if e.kind == FREE else self.paid_pool[f.unique_id]
                if e.kind == FREE:
                    quality[j], cap[j] = f.quality * cc.free_quality_factor, cc.free_tier_cap_mtok
                else:
                    quality[j], price_month[j] = f.quality, f.app_price
            elif e.kind == VERTICAL:
                fit[VERTICALS.index(e.vertical), j] = 1.0
                quality[j] = f.quality * f.vertical_multiplier.get(e.vertical, f.cfg.vertical_app_multiplier)
                price_month[j], pool[j] = f.vertical_prices[e.vertical], self.paid_pool[f.unique_id]
            elif e.kind == API:
                fit[:, j], api[j] = cc.api_fit, True
                quality[j], price_mtok[j], pool[j] = f.quality, f.api_price, self.paid_pool[f.unique_id]
            else:
                up = m.agent_by_id(f.upstream_id)
                alive[j] = f.alive and up is not None and up.alive
                fit[VERTICALS.index(f.vertical), j] = 1.0
                if up is not None:
                    quality[j] = up.quality * f.product_multiplier
                    pool[j] = self.paid_pool[up.unique_id]
                price_month[j] = f.price
        return Offers(fit=fit, quality=quality, price_month=price_month, price_mtok=price_mtok, cap_mtok=cap,
                      api=api, alive=alive, pool=pool, owner=owner)

    # ------------------------------------------------------------------------------------------ observations

    def _rivals(self, firm, kinds: tuple[str, ...], vertical: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Prices ($/Mtok for APIs, $/month for apps) and qualities of the live offers of other firms of the
        given kinds (in ``vertical`` if given) on this round's market, in offer-id order."""
        offers = self.model.current_offers
        n = offers.n  # offers registered this round are not on the market yet
        if self._kinds is None or self._kinds.shape[0] != n:
            self._kinds = np.array([e.kind for e in self.entries[:n]])
            self._kind_masks = {k: self._kinds == k for k in (FREE, APP, API, WRAPPER, VERTICAL)}
        mask = offers.owner != firm.unique_id
        mask &= offers.alive
        mask &= np.logical_or.reduce([self._kind_masks[k] for k in kinds])
        if vertical is not None:
            mask &= offers.fit[VERTICALS.index(vertical)] > 0.0
        prices = np.where(self._kinds == API, offers.price_mtok, offers.price_month)
        return prices[mask], offers.quality[mask]

    def api_observation(self, firm) -> PriceObservation:
        """What an API seller sees: its unit and standard cost ($/Mtok), rivals' API prices and qualities."""
        m = self.model
        tech = m.tech_of(firm)
        last = firm.last
        if isinstance(firm, FrontierLab):
            price_gpu = m.gpu_owned_usd_per_hour
            marginal = costs.marginal_cost_usd_per_mtok(tech, price_gpu)
            standard = marginal / firm.cfg.target_utilisation
        else:
            price_gpu = m.gpu_rent_usd_per_hour
            marginal = costs.marginal_cost_usd_per_mtok(tech, price_gpu)
            volume = last.get("paid_tokens_mtok", 0.0)
            standard = costs.unit_cost_at_volume(volume, tech, price_gpu) if volume > 0 else marginal
        rp, rq = self._rivals(firm, (API,))
        total = m.last_api_tokens_mtok
        return PriceObservation(own_price=firm.api_price, unit_cost=last.get("unit_cost_usd_per_mtok", np.nan),
                                standard_cost=float(standard), marginal_cost=float(marginal),
                                quality=firm.quality, rival_prices=rp, rival_qualities=rq,
                                volume=last.get("api_tokens_mtok", 0.0),
                                share=last.get("api_tokens_mtok", 0.0) / total if total > 0 else 0.0,
                                subsidy_spent_usd=getattr(firm, "subsidy_spent_usd", 0.0),
                                runway_months=firm.runway_months(),
                                last_profit_usd=last.get("api_revenue_usd", 0.0) - last.get("api_serving_cost_usd", 0.0))

    def market_view(self, offer_ids: list[int], vertical: str | None) -> tuple[float, float]:
        """(share, μ) of a seller's app: its customers over those using AI in its vertical (all verticals when
        None), and the customer-weighted logit scale μ ($/month) of its customers (of the vertical if none)."""
        m = self.model
        offer_ids = [j for j in offer_ids if j < m.segment_offer_counts.shape[1]]
        own = m.segment_offer_counts[:, offer_ids].sum(axis=1)
        cols = slice(None) if vertical is None else VERTICALS.index(vertical)
        market = m.segment_vertical_inside[:, cols]
        market = market.sum(axis=1) if market.ndim == 2 else market
        weights = own if own.sum() > 0 else market
        mu = float((weights * m.segment_price_scale).sum() / weights.sum()) if weights.sum() > 0 else float("nan")
        share = float(own.sum() / market.sum()) if market.sum() > 0 else 0.0
        return min(share, 0.99), mu

    def app_observation(self, lab: FrontierLab) -> PriceObservation | None:
        """What a lab sees for its paid app ($/subscriber-month): full cost per subscriber, including the free
        tier's GPU cost (freemium: paying users carry free users — assumption, how such apps are costed)."""
        if lab.app_price <= 0:
            return None
        last = lab.last
        subs = last.get("subscribers", 0.0)
        if subs > 0:
            cost = (last.get("app_serving_cost_usd", 0.0) + last.get("free_gpu_cost_usd", 0.0)) / subs
        else:
            cost = 0.0  # nobody to serve: no cost per subscriber yet
        rp, rq = self._rivals(lab, (APP, WRAPPER), vertical="general_chat")
        share, mu = self.market_view(self.ids(lab, APP), None)
        return PriceObservation(own_price=lab.app_price, unit_cost=cost, standard_cost=cost, marginal_cost=cost,
                                quality=lab.quality, rival_prices=rp, rival_qualities=rq, volume=subs,
                                share=share, price_scale=mu)

    def vertical_observations(self, lab: FrontierLab) -> dict[str, PriceObservation]:
        """What a lab sees for each launched vertical app: token cost per subscriber at its unit cost ($/month),
        rivals in the vertical, its share and customers' μ."""
        out = {}
        unit = lab.last.get("unit_cost_usd_per_mtok", np.nan)
        unit = 0.0 if not np.isfinite(unit) else unit
        for vertical, price in lab.vertical_prices.items():
            ids = [j for j in self.ids(lab, VERTICAL) if self.entries[j].vertical == vertical]
            j = ids[0]
            subs = self.model.offer_customers[j] if j < len(self.model.offer_customers) else 0.0
            tok = self.model.offer_tokens[j] if j < len(self.model.offer_tokens) else 0.0
            cost = unit * tok / subs if subs > 0 else 0.0
            rp, rq = self._rivals(lab, (APP, WRAPPER, VERTICAL), vertical=vertical)
            share, mu = self.market_view(ids, vertical)
            out[vertical] = PriceObservation(own_price=price, unit_cost=cost, standard_cost=cost, marginal_cost=cost,
                                             quality=lab.quality, rival_prices=rp, rival_qualities=rq, volume=subs,
                                             share=share, price_scale=mu)
        return out

    def wrapper_observation(self, wrapper: WrapperApp) -> PriceObservation:
        """What a wrapper sees: token bill per subscriber ($/month) and rival apps in its vertical."""
        last = wrapper.last
        subs = last.get("subscribers", 0.0)
        if subs > 0:
            cost = last.get("token_bill_usd", 0.0) / subs
        else:
            cost = 0.0
        up = self.model.agent_by_id(wrapper.upstream_id)
        quality = (up.quality if up is not None else 0.0) * wrapper.product_multiplier
        rp, rq = self._rivals(wrapper, (APP, WRAPPER, VERTICAL), vertical=wrapper.vertical)
        share, mu = self.market_view(self.ids(wrapper, WRAPPER), wrapper.vertical)
        return PriceObservation(own_price=wrapper.price, unit_cost=cost, standard_cost=cost, marginal_cost=cost,
                                quality=quality, rival_prices=rp, rival_qualities=rq, volume=subs,
                                share=share, price_scale=mu)
