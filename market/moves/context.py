"""What a lab's review knows: the forecast's customers, the lab's offers and costs, the wrappers that buy its tokens
or would, its rivals (docs/design.md, "Strategic moves"). Built once per review and shared by every move.

Costs are long-run marginal costs: a token of a lab's model costs the GPU time of one more token at full batching
(``costs.marginal_cost_usd_per_mtok`` at the owned GPU price, × the tier's size) divided by the utilisation the lab
sizes its fleet for (assumption: over a strategic horizon the fleet follows demand, so serving more costs the GPUs
bought for it). A host rents what it serves, so its tokens cost its unit cost now.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from agents.lab import FrontierLab
from agents.wrapper import WrapperApp
from market import costs
from market.moves.forecast import Terms
from market.moves.sample import SampleBase, pick_offers, sample_base, terms_on_sample
from market.offers import FREE
from market.pricing import firm_view


@dataclass(frozen=True)
class Link:
    """A wrapper buying, or able to buy, tokens of one of the lab's API tiers.

    Attributes: wrapper; rows: its plans' offer ids; tier; markup: 1 + the surcharge it pays now; unit_cost: the
    lab's cost of one of its tokens on that tier ($/Mtok); stay_below: the list price ($/Mtok) up to which it keeps
    (or, for a joiner, moves) its tokens there at the current markup; band: the price gap ($/Mtok) between the price
    that makes it move and the one that makes it leave again (twice its switching threshold per token).
    """

    wrapper: WrapperApp
    rows: np.ndarray
    tier: int
    markup: float
    unit_cost: float
    stay_below: float
    band: float


@dataclass(frozen=True)
class Rival:
    """Another API seller: the firm, its offer ids and the cost of a token on each ($/Mtok, (R,))."""

    firm: object
    rows: np.ndarray
    unit_cost: np.ndarray


def lab_unit_cost(model, lab: FrontierLab) -> float:
    """Long-run marginal cost ($) of one of the lab's frontier-model Mtok (module docstring)."""
    mc = float(costs.marginal_cost_usd_per_mtok(model.tech_of(lab), model.gpu_owned_usd_per_hour))
    return mc / lab.cfg.target_utilisation


def _host_unit_cost(model, host) -> float:
    unit = host.last.unit_cost_usd_per_mtok
    if math.isfinite(unit):
        return float(unit)
    return float(costs.marginal_cost_usd_per_mtok(model.tech_of(host), model.gpu_rent_usd_per_hour))


@dataclass
class LabContext:
    """A review's shared inputs (module docstring). ``groups`` are the chain's tracked groups: the lab's own offers,
    then the plans of the wrappers buying its tokens.
    ``cost`` ((R,) $/Mtok) is the long-run marginal cost of a token on each of the lab's offers, ``unit_cost`` that
    of a frontier-model token ($/Mtok); ``months`` the forecast horizon. ``cache`` keeps the holdings chain's
    transitions for the whole review (every move's context shares it: options that leave the utilities as they are
    reuse the status quo's)."""

    model: object
    lab: FrontierLab
    base: SampleBase
    own: np.ndarray
    cost: np.ndarray
    links: tuple[Link, ...]
    joiners: tuple[Link, ...]
    rivals: tuple[Rival, ...]
    months: int
    unit_cost: float
    cache: dict = field(default_factory=dict)

    @property
    def offers(self):
        """The oracle's offers the forecast starts from."""
        return self.base.offers

    @property
    def nest(self) -> np.ndarray:
        """(J,) nest of each offer."""
        return self.base.offers.nest

    @property
    def groups(self) -> tuple[np.ndarray, ...]:
        """(the lab's offers, the plans of wrappers buying from it)."""
        w = np.concatenate([lk.rows for lk in self.links]) if self.links else np.empty(0, np.int64)
        return (self.own, w.astype(np.int64))

    def open_to(self, rows: np.ndarray) -> np.ndarray:
        """Indices of the forecast's customers to whom some offer of ``rows`` is open now."""
        rows = np.asarray(rows, dtype=np.int64)
        return np.flatnonzero(np.isfinite(self.base.v0[rows]).any(axis=0)) if rows.size else np.empty(0, np.int64)

    def focus(self, cols: np.ndarray | None = None, rivals: bool = True) -> "LabContext":
        """This context on customers ``cols`` only (those a move can concern; others' flows are the same under
        every option), and without rivals' figures when the move's forecast does not check their exits."""
        base = self.base if cols is None else self.base.subset(cols)
        return dataclasses.replace(self, base=base, rivals=self.rivals if rivals else ())

    def own_rows(self, kind: str, vertical: str | None = None) -> np.ndarray:
        """The lab's offer ids of one kind (``market.offers`` kinds), within the oracle's offers."""
        book = self.model.book
        return np.array([j for j in book.ids(self.lab, kind) if j < self.offers.n
                         and (vertical is None or book.entries[j].vertical == vertical)], dtype=np.int64)

    def values(self, x: np.ndarray, pay: np.ndarray, links: list[tuple[Link, float, float]],
               own: np.ndarray | None = None, cost: np.ndarray | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Metrics of a regime from its tokens and payments ((J', M)): ``rev`` and ``gp``, the lab's revenue and
        gross profit ($/month per holding: own offers' payments less their cost; wrappers' tokens × the price they
        pay the lab, less its cost), ``gp:<id>`` each rival's gross profit, ``free`` the lab's free-tier tokens.

        Args: links: (link, tier list price $/Mtok, markup) of each wrapper paying the lab in this regime; own and
        cost: the lab's offer ids and their cost per Mtok (default: the context's).
        """
        own = self.own if own is None else own
        cost = self.cost if cost is None else cost
        rows, rev, gp = [own], [pay[own]], [pay[own] - cost[:, None] * x[own]]
        for link, price, markup in links:
            tokens = x[link.rows]
            rows.append(link.rows)
            rev.append(tokens * price * markup)
            gp.append(tokens * (price * markup - link.unit_cost))
        ids = np.concatenate(rows)
        out = {"rev": (ids, np.vstack(rev)), "gp": (ids, np.vstack(gp))}
        for rival in self.rivals:
            out[f"gp:{rival.firm.unique_id}"] = (rival.rows, pay[rival.rows] - rival.unit_cost[:, None] * x[rival.rows])
        out["free"] = (self.free_rows, x[self.free_rows])
        return out

    @functools.cached_property
    def free_rows(self) -> np.ndarray:
        """The lab's free-tier offer ids."""
        return self.own_rows(FREE)

    def now_links(self) -> list[tuple[Link, float, float]]:
        """(link, list price, markup) of every wrapper paying the lab now."""
        return [(lk, self.lab.tier_price(lk.tier), lk.markup) for lk in self.links]

    @functools.cached_property
    def now(self) -> Terms:
        """The current terms."""
        return Terms(self.base.v0, self.base.x, self.base.pay, self.values(self.base.x, self.base.pay, self.now_links()))

    def terms(self, v0=None, x=None, pay=None, links=None) -> Terms:
        """A regime's :class:`Terms`, the current arrays where none are given."""
        if v0 is None and x is None and pay is None and links is None:
            return self.now
        v0 = self.base.v0 if v0 is None else v0
        x = self.base.x if x is None else x
        pay = self.base.pay if pay is None else pay
        return Terms(v0, x, pay, self.values(x, pay, self.now_links() if links is None else links))

    def with_rows(self, rows: np.ndarray, **changes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(v0, x, pay) of the current offers with offers ``rows`` changed (``pick_offers`` keywords). Changes that
        leave every customer's terms as they are return the current arrays themselves, so the review's cache
        (``cache``) finds the status quo's transitions for them."""
        base = self.base
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return base.v0, base.x, base.pay
        nv, nx, npay = terms_on_sample(base, pick_offers(self.offers, rows, **changes))
        if (np.array_equal(nv, base.v0[rows]) and np.array_equal(nx, base.x[rows])
                and np.array_equal(npay, base.pay[rows])):
            return base.v0, base.x, base.pay
        v0, x, pay = base.v0.copy(), base.x.copy(), base.pay.copy()
        v0[rows], x[rows], pay[rows] = nv, nx, npay
        return v0, x, pay


def _links(model, lab: FrontierLab, unit: float) -> tuple[tuple[Link, ...], tuple[Link, ...]]:
    view = firm_view(model, lab)
    out = []
    for table in (view.wrappers, view.joiners):
        links = []
        for tier, items in sorted(table.items()):
            for item in items:
                wrapper = model.agent_by_id(item.wrapper_id)
                tokens = wrapper.last.tokens_mtok
                if tokens <= 0 and wrapper.sourcing is not None and wrapper.sourcing.tokens_mtok is not None:
                    tokens = float(np.max(wrapper.sourcing.tokens_mtok))
                band = 2.0 * wrapper.switch_threshold_usd() / tokens if tokens > 0 else math.inf
                links.append(Link(wrapper, item.rows, tier, item.markup_factor, unit * item.size, item.stay_below,
                                  band))
        out.append(tuple(links))
    return out[0], out[1]


def lab_context(model, lab: FrontierLab) -> LabContext:
    """The review's inputs for ``lab`` from the round's demand oracle and the population's current holdings."""
    oracle = model.oracle
    if oracle.offers.n != len(model.book.entries):  # offers added since the oracle was built (entry, launches)
        oracle = model.oracle = model.oracle_now(model.book.build())
    segs = model.config.customers.segments
    base = sample_base(oracle, model.choice, model.config.moves.sample_per_cell,
                       np.array([s.reconsider_prob for s in segs]), np.array([s.reconsider_prob_news for s in segs]))
    unit = lab_unit_cost(model, lab)
    own = np.array([j for j in model.book.ids(lab) if j < base.offers.n], dtype=np.int64)
    links, joiners = _links(model, lab, unit)
    rivals = []
    for firm in model.alive([*model.labs, *model.providers]):
        if firm is lab:
            continue
        rows = np.array([j for j in model.book.ids(firm) if j < base.offers.n], dtype=np.int64)
        if isinstance(firm, FrontierLab):
            cost = lab_unit_cost(model, firm) * base.offers.size[rows]
        else:
            cost = np.full(rows.size, _host_unit_cost(model, firm))
        rivals.append(Rival(firm, rows, cost))
    return LabContext(model, lab, base, own, unit * base.offers.size[own], links, joiners, tuple(rivals),
                      model.config.moves.horizon_months, unit)
