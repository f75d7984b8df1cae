"""Cells of the population's choices — customers, tokens asked and overage per (segment, vertical, offer) —
kept up to date as choices change, so that a round's clearing passes over the whole population once.

A customer's cell code is segment × vertical × (J + 1) + its offer + 1 (column 0 the outside option). Customer
counts follow every change of choice exactly (integer arithmetic). Tokens depend on the offers' terms and the
month's usage factor, so they are computed for everyone once per round's offers (:meth:`ChoiceTally.tally`);
a choice changed afterwards (a customer turned away by a full pool choosing again) moves only that customer's
tokens between cells. Anything that changes choices without telling (``population.version`` bumped from outside)
makes the next tally start again from the arrays.
"""

from __future__ import annotations

import numpy as np

from market import demand
from market.config import VERTICALS
from market.segments import Tally


class ChoiceTally:
    """The cells of one :class:`market.population.VectorPopulation` (held by it).

    Attributes: version (the population version the cells reflect; −1: none); n_offers J of the codes;
    code (n,) cell codes; counts (S·V·(J+1),) customers per cell (int64); offers, usage_factor: the terms the
    token arrays were computed for (None: none); tokens, extra (n,) Mtok/month asked and asked beyond a plan's
    cap; token_cells, extra_cells (S·V·(J+1),) their sums per cell.
    """

    def __init__(self, pop) -> None:
        self.pop = pop
        self.version, self.n_offers = -1, -1
        self.code = self.counts = None
        self.offers = self.usage_factor = None
        self.tokens = self.extra = self.token_cells = self.extra_cells = None

    @property
    def size(self) -> int:
        """Number of cells S·V·(J + 1)."""
        return self.pop.n_segments * len(VERTICALS) * (self.n_offers + 1)

    def _sync(self, n_offers: int) -> None:
        """Codes and counts from the arrays, unless they already reflect the population's choices."""
        pop = self.pop
        if self.version == pop.version and self.n_offers == n_offers:
            return
        self.n_offers = n_offers
        code = pop.cell * (n_offers + 1)
        code += pop.choice
        code += 1
        self.code = code
        self.counts = np.bincount(code, minlength=self.size)
        self.offers = None
        self.version = pop.version

    def counts_cells(self, n_offers: int) -> np.ndarray:
        """(S, V, J) customers per segment, vertical and offer (float, simulated units)."""
        self._sync(n_offers)
        return self._shape(self.counts).astype(float)

    def _shape(self, flat: np.ndarray) -> np.ndarray:
        return flat.reshape(self.pop.n_segments, len(VERTICALS), self.n_offers + 1)[:, :, 1:]

    def tally(self, offers: demand.Offers, usage_factor: float) -> Tally:
        """Customers, tokens asked and overage tokens per (segment, vertical, offer), simulated units."""
        self._sync(offers.n)
        if self.offers is not offers or self.usage_factor != usage_factor:
            self.tokens, self.extra = customer_tokens(self.pop, offers, usage_factor)
            self.token_cells = np.bincount(self.code, weights=self.tokens, minlength=self.size)
            self.extra_cells = (np.bincount(self.code, weights=self.extra, minlength=self.size)
                                if self.extra is not None else None)
            self.offers, self.usage_factor = offers, usage_factor
        tokens = self._shape(self.token_cells)
        overage = self._shape(self.extra_cells) if self.extra_cells is not None else np.zeros_like(tokens)
        return Tally(self._shape(self.counts).astype(float), tokens.copy(), overage.copy())

    def customer_tokens(self, offers: demand.Offers, usage_factor: float) -> np.ndarray:
        """(n,) Mtok/month each customer uses of its offer (0 outside); see :func:`customer_tokens`."""
        self.tally(offers, usage_factor)
        return self.tokens

    def moved(self, idx: np.ndarray, new_choice: np.ndarray) -> None:
        """Customers ``idx`` (global indices, unique) are about to hold ``new_choice``: move them between cells.
        Call before the population writes the choices and bumps its version; a no-op when the cells are stale."""
        pop = self.pop
        if self.version != pop.version or idx.size == 0:
            return
        if new_choice.max() >= self.n_offers:  # an offer newer than the codes' layout: start again next time
            self.version = -1
            return
        old = self.code[idx]
        new = pop.cell[idx] * (self.n_offers + 1) + new_choice + 1
        size = self.size
        self.counts -= np.bincount(old, minlength=size)
        self.counts += np.bincount(new, minlength=size)
        self.code[idx] = new
        if self.offers is not None:
            tokens, extra = customer_tokens(pop, self.offers, self.usage_factor, idx, new_choice)
            self.token_cells -= np.bincount(old, weights=self.tokens[idx], minlength=size)
            self.token_cells += np.bincount(new, weights=tokens, minlength=size)
            self.tokens[idx] = tokens
            if self.extra is not None:
                self.extra_cells -= np.bincount(old, weights=self.extra[idx], minlength=size)
                self.extra_cells += np.bincount(new, weights=extra, minlength=size)
                self.extra[idx] = extra
        self.version = pop.version + 1


def customer_tokens(pop, offers: demand.Offers, usage_factor: float, idx: np.ndarray | None = None,
                    choice: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Tokens (Mtok/month) each customer asks of its offer, and those beyond its plan's cap (None when no offer
    has an overage price), for customers ``idx`` (global indices; all when None) holding ``choice`` (their
    current choices when None): its need up to a plan's cap, or the use that a per-token or overage price makes
    worth it (:func:`demand.token_use`); 0 outside."""
    choice = (pop.choice if idx is None else pop.choice[idx]) if choice is None else choice
    need = pop.usage_mtok * usage_factor if idx is None else pop.usage_mtok[idx] * usage_factor
    cap = np.append(offers.cap_mtok, 0.0)  # index −1 (outside) reads the appended 0
    tokens = np.minimum(need, cap[choice])
    priced = np.append((offers.price_mtok > 0) | np.isfinite(offers.overage_usd_per_mtok), False)
    if priced[:-1].any():
        where = np.flatnonzero(priced[choice])
        if where.size:
            who = where if idx is None else idx[where]
            seg = np.searchsorted(pop.segment_stops, who, side="right")
            gamma = pop.quality_exponents[seg]
            j = choice[where]
            benefit = pop.wtp_usd[who] * (offers.fit[pop.vertical[who], j] * offers.quality[j]) ** gamma
            tokens[where] = demand.token_use(need[where], benefit, offers.price_mtok[j], offers.cap_mtok[j],
                                             offers.overage_usd_per_mtok[j])
    extra = None
    if np.isfinite(offers.overage_usd_per_mtok).any():
        extra = np.maximum(0.0, tokens - np.append(offers.cap_mtok, np.inf)[choice])
    return tokens, extra
