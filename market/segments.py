"""What both customer populations share (market/population.py, market/reference.py): segment sizes, nest
parameters, the round's news, the tally record and the consumer-surplus sample size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from market.config import CustomersConfig

CS_SAMPLE_PER_SEGMENT = 5_000  # customers per segment for the consumer-surplus estimate (assumption: with the top tenth
# of willingness to pay taken whole and the rest stratified, within ≈ 1 % of the whole population's over six seeds;
# tests/test_market/test_population.py)


def segment_sizes(cfg: CustomersConfig) -> list[int]:
    """Simulated customers per segment: shares × n_customers, rounded, the last segment taking the remainder."""
    counts = [int(round(s.share * cfg.n_customers)) for s in cfg.segments]
    counts[-1] = cfg.n_customers - sum(counts[:-1])
    return counts


def nest_lambdas(cfg: CustomersConfig) -> np.ndarray:
    """(3,) nest parameters in the order of ``demand.NESTS``."""
    return np.array([cfg.nest_lambda_chat, cfg.nest_lambda_apps, cfg.nest_lambda_api])


@dataclass(frozen=True)
class News:
    """What makes customers look around more this round (docs/design.md, "Demand").

    Attributes: price_rose: (J,) bool, offers whose price rose by more than ``customers.news_price_change``;
    new_offer: (V,) bool, verticals where a lab launched an app this round (a known brand's launch is news to
    everyone in the vertical; a new wrapper or host is found by those who look around anyway).
    """

    price_rose: np.ndarray
    new_offer: np.ndarray

    def any(self) -> bool:
        """Whether anything is news."""
        return bool(self.price_rose.any() or self.new_offer.any())


@dataclass(frozen=True)
class Tally:
    """This round's choices in cells (S, V, J), simulated units: customers, tokens asked (Mtok/month), overage tokens
    asked beyond plan caps (Mtok/month)."""

    customers: np.ndarray
    tokens: np.ndarray
    overage: np.ndarray


def news_between(old, new, threshold: float) -> News:
    """News between last round's offers ``old`` and this round's ``new`` (demand.Offers): price rises beyond
    ``threshold`` (a fraction), labs' apps opened this round (new, or alive again)."""
    n_old = 0 if old is None else old.n
    rose = np.zeros(new.n, dtype=bool)
    if n_old:
        before = old.price_month + old.price_mtok
        after = new.price_month[:n_old] + new.price_mtok[:n_old]
        rose[:n_old] = after > before * (1.0 + threshold)
    opened = np.zeros(new.n, dtype=bool)
    opened[n_old:] = new.alive[n_old:]
    if n_old:
        opened[:n_old] = new.alive[:n_old] & ~old.alive
    opened &= new.brand >= 0
    return News(price_rose=rose, new_offer=(new.fit[:, opened] > 0).any(axis=1))


def cs_sample(vertical: np.ndarray, wtp_usd: np.ndarray, k: int, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """(positions, weights): ``k`` of a segment's n customers (arrays (n,): vertical index, willingness to pay
    $/month) for the consumer-surplus estimate, and the customers each stands for.

    A customer's surplus scales with its willingness to pay, which is lognormal: the k/10 with the highest are
    all taken (weight 1: the tail would dominate the error of any sample of it), and the rest by a systematic
    sample over the others ordered by vertical and then willingness to pay, every m-th from a uniform random
    start (each drawn with probability 1/m, stratified on what drives surplus). Positions sorted; all n with
    weight 1 when k ≥ n."""
    n = vertical.size
    if k >= n:
        return np.arange(n), np.ones(n)
    top_k = k // 10
    by_wtp = np.argsort(wtp_usd, kind="stable")
    top, rest = by_wtp[n - top_k:], by_wtp[:n - top_k]
    rest = rest[np.lexsort((wtp_usd[rest], vertical[rest]))]
    m = rest.size / (k - top_k)
    picks = np.minimum(np.floor((np.arange(k - top_k) + rng.random()) * m).astype(np.int64), rest.size - 1)
    pos = np.concatenate([top, rest[picks]])
    weight = np.concatenate([np.ones(top_k), np.full(k - top_k, m)])
    order = np.argsort(pos)
    return pos[order], weight[order]
