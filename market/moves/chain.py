"""The look-ahead of a strategic forecast: customers' holdings as a Markov chain on the demand oracle's sample
(docs/design.md, "Strategic moves").

Each sampled customer is in one of S = G + 1 states: holding an offer of one of G tracked groups (say, the lab's
own offers; the plans of wrappers that buy the lab's tokens), or *rest* (another seller's offer, or nothing). Each
month it reconsiders with probability ρ (its segment's ``reconsider_prob``; ``reconsider_prob_news`` in a month of
news for its state) and then chooses by the model's nested logit (market/demand.py) with the switching cost of its
state: from a tracked group, every offer outside that group costs the switching cost; from *rest*, every tracked
offer costs it (nothing for a customer who is outside the market). So with Q_i[s, s'] the probability that
customer i, reconsidering in state s, chooses state s',

    π_{t+1} = π_t ((1 − ρ) I + ρ Q_i),

and a customer who does not reconsider keeps its holding and pays the current terms of it. Two states give the
textbook chain: the holding probability converges geometrically, s_t = s* + (s_0 − s*)(1 − ρ(q_out + q_in))^t with
s* = q_in / (q_out + q_in) (:func:`two_state_share`, tested against :func:`holding_path`).

Lumping is an assumption: a state stands for all offers of its group, a holder's mix over the group's offers is
the mix a reconsidering holder would choose, and *rest* mixes other sellers and the outside option in the
proportions a reconsidering customer there would choose. The nested-logit sums need one pass over the offers per
regime: the switching cost is the same for every offer it applies to, so it shifts a group's log-sum by −pen/λ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.demand import NESTS


@dataclass(frozen=True)
class Transition:
    """One regime's choice probabilities by state.

    Attributes:
        q: (S, S, M) probability that a customer reconsidering in state s chooses state s' (rows sum to 1).
        mix: (J, M) probability of each offer for a customer reconsidering in the offer's own state, conditional on
            choosing that state (the mix of a state's holders over its offers; for *rest* offers the outside option
            is part of the state, so their mix sums to less than 1).
    """

    q: np.ndarray
    mix: np.ndarray


def transition(v0: np.ndarray, nest: np.ndarray, lam: np.ndarray, member: np.ndarray, n_groups: int,
               penalty: np.ndarray, inside: np.ndarray) -> Transition:
    """Choice probabilities by state (module docstring).

    Args:
        v0: (J, M) utilities without switching costs (units of each customer's logit scale; −inf: not open).
        nest: (J,) nest index of each offer; lam: (3,) nest parameters.
        member: (J,) tracked group of each offer, 0 … G − 1, or G for *rest*; n_groups: G.
        penalty: (M,) switching cost per month in utility units; inside: (M,) whether the customer holds some offer
            now (only then does leaving *rest* cost the switching cost).

    Returns: a :class:`Transition`.
    """
    n_states, m = n_groups + 1, v0.shape[1]
    rows = np.flatnonzero(np.isfinite(v0).any(axis=1))  # offers open to nobody play no part
    scaled = v0[rows] / lam[nest[rows]][:, None]
    top = scaled.max(axis=0, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(scaled - top)  # one exponential per entry; closed offers give 0
    key = member[rows] * len(NESTS) + nest[rows]
    ind = np.zeros((n_states * len(NESTS), rows.size))
    ind[key, np.arange(rows.size)] = 1.0
    sums = (ind @ e).reshape(n_states, len(NESTS), m)  # Σ exp(v0/λ_g − top) by group and nest
    # Leaving one's state multiplies the other groups' nest sums by e^(−pen/λ) (from rest: only if inside).
    shift = np.exp(-penalty[None, :] / lam[:, None])  # (3, M)
    by_state = np.broadcast_to(shift, (n_states, len(NESTS), m)).copy()
    by_state[n_groups] = np.exp(-(penalty * inside)[None, :] / lam[:, None])
    moved = ~np.eye(n_states, dtype=bool)
    factor = np.where(moved[:, :, None, None], by_state[:, None], 1.0)  # (S from, S to, 3, M)
    scaled_sums = sums[None] * factor
    nest_sum = scaled_sums.sum(axis=1)  # (S, 3, M)
    with np.errstate(divide="ignore"):
        incl = np.where(nest_sum > 0, lam[None, :, None] * np.log(np.maximum(nest_sum, 1e-300))
                        + lam[None, :, None] * top[None, None, :], -np.inf)
    log_d = np.logaddexp(0.0, np.logaddexp.reduce(incl, axis=1))  # (S, M)
    share = np.exp(incl - log_d[:, None, :])  # each state's nest shares
    within = np.divide(scaled_sums, nest_sum[:, None], out=np.zeros_like(scaled_sums), where=nest_sum[:, None] > 0)
    q = (within * share[:, None]).sum(axis=2)
    total = nest_sum
    q[:, n_groups] = np.maximum(0.0, 1.0 - q[:, :n_groups].sum(axis=1))  # rest includes the outside option
    mem, nst = member[rows], nest[rows]
    own_q = q[mem, mem]  # probability of staying in the offer's own state
    tot = total[mem, nst]
    mix = np.zeros(v0.shape)
    within_own = np.divide(e, tot, out=np.zeros_like(e), where=tot > 0)  # ≤ 1: no underflow in a product
    within_own *= share[mem, nst]
    with np.errstate(over="ignore", invalid="ignore"):
        np.divide(within_own, own_q, out=within_own, where=own_q > 0)
    within_own[~(own_q > 0)] = 0.0
    np.minimum(within_own, 1.0, out=within_own)  # a share of a state's holders: rounding never takes it past 1
    mix[rows] = within_own
    return Transition(q, mix)


def holding_path(pi0: np.ndarray, steps: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """State probabilities after each month: (T, S, M).

    Args: pi0: (S, M) probabilities now (one-hot for a known holding); steps: per month, (Q (S, S, M), ρ (S, M)) —
    the regime's choice probabilities and each state's reconsideration probability that month.
    """
    pi = pi0.astype(float, copy=True)
    out = np.empty((len(steps), *pi.shape))
    for t, (q, rho) in enumerate(steps):
        moving = pi * rho  # (S, M): who reconsiders, by state
        pi = pi - moving + np.einsum("sm,stm->tm", moving, q)
        out[t] = pi
    return out


def two_state_share(s0: float, rho: float, stay: float, join: float, months: int) -> np.ndarray:
    """Closed form of a two-state chain: (months,) probability of holding after months 1 … T, from ``s0`` now, with
    reconsideration probability ``rho``, probability ``stay`` that a reconsidering holder chooses the group again
    and ``join`` that a reconsidering non-holder chooses it.

    s_t = s* + (s0 − s*)(1 − ρ(1 − stay + join))^t, s* = join / (1 − stay + join).
    """
    out_rate = 1.0 - stay
    if out_rate + join == 0:
        return np.full(months, float(s0))
    star = join / (out_rate + join)
    decay = 1.0 - rho * (out_rate + join)
    return star + (s0 - star) * decay ** np.arange(1, months + 1)
