"""Cash-flow paths of a strategic option on the forecast's customers (docs/design.md, "Strategic moves").

An option is a schedule of :class:`Phase` objects: from a month on, the offers have given terms (:class:`Terms`: the
utilities, tokens and payments of every offer for every customer, and the $ a month each holding of an offer is worth
to whom it concerns: the lab's revenue and gross profit, each rival's gross profit). :func:`flows` runs the holdings
chain of market/moves/chain.py through the schedule and returns each metric month by month, with its value now
under the current terms, so that a path can be laid on the firm's recorded figures as a change from now.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from market.moves.chain import holding_path, transition
from market.moves.sample import SampleBase


@dataclass(frozen=True)
class Terms:
    """The terms of every offer for the forecast's customers, arrays (J, M): ``v0`` utility without switching cost,
    ``x`` tokens (Mtok/month), ``pay`` ($/month); ``values``: metric name → (offer ids (R,), (R, M) $ a month a
    customer holding each of those offers brings to the metric)."""

    v0: np.ndarray
    x: np.ndarray
    pay: np.ndarray
    values: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass(frozen=True)
class Phase:
    """Terms that hold from ``start`` (1-based month) until the next phase. In its first month, ``news`` ((S, M)
    bool, by holding state) marks customers who look around at the news rate (a price rise on what they hold, an
    app launched in their vertical), and ``forced`` ((S, M), a share) the part of each state that must choose
    again (holders of an offer that closed, customers of a seller that left)."""

    start: int
    terms: Terms
    news: np.ndarray | None = None
    forced: np.ndarray | None = None


def membership(n_offers: int, groups: tuple[np.ndarray, ...]) -> np.ndarray:
    """(J,) tracked group of each offer (0 … G − 1), or G for *rest*."""
    member = np.full(n_offers, len(groups))
    for r, rows in enumerate(groups):
        member[rows] = r
    return member


def initial_state(base: SampleBase, groups: tuple[np.ndarray, ...]) -> np.ndarray:
    """(S, M) one-hot holding state now: the tracked group whose offer each customer holds, else *rest*."""
    s = np.full(base.n, len(groups))
    for r, rows in enumerate(groups):
        s[np.isin(base.holding, rows)] = r
    pi = np.zeros((len(groups) + 1, base.n))
    pi[s, np.arange(base.n)] = 1.0
    return pi


def state_values(base: SampleBase, member: np.ndarray, n_groups: int, nest: np.ndarray, terms: Terms,
                 cache: dict | None = None, tag: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The regime's choice probabilities by state (S, S, M) and, per metric (in ``terms.values`` order), the $ a
    month a customer in each state brings to it, (K, S, M): a state's holders spread over its offers as
    reconsidering holders would choose. ``cache`` (optional) keeps transitions by utilities array and grouping:
    phases that differ only in who pays whom share them; ``tag`` keeps apart transitions of the same utilities on
    customers whose holdings differ (market/moves/awareness.py: the newly aware hold nothing)."""
    key = (id(terms.v0), member.tobytes(), tag)
    hit = cache.get(key) if cache is not None else None
    if hit is not None and hit[0] is terms.v0:
        tr = hit[1]
    else:
        tr = transition(terms.v0, nest, base.lam, member, n_groups, base.penalty, base.inside)
        if cache is not None:
            cache[key] = (terms.v0, tr)
    out = np.zeros((len(terms.values), n_groups + 1, base.n))
    for k, (rows, vals) in enumerate(terms.values.values()):
        if len(rows) == 0:
            continue
        owner = np.zeros((n_groups + 1, len(rows)))  # (S, R) one-hot: each offer's state
        owner[member[rows], np.arange(len(rows))] = 1.0
        out[k] = owner @ (tr.mix[rows] * vals)
    return tr.q, out


def flows(base: SampleBase, groups: tuple[np.ndarray, ...], nest: np.ndarray, now: Terms | None,
          phases: list[Phase], months: int, cache: dict | None = None) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Each metric's forecast, (months,) $ a month, and its value now ($ a month at the current holdings and terms;
    empty when ``now`` is None).

    The first phase must start in month 1; metrics are those of the first phase (every phase's terms carry the
    same names). Month t's flow is paid after month t's reconsideration.
    """
    if not phases or phases[0].start != 1:
        raise ValueError("flows: the first phase must start in month 1")
    names = list(phases[0].terms.values)
    member = membership(phases[0].terms.v0.shape[0], groups)
    pi0 = initial_state(base, groups)
    level = {}
    if now is not None:
        _, e_now = state_values(base, member[:now.v0.shape[0]], len(groups), nest[:now.v0.shape[0]], now, cache)
        level = {name: float((pi0 * e_now[k]).sum(axis=0) @ base.w) for k, name in enumerate(now.values)}
    steps, blocks = [], []
    bounds = [p.start for p in phases[1:]] + [months + 1]
    usual = np.broadcast_to(base.rho, pi0.shape)
    for phase, end in zip(phases, bounds):
        if phase.start > months:
            break
        q, e = state_values(base, member, len(groups), nest, phase.terms, cache)
        first = usual
        if phase.news is not None or phase.forced is not None:
            if phase.news is not None:
                first = np.where(phase.news, base.rho_news[None, :], first)
            if phase.forced is not None:
                first = first + (1.0 - first) * phase.forced
        for t in range(phase.start, min(end, months + 1)):
            steps.append((q, first if t == phase.start else usual))
        blocks.append((phase.start - 1, min(end, months + 1) - 1, e * base.w))
    path = holding_path(pi0, steps)  # (T, S, M)
    out = np.zeros((len(names), months))
    for a, b, ew in blocks:
        out[:, a:b] = np.einsum("tsm,ksm->kt", path[a:b], ew)
    return {name: out[k] for k, name in enumerate(names)}, level
