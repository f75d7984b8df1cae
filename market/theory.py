"""Closed-form and numerical benchmarks for prices: logit Bertrand-Nash, logit joint monopoly, homogeneous
Bertrand, and the profit-gain index.

Demand is the multinomial logit of Calvano, Calzolari, Denicolò & Pastorello (2020), "Artificial Intelligence,
Algorithmic Pricing, and Collusion", AER 110(10), eq. (1):
    s_i = exp((a_i - p_i)/mu) / (sum_j exp((a_j - p_j)/mu) + exp(a0/mu)).
Their baseline (n=2, a=2, a0=0, mu=0.25, c=1) has Nash price 1.4729 and monopoly price 1.9250 (their §II.B).
Units are whatever the caller uses for prices ($/Mtok, $/month); qualities a_i and mu are in the same unit.
Only numpy is used (scipy is not a declared dependency).
"""

from __future__ import annotations

import numpy as np


def _vec(name: str, x) -> np.ndarray:
    a = np.atleast_1d(np.asarray(x, dtype=float))
    if a.ndim != 1 or a.size == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name}={x!r} out of range: must be a non-empty 1-D array of finite numbers")
    return a


def _mu(mu) -> float:
    if not (np.isfinite(mu) and mu > 0):
        raise ValueError(f"mu={mu!r} out of range: must be finite and > 0")
    return float(mu)


def logit_shares(prices, qualities, mu, a0=0.0) -> np.ndarray:
    """Logit market shares of each firm (the outside good takes 1 - sum).

    Args:
        prices, qualities: shape (n,), same unit. mu: horizontal differentiation, > 0. a0: outside-good quality.
    Returns:
        shape (n,) shares in (0, 1). Computed with the max exponent subtracted, so large a/mu do not overflow.
    Raises:
        ValueError: shape mismatch, non-finite input, mu <= 0.
    """
    p, a, m = _vec("prices", prices), _vec("qualities", qualities), _mu(mu)
    if p.shape != a.shape:
        raise ValueError(f"prices shape {p.shape} != qualities shape {a.shape}")
    z = np.append((a - p) / m, a0 / m)
    e = np.exp(z - z.max())
    return e[:-1] / e.sum()


def logit_profits(prices, costs, qualities, mu, a0=0.0) -> np.ndarray:
    """Per-firm profit (p_i - c_i) * s_i for a unit mass of buyers; shape (n,). Errors as ``logit_shares``."""
    p, c = _vec("prices", prices), _vec("costs", costs)
    return (p - c) * logit_shares(p, qualities, mu, a0)


def logit_nash_prices(costs, qualities, mu, a0=0.0, tol=1e-12, max_iter=200) -> np.ndarray:
    """Bertrand-Nash prices: the solution of p_i = c_i + mu / (1 - s_i(p)) for all i (each firm's FOC).

    Solved by Newton's method on F(p) = p - c - mu/(1 - s) with the analytic Jacobian
    J_ij = delta_ij + s_i (delta_ij - s_j) / (1 - s_i)^2, halving steps until |F| falls; the logit pricing game
    has a unique equilibrium, so a root is the answer.

    Returns:
        shape (n,) prices. Raises ValueError for bad inputs, RuntimeError if |F| > tol after max_iter steps.
    """
    c, a, m = _vec("costs", costs), _vec("qualities", qualities), _mu(mu)
    if c.shape != a.shape:
        raise ValueError(f"costs shape {c.shape} != qualities shape {a.shape}")

    def resid(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = logit_shares(p, a, m, a0)
        return p - c - m / (1.0 - s), s

    p = c + m  # the markup at vanishing share
    f, s = resid(p)
    for _ in range(max_iter):
        if np.max(np.abs(f)) <= tol:
            return p
        jac = np.eye(c.size) + (s[:, None] * (np.eye(c.size) - s[None, :])) / (1.0 - s[:, None]) ** 2
        step = np.linalg.solve(jac, f)
        t = 1.0
        while True:
            f_new, s_new = resid(p - t * step)
            if np.linalg.norm(f_new) < np.linalg.norm(f) or t < 1e-8:
                break
            t /= 2.0
        p, f, s = p - t * step, f_new, s_new
    if np.max(np.abs(f)) <= tol:
        return p
    raise RuntimeError(f"logit_nash_prices did not converge: max |FOC residual| = {np.max(np.abs(f)):.3g}")


def logit_monopoly_prices(costs, qualities, mu, a0=0.0, tol=1e-13) -> np.ndarray:
    """Prices maximising joint profit sum_i (p_i - c_i) s_i (one owner of all n products).

    The joint FOCs give 1 - m_i/mu + sum_j m_j s_j / mu = 0, so every markup m_i = p_i - c_i equals one m with
    m (1 - S(m)) = mu, S(m) = total inside share at prices c + m. The left side rises from 0 without bound as
    m grows, so bisection finds the unique root; asymmetric costs and qualities need no other method.

    Returns:
        shape (n,) prices c + m. Raises ValueError for bad inputs.
    """
    c, a, m = _vec("costs", costs), _vec("qualities", qualities), _mu(mu)
    if c.shape != a.shape:
        raise ValueError(f"costs shape {c.shape} != qualities shape {a.shape}")

    def g(markup: float) -> float:
        return markup * (1.0 - logit_shares(c + markup, a, m, a0).sum()) - m

    lo, hi = 0.0, m
    while g(hi) < 0:
        hi *= 2.0
    while hi - lo > tol * max(1.0, hi):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if g(mid) < 0 else (lo, mid)
    return c + 0.5 * (lo + hi)


def profit_gain_index(profit, nash_profit, monopoly_profit):
    """Calvano et al.'s Delta = (pi - pi_N) / (pi_M - pi_N): 0 at Nash, 1 at joint monopoly.

    Args: scalars or broadcastable arrays, same unit (e.g. $ per round per firm).
    Raises:
        ValueError: monopoly_profit == nash_profit anywhere (index undefined).
    """
    pi, n, mo = (np.asarray(x, dtype=float) for x in (profit, nash_profit, monopoly_profit))
    if np.any(mo == n):
        raise ValueError(f"monopoly_profit={monopoly_profit!r} equals nash_profit: profit gain index undefined")
    out = (pi - n) / (mo - n)
    return float(out) if out.ndim == 0 else out


def bertrand_price(costs) -> float:
    """Homogeneous-good Bertrand price: the second-lowest marginal cost (the common cost if tied).

    Args: costs shape (n,), n >= 2. Raises ValueError for fewer than two firms or non-finite costs.
    """
    c = _vec("costs", costs)
    if c.size < 2:
        raise ValueError(f"costs={costs!r} out of range: Bertrand needs at least 2 firms")
    return float(np.sort(c)[1])
