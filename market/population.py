"""The customer population as the market sees it: become aware, reconsider, choose, tally, ration; the fast path.

Two implementations share one interface, picked by ``customers.mode``: :class:`VectorPopulation` (here: numpy
arrays, no Python loop over customers) and :class:`market.reference.AgentPopulation` (one Mesa agent per
customer, plain Python). The model and the clearing only talk to this
interface (``market.model.make_population`` builds either), so the reference checks everything customer-level the
fast path does: awareness, who reconsiders, nested logit choice, token use, rationing and the per-cell tallies
that settlement and recording read.

Tallies are arrays of shape (S, V, J): segment × vertical × offer, in simulated customers (counts) or Mtok/month
(tokens); multiply by the population weight for real units.
"""

from __future__ import annotations


import numpy as np

from agents.customers import AI_AWARE, CustomerSegment, brand_bit
from market import choice, demand
from market.config import VERTICALS, CustomersConfig
from market.segments import CS_SAMPLE_PER_SEGMENT, News, Tally, cs_sample, nest_lambdas, segment_sizes
from market.tallies import ChoiceTally

def bass_hazard(innovation, imitation, adopters, population):
    """Monthly hazard of adopting (here: becoming aware) in the Bass (1969) diffusion model, p + q · N / n, capped
    at 1: the one law both the population (``VectorPopulation.spread_awareness``) and the strategic forecast
    (market/moves/awareness.py) apply.

    Args: innovation p and imitation q (per month; config ``customers.segments[].bass_innovation`` and
    ``bass_imitation`` for AI, ``customers.brand_innovation`` and ``brand_imitation`` for a lab's apps), adopters N
    and population n (customers, any one unit; n below 1 counts as 1): scalars or arrays that broadcast.
    Returns: the hazard (probability per month), float or array.
    """
    return np.minimum(1.0, innovation + imitation * np.asarray(adopters) / np.maximum(population, 1))


class _Candidates:
    """A growing index array (amortised appends: capacity doubles), read as :meth:`view`."""

    def __init__(self, values: np.ndarray) -> None:
        self.replace(values)

    def replace(self, values: np.ndarray) -> None:
        """Hold exactly ``values`` (int64 indices)."""
        self.buf, self.n = np.asarray(values, dtype=np.int64), int(values.size)

    def view(self) -> np.ndarray:
        """(n,) the held indices."""
        return self.buf[:self.n]

    def extend(self, more: np.ndarray) -> None:
        """Append ``more`` (int64 indices)."""
        need = self.n + more.size
        if need > self.buf.size:
            grown = np.empty(max(need, 2 * self.buf.size), dtype=np.int64)
            grown[:self.n] = self.buf[:self.n]
            self.buf = grown
        self.buf[self.n:need] = more
        self.n = need


class VectorPopulation:
    """All customers as global numpy arrays; one :class:`CustomerSegment` Mesa agent per segment holds views.

    Arrays of shape (n,): ``vertical``, ``wtp_usd`` ($/month), ``usage_mtok`` (token need at the start,
    Mtok/month), ``switching_cost_usd`` ($), ``aware`` (bit masks), ``choice`` (offer id or OUTSIDE).
    """

    mode = "vectorised"
    ATTRS = ("vertical", "wtp_usd", "usage_mtok", "switching_cost_usd", "aware", "choice")

    def __init__(self, model, cfg: CustomersConfig, brand_awareness: list[float]) -> None:
        self.segments = [CustomerSegment(model, seg, n, VERTICALS, brand_awareness)
                         for seg, n in zip(cfg.segments, segment_sizes(cfg))]
        for attr in self.ATTRS:
            setattr(self, attr, np.concatenate([getattr(s, attr) for s in self.segments]))
        start = 0
        self.cs_sample: list[np.ndarray] = []
        self.cs_weight: list[np.ndarray] = []
        for seg in self.segments:
            seg.start, seg.stop = start, start + seg.n
            for attr in self.ATTRS:
                setattr(seg, attr, getattr(self, attr)[seg.start:seg.stop])
            pos, weight = cs_sample(seg.vertical, seg.wtp_usd, CS_SAMPLE_PER_SEGMENT, model.rng)
            self.cs_sample.append(pos)
            self.cs_weight.append(weight)
            seg.by_vertical = demand.by_vertical(seg.vertical, len(VERTICALS))
            start += seg.n
        self.n = start
        self.n_segments = len(self.segments)
        self.n_brands = len(brand_awareness)
        self.lam = nest_lambdas(cfg)
        self.news_threshold = cfg.news_price_change
        seg_index = np.repeat(np.arange(self.n_segments), [s.n for s in self.segments])
        self.cell = (seg_index * len(VERTICALS) + self.vertical).astype(np.int64)
        self.price_scales = np.array([s.price_scale_usd for s in self.segments])
        self.version = 0  # bumped on every change of choices: keys the cached tallies
        self.segment_stops = np.array([seg.stop for seg in self.segments])
        self.quality_exponents = np.array([seg.quality_exponent for seg in self.segments])
        self.tallies = ChoiceTally(self)
        self._menu_cache: tuple[demand.Offers | None, dict[int, list[demand.Menu]]] = (None, {})
        self._kernel_cache: tuple[demand.Offers | None, dict[int, list[choice.Kernel]]] = (None, {})
        self._forced: list[list[np.ndarray]] = [[] for _ in self.segments]

    # ------------------------------------------------------------------------------------------ awareness

    def _candidates(self) -> None:
        """Per segment, who could still learn of AI, and of each lab's apps: index arrays kept lazily (entries that
        have since learned are skipped when drawn and dropped when they make up half the array)."""
        for seg in self.segments:
            ai = (seg.aware & AI_AWARE) != 0
            seg.cand_ai = np.flatnonzero(~ai)
            seg.cand_brand = [_Candidates(np.flatnonzero(ai & ((seg.aware & brand_bit(b)) == 0)))
                              for b in range(self.n_brands)]
            seg.n_ai = int(ai.sum())
            seg.n_brand = [int(((seg.aware & brand_bit(b)) != 0).sum()) for b in range(self.n_brands)]

    @staticmethod
    def _draw(rng, cand: np.ndarray, hazard: float, aware: np.ndarray, bit: int) -> tuple[np.ndarray, np.ndarray]:
        """(those of ``cand`` who learn now — each true candidate, not yet holding ``bit``, with probability
        ``hazard`` — and the candidate array)."""
        hit = cand[demand.bernoulli_positions(rng, cand.size, min(1.0, hazard))]
        hit = hit[(aware[hit] & bit) == 0]
        return hit, cand

    def spread_awareness(self, users: np.ndarray, brand_users: np.ndarray, cfg: CustomersConfig,
                         rng: np.random.Generator) -> int:
        """One month of Bass diffusion (Bass 1969). Per segment s, each customer not yet aware of AI becomes aware
        with hazard p_s + q_s · (users_s / n_s); a newly aware customer knows each lab's apps with the share of its
        aware segment that does, and must choose this round. Each customer aware of AI who does not know lab b's
        apps learns of them with hazard p_b + q_b · (b's users in s / aware customers in s) and weighs them the
        next time it looks around. Returns how many became aware of AI (simulated).

        Args: users: (S,) simulated customers using AI by segment; brand_users: (S, L) using each lab's offers.
        """
        if not hasattr(self.segments[0], "cand_ai"):
            self._candidates()
        newly = 0
        for s, seg in enumerate(self.segments):
            seg_cfg = cfg.segments[s]
            hazard = float(bass_hazard(seg_cfg.bass_innovation, seg_cfg.bass_imitation, users[s], seg.n))
            fresh, seg.cand_ai = self._draw(rng, seg.cand_ai, hazard, seg.aware, AI_AWARE)
            known = [seg.n_brand[b] / seg.n_ai if seg.n_ai else 0.0 for b in range(self.n_brands)]
            n_aware = seg.n_ai
            if fresh.size:
                seg.aware[fresh] |= AI_AWARE
                seg.n_ai += fresh.size
                for b, share in enumerate(known):
                    gets = rng.random(fresh.size) < share
                    seg.aware[fresh[gets]] |= brand_bit(b)
                    seg.n_brand[b] += int(gets.sum())
                    seg.cand_brand[b].extend(fresh[~gets])
                newly += fresh.size
                self._forced[s].append(fresh)
            for b in range(self.n_brands):
                hazard_b = float(bass_hazard(cfg.brand_innovation, cfg.brand_imitation, brand_users[s, b], n_aware))
                bit = brand_bit(b)
                pool = seg.cand_brand[b]
                hit, cand = self._draw(rng, pool.view(), hazard_b, seg.aware, bit)
                seg.aware[hit] |= bit
                seg.n_brand[b] += hit.size
                if 2 * (cand.size - (seg.n_ai - seg.n_brand[b])) > cand.size:  # over half stale: compact
                    pool.replace(cand[(seg.aware[cand] & bit) == 0])
            if 2 * (seg.cand_ai.size - (seg.n - seg.n_ai)) > seg.cand_ai.size:
                seg.cand_ai = seg.cand_ai[(seg.aware[seg.cand_ai] & AI_AWARE) == 0]
        return newly

    # ------------------------------------------------------------------------------------------ choices

    def _menus(self, offers: demand.Offers, s: int) -> list[demand.Menu]:
        """Segment ``s``'s menu per vertical for ``offers``; built once per round's offers."""
        if self._menu_cache[0] is not offers:  # holding the object: a new round's offers never hit a stale entry
            self._menu_cache = (offers, {})
        cache = self._menu_cache[1]
        if s not in cache:
            seg = self.segments[s]
            cache[s] = [demand.menu(offers, vv, seg.api_capable, seg.price_scale_usd, seg.quality_exponent, self.lam,
                                    wtp_median=seg.wtp_median_usd)
                        for vv in range(len(VERTICALS))]
        return cache[s]

    def _kernels(self, offers: demand.Offers, s: int) -> list[choice.Kernel]:
        """Segment ``s``'s :class:`choice.Kernel` per vertical for ``offers``; built once per round's offers."""
        if self._kernel_cache[0] is not offers:
            self._kernel_cache = (offers, {})
        cache = self._kernel_cache[1]
        if s not in cache:
            cache[s] = [choice.kernel(m) for m in self._menus(offers, s)]
        return cache[s]

    def _choose(self, s: int, idx: np.ndarray, offers: demand.Offers, usage_factor: float,
                rng: np.random.Generator, blocked: np.ndarray | None = None) -> None:
        """Members ``idx`` (segment-local) of segment ``s`` choose; ``blocked`` (J,) offers are closed to them."""
        if idx.size == 0:
            return
        seg = self.segments[s]
        kernels = None if blocked is not None else self._kernels(offers, s)
        new = choice.choose(
            offers, seg.vertical[idx], seg.wtp_usd[idx], seg.usage_mtok[idx] * usage_factor,
            seg.switching_cost_usd[idx] / seg.tenure_months, seg.choice[idx], seg.aware[idx],
            seg.price_scale_usd, seg.quality_exponent, self.lam, seg.api_capable, rng, blocked=blocked, kernels=kernels,
            wtp_median=seg.wtp_median_usd)
        self._set_choices(seg.start + idx, new)

    def _set_choices(self, idx: np.ndarray, new: np.ndarray) -> None:
        """Customers ``idx`` (global indices, unique) now hold ``new`` (offer ids or OUTSIDE)."""
        self.tallies.moved(idx, new)
        self.choice[idx] = new
        self.version += 1

    def choose_all(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator) -> None:
        """Every customer aware of AI chooses (set-up)."""
        for s, seg in enumerate(self.segments):
            self._choose(s, np.flatnonzero(seg.aware & AI_AWARE), offers, usage_factor, rng)

    def reconsidering(self, s: int, news: News | None, rng: np.random.Generator) -> np.ndarray:
        """Sorted segment-local indices of members of segment ``s`` who look at the market this round: each aware
        member with ``reconsider_prob``, those with news with ``reconsider_prob_news``, plus everyone forced to."""
        seg = self.segments[s]
        look = np.zeros(seg.n, dtype=bool)  # a mask, not set unions: the forced lists can be large
        look[demand.bernoulli_positions(rng, seg.n, seg.reconsider_prob)] = True
        if news is not None and news.any() and seg.reconsider_prob_news > seg.reconsider_prob:
            # A second draw over those with news tops their probability up to reconsider_prob_news.
            extra_p = (seg.reconsider_prob_news - seg.reconsider_prob) / (1.0 - seg.reconsider_prob)
            groups = [seg.by_vertical[v] for v in np.flatnonzero(news.new_offer)]
            if news.price_rose.any():
                groups.append(np.flatnonzero(np.append(news.price_rose, False)[seg.choice]))
            for g in groups:
                look[g[demand.bernoulli_positions(rng, g.size, extra_p)]] = True
        for forced in self._forced[s]:
            look[forced] = True
        self._forced[s].clear()
        idx = np.flatnonzero(look)
        return idx[(seg.aware[idx] & AI_AWARE) != 0]  # on those drawn, not the whole segment

    def reconsider(self, offers: demand.Offers, usage_factor: float, rng: np.random.Generator,
                   news: News | None = None) -> int:
        """Those reconsidering this round choose again; returns how many did."""
        looked = 0
        for s in range(self.n_segments):
            idx = self.reconsidering(s, news, rng)
            self._choose(s, idx, offers, usage_factor, rng)
            looked += idx.size
        return looked

    def drop_offers(self, dead_offer_ids: np.ndarray) -> int:
        """Customers of dead offers go outside and choose next round; returns how many (simulated)."""
        hit = np.flatnonzero(np.isin(self.choice, dead_offer_ids))
        self._set_choices(hit, np.full(hit.size, demand.OUTSIDE, dtype=self.choice.dtype))
        for s, seg in enumerate(self.segments):
            lo, hi = np.searchsorted(hit, [seg.start, seg.stop])
            if hi > lo:
                self._forced[s].append(hit[lo:hi] - seg.start)
        return int(hit.size)

    def reassign(self, old_ids: np.ndarray, new_ids: np.ndarray) -> None:
        """Customers of ``old_ids[k]`` now hold ``new_ids[k]`` (an acquired app: same plan, no switching)."""
        for old, new in zip(np.atleast_1d(old_ids), np.atleast_1d(new_ids)):
            hit = np.flatnonzero(self.choice == old)
            self._set_choices(hit, np.full(hit.size, new, dtype=self.choice.dtype))

    # ------------------------------------------------------------------------------------------ tallies

    def counts(self, n_offers: int) -> np.ndarray:
        """(S, V, J) simulated customers per segment, vertical and offer (market/tallies.py)."""
        return self.tallies.counts_cells(n_offers)

    def customer_tokens(self, offers: demand.Offers, usage_factor: float) -> np.ndarray:
        """(n,) Mtok/month each customer uses of its offer (0 outside): its need up to a plan's cap, or the use
        that a per-token or overage price makes worth it (:func:`demand.token_use`)."""
        return self.tallies.customer_tokens(offers, usage_factor)

    def tally(self, offers: demand.Offers, usage_factor: float) -> Tally:
        """Customers, tokens asked and overage tokens per (segment, vertical, offer), simulated units."""
        return self.tallies.tally(offers, usage_factor)

    def sample(self, k: int) -> dict[str, np.ndarray]:
        """Traits and current choice of ``k`` customers evenly spaced through the population (segments are
        contiguous, so every segment is represented in proportion): customer, segment, vertical (indices),
        wtp_usd ($/month), usage_mtok (token need at the start, Mtok/month), switching_cost_usd ($), aware (bit
        mask), choice (offer id or −1)."""
        idx = np.unique(np.linspace(0, self.n - 1, min(k, self.n)).astype(np.int64))
        seg = np.searchsorted([s.stop for s in self.segments], idx, side="right")
        return dict(customer=idx, segment=seg, vertical=self.vertical[idx].astype(int), wtp_usd=self.wtp_usd[idx],
                    usage_mtok=self.usage_mtok[idx], switching_cost_usd=self.switching_cost_usd[idx],
                    aware=self.aware[idx].astype(int), choice=self.choice[idx].astype(int))

    # ------------------------------------------------------------------------------------------ rationing

    def ration(self, offers: demand.Offers, usage_factor: float, capacity: np.ndarray, pool_load: np.ndarray,
               blocked: np.ndarray, rng: np.random.Generator) -> int:
        """Each customer of an over-full pool gets in with probability capacity / load of its pool
        (:func:`demand.turned_away`); those turned away choose again with the full pools' offers closed. Returns
        how many were turned away (simulated).

        Args: capacity, pool_load: (P,) reference-model Mtok/month per pool, simulated units; blocked: (J,) bool,
        offers whose pool is over capacity.
        """
        in_full = np.append(blocked, False)[self.choice]  # index −1 (outside) reads the appended False
        idx = np.flatnonzero(in_full)
        away = idx[demand.turned_away(offers.pool[self.choice[idx]], pool_load, capacity, rng)]
        for s, seg in enumerate(self.segments):
            lo, hi = np.searchsorted(away, [seg.start, seg.stop])
            self._choose(s, away[lo:hi] - seg.start, offers, usage_factor, rng, blocked=blocked)
        return int(away.size)

    # ------------------------------------------------------------------------------------------ welfare

    def consumer_surplus(self, offers: demand.Offers, usage_factor: float) -> float:
        """Expected consumer surplus over the outside option, $/month, simulated units: μ_i × nested-logit inclusive
        value (McFadden 1978; Small & Rosen 1981) on a fixed sample per segment stratified by vertical and
        willingness to pay (:func:`segments.cs_sample`), scaled to the segment.
        Switching costs are left out (a welfare measure of the offers, not of moving); customers unaware of an
        offer get nothing from it."""
        total = 0.0
        for s, (seg, sample, weight) in enumerate(zip(self.segments, self.cs_sample, self.cs_weight)):
            aware = (seg.aware[sample] & AI_AWARE) != 0  # the unaware get nothing from AI
            who_all, w_all = sample[aware], weight[aware]
            if not who_all.size:
                continue
            kernels = self._kernels(offers, s)
            for vv, rows in enumerate(demand.by_vertical(seg.vertical[who_all], len(VERTICALS))):
                if rows.size == 0 or kernels[vv].cols.size == 0:
                    continue
                who = who_all[rows]
                mu_i = seg.price_scale_usd * seg.wtp_usd[who] / seg.wtp_median_usd
                total += float(choice.inclusive_values(kernels[vv], seg.wtp_usd[who], seg.usage_mtok[who] * usage_factor,
                                                       seg.aware[who]) @ (mu_i * w_all[rows]))
        return total
