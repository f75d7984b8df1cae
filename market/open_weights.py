"""Open weights made by agents (DESIGN.md Q6; issue 13 item 4): a registry of the models labs publish, what
they cost to serve, which one a host serves, and distillation as the only way a closed model gets an open copy.

Today (``market.quality.open_weight_quality``) the open-weight model is a free, lagged copy of the closed
frontier, served at a 70B model's cost. Here a model exists only if an agent publishes it, with its size
(compute per token, × DeepSeek-V3's GPU time per token, the unit of ``LabConfig.compute_per_token``) and
quality (index, 2025 frontier = 1).

Serving cost follows size: GPU time per token ∝ compute per token (assumption: decode is bound by the bytes of
active weights read per token, which scale with active parameters; the exponent ``open_weights.cost_exponent``
is 1 by default), so a host's unit cost of serving model m is base_cost × size_m^exponent.

A host serves the published model with the highest quality^k per $ of serving cost, k =
``open_weights.quality_exponent`` (the customers' curvature of value in quality), among models published at
least ``open_weights.release_lag_months`` ago (time to download, quantise and deploy).

Distillation (off by default, ``open_weights.distillation``): a distiller pays ``distill_cost_usd`` and, after
``distill_lag_months``, publishes a model of size ``distill_compute_per_token`` whose quality is the closed
frontier's of that many months ago less ``distill_quality_gap`` — the old free copy, now with a cost, a lag and
a haircut that are stated and can be switched off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from market.checks import check


@dataclass(frozen=True)
class PublishedModel:
    """A model whose weights are public.

    Fields:
        publisher_id: the firm that published it (a lab, a distiller, or an exiting firm's estate).
        round: round of publication.
        compute_per_token: size, × DeepSeek-V3's GPU time per token (> 0).
        quality: quality index (2025 frontier = 1, ≥ 0).
        distilled: True for a distilled copy of a closed model.

    Raises:
        ValueError: non-positive size or negative quality.
    """

    publisher_id: int
    round: int
    compute_per_token: float
    quality: float
    distilled: bool = False

    def __post_init__(self) -> None:
        check("compute_per_token", self.compute_per_token, strict=True)
        check("quality", self.quality)


@dataclass(frozen=True)
class Registry:
    """Every model published so far, in order of publication."""

    models: tuple[PublishedModel, ...] = ()

    def publish(self, model: PublishedModel) -> Registry:
        """A registry with ``model`` added."""
        return Registry((*self.models, model))

    def available(self, now: int, lag_months: int = 0) -> tuple[PublishedModel, ...]:
        """Models published at least ``lag_months`` before round ``now``."""
        return tuple(m for m in self.models if now - m.round >= lag_months)

    def best_quality(self, now: int, lag_months: int = 0) -> float:
        """Highest quality among available models (0 when none): the open-weight frontier."""
        return max((m.quality for m in self.available(now, lag_months)), default=0.0)


def serving_cost_usd_per_mtok(compute_per_token: float, base_cost_usd_per_mtok: float, cost_exponent: float = 1.0) -> float:
    """Unit cost ($/Mtok) of serving a model of size ``compute_per_token`` when a size-1 model costs
    ``base_cost_usd_per_mtok``: base × size^exponent. Raises ValueError for non-positive size or base."""
    return (check("base_cost_usd_per_mtok", base_cost_usd_per_mtok, strict=True)
            * check("compute_per_token", compute_per_token, strict=True) ** check("cost_exponent", cost_exponent))


def value_per_cost(model: PublishedModel, base_cost_usd_per_mtok: float, quality_exponent: float = 1.0,
                   cost_exponent: float = 1.0) -> float:
    """quality^k / serving cost ($/Mtok): what a host ranks published models by (quality points per $/Mtok)."""
    cost = serving_cost_usd_per_mtok(model.compute_per_token, base_cost_usd_per_mtok, cost_exponent)
    return model.quality ** check("quality_exponent", quality_exponent) / cost


def best_for_host(registry: Registry, now: int, base_cost_usd_per_mtok: float, quality_exponent: float = 1.0,
                  cost_exponent: float = 1.0, lag_months: int = 0) -> PublishedModel | None:
    """The available model with the highest ``value_per_cost`` (ties: the newer one), or None if nothing is
    published yet."""
    best, best_score = None, -math.inf
    for m in registry.available(now, lag_months):
        score = value_per_cost(m, base_cost_usd_per_mtok, quality_exponent, cost_exponent)
        if score >= best_score:
            best, best_score = m, score
    return best


@dataclass(frozen=True)
class DistillationParams:
    """Distillation of a closed model: ``enabled`` (off by default), its ``cost_usd`` ($, paid by the distiller),
    ``lag_months`` (the closed model must be this old), ``quality_gap`` (index points lost) and the distilled
    model's ``compute_per_token``."""

    enabled: bool
    cost_usd: float
    lag_months: int
    quality_gap: float
    compute_per_token: float

    def __post_init__(self) -> None:
        check("cost_usd", self.cost_usd)
        check("lag_months", self.lag_months)
        check("quality_gap", self.quality_gap)
        check("compute_per_token", self.compute_per_token, strict=True)


def distil(frontier_history: Sequence[float], now: int, distiller_id: int,
           params: DistillationParams) -> tuple[PublishedModel, float] | None:
    """A distilled copy of the closed frontier of ``lag_months`` ago, and its cost ($), or None (disabled,
    history too short, or nothing left after the quality gap).

    Args:
        frontier_history: closed frontier quality by round, index = round (oldest first, up to ``now``).
    """
    if not params.enabled:
        return None
    source = now - params.lag_months
    if source < 0 or source >= len(frontier_history):
        return None
    quality = frontier_history[source] - params.quality_gap
    if quality <= 0:
        return None
    return PublishedModel(distiller_id, now, params.compute_per_token, quality, distilled=True), params.cost_usd


def distillation_from_config(cfg) -> DistillationParams:
    """The distillation parameters of an ``OpenWeightsConfig``."""
    return DistillationParams(cfg.distillation, cfg.distill_cost_usd, cfg.distill_lag_months, cfg.distill_quality_gap,
                              cfg.distill_compute_per_token)
