"""The offer book: which offers exist (a lab's free tier, chat plans, API tiers and vertical-app plans; a host's API;
wrappers' plans), their capacity pools, and this round's :class:`~market.demand.Offers` arrays.

Offer ids are stable for the whole run (customers keep their current choice across rounds); an offer whose firm
has exited stays in the book as not alive. Each lab has a paid pool (API, plans, vertical apps and the wrappers
that buy from it) and a free pool; each host a paid pool. A pool's load is counted in its seller's reference-model
tokens: a small model's token loads it by the model's size factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.lab import FrontierLab
from agents.types import Product, UpstreamOffer
from agents.wrapper import WrapperApp
from market import demand
from market.config import VERTICALS

FREE, PLAN, API, WRAPPER, VERTICAL = "free", "plan", "api", "wrapper", "vertical"
KINDS = (FREE, PLAN, API, WRAPPER, VERTICAL)
CHAT = VERTICALS.index("general_chat")


@dataclass(frozen=True)
class OfferEntry:
    """One offer: the firm selling it, its kind, the product it prices (None for a free tier) and, for a lab's
    vertical app, its vertical."""

    firm: object
    kind: str
    product: Product | None = None
    vertical: str | None = None


class OfferBook:
    """Registry of offers and capacity pools for one model."""

    def __init__(self, model) -> None:
        self.model = model
        self.entries: list[OfferEntry] = []
        self._by_firm: dict[int, list[int]] = {}  # id(firm) → its offer ids in order (entries are only appended)
        self.index: dict[tuple[int, Product], int] = {}
        self.pool_firm: list[object] = []
        self.pool_kind: list[str] = []
        self.paid_pool: dict[int, int] = {}
        self.free_pool: dict[int, int] = {}
        for lab in model.labs:
            self.add_seller(lab)
        for provider in model.providers:
            self.add_seller(provider)
        for wrapper in model.wrappers:
            self.add_wrapper(wrapper)

    def _add(self, firm, kind: str, product: Product | None = None, vertical: str | None = None) -> int:
        self.entries.append(OfferEntry(firm, kind, product, vertical))
        j = len(self.entries) - 1
        self._by_firm.setdefault(id(firm), []).append(j)
        if product is not None:
            self.index[(firm.unique_id, product)] = j
        return j

    def add_seller(self, firm) -> None:
        """Register a lab's (free tier, plans, API tiers) or a host's (API) offers and pools."""
        self.paid_pool[firm.unique_id] = self._pool(firm, "paid")
        if isinstance(firm, FrontierLab):
            self.free_pool[firm.unique_id] = self._pool(firm, "free")
            if firm.offers_free_tier:
                self._add(firm, FREE)
        for product in firm.products():
            self._add(firm, product.kind, product, product.vertical)

    def add_wrapper(self, wrapper: WrapperApp) -> None:
        """Register a wrapper's plans."""
        for product in wrapper.products():
            self._add(wrapper, WRAPPER, product, wrapper.vertical)

    def add_vertical_app(self, lab: FrontierLab, vertical: str) -> list[int]:
        """Register the plans of a lab's app for one vertical (its prices must already be set); returns their ids."""
        return [self._add(lab, VERTICAL, p, vertical) for p in lab.products()
                if p.kind == "vertical" and p.vertical == vertical]

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
        own = self._by_firm.get(id(firm), [])
        return list(own) if kind is None else [j for j in own if self.entries[j].kind == kind]

    def offer_of(self, firm, product: Product) -> int:
        """The offer id of ``firm``'s ``product``."""
        return self.index[(firm.unique_id, product)]

    def upstream_of(self, wrapper: WrapperApp):
        """(seller, tier) a wrapper buys from, or (None, None)."""
        if wrapper.upstream is None:
            return None, None
        return self.model.agent_by_id(wrapper.upstream[0]), wrapper.upstream[1]

    def wrapper_token_price(self, wrapper: WrapperApp) -> float:
        """$/Mtok the wrapper pays its upstream: the tier's list price plus the seller's surcharge on rival
        wrappers in its vertical (0 without an upstream)."""
        up, tier = self.upstream_of(wrapper)
        if up is None:
            return 0.0
        return up.tier_price(tier) * (1.0 + getattr(up, "surcharge", {}).get(wrapper.vertical, 0.0))

    def upstream_offers(self, vertical: str) -> list[UpstreamOffer]:
        """API tiers a wrapper of ``vertical`` can buy from: alive labs' tiers (not those of a lab that cut rival
        wrappers off in the vertical) and hosts, with their price to it ($/Mtok, surcharge included), model quality
        in the vertical, and size."""
        out = []
        for f in self.model.alive([*self.model.labs, *self.model.providers]):
            if isinstance(f, FrontierLab) and f.terms.get(vertical) == "cut_off":
                continue
            if isinstance(f, FrontierLab):
                for t in range(len(f.tier_prices)):
                    out.append(UpstreamOffer(f.unique_id, t, f.tier_prices[t] * (1.0 + f.surcharge.get(vertical, 0.0)),
                                             f.tier_quality(t) * f.vertical_fit(vertical), f.tier_size(t)))
            else:
                out.append(UpstreamOffer(f.unique_id, 0, f.api_price, f.quality, 1.0))
        return out

    def build(self) -> demand.Offers:
        """This round's offer arrays from the firms' current prices, qualities and upstreams."""
        cc = self.model.config.customers
        n = len(self.entries)
        nv = len(VERTICALS)
        fit = np.zeros((nv, n))
        quality, price_month, price_mtok = np.zeros(n), np.zeros(n), np.zeros(n)
        cap, overage = np.full(n, np.inf), np.full(n, np.inf)
        api, alive = np.zeros(n, bool), np.zeros(n, bool)
        pool, nest, size = np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64), np.ones(n)
        brand = np.full(n, demand.NO_BRAND, dtype=np.int64)
        owner = np.array([e.firm.unique_id for e in self.entries], dtype=np.int64)
        free_caps = {"off": 0.0, "small": cc.free_tier_cap_mtok,
                     "large": self.model.config.moves.free_tier_large_cap_mtok}
        chat_fit = np.full(nv, cc.general_app_fit)
        chat_fit[CHAT] = 1.0
        for j, e in enumerate(self.entries):
            f = e.firm
            alive[j] = f.alive
            if e.kind in (FREE, PLAN, VERTICAL, API) and isinstance(f, FrontierLab):
                lab_fit = np.array([f.vertical_fit(v) for v in VERTICALS])
            if e.kind in (FREE, PLAN):
                fit[:, j] = chat_fit * lab_fit
                nest[j], brand[j] = demand.NEST_CHAT, f.brand
                if e.kind == FREE:
                    t = f.free_tier_index
                    quality[j], size[j], cap[j] = f.tier_quality(t), f.tier_size(t), free_caps[f.free_tier_size]
                    pool[j] = self.free_pool[f.unique_id]
                    alive[j] = f.alive and f.free_tier_size != "off"
                else:
                    plan = f.cfg.plans[e.product.plan]
                    quality[j], price_month[j], cap[j] = f.quality, f.plan_prices[e.product.plan], plan.cap_mtok
                    overage[j] = np.inf if plan.overage_usd_per_mtok is None else plan.overage_usd_per_mtok
                    pool[j] = self.paid_pool[f.unique_id]
            elif e.kind == VERTICAL:
                v = VERTICALS.index(e.vertical)
                plan = f.vertical_plans[e.product.plan]
                fit[v, j] = lab_fit[v]
                quality[j] = f.quality * f.vertical_multiplier.get(e.vertical, f.cfg.vertical_app_multiplier)
                price_month[j], cap[j] = f.price(e.product), plan.cap_mtok
                overage[j] = np.inf if plan.overage_usd_per_mtok is None else plan.overage_usd_per_mtok
                nest[j], brand[j], pool[j] = demand.NEST_APPS, f.brand, self.paid_pool[f.unique_id]
            elif e.kind == API:
                api[j], nest[j], pool[j] = True, demand.NEST_API, self.paid_pool[f.unique_id]
                if isinstance(f, FrontierLab):
                    t = e.product.tier
                    fit[:, j] = cc.api_fit * lab_fit
                    quality[j], price_mtok[j], size[j] = f.tier_quality(t), f.tier_prices[t], f.tier_size(t)
                else:
                    fit[:, j] = cc.api_fit
                    quality[j], price_mtok[j] = f.quality, f.api_price
            else:  # a wrapper's plan
                up, tier = self.upstream_of(f)
                alive[j] = f.alive and up is not None and up.alive
                v = VERTICALS.index(f.vertical)
                fit[v, j] = 1.0
                plan = f.cfg.plans[e.product.plan]
                price_month[j], cap[j] = f.plan_prices[e.product.plan], plan.cap_mtok
                overage[j] = np.inf if plan.overage_usd_per_mtok is None else plan.overage_usd_per_mtok
                nest[j] = demand.NEST_APPS
                if up is not None:
                    q = up.tier_quality(tier) * up.vertical_fit(f.vertical) if isinstance(up, FrontierLab) else up.quality
                    quality[j] = q * f.product_multiplier
                    size[j] = up.tier_size(tier) if isinstance(up, FrontierLab) else 1.0
                    pool[j] = self.paid_pool[up.unique_id]
        return demand.Offers(fit=fit, quality=quality, price_month=price_month, price_mtok=price_mtok, cap_mtok=cap,
                             overage_usd_per_mtok=overage, api=api, alive=alive, pool=pool, owner=owner, nest=nest,
                             size=size, brand=brand)
