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
from market import demand
from market.config import VERTICALS, CustomersConfig
from market.segments import CS_SAMPLE_PER_SEGMENT, News, Tally, nest_lambdas, segment_sizes

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
        for seg in self.segments:
            seg.start, seg.stop = start, start + seg.n
            for attr in self.ATTRS:
                setattr(seg, attr, getattr(self, attr)[seg.start:seg.stop])
            k = min(seg.n, CS_SAMPLE_PER_SEGMENT)
            self.cs_sample.append(np.sort(model.rng.choice(seg.n, size=k, replace=False)) if k else np.empty(0, int))
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
        self._code: tuple[tuple[int, int], np.ndarray] | None = None
        self._menu_cache: tuple[demand.Offers | None, dict[int, list[demand.Menu]]] = (None, {})
        self._counts: tuple[tuple[int, int], np.ndarray] | None = None
        self._forced: list[list[np.ndarray]] = [[] for _ in self.segments]
        self._tokens: tuple | None = None

    # ------------------------------------------------------------------------------------------ awareness

    def _candidates(self) -> None:
        """Per segment, who could still learn of AI, and of each lab's apps: index arrays kept lazily (entries that
        have since learned are skipped when drawn and dropped when they make up half the array)."""
        for seg in self.segments:
            ai = (seg.aware & AI_AWARE) != 0
            seg.cand_ai = np.flatnonzero(~ai)
            seg.cand_brand = [np.flatnonzero(ai & ((seg.aware & brand_bit(b)) == 0)) for b in range(self.n_brands)]
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
            hazard = seg_cfg.bass_innovation + seg_cfg.bass_imitation * users[s] / max(seg.n, 1)
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
                    seg.cand_brand[b] = np.concatenate([seg.cand_brand[b], fresh[~gets]])
                newly += fresh.size
                self._forced[s].append(fresh)
            for b in range(self.n_brands):
                hazard_b = cfg.brand_innovation + cfg.brand_imitation * brand_users[s, b] / max(n_aware, 1)
                bit = brand_bit(b)
                hit, cand = self._draw(rng, seg.cand_brand[b], hazard_b, seg.aware, bit)
                seg.aware[hit] |= bit
                seg.n_brand[b] += hit.size
                if 2 * (cand.size - (seg.n_ai - seg.n_brand[b])) > cand.size:  # over half stale: compact
                    cand = cand[(seg.aware[cand] & bit) == 0]
                seg.cand_brand[b] = cand
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

    def _choose(self, s: int, idx: np.ndarray, offers: demand.Offers, usage_factor: float,
                rng: np.random.Generator, blocked: np.ndarray | None = None) -> None:
        """Members ``idx`` (segment-local) of segment ``s`` choose; ``blocked`` (J,) offers are closed to them."""
        if idx.size == 0:
            return
        seg = self.segments[s]
        menus = None if blocked is not None else self._menus(offers, s)
        seg.choice[idx] = demand.choose(
            offers, seg.vertical[idx], seg.wtp_usd[idx], seg.usage_mtok[idx] * usage_factor,
            seg.switching_cost_usd[idx] / seg.tenure_months, seg.choice[idx], seg.aware[idx],
            seg.price_scale_usd, seg.quality_exponent, self.lam, seg.api_capable, rng, blocked=blocked, menus=menus,
            wtp_median=seg.wtp_median_usd)
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
        look &= (seg.aware & AI_AWARE) != 0
        return np.flatnonzero(look)

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
        self.version += 1
        moved = 0
        for s, seg in enumerate(self.segments):
            hit = np.flatnonzero(np.isin(seg.choice, dead_offer_ids))
            seg.choice[hit] = demand.OUTSIDE
            if hit.size:
                self._forced[s].append(hit)
            moved += hit.size
        return moved

    def reassign(self, old_ids: np.ndarray, new_ids: np.ndarray) -> None:
        """Customers of ``old_ids[k]`` now hold ``new_ids[k]`` (an acquired app: same plan, no switching)."""
        for old, new in zip(np.atleast_1d(old_ids), np.atleast_1d(new_ids)):
            self.choice[self.choice == old] = new
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
        """(n,) Mtok/month each customer uses of its offer (0 outside): its need up to a plan's cap, or the use
        that a per-token or overage price makes worth it (:func:`demand.token_use`). Cached until choices, offers
        or the usage factor change."""
        key = (self.version, id(offers), usage_factor)
        if self._tokens is not None and self._tokens[0] == key and self._tokens[1] is offers:
            return self._tokens[2]
        tokens = self._customer_tokens(offers, usage_factor)
        self._tokens = (key, offers, tokens)
        return tokens

    def _customer_tokens(self, offers: demand.Offers, usage_factor: float) -> np.ndarray:
        cap = np.append(offers.cap_mtok, 0.0)  # index −1 (outside) reads the appended 0
        need = self.usage_mtok * usage_factor
        tokens = np.minimum(need, cap[self.choice])
        priced = (offers.price_mtok > 0) | np.isfinite(offers.overage_usd_per_mtok)
        if priced.any():
            for seg in self.segments:
                ch = seg.choice
                rows = np.flatnonzero(np.append(priced, False)[ch])
                if rows.size:
                    j = ch[rows]
                    benefit = seg.wtp_usd[rows] * (offers.fit[seg.vertical[rows], j] * offers.quality[j]) ** seg.quality_exponent
                    tokens[seg.start + rows] = demand.token_use(need[seg.start + rows], benefit, offers.price_mtok[j],
                                                                offers.cap_mtok[j], offers.overage_usd_per_mtok[j])
        return tokens

    def tally(self, offers: demand.Offers, usage_factor: float) -> Tally:
        """Customers, tokens asked and overage tokens per (segment, vertical, offer), simulated units."""
        j = offers.n
        size = self.n_segments * len(VERTICALS) * (j + 1)
        shape = (self.n_segments, len(VERTICALS), j + 1)
        code = self._cell_code(j)
        tokens = self.customer_tokens(offers, usage_factor)
        cells = np.bincount(code, weights=tokens, minlength=size).reshape(shape)[:, :, 1:]
        overage = np.zeros_like(cells)
        if np.isfinite(offers.overage_usd_per_mtok).any():
            extra = np.maximum(0.0, tokens - np.append(offers.cap_mtok, np.inf)[self.choice])
            overage = np.bincount(code, weights=extra, minlength=size).reshape(shape)[:, :, 1:]
        return Tally(self.counts(j), cells, overage)

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
        value (McFadden 1978; Small & Rosen 1981) on a fixed random sample per segment, scaled to the segment.
        Switching costs are left out (a welfare measure of the offers, not of moving); customers unaware of an
        offer get nothing from it."""
        total = 0.0
        for s, (seg, sample) in enumerate(zip(self.segments, self.cs_sample)):
            if not sample.size:
                continue
            menus = self._menus(offers, s)
            iv_sum = 0.0
            vert = seg.vertical[sample]
            for vv, rows in enumerate(demand.by_vertical(vert, len(VERTICALS))):
                if rows.size == 0 or menus[vv].cols.size == 0:
                    continue
                who = sample[rows]
                who = who[(seg.aware[who] & AI_AWARE) != 0]  # the unaware get nothing from AI
                if who.size == 0:
                    continue
                v = demand.menu_utilities(menus[vv], seg.wtp_usd[who], seg.usage_mtok[who] * usage_factor,
                                          aware=seg.aware[who])
                mu_i = 1.0 / demand.inverse_scale(menus[vv], seg.wtp_usd[who])
                iv_sum += float(demand.inclusive_value(v, menus[vv].nest_rows, self.lam) @ mu_i)
            total += iv_sum / sample.size * seg.n
        return total
