"""Awareness carried forward in a strategic forecast (docs/design.md, "Strategic moves").

The population spreads awareness each month by Bass diffusion (market/population.py,
``VectorPopulation.spread_awareness``): a customer unaware of AI becomes aware with hazard
``bass_hazard(p_s, q_s, users_s, n_s)``, users_s being the segment's customers holding any offer (free or paid),
and must choose at once; a customer aware of AI who does not know a lab's apps learns of them with hazard
``bass_hazard(p_b, q_b, B_s, A_s)``, B_s the lab's users in the segment and A_s its customers aware of AI, and weighs
them the next time it looks around. A free tier's users count in both, so an option that changes how many use the
lab's offers changes how fast the market it sells to grows. :func:`flows` carries that law forward on the
forecast's customers, in expected masses (real customers), never customer by customer and without draws:

* The forecast's customers (aware of AI; the demand oracle's sample) split into four chains of holdings
  (market/moves/chain.py), each a (S, M) mass: customers there now who know the lab's apps, who do not (the lab's
  branded offers closed to them), and the newly aware of each kind. Knowing customers' terms are those of the
  option; not knowing ones' the same with the lab's apps closed.
* Customers unaware of AI are a mass per cell (segment × vertical). In month t ≥ 2 a share h_s of it becomes
  aware, h_s from the segment's users of month t − 1: the forecast's holders of any offer, plus the aware customers
  outside the forecast at their current rate of use. Month 1's awareness is already in the state: the market
  spread it before the lab's review.
* The newly aware of a cell are copies of its aware customers, each in proportion to its weight (so they know the
  lab's apps, and rivals', in the shares the cell's aware customers do); they hold nothing and choose in the month
  they arrive, as the population makes them.
* A not knowing customer learns of the lab's apps with hazard h_b from month 2 and keeps its holding: its mass
  moves to the knowing chain in the same state.

Assumptions: the newly aware are like the cell's aware customers (awareness does not select by willingness to pay
or need); customers aware of AI but outside the forecast (no offer of the lab open to them even knowing it) hold
what they hold now and grow with their cell; awareness of rival labs' apps is held where it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from agents.customers import AI_AWARE, brand_bit
from market.moves.forecast import Phase, Terms, initial_state, membership, state_values
from market.moves.sample import SampleBase, pick_offers, terms_on_sample
from market.population import bass_hazard


@dataclass(frozen=True)
class Diffusion:
    """The inputs of the awareness forecast for one lab; arrays over the forecast's customers (M), the cells of
    the sample they come from (C) and the segments (G). Masses are real customers.

    Attributes:
        brand_rows: the lab's offer ids a customer must know the lab to choose (its apps; an API needs no brand).
        knows: (M,) whether each forecast customer knows the lab's apps now (every one is aware of AI).
        cell: (M,) the cell of each forecast customer; cell_segment: (C,) the segment of each cell.
        unaware: (C,) customers of each cell unaware of AI now.
        aware: (C,) customers of each cell aware of AI now, in the forecast or not.
        other_users, other_brand: (C,) of the aware customers outside the forecast, how many hold some offer and
            how many one of the lab's (held at their current rates as their cell grows).
        size: (G,) customers per segment (n of the hazard).
        innovation, imitation: (G,) p and q of awareness of AI (config ``customers.segments[].bass_innovation``,
            ``bass_imitation``); brand_innovation, brand_imitation: p and q of the lab's apps (config
            ``customers.brand_innovation``, ``brand_imitation``).
        spread: False holds awareness where it is (the forecast at fixed awareness).
    """

    brand_rows: np.ndarray
    knows: np.ndarray
    cell: np.ndarray
    cell_segment: np.ndarray
    unaware: np.ndarray
    aware: np.ndarray
    other_users: np.ndarray
    other_brand: np.ndarray
    size: np.ndarray
    innovation: np.ndarray
    imitation: np.ndarray
    brand_innovation: float
    brand_imitation: float
    spread: bool = True


@dataclass(frozen=True)
class AwarenessPath:
    """Month by month (T, G), by segment, real customers: aware of AI, the forecast's customers who know the lab's
    apps, holding any offer and holding one of the lab's (the forecast's customers and the others)."""

    aware: np.ndarray
    knowing: np.ndarray
    users: np.ndarray
    lab_users: np.ndarray


def knowing_base(base: SampleBase, own: np.ndarray, brand: int) -> tuple[SampleBase, np.ndarray, np.ndarray]:
    """(the forecast's customers with every one aware of AI knowing the lab's apps — the lab's branded offers
    recomputed for them —, the lab's branded offer ids, (M,) whether each knows the lab's apps now)."""
    aware = base.oracle.state.aware[base.positions] if base.aware is None else base.aware
    bit = brand_bit(brand)
    ai = (aware & AI_AWARE) != 0
    knows = (aware & bit) != 0
    own = np.asarray(own, dtype=np.int64)
    rows = own[base.offers.brand[own] == brand]
    learn = np.flatnonzero(ai & ~knows)
    out = dataclasses.replace(base, aware=np.where(ai, aware | bit, aware))
    if rows.size and learn.size:
        nv, nx, npay = terms_on_sample(out.subset(learn), pick_offers(base.offers, rows))
        v0, x, pay = base.v0.copy(), base.x.copy(), base.pay.copy()
        at = np.ix_(rows, learn)
        v0[at], x[at], pay[at] = nv, nx, npay
        out = dataclasses.replace(out, v0=v0, x=x, pay=pay)
    return out, rows, knows


def diffusion_inputs(base: SampleBase, cols: np.ndarray, own: np.ndarray, brand_rows: np.ndarray, knows: np.ndarray,
                     customers_cfg, spread: bool = True) -> Diffusion:
    """A :class:`Diffusion` for the forecast on customers ``cols`` of ``base`` (the whole sample: cells of every
    customer, aware of AI or not), the lab's offers ``own`` and branded offers ``brand_rows``; ``knows`` (M_base,)
    whether each customer of ``base`` knows the lab's apps now. ``customers_cfg`` is the config's ``customers``."""
    aware = base.oracle.state.aware[base.positions] if base.aware is None else base.aware
    n_cells = len(base.cells)
    cell = np.zeros(base.n, dtype=np.int64)
    for k, (_, _, c) in enumerate(base.cells):
        cell[c] = k
    cell_segment = np.array([s for s, _, _ in base.cells], dtype=np.int64)
    segs = customers_cfg.segments
    ai = (aware & AI_AWARE) != 0
    inside = np.zeros(base.n, dtype=bool)
    inside[np.asarray(cols, dtype=np.int64)] = True
    other = ai & ~inside
    sums = lambda mask: np.bincount(cell, base.w * mask, minlength=n_cells)  # noqa: E731
    unaware, aware_c = sums(~ai), sums(ai)
    return Diffusion(
        brand_rows=np.asarray(brand_rows, dtype=np.int64), knows=knows[cols], cell=cell[cols],
        cell_segment=cell_segment, unaware=unaware, aware=aware_c, other_users=sums(other & base.inside),
        other_brand=sums(other & np.isin(base.holding, own)),
        size=np.bincount(cell_segment, unaware + aware_c, minlength=len(segs)),
        innovation=np.array([s.bass_innovation for s in segs]), imitation=np.array([s.bass_imitation for s in segs]),
        brand_innovation=customers_cfg.brand_innovation, brand_imitation=customers_cfg.brand_imitation,
        spread=spread)


_CHAINS = ("known", "unknown", "new_known", "new_unknown")  # who knows the lab's apps; the newly aware of AI


def flows(base: SampleBase, groups: tuple[np.ndarray, ...], nest: np.ndarray, now: Terms | None,
          phases: list[Phase], months: int, diffusion: Diffusion, cache: dict | None = None
          ) -> tuple[dict[str, np.ndarray], dict[str, float], AwarenessPath]:
    """As ``market.moves.forecast.flows`` (each metric's (months,) $ a month and its value now), with awareness
    carried forward (module docstring); also returns the :class:`AwarenessPath`.

    ``base`` must be the forecast's customers as if they knew the lab's apps (:func:`knowing_base`), every one
    aware of AI; ``groups[0]`` the lab's offers.
    Raises: ValueError: the first phase does not start in month 1.
    """
    if not phases or phases[0].start != 1:
        raise ValueError("awareness.flows: the first phase must start in month 1")
    d = diffusion
    n_groups, n_states = len(groups), len(groups) + 1
    member = membership(phases[0].terms.v0.shape[0], groups)
    seg = d.cell_segment[d.cell]
    n_seg = d.size.size
    fresh = dataclasses.replace(base, inside=np.zeros(base.n, dtype=bool))  # the newly aware hold nothing
    store = cache if cache is not None else {}

    def closed(terms: Terms) -> Terms:
        """``terms`` with the lab's apps closed; one array per utilities array, so the chain's cache finds it."""
        hit = store.get(("closed", id(terms.v0)))
        if hit is None or hit[0] is not terms.v0:
            v0 = terms.v0.copy()
            v0[d.brand_rows[d.brand_rows < v0.shape[0]]] = -np.inf
            hit = store[("closed", id(terms.v0))] = (terms.v0, v0)
        return dataclasses.replace(terms, v0=hit[1])

    def regime(terms: Terms, chain: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(Q (S, S, M), metric values (K, S, M), use of any offer by state (S, M)) of one chain."""
        j = terms.v0.shape[0]
        t = terms if chain in ("known", "new_known") else closed(terms)
        rest = np.flatnonzero(member[:j] == n_groups)
        t = dataclasses.replace(t, values={**t.values, "_using": (rest, np.ones((rest.size, base.n)))})
        new = chain.startswith("new")
        q, e = state_values(fresh if new else base, member[:j], n_groups, nest[:j], t, cache,
                            tag="fresh" if new else "")
        using = e[-1].copy()
        using[:n_groups] = 1.0
        return q, e[:-1], using

    pi0 = initial_state(base, groups) * base.w[None, :]
    mass = {"known": pi0 * d.knows, "unknown": pi0 * ~d.knows,
            "new_known": np.zeros_like(pi0), "new_unknown": np.zeros_like(pi0)}
    names = list(phases[0].terms.values)
    level: dict[str, float] = {}
    if now is not None:
        for chain in ("known", "unknown"):
            _, e, _ = regime(now, chain)
            for k, name in enumerate(now.values):
                level[name] = level.get(name, 0.0) + float((mass[chain] * e[k]).sum())
    bounds = [p.start for p in phases[1:]] + [months + 1]
    out = np.zeros((len(names), months))
    unaware = d.unaware.astype(float).copy()
    grown = np.ones(d.aware.size)  # each cell's aware customers relative to now
    safe_aware = np.where(d.aware > 0, d.aware, 1.0)
    by_seg = lambda per_cell: np.bincount(d.cell_segment, per_cell, minlength=n_seg)  # noqa: E731
    path = {k: np.zeros((months, n_seg)) for k in ("aware", "knowing", "users", "lab_users")}
    users_then = lab_then = np.zeros(n_seg)
    for phase, end in zip(phases, bounds):
        if phase.start > months:
            break
        needed = [c for c in _CHAINS if (c.endswith("unknown") <= bool((~d.knows).any()))
                  and (c.startswith("new") <= d.spread)]
        regimes = {c: regime(phase.terms, c) for c in needed}
        usual = np.broadcast_to(base.rho, (n_states, base.n))
        first = usual
        if phase.news is not None:
            first = np.where(phase.news, base.rho_news[None, :], first)
        if phase.forced is not None:
            first = first + (1.0 - first) * phase.forced
        for t in range(phase.start, min(end, months + 1)):
            rho = first if t == phase.start else usual
            arrive = np.zeros(base.n)
            if d.spread and t >= 2:  # the market spreads month t's awareness from month t − 1's users
                aware_before = by_seg(d.aware * grown)
                new = unaware * bass_hazard(d.innovation, d.imitation, users_then, d.size)[d.cell_segment]
                unaware = unaware - new
                grown = grown + new / safe_aware
                arrive = new[d.cell] * base.w / safe_aware[d.cell]
                learn = bass_hazard(d.brand_innovation, d.brand_imitation, lab_then, aware_before)[seg]
                for old, now_known in (("unknown", "known"), ("new_unknown", "new_known")):
                    moved = mass[old] * learn  # they keep what they hold and weigh the lab's apps when they look
                    mass[old] = mass[old] - moved
                    mass[now_known] = mass[now_known] + moved
                arrive_known = arrive * d.knows + arrive * ~d.knows * learn
                arrive_unknown = arrive * ~d.knows * (1.0 - learn)
            for chain, (q, _, _) in regimes.items():
                moving = mass[chain] * rho
                mass[chain] = mass[chain] - moving + np.einsum("sm,stm->tm", moving, q)
            if arrive.any():  # the newly aware hold nothing and choose at once
                for c, a in (("new_known", arrive_known), ("new_unknown", arrive_unknown)):
                    if c in regimes:
                        mass[c] = mass[c] + a * regimes[c][0][n_groups]
            using = sum((mass[c] * regimes[c][2]).sum(axis=0) for c in regimes)
            lab_now = sum(mass[c][0] for c in regimes)
            users_then = np.bincount(seg, using, minlength=n_seg) + by_seg(d.other_users * grown)
            lab_then = np.bincount(seg, lab_now, minlength=n_seg) + by_seg(d.other_brand * grown)
            for c in regimes:
                out[:, t - 1] += np.einsum("sm,ksm->k", mass[c], regimes[c][1])
            path["aware"][t - 1] = by_seg(d.aware * grown)
            path["knowing"][t - 1] = np.bincount(seg, (mass["known"] + mass["new_known"]).sum(axis=0), minlength=n_seg)
            path["users"][t - 1] = users_then
            path["lab_users"][t - 1] = lab_then
    return {name: out[k] for k, name in enumerate(names)}, level, AwarenessPath(**path)
