"""Configuration schema of a tokenmarket run: every parameter with its unit, allowed range and source.

The schema is the single home of defaults: the CLI, scenario files, sweeps and the browser page all read it.
Each field carries ``unit`` and ``source`` metadata; ``source`` is a key of the calibration table
(``market/data/calibration.csv``) or ``"assumption: <reason>"``.

Scenario files are TOML with the same nesting as :class:`MarketConfig`. Overrides use dotted paths
(``gpu_market.supply_share=0.5``, ``labs.0.skill=2``); ``__`` is accepted in place of ``.`` so that
keyword arguments (``mesa.batch_run``, SolaraViz) can carry them.

A scenario resolves as schema defaults → the calibrated layer (``market/data/calibrated.toml``, read by
:mod:`market.calibrated`; a file opts out with ``calibrated = false``) → the file's own values → overrides.
"""

from __future__ import annotations

import functools
import math
import re
import reprlib
import tomllib
import types
import typing
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

VERTICALS: tuple[str, ...] = ("general_chat", "coding", "customer_support", "writing")


class ConfigError(ValueError):
    """Bad configuration: names the field, the value given and what is allowed."""


def F(default: Any, unit: str, source: str, description: str, allowed: str | None = None, **bounds: Any) -> Any:
    """A schema field with unit and source metadata (``bounds`` are pydantic ``ge``/``le``/``gt``/``lt``).

    ``allowed`` states in words a constraint that a validator, not a bound, enforces (it is shown next to the
    bounds by ``tokenmarket params`` and in docs/ODD.md).
    """
    extra = {"unit": unit, "source": source} | ({"allowed": allowed} if allowed else {})
    return Field(default, description=description, json_schema_extra=extra, **bounds)


class _Strict(BaseModel):
    # Strict types: numbers are numbers (an int is a number, a bool or "60" is not), booleans are booleans,
    # text is text; every float finite; no unknown keys.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True, allow_inf_nan=False)


class PolicyConfig(_Strict):
    """How a seller sets its prices. ``best_response`` (the default and the only rule shipped scenarios use):
    each price is the seller's best response on the demand it faces (market/oracle.py), moving at most
    ``pricing.max_step_factor`` a month. The other rules exist for special cases and tests, never as a default:
    ``cost_plus`` (standard cost × (1 + markup)), ``competitive`` (undercut the best quality-adjusted rival by
    ``step`` down to unit cost × (1 + floor_markup)), ``bandit`` (ε-greedy over markup ``levels``), ``fixed`` (hold the
    initial price: a control for experiments that hold some sellers' prices, agents/policies.py).
    """

    name: Literal["best_response", "cost_plus", "competitive", "bandit", "fixed"] = F(
        "best_response", "choice", "DESIGN.md §5: prices are best responses on the demand the firm faces", "pricing rule")
    markup: float = F(0.5, "fraction", "assumption: middle of the 2025 list-price/unit-cost gaps", "cost_plus: markup on unit cost", ge=-0.9, le=50)
    step: float = F(0.05, "fraction per round", "assumption: a 5 % monthly price move", "competitive: price step per round", gt=0, le=0.5)
    floor_markup: float = F(0.0, "fraction", "assumption: competitive sellers stop at unit cost", "competitive: floor over unit cost", ge=-0.9, le=10)
    epsilon: float = F(0.1, "probability", "Sutton & Barto (2018) §2.2 common choice", "bandit exploration rate", ge=0, le=1)
    # strict=False for the tuple only, so that a TOML or JSON list is taken; each element stays a strict number.
    levels: tuple[Annotated[float, Field(ge=-0.9, le=50)], ...] = F((-0.2, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0), "markups", "assumption: spans sub-cost to list-price margins", "bandit's markup levels", allowed="1 to 50 finite markups (fractions of the cost basis), each in [-0.9, 50]", strict=False, min_length=1, max_length=50)


class PricingConfig(_Strict):
    """The best-response pricing every seller uses (market/oracle.py, agents/policies.py)."""

    sample_per_cell: int = F(300, "customers per (segment, vertical)", "assumption: the demand oracle's sample (tails of willingness to pay and need whole); against a 3,000-per-cell sample, best-response targets differ by a median 2.5-3.7 % and the profit forgone is a median 0.03-0.1 %, 5-7 % at the 90th percentile (the oracle-accuracy benchmark in benchmarks/, months 12 and 36); 600 halves both at twice the cost", "customers the demand oracle samples from each segment and vertical", ge=20, le=20_000)
    grid_points: int = F(9, "prices", "assumption: spaced quadratically in log price across the month's reachable range and refined by a parabola at the best point; 13 points move best-response targets by under 1 % against 9 (the oracle-accuracy benchmark), far less than the sample does", "candidate prices per best-response search", ge=5, le=101)
    max_step_factor: float = F(1.5, "× per month", "assumption: list prices are revised monthly and rarely by more than half at once (the largest public cut, cn_qwen_long_price_cut_pct, was the exception)", "largest monthly price move toward the best response (a factor up or down)", gt=1, le=100)
    adjustment: float = F(0.5, "share of the log-distance per month", "assumption: partial best-response dynamics; sellers that revise all prices at once against last month's evaluation oscillate when they jump straight to it (a standard damping in learning in games, Fudenberg & Levine 1998)", "fraction of the way (in log price) to the best response a seller moves each month", gt=0, le=1)


class PlanConfig(_Strict):
    """A subscription plan of an app: a flat monthly price for use up to a cap (a rate limit), and optionally a
    per-token overage price beyond it. Its price is chosen by best response; the cap is product design."""

    name: str = F(..., "label", "label: names the plan in outputs", "plan name", allowed="letters, digits, _ -", pattern=r"^[A-Za-z0-9_-]+$", max_length=40)
    cap_mtok: float = F(..., "Mtok/month", "assumption: plan design", "tokens a subscriber may use a month", gt=0, le=1e6)
    overage_usd_per_mtok: float | None = F(None, "$/Mtok", "assumption: plan design", "price of tokens beyond the cap (None: a hard rate limit)", allowed="None or > 0", gt=0, le=1e4)
    price_usd_per_month: float = F(20.0, "$/month", "cursor_pro_price_usd_per_month", "initial price (later set by best response)", gt=0, le=1e5)


class TierConfig(_Strict):
    """One model of a lab's model line: its size (compute per token relative to the lab's frontier model) and its
    quality relative to the frontier model. The smallest tier also serves the free tier."""

    name: str = F(..., "label", "label: names the tier in outputs", "tier name", allowed="letters, digits, _ -", pattern=r"^[A-Za-z0-9_-]+$", max_length=40)
    size_factor: float = F(1.0, "× the frontier model's compute per token", "assumption: the frontier tier is the reference", "compute per token relative to the frontier model", gt=0, le=1)
    quality_factor: float = F(1.0, "× the lab's quality", "assumption: the frontier tier is the reference", "quality relative to the lab's frontier model", gt=0, le=1)
    price_usd_per_mtok: float = F(4.13, "$/Mtok blended", "price_gpt4o_2024_08_input_usd_per_m, price_gpt4o_2024_08_output_usd_per_m: 2.5 in / 10 out, blended at DeepSeek's 78:22 input:output mix", "initial API price (later set by best response)", gt=0, le=1000)


def _default_tiers() -> list[TierConfig]:
    return [TierConfig(name="frontier"),
            TierConfig(name="small", size_factor=0.06, quality_factor=0.85, price_usd_per_mtok=0.247)]


def _default_plans() -> list[PlanConfig]:
    return [PlanConfig(name="plus", cap_mtok=2.0, price_usd_per_month=20.0),
            PlanConfig(name="pro", cap_mtok=40.0, price_usd_per_month=200.0)]


def _default_wrapper_plans() -> list[PlanConfig]:
    return [PlanConfig(name="pro", cap_mtok=5.0, price_usd_per_month=20.0),
            PlanConfig(name="ultra", cap_mtok=100.0, price_usd_per_month=200.0)]

class WorldConfig(_Strict):
    """Exogenous world: time, efficiency and usage trends, how training and data raise quality."""

    rounds: int = F(60, "months", "assumption: five years, the horizon of the 2025 debate", "rounds to simulate", ge=1, le=1200)
    efficiency_gain_per_year: float = F(0.3, "fraction per year", "assumption: well below google_gemini_serving_unit_cost_reduction_2025_pct (78 %), which bundles one-off model changes", "throughput gain per GPU", ge=0, le=5)
    usage_growth_per_year: float = F(0.5, "fraction per year", "assumption: tokens per user grow with agents/reasoning; chatgpt_wau_2024_08→2025_08 grew users 3.5×", "growth of token use per customer", ge=-0.5, le=10)
    training_gain: float = F(0.0144, "quality index per month", "assumption: a lab training on training_ref_gpus gains ≈ 0.12 a year (with data, ≈ 0.15: frontier scores rose ≈ 15 % a year 2023-25)", "quality gain per ln(1 + compute/ref)", ge=0, le=1)
    training_ref_gpus: float = F(150_000, "GPU-equivalents", "assumption: a 2024 frontier lab's training compute, ≈ $3B a year (press reports, not in the calibration table) at h100_atcost_usd_per_gpu_hour_estimate", "training compute scale of diminishing returns", gt=0, le=1e8)
    data_gain: float = F(0.0036, "quality index per month", "assumption: the free-tier data flywheel adds ≈ a fifth of the training gain", "quality gain per ln(1 + free tokens/ref)", ge=0, le=1)
    data_ref_mtok: float = F(5e7, "Mtok/month", "assumption: a large lab's free tier (≈ 50T tokens a month)", "free-tier volume scale of diminishing returns", gt=0, le=1e12)
    data_flywheel: bool = F(True, "switch", "DESIGN.md Q1", "free-tier usage improves the model")
    scale_economies: bool = F(True, "switch", "DESIGN.md Q2", "serving cost falls with volume (False: flat curve)")


class SegmentConfig(_Strict):
    """A customer segment: a vectorised population with heavy-tailed token use, in one mix of verticals."""

    name: str = F(..., "label", "label: names the segment in outputs", "segment name", allowed="text")
    share: float = F(..., "fraction of customers", "assumption: ≈ 40M developers and ≈ 10M business buyers among ≈ 1B users (chatgpt_wau_2025_08's note: 5M paying business users)", "share of simulated customers", allowed="segments' shares sum to 1", gt=0, le=1)
    vertical_mix: dict[str, float] = F(..., "fractions", "assumption: consumers mostly chat, developers mostly code, enterprises mostly automate support", "share of the segment in each vertical", allowed=f"{{{', '.join(VERTICALS)}}} → share ≥ 0, summing to 1")
    wtp_median_usd_per_month: float = F(..., "$/month", "assumption: medians put ≈ 1-3 % of consumers on a $20 plan, like chatgpt_plus_subscribers_2024_06 over chatgpt_wau_2024_08", "median value of a quality-1 service used to satiation (willingness to pay)", gt=0, le=1e6)
    wtp_sigma: float = F(1.0, "log-sd", "assumption: wide dispersion of willingness to pay", "lognormal sigma of WTP", ge=0, le=4)
    usage_median_mtok: float = F(..., "Mtok/month", "assumption: medians put total demand in the hundreds of trillions of tokens a month, the order of google_tokens_per_month_2025_07 (980T, all Google surfaces)", "median token need: the monthly use at which a customer is satiated (more tokens add no value)", gt=0, le=1e6)
    usage_sigma: float = F(1.2, "log-sd", "assumption: DESIGN.md §4 heavy tail (mean ≈ 2× median)", "lognormal sigma of the token need", ge=0, le=4)
    wtp_usage_corr: float = F(0.7, "correlation of log WTP and log need", "assumption: heavier users value the service more (coding agents run up the biggest bills and pay the highest plans), so value per token varies less than either", "correlation of willingness to pay and token need", ge=-0.99, le=0.99)
    price_scale_usd: float = F(..., "$/month", "assumption: of the order of the segment's median willingness to pay (a third of it to all of it)", "logit scale μ: a price change of μ moves odds by e", gt=0, le=1e6)
    quality_exponent: float = F(1.5, "exponent", "assumption: value rises more than in proportion to quality near the frontier", "curvature of value in quality", gt=0, le=10)
    switching_cost_usd: float = F(..., "$", "assumption: a few hours of set-up for a consumer, weeks of re-integration for an enterprise workflow", "median one-off cost of moving between offers", ge=0, le=1e6)
    tenure_months: float = F(24.0, "months", "assumption: subscription software churns about 3-5 % a month, an expected tenure of two to three years", "expected months a customer stays with a new choice: a switching cost is spread over it", gt=0, le=600)
    reconsider_prob: float = F(0.1, "per month", "assumption: a tenth of customers look around each month", "share reconsidering each round", gt=0, le=1)
    reconsider_prob_news: float = F(0.3, "per month", "assumption: a price rise on one's own plan or a new offer in one's vertical makes customers look around about three times as often", "share reconsidering in a round with news (own offer's price rose, or a new offer in the vertical)", allowed="≥ reconsider_prob", gt=0, le=1)
    aware0: float = F(0.5, "fraction", "assumption: about half of the people who would ever use AI had tried it by mid-2024 (chatgpt_wau_2024_08 of the ≈ 1B the market stands for, plus other assistants)", "share aware of AI (able to choose) at round 0", ge=0, le=1)
    bass_innovation: float = F(0.01, "per month", "Bass (1969): the innovation coefficient; assumption: the monthly rate for AI assistants is the order of the yearly rates of consumer durables, a fast category", "monthly hazard of becoming aware without word of mouth", ge=0, le=1)
    bass_imitation: float = F(0.15, "per month", "Bass (1969): the imitation coefficient; assumption: word of mouth several times stronger than innovation, as in most diffusion estimates", "monthly hazard of becoming aware per unit share of the segment using AI", ge=0, le=5)
    api_capable: bool = F(False, "switch", "assumption: consumers use apps; developers and enterprises can build on an API", "may buy tokens directly from APIs")

    @model_validator(mode="after")
    def _mix(self) -> "SegmentConfig":
        bad = [k for k in self.vertical_mix if k not in VERTICALS]
        if bad:
            raise ValueError(f"vertical_mix: unknown vertical {bad[0]!r}; allowed: {', '.join(VERTICALS)}")
        total = sum(self.vertical_mix.values())
        if any(v < 0 for v in self.vertical_mix.values()) or not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"vertical_mix: shares must be ≥ 0 and sum to 1, got sum {total:.6g}")
        if self.reconsider_prob_news < self.reconsider_prob:
            raise ValueError(f"reconsider_prob_news: {self.reconsider_prob_news} is below reconsider_prob = "
                             f"{self.reconsider_prob}; allowed: ≥ reconsider_prob")
        return self


def _default_segments() -> list[SegmentConfig]:
    # Shares: ≈ 40M developers and ≈ 10M business buyers among ≈ 1B users (assumption; chatgpt_wau_2025_08
    # quotes 5M paying business users). Token medians put total demand in the hundreds of trillions of tokens a
    # month, the order of google_tokens_per_month_2025_07 (980T, all Google surfaces). WTP medians put ≈ 1-3 %
    # of consumers on a $20 plan, like chatgpt_plus_subscribers_2024_06 over chatgpt_wau_2024_08.
    return [
        SegmentConfig(name="consumer", share=0.95, vertical_mix={"general_chat": 0.7, "writing": 0.2, "coding": 0.1},
                      wtp_median_usd_per_month=5.0, usage_median_mtok=0.05, price_scale_usd=5.0,
                      switching_cost_usd=24.0, reconsider_prob=0.08, reconsider_prob_news=0.25, aware0=0.5),
        SegmentConfig(name="developer", share=0.04, vertical_mix={"coding": 0.7, "general_chat": 0.2, "writing": 0.1},
                      wtp_median_usd_per_month=50.0, usage_median_mtok=1.0, price_scale_usd=5.0,
                      switching_cost_usd=240.0, reconsider_prob=0.12, reconsider_prob_news=0.35, aware0=0.9,
                      api_capable=True, quality_exponent=2.0),
        SegmentConfig(name="enterprise", share=0.01,
                      vertical_mix={"customer_support": 0.5, "coding": 0.2, "general_chat": 0.2, "writing": 0.1},
                      wtp_median_usd_per_month=300.0, usage_median_mtok=5.0, price_scale_usd=25.0,
                      switching_cost_usd=2400.0, reconsider_prob=0.05, reconsider_prob_news=0.15, aware0=0.7,
                      api_capable=True, quality_exponent=2.0),
    ]


class CustomersConfig(_Strict):
    """The customer population: size, population weight, segments and apps' vertical fit."""

    n_customers: int = F(1_000_000, "simulated customers", "assumption: DESIGN.md §4 (a million must be cheap)", "simulated population", ge=100, le=20_000_000)
    mode: Literal["vectorised", "agents"] = F("vectorised", "choice", "assumption: 'agents' is the slow reference that checks the fast path (one Mesa agent per customer, plain Python)", "customer population implementation")
    market_size: float = F(1e9, "real customers", "chatgpt_wau_2025_08 (7e8) plus other assistants' users ≈ 1e9 people", "real customers the population stands for", allowed="≥ n_customers (a simulated customer stands for at least one real one)", gt=0, le=1e11)
    free_tier_cap_mtok: float = F(0.5, "Mtok/month", "assumption: free tiers are rate-limited to light use", "token cap of a free-tier user (served by the lab's smallest tier)", gt=0, le=1e4)
    nest_lambda_chat: float = F(0.6, "dissimilarity (0, 1]", "Berry (1994): nested logit; assumption: general assistants are close substitutes for one another (1 = plain logit, toward 0 = identical products)", "nesting parameter of general chat apps (free tiers and plans)", gt=0.01, le=1)
    nest_lambda_apps: float = F(0.5, "dissimilarity (0, 1]", "Berry (1994): nested logit; assumption: apps of one vertical are closer substitutes than apps and APIs", "nesting parameter of vertical apps (wrappers and labs' vertical apps)", gt=0.01, le=1)
    nest_lambda_api: float = F(0.6, "dissimilarity (0, 1]", "Berry (1994): nested logit; assumption: APIs behind one protocol are close substitutes", "nesting parameter of direct APIs", gt=0.01, le=1)
    brand_innovation: float = F(0.02, "per month", "Bass (1969): innovation coefficient; assumption: people hear of a lab's app without word of mouth (press, launches) at a few % a month", "monthly hazard of learning of a lab's app unprompted", ge=0, le=1)
    brand_imitation: float = F(0.3, "per month", "Bass (1969): imitation coefficient; assumption: word of mouth from a lab's own users dominates, as ChatGPT's 2023-24 growth suggests", "monthly hazard of learning of a lab's app per unit share of AI-aware customers using it", ge=0, le=5)
    news_price_change: float = F(0.1, "fraction", "assumption: a price rise below 10 % goes unnoticed", "price rise of one's own plan that counts as news", gt=0, le=10)
    general_app_fit: float = F(0.8, "fraction", "assumption: a general assistant does a specialised job less well than a built-for-purpose app", "fit of a general chat app outside general chat", ge=0, le=1)
    api_fit: float = F(0.85, "fraction", "assumption: building on the raw API costs integration effort", "fit of direct API use", ge=0, le=1)
    segments: list[SegmentConfig] = Field(default_factory=_default_segments, min_length=1)

    @property
    def population_weight(self) -> float:
        """Real customers each simulated customer stands for (market_size / n_customers)."""
        return self.market_size / self.n_customers

    @model_validator(mode="after")
    def _shares(self) -> "CustomersConfig":
        if self.market_size < self.n_customers:
            raise ValueError(f"market_size: {self.market_size:g} is below n_customers = {self.n_customers}; "
                             f"allowed: market_size ≥ n_customers")
        total = sum(s.share for s in self.segments)
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"segments: shares must sum to 1, got {total:.6g}")
        return self


class LabConfig(_Strict):
    """A frontier lab: model quality, serving skill, fleet, prices, funding."""

    name: str = F(..., "label", "label: names the lab in outputs", "lab name", allowed="text, unique among labs, not a provider's or wrapper's name (provider_N, <vertical>_wrapper_N)")
    funding: Literal["investor", "self_funded", "efficient"] = F("investor", "choice", "DESIGN.md Q6: who funds the losses", "funding type")
    quality: float = F(1.0, "quality index (2025 frontier = 1)", "assumption: normalised", "initial model quality", gt=0, le=10)
    skill: float = F(1.0, "throughput multiplier", "costs.lab_tech (DeepSeek-style expert parallelism vs a tensor-parallel baseline)", "serving skill at round 0 relative to the calibrated lab: places the lab on the learning curve (market/learning.py), from where it earns more", gt=0, le=10)
    compute_per_token: float = F(7.2, "× DeepSeek-V3 GPU time per token", "DERIVED: API GPU cost share 0.283 (openai_api_a100eq_gpus_estimate × openai_api_gpu_rent_usd_per_hour_estimate × 730 / openai_api_monthly_revenue_2024_06_usd) × 4.13 $/Mtok (price_gpt4o_2024_08_input_usd_per_m and price_gpt4o_2024_08_output_usd_per_m, blended) = 1.17 $/Mtok unit cost; ÷ 0.8 utilisation ÷ 0.129 $/Mtok DeepSeek marginal cost at 2.3 $/h", "size of the lab's model relative to DeepSeek-V3's", gt=0, le=100)
    cash_usd: float = F(5e9, "$", "assumption: order of a 2024-25 frontier-lab funding round", "initial cash", ge=0, le=1e13)
    tiers: list[TierConfig] = Field(default_factory=_default_tiers, min_length=1, max_length=4, description="the lab's model line: a frontier model first, then smaller ones")
    plans: list[PlanConfig] = Field(default_factory=_default_plans, max_length=4, description="paid plans of the lab's chat app (none: no paid app)")
    free_tier: bool = F(True, "switch", "assumption: every 2025 frontier lab's chat app had a free tier", "has a free tier on the menu: the lab sizes it (off, small, large) by value at its reviews, starting small (served by its smallest model)")
    pricing: PolicyConfig = Field(default_factory=PolicyConfig, description="how the lab sets its prices")
    brand_awareness: float = F(0.5, "fraction of AI-aware customers", "assumption: half of the people who use AI know a frontier lab's chat app at round 0", "share of AI-aware customers who know the lab's apps at round 0", ge=0, le=1)
    vertical_quality: dict[str, float] = F({}, "× quality in a vertical", "assumption: a lab's models may be better at one job than its overall quality says", "quality multiplier of the lab's models in a vertical (1 where absent)", allowed=f"{{{', '.join(VERTICALS)}}} → multiplier in (0, 5]")
    training_efficiency: float = F(1.0, "× effective training compute", "assumption: deepseek_v3_training_cost_usd suggests an efficient lab gets several times more per GPU", "training compute multiplier", gt=0, le=100)
    vertical_build_cost_usd: float = F(5e8, "$", "assumption: a product team and go-to-market for a year", "cost of building a vertical app", ge=0, le=1e12)
    vertical_build_months: int = F(6, "months", "assumption: claude_code_launch_date came about two years after coding wrappers took off; building is faster", "time to launch a built vertical app", ge=0, le=60)
    vertical_app_multiplier: float = F(1.05, "× model quality", "assumption: a lab's own vertical app fits a little better than its raw model", "product multiplier of a lab's vertical app", gt=0, le=5)
    review_months: int = F(12, "months", "assumption: strategy is set once a year in the annual plan (budget cycle), the span a price campaign is forecast to run (moves.campaign_months); labs' reviews are staggered by their index; a scenario may set a shorter cycle", "months between a lab's strategic reviews (API conduct, vertical entry, terms for rival wrappers, free tier, publishing)", ge=1, le=120)
    capacity_lead_months: int = F(3, "months", "assumption: GPU delivery and data-centre build-out", "lead time of GPU orders", ge=0, le=36)
    value_horizon_months: float = F(60.0, "months", "assumption: a lab plans over the five years investors forecast (capital.forecast_months), with no growth of demand in its forecast", "months over which a lab values a lasting gain (the profit of a quality point prices training; the serving bill it saves prices inference R&D)", ge=0, le=240)
    quality_review_months: int = F(3, "months", "assumption: a lab re-estimates what a quality point is worth at quarterly strategy reviews, as wrappers review their sourcing (wrappers.review_months); the estimate is a strategic forecast on the demand oracle, run at review dates", "months between a lab's estimates of the present value of a quality point", ge=1, le=24)
    plan_review_months: int = F(3, "months", "assumption: a lab sets its compute plan (GPU orders, rental commitments, the split of its fleet among paid serving, the free tier, training and inference research) at quarterly planning reviews, staggered by its index as its quality reviews (quality_review_months) are, and holds it in between: GPU capacity is reserved and ordered months ahead (capacity_lead_months), and the public record shows labs' and cloud providers' capacity plans revised with quarterly results, not monthly; 1 re-plans every month", "months between a lab's planning reviews of its GPU orders, rental commitment and compute split", ge=1, le=24)
    opex_usd_per_month: float = F(1e8, "$/month", "assumption: staff and overheads of a frontier lab", "fixed operating cost", ge=0, le=1e11)
    parent_budget_usd_per_month: float = F(0.0, "$/month", "alphabet_q2_2025_net_income_usd / 3 bounds what a parent can transfer", "parent transfer budget (self_funded and efficient labs)", ge=0, le=1e11)

    @model_validator(mode="after")
    def _line(self) -> "LabConfig":
        if self.tiers[0].size_factor != 1.0 or self.tiers[0].quality_factor != 1.0:
            raise ValueError(f"tiers.0: the first tier is the frontier model (size_factor = quality_factor = 1), got "
                             f"{self.tiers[0].size_factor}, {self.tiers[0].quality_factor}; allowed: 1 and 1")
        for field, items in (("tiers", self.tiers), ("plans", self.plans)):
            names = [x.name for x in items]
            if len(set(names)) != len(names):
                raise ValueError(f"{field}: names must be unique, got {names}")
        for k, v in self.vertical_quality.items():
            if k not in VERTICALS or not (0 < v <= 5 and math.isfinite(v)):
                raise ValueError(f"vertical_quality.{k}: {v} not allowed; allowed: a vertical of {', '.join(VERTICALS)} → multiplier in (0, 5]")
        return self


class ProvidersConfig(_Strict):
    """Low-volume providers: host the best open-weight model on rented GPUs and price near cost."""

    n: int = F(4, "firms", "assumption: Together, Fireworks, DeepInfra and the long tail, in miniature", "number of providers", allowed="≤ max_n", ge=0, le=100)
    skill: float = F(1.0, "throughput multiplier", "costs.provider_tech (NIM 2×H100 curve)", "serving technique hosts have adopted at round 0 (1: off-the-shelf tensor parallelism); from there they learn by doing and adopt published techniques (market/learning.py)", gt=0, le=10)
    cash_usd: float = F(2e8, "$", "assumption: a Series B inference host (together_valuation_2024_03_usd)", "initial cash", ge=0, le=1e12)
    api_price_usd_per_mtok: float = F(0.88, "$/Mtok blended", "price_llama3_70b_together_input_usd_per_m", "initial price", gt=0, le=1000)
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="how hosts set their prices")
    opex_usd_per_month: float = F(2e6, "$/month", "assumption: a 100-person company", "fixed operating cost", ge=0, le=1e10)
    entry: bool = F(True, "switch", "DESIGN.md §3 step 7: providers enter when expected margins are positive", "new providers may enter")
    entry_margin_min: float = F(0.15, "fraction", "assumption: a host needs 15 % over unit cost to cover opex and risk", "expected markup that triggers entry", ge=0, le=10)
    max_n: int = F(12, "firms", "assumption: a miniature market supports about a dozen hosts", "cap on providers alive", ge=0, le=100)

    @model_validator(mode="after")
    def _cap(self) -> "ProvidersConfig":
        if self.n > self.max_n:
            raise ValueError(f"n: {self.n} providers exceed max_n = {self.max_n}; allowed: n ≤ max_n")
        return self


class WrappersConfig(_Strict):
    """Wrapper apps: per vertical, how many, their product multiplier and price."""

    per_vertical: dict[str, int] = F({"general_chat": 0, "coding": 3, "customer_support": 2, "writing": 2}, "firms", "assumption: a handful of funded wrappers per vertical; general chat is the labs' own app", "wrappers per vertical", allowed=f"{{{', '.join(VERTICALS)}}} → integer in [0, 50], ≤ max_per_vertical")
    product_multiplier: float = F(1.05, "× upstream quality", "assumption: wrappers win on workflow fit", "quality added by the wrapper", gt=0, le=5)
    plans: list[PlanConfig] = Field(default_factory=_default_wrapper_plans, min_length=1, max_length=4, description="a wrapper's plans (also the menu of a lab's vertical app)")
    cash_usd: float = F(1e8, "$", "assumption: a Series A/B app company", "initial cash", ge=0, le=1e11)
    opex_usd_per_month: float = F(1e6, "$/month", "assumption: a 50-person company", "fixed operating cost", ge=0, le=1e10)
    policy: PolicyConfig = Field(default_factory=PolicyConfig, description="how wrappers set their prices")
    invest_share: float = F(0.3, "fraction of gross profit", "assumption: app companies reinvest a third of gross profit in product", "product investment", ge=0, le=1)
    invest_half_usd: float = F(2e7, "$/month", "assumption: ≈ $20M a month, a large app company's product budget, buys half the fastest progress", "investment at which half the remaining product gap closes in ten months", gt=0, le=1e11)
    multiplier_max: float = F(1.25, "× upstream quality", "assumption: workflow fit has a ceiling", "highest product multiplier", gt=0, le=5)
    entry: bool = F(True, "switch", "DESIGN.md §3 step 7: wrappers enter when expected margins are positive", "new wrappers may enter")
    entry_margin_min: float = F(0.2, "operating margin", "assumption: investors back a new app where incumbents earn a 20 % operating margin", "incumbents' operating margin that attracts entry", ge=-1, le=10)
    max_per_vertical: int = F(6, "firms", "assumption: a vertical supports about six funded apps", "cap on wrappers alive per vertical", ge=0, le=50)
    switch_delay_months: int = F(2, "months", "assumption: re-tuning prompts and evals for a new model", "time to switch upstream", ge=0, le=24)
    switch_cost_usd: float = F(2e6, "$", "assumption: an engineering team's month of re-tuning prompts, evals and integrations", "one-off cost of moving to another upstream API", ge=0, le=1e10)
    sourcing_horizon_months: float = F(24.0, "months", "assumption: a wrapper expects a supplier choice to last about two years (model generations)", "months over which a wrapper weighs a switch's monthly gain against its cost", gt=0, le=240)
    review_months: int = F(3, "months", "assumption: wrappers re-evaluate suppliers each quarter (and at once when theirs is gone)", "months between a wrapper's sourcing reviews", ge=1, le=60)

    @model_validator(mode="after")
    def _verticals(self) -> "WrappersConfig":
        for k, v in self.per_vertical.items():
            if k not in VERTICALS:
                raise ValueError(f"per_vertical: unknown vertical {k!r}; allowed: {', '.join(VERTICALS)}")
            if v < 0 or v > 50:
                raise ValueError(f"per_vertical.{k}: {v} out of range [0, 50]")
            if v > self.max_per_vertical:
                raise ValueError(f"per_vertical.{k}: {v} wrappers exceed max_per_vertical = {self.max_per_vertical}; "
                                 f"allowed: ≤ max_per_vertical")
        return self


class FinanceConfig(_Strict):
    """Funding: when firms raise, from whom, and how much."""

    runway_trigger_months: float = F(6.0, "months", "assumption: firms raise with about six months of runway left", "raise when runway falls below", ge=0, le=120)
    raise_months_of_burn: float = F(18.0, "months", "assumption: a round buys 18 months of burn", "size of a round", gt=0, le=120)
    fleet_budget_months: float = F(24.0, "months", "assumption: labs commit to fleets they can pay for two years", "months over which a lab spreads its cash and what the capital market would fund it when it sizes its GPU fleet", gt=0, le=240)
    max_raise_usd: float = F(4e10, "$", "assumption: the largest 2025 private rounds", "cap on one round", gt=0, le=1e13)
    cost_of_capital_investor: float = F(0.25, "fraction per year", "assumption: venture investors underwrite late-stage rounds at 20-30 % a year target returns", "cost of capital of investor-funded firms' owners", gt=0, le=2)
    cost_of_capital_self_funded: float = F(0.09, "fraction per year", "assumption: a large listed technology parent's weighted average cost of capital is about 8-10 % a year", "cost of capital of a parent-funded lab (the parent's hurdle rate)", gt=0, le=2)
    cost_of_capital_efficient: float = F(0.12, "fraction per year", "assumption: a frugal lab funded by a profitable private parent (a quant fund) asks a little more than a listed giant", "cost of capital of a frugal lab's owners", gt=0, le=2)


class GpuMarketConfig(_Strict):
    """The GPU market (``market/gpu_market.py``): the supply path, owned vs rented cost, the rental price."""

    supply_share: float = F(0.35, "fraction of world deliveries", "assumption: frontier labs' and inference hosts' LLM work took about a third of 2023-25 accelerator shipments; recommendation, search, enterprise and other AI work took the rest", "share of world accelerator deliveries that serves the simulated market", gt=0, le=1)
    usd_per_gpu: float = F(30000.0, "$ per H100-equivalent", "h100_msrp_usd", "price that turns accelerator revenue into GPUs", gt=0, le=1e6)
    growth_after_path_per_year: float = F(0.0, "fraction per year", "assumption: no forecast of deliveries beyond the last reported quarter (nvidia_dc_revenue_fy27_q1); held flat", "growth of deliveries after the supply path's last point", ge=-0.9, le=5)
    capex_usd_per_gpu: float = F(50000.0, "$/GPU", "h100_allin_cluster_capex_per_gpu_usd", "all-in purchase cost of an owned GPU (servers and networking)", gt=0, le=1e6)
    life_months: float = F(48.0, "months", "assumption: a four-year life, between the three-year payback in the note of h100_atcost_usd_per_gpu_hour_estimate and hyperscalers' five- to six-year server lives", "life over which owned GPUs are amortised and retire", ge=12, le=120)
    opex_usd_per_gpu_hour: float = F(0.38, "$/GPU-hour", "DERIVED: 0.2 × h100_allin_cluster_capex_per_gpu_usd / (36 × 730) = 0.381, the ~20 % running cost on a three-year payback in the note of h100_atcost_usd_per_gpu_hour_estimate", "power, hosting and operations of a GPU; the rent's floor (holders idle a GPU rather than rent it for less)", ge=0, le=50)
    reference_rent_usd_per_hour: float = F(2.99, "$/GPU-hour", "h100_rental_oct_2024_ondemand_usd_per_hour", "rent at which the rental market clears at the start (calibrates the outside demand)", gt=0, le=50)
    rent_ceiling_usd_per_hour: float = F(12.29, "$/GPU-hour", "aws_p5_ondemand_usd_per_gpu_hour_2023", "highest rent (a hyperscaler's on-demand list price); demand above supply there is rationed pro rata", gt=0, le=100)
    outside_demand_elasticity: float = F(1.5, "elasticity", "assumption: the rest of the market rents elastically (batch jobs, fine-tuning and research runs expand when rent falls); no public estimate", "price elasticity of other renters' demand", ge=0, le=10)
    outside_demand_tracks_supply: bool = F(True, "switch", "assumption: other renters' demand grows with the stock along the supply path, so that the rent moves only through the modelled firms", "outside demand grows with the supply path's stock")

    @model_validator(mode="after")
    def _rents(self) -> "GpuMarketConfig":
        if not self.opex_usd_per_gpu_hour < self.reference_rent_usd_per_hour < self.rent_ceiling_usd_per_hour:
            raise ValueError(f"reference_rent_usd_per_hour: {self.reference_rent_usd_per_hour} must lie between "
                             f"opex_usd_per_gpu_hour = {self.opex_usd_per_gpu_hour} (the floor) and "
                             f"rent_ceiling_usd_per_hour = {self.rent_ceiling_usd_per_hour}")
        return self


class LearningConfig(_Strict):
    """Earned skill and caching (``market/learning.py``): learning by doing, inference R&D, publications."""

    progress_ratio: float = F(0.85, "× unit cost per doubling", "assumption: Wright's-law progress ratios of 0.7-0.9 are typical of manufacturing; serving software is put near the slower end", "unit cost multiplier per doubling of cumulative served volume", gt=0.5, lt=1)
    deepseek_cumulative_months: float = F(12.0, "months", "assumption: the calibrated lab's cumulative volume is a year at its published daily rate (deepseek_input_tokens_per_day plus deepseek_output_tokens_per_day)", "months of DeepSeek's Feb-2025 volume its skill and cache-hit rate were earned on", gt=0, le=120)
    rd_elasticity: float = F(0.244, "elasticity", "DERIVED: log2(nim_llama33_70b_2xh100_c250_throughput_tok_s / nim_llama33_70b_v150_saturated_tok_s) = log2(1.184): a year of a vendor's inference-software work (rd_half_gpu_months) bought 18 %", "exponent of skill in the inference-R&D stock", ge=0, le=2)
    rd_half_gpu_months: float = F(12000.0, "GPU-months", "assumption: an inference-software team runs about a thousand GPUs of experiments for a year", "scale H of the R&D stock: skill × 2^elasticity at H", gt=0, le=1e9)
    rd_absorption: float = F(1.0, "× (stock + scale) per month", "assumption: research compute is limited by the people and ideas that use it; a team can at most about double its programme in a month", "most GPUs a lab can put into inference R&D in a month, as a multiple of its R&D stock plus rd_half_gpu_months", gt=0, le=100)
    deepseek_rd_gpu_months: float = F(12000.0, "GPU-months", "assumption: the calibrated lab has done a year of such research (rd_half_gpu_months)", "R&D stock of the calibrated lab", ge=0, le=1e9)
    cache_miss_floor: float = F(0.1, "fraction of input tokens", "assumption: some input is always new (the user's latest message, fresh documents)", "cache-miss rate at any volume", ge=0, lt=0.437)
    publication_lag_months: float = F(3.0, "months", "assumption: open-source engines reproduced DeepSeek's published expert-parallel serving (deepseek_decode_unit_nodes, 2025-02-28) by sglang_deepseek_output_tok_s_per_node (2025-05), about three months later", "months before a published technique can be adopted", ge=0, le=60)
    adoption_months: float = F(3.0, "months", "assumption: a host needs about a quarter of engineering to absorb a published technique", "time constant of catching up with a publication", gt=0, le=60)


class OpenWeightsConfig(_Strict):
    """Open weights made by agents (``market/open_weights.py``): serving cost by size, hosts' choice, distillation."""

    cost_exponent: float = F(1.0, "exponent", "assumption: decode reads the active weights once per token, so GPU time per token scales with model size", "serving cost ∝ size^exponent", ge=0, le=3)
    quality_exponent: float = F(2.0, "exponent", "assumption: hosts rank models as consumers value them (the segments' quality_exponent default)", "hosts pick the model with the highest quality^exponent per $ of serving cost", ge=0, le=10)
    release_lag_months: int = F(1, "months", "assumption: a host needs about a month to download, quantise, evaluate and deploy new weights", "months before published weights can be served", ge=0, le=24)
    distillation: bool = F(False, "switch", "assumption: off, distilling a closed model's outputs breaches its terms of use; switch on to test the free-copy view", "closed models can be distilled into open ones")
    distill_cost_usd: float = F(5576000.0, "$", "deepseek_v3_training_cost_usd: a distilled model costs about one efficient training run", "cost of one distillation", ge=0, le=1e12)
    distill_lag_months: int = F(6, "months", "assumption: DeepSeek-R1 (2025-01) matched o1 (2024-09) about four to six months later", "age of the closed model a distillation copies", ge=0, le=120)
    distill_quality_gap: float = F(0.05, "quality index", "assumption: a distilled copy trails its teacher by a little", "quality lost in distillation", ge=0, le=1)
    initial_quality: float = F(0.95, "quality index", "assumption: the best open model of mid-2024 (Llama 3.1, released 2024-07-23) trailed the closed frontier by a little (the 0.05 of distill_quality_gap)", "quality of the open model published before round 0 by a firm outside the model", ge=0, le=10)
    initial_compute_per_token: float = F(1.0, "× DeepSeek-V3 GPU time per token", "assumption: a 70B dense model, which costs about DeepSeek-V3's GPU time per token on tensor parallelism (costs.deepseek_tech)", "size of the open model published before round 0", gt=0, le=100)
    distill_compute_per_token: float = F(1.0, "× DeepSeek-V3 GPU time per token", "assumption: distilled into a model the size of DeepSeek-V3", "size of a distilled model", gt=0, le=100)


class CapitalConfig(_Strict):
    """The capital market (``market/capital.py``, ``market/exit.py``): investors' valuations, rounds, exit sales.

    Investors' required return is ``finance.cost_of_capital_investor``; parents' hurdles are
    ``finance.cost_of_capital_self_funded`` and ``finance.cost_of_capital_efficient``."""

    # strict=False for the tuple only (a TOML or JSON list is taken); each element stays a strict, finite number.
    appetites: tuple[float, ...] = F((0.7,), "0 = DCF only … 1 = revenue multiple only", "assumption: 2024-25 AI investors weighted growth well above cash flows", "appetite of each investor: weight on the revenue-multiple valuation", allowed="a list of numbers in [0, 1], at least one", strict=False, max_length=100)
    investor_capital_usd: float = F(4e10, "$ per round", "assumption: the largest 2025 private rounds (the cap on one round in finance)", "capital each investor can put into one round", gt=0, le=1e13)
    base_multiple: float = F(5.0, "× annual revenue", "assumption: mature software trades at about five times revenue", "revenue multiple at zero growth", ge=0, le=100)
    growth_multiple: float = F(4.0, "× annual revenue per unit of annual growth", "assumption: 2024-26 AI rounds priced 15-30 times run rate at 100-400 % annual growth (together_valuation_2024_03_usd, fireworks_arr_2026_02_usd), about 5 + 4 × growth", "increase of the multiple per 100 % annual growth", ge=0, le=100)
    forecast_months: int = F(60, "months", "assumption: investors forecast five years, then a terminal value", "explicit forecast horizon of a valuation", ge=1, le=240)
    growth_half_life_months: float = F(18.0, "months", "assumption: hypergrowth halves every year and a half", "half-life of a firm's excess growth in investors' forecasts", gt=0, le=240)
    long_run_growth_per_year: float = F(0.03, "fraction per year", "assumption: mature firms grow with nominal output", "long-run and terminal growth in investors' forecasts", ge=-0.5, le=0.2)
    fixed_cost_growth_share: float = F(0.5, "fraction of revenue growth", "assumption: fixed costs grow half as fast as revenue (operating leverage)", "growth of fixed costs relative to revenue in investors' forecasts", ge=0, le=1)
    fire_sale_discount: float = F(0.3, "fraction", "assumption: forced sellers of used capital goods accept well below fair value; chips age fast", "discount on an exiting firm's GPUs", ge=0, le=1)
    customer_sale_share: float = F(0.5, "fraction of the buyer's value", "assumption: an even split of the surplus (Nash bargaining with equal power)", "price of an exiting firm's customers as a share of the best bidder's present value of their margin", ge=0, le=1)
    weights_sale_share: float = F(0.5, "fraction of the buyer's value", "assumption: an even split of the surplus (Nash bargaining with equal power)", "price of an exiting firm's weights as a share of the best bid's value", ge=0, le=1)

    @model_validator(mode="after")
    def _appetites(self) -> "CapitalConfig":
        if not self.appetites or any(not 0.0 <= a <= 1.0 for a in self.appetites):
            raise ValueError(f"appetites: {list(self.appetites)}; allowed: a non-empty list of numbers in [0, 1]")
        return self


class MovesConfig(_Strict):
    """Strategic moves chosen by value (``market/moves/``, docs/design.md "Strategic moves"): the forecast each lab
    judges its options on, the options' definitions, and the menu of what is allowed (the ``allow_*`` switches
    are conditions, e.g. merger control; they never pick a strategy)."""

    horizon_months: int = F(24, "months", "assumption: two years of explicit forecast, then a terminal value; also the horizon after which a decision's forecast error is recorded", "months a strategic option's cash flows are forecast explicitly", ge=3, le=120)
    campaign_months: int = F(12, "months", "assumption: a year-long price campaign, revisable at every review", "months a penetration or premium campaign is forecast to last before prices return to the best response", ge=1, le=60)
    penetration_factor: float = F(0.5, "× the static best response", "assumption: half the static best-response price, in the range of the 2024-25 list-price cuts (deepseek_v32exp_output_cny_per_m: more than half; price_claude_opus45_input_usd_per_m: two thirds)", "API price as a multiple of the static best response during a penetration campaign", gt=0.05, lt=1)
    premium_factor: float = F(1.5, "× the static best response", "assumption: as far above the best response as a month's largest price move (pricing.max_step_factor)", "API price as a multiple of the static best response during a premium campaign", gt=1, le=10)
    surcharge_share: float = F(0.5, "fraction of the API price", "assumption: a lab that surcharges rival wrappers' tokens asks half as much again", "extra a lab charges rival wrappers for tokens under the surcharge terms", gt=0, le=20)
    free_tier_large_cap_mtok: float = F(2.0, "Mtok/month", "assumption: a generous free tier lets a user do four times what the small one allows (customers.free_tier_cap_mtok)", "token cap of a large free tier (the small one is customers.free_tier_cap_mtok)", gt=0, le=1e4)
    bargaining_weight: float = F(0.5, "acquirer's share of the deal's surplus", "assumption: Nash bargaining with equal power (as capital.customer_sale_share)", "weight of the acquirer in the Nash bargaining that prices an acquisition", ge=0, le=1)
    min_gain_share: float = F(0.002, "fraction of the status quo's value", "assumption: a firm does not change strategy for a forecast gain smaller than a fifth of a percent of its value, inside the forecast's error", "forecast gain over the current option a lab needs to change a move", ge=0, le=1)
    sample_per_cell: int = F(60, "customers per (segment, vertical)", "assumption: options' values move by a few per cent of their differences between 60 and 300 customers per cell (the same customers judge every option), so the first 60 of each cell of the demand oracle's sample keep reviews cheap", "customers of the demand oracle's sample a strategic forecast uses per segment and vertical", ge=10, le=20_000)
    allow_vertical_entry: bool = F(True, "switch", "DESIGN.md Q5: labs may enter verticals (build or acquire)", "labs may enter verticals")
    allow_acquisitions: bool = F(True, "switch", "DESIGN.md Q5; false is merger control", "labs may acquire wrappers")
    allow_rival_terms: bool = F(True, "switch", "DESIGN.md Q5: raising rivals' costs is on the menu; false is a non-discrimination rule", "labs may surcharge or cut off rival wrappers in verticals they entered")


class OutcomesConfig(_Strict):
    """Thresholds of the outcome detectors (``market/outcomes.py``) and the one parameter of the value-capture
    measures (``market/value.py``); each threshold is a judgement call, stated with its reason here and argued in
    docs/outcomes.md."""

    dumb_pipe_window_months: int = F(24, "months", "assumption: DESIGN.md §6 judges the dumb pipe on the last years of a run; two years separate a state of the market from a price war's episode", "trailing window on which the dumb pipe is judged", ge=1, le=240)
    dumb_pipe_hold_share: float = F(0.9, "fraction of the window's months", "assumption: a condition that holds in nine months of ten is steady; a month or two of noise in a two-year window does not break it", "share of the window's months in which both legs must hold", gt=0, le=1)
    dumb_pipe_margin_max: float = F(0.2, "Lerner index on marginal cost", "assumption: a transport-like margin, price at most a fifth above marginal cost, covers little beyond serving the tokens; the 2024 API figures (openai_api_monthly_revenue_2024_06_usd against openai_api_a100eq_gpus_estimate at openai_api_gpu_rent_usd_per_hour_estimate) put it far above", "API margin on marginal cost below which the pipe is dumb", ge=-1, le=1)
    dumb_pipe_independent_share_min: float = F(0.5, "fraction of firms' value", "assumption: the app layer keeps the value when independent apps capture at least as much gross profit as the pipes' owners (labs with their own apps, and hosts) together", "independent apps' share of the value captured by firms", ge=0, le=1)
    loss_leading_min_months: int = F(3, "months", "assumption: a chosen below-cost campaign shorter than a quarter is a promotion, not a strategy", "shortest spell of chosen below-cost pricing that counts", ge=1, le=240)
    takeover_lab_share_min: float = F(0.5, "fraction", "assumption: DESIGN.md Q5's 'take over' read as labs holding more than half a vertical's revenue by their own sales (acquired revenue counted apart)", "labs' organic revenue share of a vertical that marks a takeover", ge=0, le=1)
    takeover_hold_months: int = F(6, "months", "assumption: two quarters of a majority separate a takeover from a launch's spike", "months the organic share must stay above the threshold", ge=1, le=240)
    takeover_wrapper_exits_min: int = F(1, "firms", "assumption: 'devour the wrappers' needs at least one independent wrapper of the vertical to leave the market after the labs came (a wrapper bought does not count: it was paid for)", "independent wrappers of the vertical that must exit", ge=0, le=50)
    wrapper_lead_share_min: float = F(0.5, "fraction", "assumption: wrappers 'led' a vertical when they held most of its revenue", "wrappers' share that marks a wrapper-led vertical", ge=0, le=1)
    gpu_supplier_margin: float = F(0.37, "fraction of GPU spend", "assumption: NVIDIA's data-centre gross margin of about three quarters (its fiscal 2025 reports) on the chip's list price h100_msrp_usd, over the all-in cost of a GPU-hour h100_atcost_usd_per_gpu_hour_estimate paid for three years: 0.75 × 30000 / (2.3 × 36 × 730) = 0.37", "share of what the market spends on GPU-hours that GPU suppliers keep as gross profit", ge=0, le=1)


def _default_labs() -> list[LabConfig]:
    # Four labs that differ as the public figures say (sources in market/provenance.py VALUE_SOURCES): an
    # app-first lab with the best-known brand, an API-first lab whose models lead at coding, a giant with a parent,
    # and a frugal lab that publishes its weights and serves at DeepSeek's cost.
    return [
        LabConfig(name="lab_investor_a", funding="investor", quality=1.0, cash_usd=1e10, brand_awareness=0.9),
        LabConfig(name="lab_investor_b", funding="investor", quality=1.0, cash_usd=5e9, brand_awareness=0.15,
                  vertical_quality={"coding": 1.1, "customer_support": 1.05},
                  tiers=[TierConfig(name="frontier", price_usd_per_mtok=5.61),
                         TierConfig(name="small", size_factor=0.06, quality_factor=0.85, price_usd_per_mtok=0.5)]),
        LabConfig(name="lab_self_funded", funding="self_funded", quality=0.97, cash_usd=2e10, brand_awareness=0.45,
                  tiers=[TierConfig(name="frontier", price_usd_per_mtok=3.15),
                         TierConfig(name="small", size_factor=0.06, quality_factor=0.85, price_usd_per_mtok=0.15)],
                  parent_budget_usd_per_month=9.4e9),
        LabConfig(name="lab_efficient", funding="efficient", quality=0.93, cash_usd=1e9, compute_per_token=1.0,
                  brand_awareness=0.05, plans=[], opex_usd_per_month=1e7,
                  tiers=[TierConfig(name="frontier", price_usd_per_mtok=0.45)],
                  training_efficiency=3.0,
                  parent_budget_usd_per_month=1e8),
    ]


MOVES: dict[str, tuple[str, ...]] = {
    "api_conduct": ("best_response", "penetration", "premium"),
    "vertical": ("stay_out", "build", "acquire"),
    "rival_terms": ("normal", "surcharge", "cut_off"),
    "free_tier": ("off", "small", "large"),
    "publish": ("closed", "publish"),
}


class ForcedMove(_Strict):
    """A strategic move imposed on one lab for a strategy game (docs/design.md, "Games"): the lab plays
    ``option`` of ``move`` whenever it would choose that move, instead of choosing by value. Recorded in
    manifest.json as part of the config; no shipped scenario forces a move."""

    firm: str = F(..., "label", "label: the lab the move is imposed on", "lab name", allowed="the name of a lab in labs")
    move: Literal["api_conduct", "vertical", "rival_terms", "free_tier", "publish"] = F(..., "choice", "DESIGN.md §8: strategy sets of the game", "which strategic move is forced")
    option: str = F(..., "choice", "DESIGN.md §8: strategy sets of the game", "the option played", allowed="; ".join(f"{k}: {', '.join(v)}" for k, v in MOVES.items()))
    vertical: str | None = F(None, "label", "label: the vertical a vertical move applies to", "vertical (vertical move only; None: every vertical)", allowed=f"None or one of {', '.join(VERTICALS)}")

    @model_validator(mode="after")
    def _option(self) -> "ForcedMove":
        if self.option not in MOVES[self.move]:
            raise ValueError(f"option: {self.option!r} is not an option of move {self.move!r}; allowed: {', '.join(MOVES[self.move])}")
        if self.vertical is not None and (self.move != "vertical" or self.vertical not in VERTICALS):
            raise ValueError(f"vertical: {self.vertical!r} is allowed only with move 'vertical' and must be one of {', '.join(VERTICALS)}")
        return self


class MarketConfig(_Strict):
    """A whole run's configuration."""

    name: str = F("baseline", "label", "label: names the run and its output folder", "scenario name", allowed="letters, digits, _ . - (it names the output folder)", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str = F("Calibrated to the 2025 market.", "label", "label: shown by tokenmarket scenarios", "what the scenario is for", allowed="text")
    world: WorldConfig = Field(default_factory=WorldConfig)
    customers: CustomersConfig = Field(default_factory=CustomersConfig)
    labs: list[LabConfig] = Field(default_factory=_default_labs, max_length=20)
    providers: ProvidersConfig = Field(default_factory=ProvidersConfig)
    wrappers: WrappersConfig = Field(default_factory=WrappersConfig)
    finance: FinanceConfig = Field(default_factory=FinanceConfig)
    outcomes: OutcomesConfig = Field(default_factory=OutcomesConfig)
    moves: MovesConfig = Field(default_factory=MovesConfig)
    pricing: PricingConfig = Field(default_factory=PricingConfig)
    forced: list[ForcedMove] = Field(default_factory=list, max_length=100, description="strategic moves imposed on labs (strategy games only)")
    gpu_market: GpuMarketConfig = Field(default_factory=GpuMarketConfig)
    learning: LearningConfig = Field(default_factory=LearningConfig)
    open_weights: OpenWeightsConfig = Field(default_factory=OpenWeightsConfig)
    capital: CapitalConfig = Field(default_factory=CapitalConfig)

    @model_validator(mode="after")
    def _growth_below_rates(self) -> "MarketConfig":
        # A terminal value grows at the long-run rate: it must be below every rate it is discounted at.
        fin = self.finance
        lowest = min(fin.cost_of_capital_investor, fin.cost_of_capital_self_funded, fin.cost_of_capital_efficient)
        if self.capital.long_run_growth_per_year >= lowest:
            raise ValueError(f"capital.long_run_growth_per_year: {self.capital.long_run_growth_per_year} must be below "
                             f"the lowest cost of capital in finance ({lowest}); allowed: < {lowest}")
        return self

    @model_validator(mode="after")
    def _names(self) -> "MarketConfig":
        names = [lab.name for lab in self.labs]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"labs.{i}.name: {name!r} repeats labs.{names.index(name)}.name; allowed: unique "
                                 f"lab names")
        if not self.labs and self.providers.n == 0:
            raise ValueError("labs, providers.n: no seller of tokens (no lab and providers.n = 0); allowed: at "
                             "least one lab or providers.n ≥ 1")
        for i, move in enumerate(self.forced):
            if move.firm not in names:
                raise ValueError(f"forced.{i}.firm: {move.firm!r} is not a lab; allowed: {', '.join(names) or 'no labs configured'}")
        # Providers and wrappers are named by the model; a lab with such a name would make outputs ambiguous.
        taken = re.compile(rf"^(provider|({'|'.join(VERTICALS)})_wrapper)_\d+$")
        for i, name in enumerate(names):
            if taken.match(name):
                raise ValueError(f"labs.{i}.name: {name!r} is a provider's or wrapper's name; allowed: any other text")
        return self



# ----------------------------------------------------------------------------------------------- schema walk

_KIND_NAMES = {"bool": "a boolean (true or false)", "int": "an integer", "float": "a number", "str": "text",
               "choice": "a choice", "model": "a group of fields", "list": "a list", "tuple": "a list",
               "dict": "a table of entries"}


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """(the type, its constraint metadata) with ``Optional[...]`` and ``Annotated[...]`` removed."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata
            annotation = args[0]
        else:
            return annotation, metadata


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model"
    if origin is typing.Literal:
        return "choice"
    if origin in (list, tuple, dict):
        return origin.__name__
    if annotation in (bool, int, float, str):
        return annotation.__name__
    return "other"


def _bounds(metadata: list[Any]) -> dict[str, float]:
    """``ge``/``gt``/``le``/``lt`` found in pydantic constraint metadata (FieldInfo or annotated_types)."""
    out: dict[str, float] = {}
    for m in metadata:
        inner = getattr(m, "metadata", None)
        if isinstance(inner, list):
            out.update(_bounds(inner))
        for attr in ("ge", "gt", "le", "lt"):
            if getattr(m, attr, None) is not None:
                out[attr] = getattr(m, attr)
    return out


def _item(annotation: Any) -> Any:
    """The element annotation of a list, tuple or dict annotation (a dict's values)."""
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    return args[-1] if args else Any


@dataclass(frozen=True)
class Slot:
    """What one dotted path of the schema holds.

    Attributes:
        path: the path as given, ``__`` read as ``.`` (``labs.0.pricing.levels.1``).
        annotation: its type, ``Optional``/``Annotated`` removed (``float``, ``LabConfig``, ``list[...]``).
        kind: bool | int | float | str | choice | model | list | tuple | dict | other.
        bounds: ``ge``/``gt``/``le``/``lt`` that apply (the field's, or its elements' for an element).
        model, name: the pydantic model and field name the path ends in (for an element: its field's).
    """

    path: str
    annotation: Any
    kind: str
    bounds: dict[str, float]
    model: type[BaseModel]
    name: str

    @property
    def info(self):
        """The pydantic FieldInfo of the field the path ends in."""
        return self.model.model_fields[self.name]

    def range_text(self) -> str | None:
        """The bounds in interval notation (``(0, 50]``), or None without bounds."""
        b = self.bounds
        if not b:
            return None
        lo = f"[{b['ge']:g}" if "ge" in b else f"({b['gt']:g}" if "gt" in b else "(-inf"
        hi = f"{b['le']:g}]" if "le" in b else f"{b['lt']:g})" if "lt" in b else "inf)"
        return f"{lo}, {hi}"


def split_key(key: str) -> list[str]:
    """A dotted override key (``__`` works as ``.``) as its parts.

    Raises:
        ConfigError: an empty key or an empty part (``world.``, ``labs..skill``), naming the key.
    """
    parts = key.strip().replace("__", ".").split(".")
    if not key.strip():
        raise ConfigError("'': empty key; allowed: field names joined by dots, e.g. world.rounds")
    if any(not p for p in parts):
        raise ConfigError(f"{key!r}: empty part in a dotted key; allowed: field names joined by dots, e.g. "
                          f"world.rounds")
    return parts


def resolve(key: str | list[str], root: type[BaseModel] | None = None) -> Slot:
    """What the dotted path ``key`` names in the schema: a field (``world.rounds``), a list element by index or
    ``*`` (``labs.0.skill``, ``labs.*.skill``), a dict entry (``wrappers.per_vertical.coding``) or an element of
    a list of numbers (``labs.0.pricing.levels.1``).

    Raises:
        ConfigError: unknown key (naming the allowed ones), a non-index into a list, a step into a value that
            has no parts (``world.rounds.x``), naming the path.
    """
    parts = split_key(key) if isinstance(key, str) else list(key)
    model: type[BaseModel] = root or MarketConfig
    annotation, kind, bounds, name = model, "model", {}, ""
    for i, part in enumerate(parts):
        where, above = ".".join(parts[: i + 1]), ".".join(parts[:i])
        if kind == "model":
            fields = annotation.model_fields
            if part not in fields:
                raise ConfigError(f"{where}: unknown key; allowed: {', '.join(fields)}")
            model, name = annotation, part
            annotation, meta = _unwrap(fields[part].annotation)
            bounds = _bounds([*fields[part].metadata, *meta])
        elif kind in ("list", "tuple"):
            if part != "*" and not part.isdigit():
                raise ConfigError(f"{where}: expected a list index (0, 1, …) after {above}, got {part!r}")
            annotation, meta = _unwrap(_item(annotation))
            bounds = _bounds(meta)
        elif kind == "dict":
            annotation, meta = _unwrap(_item(annotation))
            bounds = _bounds(meta)
        else:
            raise ConfigError(f"{where}: {above} is {_KIND_NAMES.get(kind, 'a value')}, not a group of fields")
        kind = _kind(annotation)
    return Slot(".".join(parts), annotation, kind, bounds, model, name)


@dataclass(frozen=True)
class FieldSpec:
    """One leaf field of the schema, found by :func:`schema_fields`.

    Attributes:
        path: collapsed path, ``[]`` marking list elements (``labs[].pricing.levels``).
        model, name: the pydantic model and field name.
        annotation, kind, bounds: as in :class:`Slot` (bounds of the field itself).
    """

    path: str
    model: type[BaseModel]
    name: str
    annotation: Any
    kind: str
    bounds: dict[str, float]

    @property
    def lower(self) -> float | None:
        """The lower bound (``ge`` or ``gt``), or None."""
        return self.bounds.get("ge", self.bounds.get("gt"))

    @property
    def upper(self) -> float | None:
        """The upper bound (``le`` or ``lt``), or None."""
        return self.bounds.get("le", self.bounds.get("lt"))


def _submodel(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the pydantic model a field holds, whether it holds a list of them)."""
    annotation, _ = _unwrap(annotation)
    if _kind(annotation) == "model":
        return annotation, False
    if _kind(annotation) == "list":
        inner, _ = _unwrap(_item(annotation))
        if _kind(inner) == "model":
            return inner, True
    return None, False


def schema_fields(model: type[BaseModel] | None = None, prefix: str = "") -> list[FieldSpec]:
    """Every leaf field of the schema in schema order: sub-models walked into (``world.rounds``), lists of
    sub-models marked ``[]`` (``labs[].skill``)."""
    model = model or MarketConfig
    out = []
    for name, info in model.model_fields.items():
        sub, is_list = _submodel(info.annotation)
        if sub is None:
            annotation, meta = _unwrap(info.annotation)
            out.append(FieldSpec(prefix + name, model, name, annotation, _kind(annotation),
                                 _bounds([*info.metadata, *meta])))
        else:
            out.extend(schema_fields(sub, f"{prefix}{name}{'[]' if is_list else ''}."))
    return out


def leaf_values(obj: BaseModel, path: str = "", field: str = "") -> list[tuple[str, str, Any]]:
    """(path, collapsed path, value) of every leaf value of a config instance, list elements by index, in the
    order of :func:`schema_fields`."""
    out = []
    for name, info in type(obj).model_fields.items():
        value = getattr(obj, name)
        sub, is_list = _submodel(info.annotation)
        if sub is None:
            out.append((path + name, field + name, value))
        elif is_list:
            for i, element in enumerate(value):
                out.extend(leaf_values(element, f"{path}{name}.{i}.", f"{field}{name}[]."))
        else:
            out.extend(leaf_values(value, f"{path}{name}.", f"{field}{name}."))
    return out


@functools.cache
def schema_names() -> frozenset[str]:
    """Every field name of the schema (sub-models' included) and every value of its choice fields."""
    names: set[str] = set()

    def walk(model: type[BaseModel]) -> None:
        for name, info in model.model_fields.items():
            names.add(name)
            sub, _ = _submodel(info.annotation)
            if sub is not None:
                walk(sub)
            annotation, _ = _unwrap(info.annotation)
            if _kind(annotation) == "choice":
                names.update(str(a) for a in typing.get_args(annotation))

    walk(MarketConfig)
    return frozenset(names)


# ----------------------------------------------------------------------------------------------- values

def parse_value(text: str, slot: Slot) -> Any:
    """The one parser of a value written as text (``--set``, ``--grid``): by the type of the field it is for.

    Text and choice fields take the text as written (a TOML-quoted string gives its content, so ``"123"`` is
    text); booleans take ``true``/``false`` only; numbers, lists and tables are TOML values (``3``, ``2.5``,
    ``1e9``, ``nan``, ``[0.1, 0.5]``, ``{coding = 3}``). Anything else is passed on as the text, for the schema
    to refuse with the field's rule.

    Raises:
        ConfigError: a boolean field given anything but true/false, an integer field given a non-integer, a
            number field given a non-number (naming the key, the text and what is allowed).
    """
    text = text.strip()
    if slot.kind in ("str", "choice"):
        if text[:1] in ("'", '"'):
            value = _toml_value(text)
            if isinstance(value, str):
                return value
        return text
    value = _toml_value(text)
    if value is _NOT_TOML:
        value = text
    if slot.kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{slot.path}: expected a boolean (true or false), got {text!r}")
    if slot.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{slot.path}: expected an integer, got {text!r}" + _allowed(slot))
    if slot.kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{slot.path}: expected a number, got {text!r}" + _allowed(slot))
    return value


def _allowed(slot: Slot) -> str:
    rng = slot.range_text()
    return f" (allowed: {rng})" if rng else ""


_NOT_TOML = object()
MAX_NESTING = 64  # the schema nests a few levels; this keeps tomllib far from the interpreter's recursion limit


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in TOML text, outside strings and comments (a cheap pre-check, so that a
    deeply nested file is refused before the parser recurses toward the interpreter's limit)."""
    depth = deepest = 0
    quote: str | None = None
    comment = escaped = False
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _toml_value(text: str) -> Any:
    """``text`` read as one TOML value, or ``_NOT_TOML`` (not TOML, or more than one value, e.g. ``1\\nx = 2``)."""
    if nesting_depth(text) > MAX_NESTING:
        return _NOT_TOML
    try:
        parsed = tomllib.loads(f"v = {text}")
    except (tomllib.TOMLDecodeError, RecursionError):
        return _NOT_TOML
    return parsed["v"] if list(parsed) == ["v"] else _NOT_TOML


def parse_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides with dotted keys (``__`` read as ``.``) and text values parsed for their fields
    (:func:`parse_value`); values that are not text are kept as given.

    Raises:
        ConfigError: a bad key (:func:`resolve`) or value (:func:`parse_value`).
    """
    out = {}
    for raw_key, raw in overrides.items():
        parts = split_key(str(raw_key))
        slot = resolve(parts)
        out[".".join(parts)] = parse_value(raw, slot) if isinstance(raw, str) else raw
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of nested config ``data`` with dotted-path ``overrides`` set (see :func:`parse_overrides`).

    Raises:
        ConfigError: the path names no field (unknown key, list index out of range, a step into a value).
    """
    import copy

    out = copy.deepcopy(data)
    for key, value in parse_overrides(overrides).items():
        parts = key.split(".")
        node: Any = out
        for i, part in enumerate(parts):
            where, last = ".".join(parts[: i + 1]), i == len(parts) - 1
            if isinstance(node, list):
                if int(part) >= len(node):
                    raise ConfigError(f"{where}: no such list element (have {len(node)})")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    if node.get(part) is None:
                        node[part] = {}
                    elif isinstance(node[part], tuple):  # a tuple field (capital.appetites): elements addressable
                        node[part] = list(node[part])
                    elif not isinstance(node[part], (dict, list)):
                        raise ConfigError(f"{where}: set to {_shown(node[part])} by another override; a group "
                                          f"of fields cannot also take {key}")
                    node = node[part]
            else:
                raise ConfigError(f"{where}: {'.'.join(parts[:i])} holds {node!r}, not a group of fields")
    return out


# ----------------------------------------------------------------------------------------------- errors

_SHORT = reprlib.Repr(maxlevel=2, maxlist=6, maxtuple=6, maxdict=4, maxstring=60, maxother=60)


def _shown(value: Any) -> str:
    """A short, safe repr of a value (deep or huge inputs never blow up the message)."""
    if isinstance(value, dict):
        return "{…}"
    try:
        return _SHORT.repr(value)
    except RecursionError:
        return "…"


def format_error(err: ValidationError, root: type[BaseModel] | None = None) -> str:
    """One line naming, for each problem, the field's path, what is wrong, what is allowed and the value.

    Only the most specific problem of a path is kept (an element's type, not its list's length afterwards).
    """
    errors = err.errors()
    locs = [tuple(e["loc"]) for e in errors]
    lines = []
    for e, loc in zip(errors, locs):
        if any(other != loc and other[: len(loc)] == loc for other in locs):
            continue
        path = ".".join("'' (empty key)" if p == "" else str(p) for p in loc)
        msg = e["msg"]
        if e["type"] == "value_error":
            # Our validators name the field (relative to their section), the value and what is allowed.
            msg = msg.removeprefix("Value error, ")
            lines.append(f"{path}.{msg}" if path else msg)
            continue
        allowed = ""
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
            try:
                parent = resolve([str(p) for p in loc[:-1]], root) if loc[:-1] else None
                fields = (parent.annotation if parent else (root or MarketConfig)).model_fields
                allowed = f"; allowed: {', '.join(fields)}"
            except (ConfigError, AttributeError):
                pass
        else:
            if e["type"] in ("model_type", "dict_type", "model_attributes_type"):
                msg = "expected a group of fields (a TOML table)"
            try:
                rng = resolve([str(p) for p in loc], root).range_text()
            except ConfigError:
                rng = None
            allowed = f" (allowed: {rng})" if rng else ""
        lines.append(f"{path or '<root>'}: {msg}{allowed}; got {_shown(e.get('input'))}")
    return "; ".join(lines)


def build_config(base: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None) -> MarketConfig:
    """Validate nested ``base`` (e.g. a parsed scenario) with ``overrides`` applied.

    Raises:
        ConfigError: naming every bad field with its value and allowed range.
    """
    try:
        config = MarketConfig.model_validate(base or {})
        if not overrides:
            return config
        # Overrides apply to the full (defaults filled in) config, so list paths such as labs.0.skill exist.
        return MarketConfig.model_validate(apply_overrides(config.model_dump(mode="json"), overrides))
    except ValidationError as err:
        raise ConfigError(format_error(err)) from None


MAX_SCENARIO_BYTES = 1 << 20  # the shipped scenarios are a few kB


def shipped_scenarios() -> dict[str, Traversable]:
    """Shipped scenario files by name: the package data ``market/scenarios/*.toml``, read through
    :mod:`importlib.resources` so that an installed wheel finds them as a source checkout does."""
    folder = resources.files("market") / "scenarios"
    found = {p.name.removesuffix(".toml"): p for p in folder.iterdir() if p.name.endswith(".toml")}
    return dict(sorted(found.items()))


def list_scenarios() -> dict[str, str]:
    """Shipped scenarios: name → first line of their description."""
    out = {}
    for name, path in shipped_scenarios().items():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[name] = str(data.get("description", "")).strip().splitlines()[0] if data.get("description") else ""
    return out


def scenario_source(name_or_path: str | Path) -> tuple[str, str]:
    """(TOML text, scenario name) of a shipped scenario name or a path to a TOML file; the name is the file's stem.

    Raises:
        ConfigError: unknown scenario name, missing or unreadable file, not UTF-8.
    """
    if not str(name_or_path).strip():
        raise ConfigError("scenario: empty name; allowed: a shipped scenario name or a path to a TOML file")
    path = Path(name_or_path)
    shipped = shipped_scenarios()
    source: Path | Traversable = path
    if not path.suffix and not path.exists():
        if str(name_or_path) not in shipped:
            names = ", ".join(shipped) or "none"
            raise ConfigError(f"scenario: unknown scenario {str(name_or_path)!r}; shipped: {names} "
                              f"(or a path to a TOML file)")
        source = shipped[str(name_or_path)]
    try:
        if isinstance(source, Path) and source.exists():
            # Devices and pipes (/dev/zero) never end; a huge file is not a scenario.
            if not source.is_file() and not source.is_dir():
                raise ConfigError(f"scenario: {str(path)!r} is not a regular file (a device, pipe or socket); "
                                  f"allowed: a TOML file")
            if source.is_file() and source.stat().st_size > MAX_SCENARIO_BYTES:
                raise ConfigError(f"scenario: {str(path)!r} is {source.stat().st_size / 2**20:.1f} MB; allowed: "
                                  f"≤ {MAX_SCENARIO_BYTES >> 20} MB")
        return source.read_text(encoding="utf-8"), path.stem
    except FileNotFoundError:
        raise ConfigError(f"scenario: file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"scenario: {str(path)!r} is a folder, not a TOML file") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"scenario: {str(path)!r} is not UTF-8 text (byte {err.start}): TOML files must be UTF-8") from None
    except OSError as err:
        raise ConfigError(f"scenario: cannot read {str(path)!r} ({err.strerror})") from None


def field_meta(model: type[BaseModel], name: str) -> dict[str, Any]:
    """Unit, source, ``allowed`` (a validator's constraint in words, or None), description, default and bounds of
    one field (for docs, sliders and the schema file)."""
    info = model.model_fields[name]
    extra = info.json_schema_extra or {}
    bounds = _bounds(info.metadata)
    return {"unit": extra.get("unit"), "source": extra.get("source"), "allowed": extra.get("allowed"),
            "description": info.description, "default": info.default, **bounds}
