"""Earned serving skill and caching in the round (DESIGN.md Q2; ``market/learning.py`` wired in).

Every lab and host carries a :class:`market.learning.SkillState` (cumulative served volume, inference-R&D stock,
what it adopted from publications). Its serving technology each round is built from it:

* a lab serves on DeepSeek's expert-parallel deployment (``costs.lab_tech``: 176-GPU units) with skill
  ``learning.skill_of`` × the world's efficiency gains / the size of its model (``labs[].compute_per_token``) and
  cache-hit rate ``learning.cache_hit_rate_of``;
* a host serves the open model it chose (``market.quality``) on either of two deployments, whichever serves its
  expected volume at the lower unit cost: the off-the-shelf tensor-parallel one (``costs.provider_tech``: 2-GPU
  units) with the technique it learned itself, or — once it has adopted a lab's published technique — that
  technique on the labs' expert-parallel unit (the skill such a technique buys comes only in that unit: the
  cost curve charges a small host for it, DESIGN.md Q2).

Starting points (what ``costs`` used to hand out as constants): a lab with ``labs[].skill`` = 1 starts at the
calibration point of ``market.learning.deepseek_calibration`` (DeepSeek's cumulative volume and R&D stock, so its
skill and cache-hit rate are DeepSeek's published ones); another value places it on the same learning curve at
the volume that gives that multiple of DeepSeek's skill. Hosts start with no volume and no research, having
adopted ``providers.skill`` (1: off-the-shelf serving).
"""

from __future__ import annotations

import dataclasses
import math

from market import costs, learning
from market.learning import LearningParams, SkillState


def initial_lab_state(relative_skill: float, params: LearningParams, rd_gpu_months: float) -> SkillState:
    """A lab's know-how at round 0: the R&D stock of the calibrated lab (``rd_gpu_months``) and the cumulative
    volume V at which learned(V) × research = ``relative_skill`` × DeepSeek's skill (``costs.deepseek_tech``).

    V = V₁ · (target / research)^(1/b); a target at or below what research alone gives starts at V = 0 with the
    research stock lowered so that research alone gives it (skill never below 1).

    Raises:
        ValueError: ``relative_skill`` ≤ 0.
    """
    if not relative_skill > 0:
        raise ValueError(f"relative_skill={relative_skill!r}: must be > 0")
    target = max(1.0, relative_skill * costs.deepseek_tech().skill)
    research = learning.rd_multiplier(rd_gpu_months, params.rd_half_gpu_months, params.rd_elasticity)
    if target > research:
        volume = params.skill_reference_mtok * (target / research) ** (1.0 / learning.wright_exponent(params.progress_ratio))
        return SkillState(cumulative_mtok=volume, rd_gpu_months=rd_gpu_months)
    rd = 0.0 if params.rd_elasticity == 0 else params.rd_half_gpu_months * (target ** (1.0 / params.rd_elasticity) - 1.0)
    return SkillState(rd_gpu_months=max(0.0, rd))


def initial_host_state(adopted_skill: float) -> SkillState:
    """A host's know-how at round 0: no volume, no research, the technique ``adopted_skill`` (≥ 1 is meaningful;
    ``providers.skill``)."""
    return SkillState(adopted_skill=float(adopted_skill))


def lab_tech(base: costs.ServingTech, state: SkillState, params: LearningParams, efficiency: float,
             compute_per_token: float) -> costs.ServingTech:
    """A lab's serving technology: ``base`` (``costs.lab_tech``) with skill = earned skill × ``efficiency`` /
    ``compute_per_token`` and the earned cache-hit rate."""
    skill = learning.skill_of(state, params) * efficiency / compute_per_token
    return dataclasses.replace(base, skill=skill, cache_hit_rate=learning.cache_hit_rate_of(state, params))


def host_tech(tp_base: costs.ServingTech, ep_base: costs.ServingTech, state: SkillState, params: LearningParams,
              efficiency: float, model_size: float, cost_exponent: float, expected_mtok: float) -> costs.ServingTech:
    """A host's serving technology for a model of ``model_size`` (× DeepSeek-V3's GPU time per token):
    the cheaper, at ``expected_mtok`` reference-model Mtok a month, of tensor parallelism (``tp_base``, the
    technique it learned itself) and the published technique it adopted on the expert-parallel unit (``ep_base``'s
    replica size); with no volume expected, tensor parallelism (the smaller unit). Skill is divided by size^``cost_exponent``
    (``market.open_weights.serving_cost_usd_per_mtok``)."""
    scale = efficiency / model_size ** cost_exponent
    hit = learning.cache_hit_rate_of(state, params)
    learned = learning.learned_multiplier(state.cumulative_mtok, params.skill_reference_mtok, params.progress_ratio)
    research = learning.rd_multiplier(state.rd_gpu_months, params.rd_half_gpu_months, params.rd_elasticity)
    tp = dataclasses.replace(tp_base, skill=learned * research * scale, cache_hit_rate=hit)
    if state.adopted_skill <= learned:
        return tp
    ep = dataclasses.replace(tp_base, skill=state.adopted_skill * research * scale, cache_hit_rate=hit,
                             replica_gpus=ep_base.replica_gpus)
    if not expected_mtok > 0 or not math.isfinite(expected_mtok):
        return tp
    cost_tp = float(costs.gpus_required(expected_mtok, tp))
    cost_ep = float(costs.gpus_required(expected_mtok, ep))
    return ep if cost_ep < cost_tp else tp
