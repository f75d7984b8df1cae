"""The customer population as the market sees it: choose, tally, ration, drop; the vectorised fast path.

Two implementations share one interface, picked by ``customers.mode``: :class:`VectorPopulation` (here: numpy
arrays, no Python loop over customers) and :class:`market.reference.AgentPopulation` (one Mesa agent per
customer, plain Python). The model and the clearing only talk to this interface, so the reference checks
everything customer-level the fast path does: who reconsiders, logit choice, token demand, rationing and the
per-cell tallies that settlement and recording read.

Tallies are arrays of shape (S, V, J): segment × vertical × offer, in simulated customers (counts) or Mtok/month
asked (tokens); multiply by the population weight for real units.
"""

from __future__ import annotations

import numpy as np

from agents.customers import CustomerSegment
from market import demand
from market.config import VERTICALS, CustomersConfig

CS_SAMPLE_PER_SEGMENT = 20_000  # customers per segment used to estimate consumer surplus (assumption: <1 % error)


def segment_sizes(cfg: CustomersConfig) -> list[int]:
    """Simulated customers per segment: shares × n_customers, rounded, the last segment taking the remainder."""
    counts = [int(round(s.share * cfg.n_customers)) for s in cfg.segments]
    counts[-1] = cfg.n_customers - sum(counts[:-1])
    return counts


def make_population(model, cfg: CustomersConfig):
    """The population for ``cfg.mode``: ``"vectorised"`` (default) or ``"agents"`` (the reference)."""
    if cfg.mode == "agents":
        from market.reference import AgentPopulation

        return AgentPopulation(model, cfg)
    return VectorPopulation(model, cfg)


class VectorPopulation:
    """All customers as global numpy arrays; one :class:`CustomerSegment` Mesa agent per segment holds views.

    Arrays of shape (n,): ``vertical``, ``wtp_usd`` ($/month), ``usage_mtok`` (Mtok/month at the start),
    ``switching_cost_usd`` ($), ``choice`` (offer id or OUTSIDE).
    """

    mode = "vectorised"

    def __init__(self, model, cfg: CustomersConfig) -> None:
        self.segments = [CustomerSegment(model, seg, n, VERTICALS) for seg, n in zip(cfg.segments, segment_sizes(cfg))]
        attrs = ("vertical", "wtp_usd", "usage_mtok", "switching_cost_usd", "choice")
        for attr in attrs:
            setattr(self, attr, np.concatenate([getattr(s, attr) for s in self.segments]))
        start = 0
        self.cs_sample: list[np.ndarray] = []
        for seg in self.segments:
            seg.start, seg.stop = start, start + seg.n
            for attr in attrs:
                setattr(seg, attr, getattr(self, attr)[seg.start:seg.stop])
            k = min(seg.n, CS_SAMPLE_PER_SEGMENT)
            self.cs_sample.append(np.sort(model.rng.choice(seg.n, size=k, replace=False)) if k else np.empty(0, int))
            start += seg.n
        self.n = start
        self.n_segments = len(self.segments)
        # Cell of each customer in the (segment, vertical) grid, so one bincount tallies everyone.
        seg_index = np.repeat(np.arange(self.n_segments), [s.n for s in self.segments])
        self.cell = (seg_index * len(VERTICALS) + self.vertical).astype(np.int64)
        self.price_scales = np.array([s.price_scale_usd for s in self.segments])
        # The sample is fixed: group its traits by vertical once.
        self._cs_blocks = [[(int(vv), seg.wtp_usd[sample[seg.vertical[sample] == vv]],
                             seg.usage_mtok[sample[seg.vertical[sample] == vv]])
                            for vv in np.unique(seg.vertical[sample])]
                           for seg, sample in zip(self.segments, self.cs_sample)]
        self.version = 0  # bumped on every change of choices: keys the cached tallies
        self._code: tuple[tuple[int, int], np.ndarray] | None = None
        self._menu_cache: tuple[demand.Offers | None, dict[int, list[demand.Menu]]] = (None, {})
        self._counts: tuple[tuple[int, int], np.ndarray] | None = None

    # ------------------------------------------------------------------------------------------ choices

    def _menus(self, offers: demand.Offers, s: int) -> list[demand.Menu]:
        """Segment ``s``'s menu per vertical for ``offers``; built once per round's offers."""
        if self._menu_cache[0] is not offers:  # holding the object: a new round's offers never hit a stale entry
            self._menu_cache = (offers, {})
        cache = self._menu_cache[1]
        if s not in cache:
            seg = self.segments[s]
            cache[s] = [demand.menu(offers, vv, seg.api_capable, seg.price_scale_usd, seg.quality_exponent)
                        for vv in range(len(VERTICALS))]
        return cache[s]

    def _choose(self, s: int, idx: np.ndarray, offers: demand.Offers, usage_factor: float,
                rng: np.random.Generator, blocked: np.ndarray | None = None) -> None:
        """Members ``idx`` (segment-local) of segment ``s`` choose; ``blocked`` (J,) offers are closed to them."""
        if idx.size == 0:
            return
        seg = self.segments[s]
        menus = None if blocked is not None else self._menus(offers, s)
        seg.choice[idx] = demand.choose(offers, seg.vertical[idx], seg.wtp_usd[idx], seg.usage_mtok[idx] * usage_factor,
                                        seg.switching_cost_usd[idx], seg.choice[idx], seg.price_scale_usd,
                                        seg.quality_exponent, seg.api_capable, rng, blocked=blocked, menus=menus)
        self.version += 1

    def choose_all(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator) -> None:
        """Everyone chooses (set-up)."""
        for s, seg in enumerate(self.segments):
            self._choose(s, np.arange(seg.n), offers, usage_factor, rng)

    def reconsider(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator) -> int:
        """Those reconsidering this round choose again; returns how many did."""
        looked = 0
        for s, seg in enumerate(self.segments):
            idx = seg.reconsidering(rng)
            self._choose(s, idx, offers, usage_factor, rng)
            looked += idx.size
        return looked

    def drop_offers(self, dead_offer_ids: np.ndarray) -> int:
        """Customers of dead offers go outside and choose next round; returns how many (simulated)."""
        self.version += 1
        return sum(seg.drop_offers(dead_offer_ids) for seg in self.segments)

    def reassign(self, old_ids: np.ndarray, new_id: int) -> None:
        """Customers of ``old_ids`` now hold ``new_id`` (an acquired app, same plan, no switching)."""
        self.choice[np.isin(self.choice, old_ids)] = new_id
        self.version += 1

    # ------------------------------------------------------------------------------------------ tallies

    def _cell_code(self, n_offers: int) -> np.ndarray:
        """(n,) index of each customer's (segment, vertical, offer) cell; offer column 0 is the outside option."""
        key = (self.version, n_offers)
        if self._code is None or self._code[0] != key:
            code = self.cell * (n_offers + 1)
            code += self.choice
            code += 1
            self._code = (key, code)
        return self._code[1]

    def counts(self, n_offers: int) -> np.ndarray:
        """(S, V, J) simulated customers per segment, vertical and offer; cached until choices change."""
        key = (self.version, n_offers)
        if self._counts is None or self._counts[0] != key:
            cells = np.bincount(self._cell_code(n_offers), minlength=self.n_segments * len(VERTICALS) * (n_offers + 1))
            self._counts = (key, cells.reshape(self.n_segments, len(VERTICALS), n_offers + 1)[:, :, 1:].astype(float))
        return self._counts[1]

    def customer_tokens(self, offers: demand.Offers, usage_factor: float) -> np.ndarray:
        """(n,) Mtok/month each customer asks of its offer: its use up to the offer's cap; 0 outside."""
        cap = np.append(offers.cap_mtok, 0.0)  # index −1 (outside) reads the appended 0
        tokens = self.usage_mtok * usage_factor
        return np.minimum(tokens, cap[self.choice], out=tokens)

    def tally(self, offers: demand.Offers, usage_factor: float) -> tuple[np.ndarray, np.ndarray]:
        """((S, V, J) customers, (S, V, J) Mtok/month asked), simulated units."""
        j = offers.n
        size = self.n_segments * len(VERTICALS) * (j + 1)
        tokens = np.bincount(self._cell_code(j), weights=self.customer_tokens(offers, usage_factor), minlength=size)
        shape = (self.n_segments, len(VERTICALS), j + 1)
        return self.counts(j), tokens.reshape(shape)[:, :, 1:]

    def sample(self, k: int) -> dict[str, np.ndarray]:
        """Traits and current choice of ``k`` customers evenly spaced through the population (segments are
        contiguous, so every segment is represented in proportion): customer, segment, vertical (indices),
        wtp_usd ($/month), usage_mtok (Mtok/month at the start), switching_cost_usd ($), choice (offer id or −1)."""
        idx = np.unique(np.linspace(0, self.n - 1, min(k, self.n)).astype(np.int64))
        seg = np.searchsorted([s.stop for s in self.segments], idx, side="right")
        return dict(customer=idx, segment=seg, vertical=self.vertical[idx].astype(int), wtp_usd=self.wtp_usd[idx],
                    usage_mtok=self.usage_mtok[idx], switching_cost_usd=self.switching_cost_usd[idx],
                    choice=self.choice[idx].astype(int))

    # ------------------------------------------------------------------------------------------ rationing

    def ration(self, offers: demand.Offers, usage_factor: float, capacity: np.ndarray, blocked: np.ndarray,
               rng: np.random.Generator) -> int:
        """Over-full pools admit their customers in random order until full (:func:`demand.turned_away`); those
        turned away choose again with the full pools' offers closed. Returns how many were turned away (simulated).

        Args: capacity: (P,) Mtok/month per pool, simulated units; blocked: (J,) bool, offers whose pool is
        over capacity.
        """
        in_full = np.append(blocked, False)[self.choice]  # index −1 (outside) reads the appended False
        idx = np.flatnonzero(in_full)
        held = self.choice[idx]
        tokens = np.minimum(self.usage_mtok[idx] * usage_factor, offers.cap_mtok[held])
        away = idx[demand.turned_away(offers.pool[held], tokens, capacity, rng)]
        for s, seg in enumerate(self.segments):
            lo, hi = np.searchsorted(away, [seg.start, seg.stop])
            self._choose(s, away[lo:hi] - seg.start, offers, usage_factor, rng, blocked=blocked)
        return int(away.size)

    # ------------------------------------------------------------------------------------------ welfare

    def consumer_surplus(self, offers: demand.Offers, usage_factor: float) -> float:
        """Expected consumer surplus over the outside option, $/month, simulated units: μ × logit inclusive value
        (Small & Rosen 1981) on a fixed random sample per segment, scaled to the segment. Switching costs are
        left out (a welfare measure of the offers, not of moving)."""
        total = 0.0
        for s, (seg, sample, blocks) in enumerate(zip(self.segments, self.cs_sample, self._cs_blocks)):
            menus = self._menus(offers, s)
            iv_sum = 0.0
            for vv, wtp, usage in blocks:
                if menus[vv].cols.size:
                    v = demand.menu_utilities(menus[vv], wtp, usage * usage_factor)
                    iv_sum += float(demand.inclusive_value_rows(v).sum())
            if sample.size:
                total += iv_sum / sample.size * seg.price_scale_usd * seg.n
        return total
