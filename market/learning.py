"""Earned serving skill and caching (DESIGN.md Q2; issue 13 item 3): learning by doing on cumulative volume,
inference R&D with diminishing returns, a cache-hit rate earned the same way, and published techniques that let
other hosts catch up with a lag. Pure functions and frozen records.

What ``market.costs`` hands out today as constants, this module lets a firm earn:
* skill (a multiplier on per-GPU throughput): the calibrated lab gets DeepSeek's ≈ 4.13 (``costs.deepseek_tech``),
  a host 1 (the vanilla tensor-parallel NIM curve);
* cache-hit rate (share of input tokens served from KV cache): the lab gets DeepSeek's 0.563
  (`deepseek_cache_hit_rate`), a host 0.

Skill = learned(V) × research(K):
    learned(V) = max(1, (V / V₁)^b),  b = −log₂(progress ratio)   (Wright 1936: unit cost × PR per doubling of
                                                                     cumulative volume; skill is 1 / unit cost)
    research(K) = (1 + K / H)^ρ                                     (diminishing returns to the R&D stock K)
V is the firm's cumulative served volume (Mtok), K its cumulative inference-R&D compute (GPU-months). Below V₁
a firm runs off-the-shelf serving software (skill 1).

Cache-miss rate = floor + (1 − floor) · min(1, (V / V_c)^(−b)): misses fall like unit cost on the same progress
ratio, down to a floor of input that is always new (the user's latest message).

Calibration to DeepSeek (``deepseek_calibration``): at DeepSeek's volume — its published daily tokens
(`deepseek_input_tokens_per_day` + `deepseek_output_tokens_per_day`) times 30.42 days times
``learning.deepseek_cumulative_months`` — and its R&D stock ``learning.deepseek_rd_gpu_months``, the earned
skill equals ``costs.deepseek_tech().skill`` and the earned cache-hit rate `deepseek_cache_hit_rate`: V₁ and V_c
are solved from those two equations, the progress ratio and the rest being the config's.

Publications: a publisher's skill and cache-hit rate at publication become reachable by every host after
``learning.publication_lag_months``; a host then closes a fraction 1 − exp(−1/τ) of its gap each month
(τ = ``learning.adoption_months``), so it converges to the published figures. Publications carry technique
(the learned part, or what the publisher itself adopted), not the publisher's research: a firm's skill is
max(learned, adopted) × research(K), its cache-hit rate max(earned, adopted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from market import calibration as cal
from market.checks import check
from market.costs import HOURS_PER_MONTH

DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0


def wright_exponent(progress_ratio: float) -> float:
    """b = −log₂(PR): unit cost ∝ V^(−b) falls to PR of itself per doubling of cumulative volume V.

    Raises:
        ValueError: PR outside (0, 1).
    """
    if not 0.0 < progress_ratio < 1.0:
        raise ValueError(f"progress_ratio={progress_ratio!r} out of range: must be in (0, 1)")
    return -math.log2(progress_ratio)


def learned_multiplier(cumulative_mtok: float, reference_mtok: float, progress_ratio: float) -> float:
    """Skill from learning by doing: max(1, (V / V₁)^b), V and V₁ in Mtok (V₁ > 0)."""
    v = check("cumulative_mtok", cumulative_mtok)
    v1 = check("reference_mtok", reference_mtok, strict=True)
    return max(1.0, (v / v1) ** wright_exponent(progress_ratio)) if v > 0 else 1.0


def rd_multiplier(rd_gpu_months: float, half_gpu_months: float, elasticity: float) -> float:
    """Skill from inference R&D: (1 + K / H)^ρ, K the R&D stock and H the scale (GPU-months), ρ ≥ 0."""
    k = check("rd_gpu_months", rd_gpu_months)
    h = check("half_gpu_months", half_gpu_months, strict=True)
    return (1.0 + k / h) ** check("elasticity", elasticity)


def miss_rate(cumulative_mtok: float, reference_mtok: float, progress_ratio: float, floor: float) -> float:
    """Cache-miss rate: floor + (1 − floor) · min(1, (V / V_c)^(−b)); 1 at V = 0. floor in [0, 1)."""
    if not 0.0 <= floor < 1.0:
        raise ValueError(f"floor={floor!r} out of range: must be in [0, 1)")
    v = check("cumulative_mtok", cumulative_mtok)
    vc = check("reference_mtok", reference_mtok, strict=True)
    if v <= vc:
        return 1.0
    return floor + (1.0 - floor) * (v / vc) ** -wright_exponent(progress_ratio)


def reference_for_skill(target_skill: float, cumulative_mtok: float, research: float, progress_ratio: float) -> float:
    """V₁ (Mtok) such that learned(V) × research = target at V: V₁ = V · (target / research)^(−1/b).

    Raises:
        ValueError: target ≤ research (learning would have nothing to add), non-positive volume.
    """
    v = check("cumulative_mtok", cumulative_mtok, strict=True)
    if not target_skill > research > 0:
        raise ValueError(f"target_skill={target_skill!r} must exceed research={research!r} > 0")
    return v * (target_skill / research) ** (-1.0 / wright_exponent(progress_ratio))


def reference_for_hit_rate(target_hit_rate: float, cumulative_mtok: float, progress_ratio: float, floor: float) -> float:
    """V_c (Mtok) such that 1 − miss_rate(V) = target: V_c = V · ((1 − target − floor) / (1 − floor))^(1/b).

    Raises:
        ValueError: target outside (0, 1 − floor).
    """
    if not 0.0 < target_hit_rate < 1.0 - floor:
        raise ValueError(f"target_hit_rate={target_hit_rate!r} must be in (0, 1 - floor) with floor={floor!r}")
    x = (1.0 - target_hit_rate - floor) / (1.0 - floor)
    return check("cumulative_mtok", cumulative_mtok, strict=True) * x ** (1.0 / wright_exponent(progress_ratio))


@dataclass(frozen=True)
class LearningParams:
    """The curves' parameters.

    Fields:
        progress_ratio: unit cost multiplier per doubling of cumulative volume, in (0, 1).
        skill_reference_mtok: V₁, Mtok of cumulative volume at which learned skill starts to exceed 1.
        cache_reference_mtok: V_c, Mtok at which cache misses start to fall.
        cache_miss_floor: share of input never served from cache, in [0, 1).
        rd_half_gpu_months: H, GPU-months. rd_elasticity: ρ.
        publication_lag_months: months before a published technique can be adopted, ≥ 0.
        adoption_months: τ, months; a host closes 1 − exp(−1/τ) of its gap a month, > 0.
    """

    progress_ratio: float
    skill_reference_mtok: float
    cache_reference_mtok: float
    cache_miss_floor: float
    rd_half_gpu_months: float
    rd_elasticity: float
    publication_lag_months: float
    adoption_months: float

    def __post_init__(self) -> None:
        wright_exponent(self.progress_ratio)
        check("skill_reference_mtok", self.skill_reference_mtok, strict=True)
        check("cache_reference_mtok", self.cache_reference_mtok, strict=True)
        if not 0.0 <= self.cache_miss_floor < 1.0:
            raise ValueError(f"cache_miss_floor={self.cache_miss_floor!r} out of range: must be in [0, 1)")
        check("rd_half_gpu_months", self.rd_half_gpu_months, strict=True)
        check("rd_elasticity", self.rd_elasticity)
        check("publication_lag_months", self.publication_lag_months)
        check("adoption_months", self.adoption_months, strict=True)


def deepseek_volume_mtok_per_month() -> float:
    """DeepSeek's served volume, Mtok per month: (`deepseek_input_tokens_per_day` +
    `deepseek_output_tokens_per_day`) / 1e6 × 730/24 days = 776,000 × 30.42 ≈ 2.36e7."""
    per_day = cal.value("deepseek_input_tokens_per_day") + cal.value("deepseek_output_tokens_per_day")
    return per_day / 1e6 * DAYS_PER_MONTH


def deepseek_calibration(progress_ratio: float, cumulative_months: float, rd_gpu_months: float,
                         rd_half_gpu_months: float, rd_elasticity: float, cache_miss_floor: float,
                         publication_lag_months: float, adoption_months: float,
                         target_skill: float | None = None) -> LearningParams:
    """Parameters whose curves pass through DeepSeek's published figures at DeepSeek's volume and R&D stock.

    V_DS = ``deepseek_volume_mtok_per_month() × cumulative_months``; V₁ from ``reference_for_skill`` with the
    target ``costs.deepseek_tech().skill`` (or ``target_skill``) and research = rd_multiplier(rd_gpu_months);
    V_c from ``reference_for_hit_rate`` with `deepseek_cache_hit_rate`.
    """
    if target_skill is None:
        from market.costs import deepseek_tech

        target_skill = deepseek_tech().skill
    v = deepseek_volume_mtok_per_month() * check("cumulative_months", cumulative_months, strict=True)
    research = rd_multiplier(rd_gpu_months, rd_half_gpu_months, rd_elasticity)
    return LearningParams(
        progress_ratio=progress_ratio,
        skill_reference_mtok=reference_for_skill(target_skill, v, research, progress_ratio),
        cache_reference_mtok=reference_for_hit_rate(cal.value("deepseek_cache_hit_rate"), v, progress_ratio,
                                                    cache_miss_floor),
        cache_miss_floor=cache_miss_floor, rd_half_gpu_months=rd_half_gpu_months, rd_elasticity=rd_elasticity,
        publication_lag_months=publication_lag_months, adoption_months=adoption_months)


def earned_skill(cumulative_mtok: float, rd_gpu_months: float, params: LearningParams) -> float:
    """learned(V) × research(K): the skill a firm earned itself."""
    return (learned_multiplier(cumulative_mtok, params.skill_reference_mtok, params.progress_ratio)
            * rd_multiplier(rd_gpu_months, params.rd_half_gpu_months, params.rd_elasticity))


def earned_cache_hit_rate(cumulative_mtok: float, params: LearningParams) -> float:
    """1 − miss_rate(V): the cache-hit rate a firm earned itself, in [0, 1 − floor]."""
    return 1.0 - miss_rate(cumulative_mtok, params.cache_reference_mtok, params.progress_ratio,
                           params.cache_miss_floor)


def volume_learning_value_usd_per_mtok(cumulative_mtok: float, pv_serving_cost_usd: float,
                                       params: LearningParams) -> float:
    """Present value ($/Mtok) of the serving cost one more served Mtok saves through learning by doing.

    Above V₁, d ln(skill)/dV = b / V and serving cost ∝ 1/skill, so the value is PV(serving cost) · b / V; below
    V₁ learning has not started (0). A dynamic value a lab may add to paid serving's margin
    (``agents.compute.paid_serving_use``'s ``extra_value_usd_per_mtok``).
    """
    v = check("cumulative_mtok", cumulative_mtok)
    if v <= params.skill_reference_mtok:
        return 0.0
    return check("pv_serving_cost_usd", pv_serving_cost_usd) * wright_exponent(params.progress_ratio) / v


# ------------------------------------------------------------------------------------------ publications

@dataclass(frozen=True)
class Publication:
    """Serving techniques a firm published: ``publisher_id``, the ``round`` of publication, and the publisher's
    technique (its skill without its own research multiplier, see ``technique_of``) and cache-hit rate then."""

    publisher_id: int
    round: int
    skill: float
    cache_hit_rate: float


def reachable(publications: Sequence[Publication], now: int, lag_months: float) -> tuple[float, float]:
    """(skill, cache-hit rate) a host can adopt at round ``now``: the best of the publications at least
    ``lag_months`` old; (1, 0) when there are none."""
    ready = [p for p in publications if now - p.round >= lag_months]
    return (max((p.skill for p in ready), default=1.0), max((p.cache_hit_rate for p in ready), default=0.0))


def catch_up(current: float, target: float, adoption_months: float) -> float:
    """One month of adoption: current + (target − current)(1 − exp(−1/τ)) if the target is higher, else current
    (what was adopted is not forgotten)."""
    if target <= current:
        return current
    return current + (target - current) * -math.expm1(-1.0 / check("adoption_months", adoption_months, strict=True))


@dataclass(frozen=True)
class SkillState:
    """A firm's serving know-how: cumulative served volume (Mtok), cumulative inference-R&D compute
    (GPU-months), and the skill and cache-hit rate adopted from publications so far."""

    cumulative_mtok: float = 0.0
    rd_gpu_months: float = 0.0
    adopted_skill: float = 1.0
    adopted_cache_hit_rate: float = 0.0


def advance(state: SkillState, served_mtok: float, rd_gpus: float, publications: Sequence[Publication], now: int,
            params: LearningParams) -> SkillState:
    """One month of learning (DESIGN.md §4 step 7): add the month's served Mtok and R&D GPUs (a GPU for a month
    is a GPU-month) to the stocks, and move the adopted figures toward what publications make reachable.

    Raises:
        ValueError: negative volume or R&D GPUs.
    """
    skill, hit = reachable(publications, now, params.publication_lag_months)
    return SkillState(state.cumulative_mtok + check("served_mtok", served_mtok),
                      state.rd_gpu_months + check("rd_gpus", rd_gpus),
                      catch_up(state.adopted_skill, skill, params.adoption_months),
                      catch_up(state.adopted_cache_hit_rate, hit, params.adoption_months))


def technique_of(state: SkillState, params: LearningParams) -> float:
    """The technique part of skill: the larger of what the firm learned by doing and what it adopted from
    publications (this is what a firm can publish)."""
    learned = learned_multiplier(state.cumulative_mtok, params.skill_reference_mtok, params.progress_ratio)
    return max(learned, state.adopted_skill)


def skill_of(state: SkillState, params: LearningParams) -> float:
    """Serving skill: technique × research(K). Research is the firm's own: publications carry only technique,
    so a host that adopts a publication and does no research reaches the publisher's technique, not its skill."""
    return technique_of(state, params) * rd_multiplier(state.rd_gpu_months, params.rd_half_gpu_months,
                                                       params.rd_elasticity)


def publication_of(state: SkillState, params: LearningParams, publisher_id: int, now: int) -> Publication:
    """What a firm publishes at round ``now``: its technique and its cache-hit rate."""
    return Publication(publisher_id, now, technique_of(state, params), cache_hit_rate_of(state, params))


def cache_hit_rate_of(state: SkillState, params: LearningParams) -> float:
    """Cache-hit rate: the larger of the earned rate and the adopted one."""
    return max(earned_cache_hit_rate(state.cumulative_mtok, params), state.adopted_cache_hit_rate)


def params_from_config(cfg) -> LearningParams:
    """``deepseek_calibration`` with the fields of a ``LearningConfig``."""
    return deepseek_calibration(cfg.progress_ratio, cfg.deepseek_cumulative_months, cfg.deepseek_rd_gpu_months,
                                cfg.rd_half_gpu_months, cfg.rd_elasticity, cfg.cache_miss_floor,
                                cfg.publication_lag_months, cfg.adoption_months)
