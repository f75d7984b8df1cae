"""Serving cost curve of LLM inference (DESIGN.md §1 Q2, §4 'Measures').

Units: blended tokens (DeepSeek's input:output mix unless told otherwise); volumes in Mtok (1e6 tokens) per month
of HOURS_PER_MONTH hours; costs in $/Mtok; GPU prices in $/GPU-hour; throughputs in tokens/s per GPU.
Keys in backticks are rows of ``market/data/calibration.csv`` (read with ``market.calibration.value``).

Why volume lowers unit cost here (Q2): (1) a deployment comes in whole replicas, so a small seller pays for idle
GPUs; (2) demand arrives in bursts whose relative size shrinks like 1/sqrt(concurrent streams), so a big seller
provisions less headroom per token. Skill multiplies per-GPU throughput. ``scale_economies=False`` removes (1)
and (2) so the counter-claim (flat cost curve) can be run. All functions are pure; inputs may be numpy arrays.
"""

from __future__ import annotations

import math

import dataclasses
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from market import calibration as cal

HOURS_PER_MONTH = 730.0
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
# DeepSeek's published mix: 608B input vs 168B output tokens per day.
DEEPSEEK_INPUT_SHARE = 608.0 / (608.0 + 168.0)
NIM_GPUS = 2  # the NIM rows are for 2xH100 with TP2 (row unit "output tokens/s (2 GPUs)")
NIM_CONCURRENCY = (1, 5, 25, 50, 100, 150, 200, 250)  # the c* suffixes of the NIM rows (requests per 2 GPUs)
# Note of `nim_llama33_70b_2xh100_c1_throughput_tok_s`: 5000 input tokens, TTFT 406.77 ms at concurrency 1.
NIM_INPUT_TOKENS, NIM_TTFT_C1_S = 5000.0, 0.40677


def _arr(name: str, x, lo: float = 0.0, strict: bool = False):
    if type(x) is float or type(x) is int or isinstance(x, np.floating):  # scalars, the model's usual case
        v = float(x)
        if not math.isfinite(v) or (v <= lo if strict else v < lo):
            op = ">" if strict else ">="
            raise ValueError(f"{name}={x!r} out of range: must be finite and {op} {lo}")
        return np.float64(v)
    a = np.asarray(x, dtype=float)
    bad = ~np.isfinite(a) | ((a <= lo) if strict else (a < lo))
    if np.any(bad):
        op = ">" if strict else ">="
        raise ValueError(f"{name}={x!r} out of range: must be finite and {op} {lo}")
    return a


def _out(a: np.ndarray):
    return float(a) if np.ndim(a) == 0 else a


@dataclass(frozen=True)
class ServingTech:
    """One deployment's serving technology (all throughputs per GPU at skill 1).

    Fields:
        prefill_tok_s_per_gpu: cache-miss input tokens/s per GPU in prefill, > 0.
        decode_sat_tok_s_per_gpu: output tokens/s per GPU at full batching (the batching curve's plateau), > 0.
        decode_half_concurrency: the batching curve's scale c0, concurrent streams per GPU, > 0.
        user_speed_tok_s: latency target, output tokens/s each stream must get (`deepseek_output_speed_per_user_low_tok_s`).
        replica_gpus: smallest deployable unit, GPUs holding one model copy, int >= 1.
        input_share: fraction of blended tokens that are input, in [0, 1) (DeepSeek 608/776, raw rows).
        cache_hit_rate: fraction of input tokens served from KV cache (no prefill), in [0, 1].
        diurnal_peak_to_average: peak-hour over average load, >= 1 (`deepseek_peak_to_avg_nodes_derived`).
        burst_z: standard deviations of Poisson stream-count noise provisioned above the peak-hour mean, >= 0.
            Assumption: 3 (covers ~99.9 % of instants; rate limits absorb the rest); no public figure.
        skill: multiplier on per-GPU throughput (kernels, expert parallelism), > 0; see ``deepseek_tech``.
        scale_economies: False gives a flat curve: no replica rounding, no burst headroom.

    Raises:
        ValueError: a field outside its range (message names the field and the range).
    """

    prefill_tok_s_per_gpu: float
    decode_sat_tok_s_per_gpu: float
    decode_half_concurrency: float
    user_speed_tok_s: float
    replica_gpus: int
    input_share: float = DEEPSEEK_INPUT_SHARE
    cache_hit_rate: float = 0.0
    diurnal_peak_to_average: float = 1.226
    burst_z: float = 3.0
    skill: float = 1.0
    scale_economies: bool = True

    def __post_init__(self) -> None:
        for f in ("prefill_tok_s_per_gpu", "decode_sat_tok_s_per_gpu", "decode_half_concurrency",
                  "user_speed_tok_s", "skill"):
            _arr(f, getattr(self, f), strict=True)
        if int(self.replica_gpus) != self.replica_gpus or self.replica_gpus < 1:
            raise ValueError(f"replica_gpus={self.replica_gpus!r} out of range: must be an integer >= 1")
        _arr("burst_z", self.burst_z)
        _arr("diurnal_peak_to_average", self.diurnal_peak_to_average, lo=1.0)
        # input_share == 1 would leave no output tokens, hence no streams to count bursts on.
        if not 0.0 <= self.input_share < 1.0:
            raise ValueError(f"input_share={self.input_share!r} out of range: must be in [0, 1)")
        if not 0.0 <= self.cache_hit_rate <= 1.0:
            raise ValueError(f"cache_hit_rate={self.cache_hit_rate!r} out of range: must be in [0, 1]")


def decode_throughput_per_gpu(concurrency, tech: ServingTech):
    """Batching curve: output tok/s per GPU at `concurrency` streams per GPU, skill included.

    T(c) = skill * T_sat * (1 - exp(-c / c0)): linear in c while memory-bandwidth bound, flat once compute bound.
    Fitted to the `nim_llama33_70b_2xh100_c*_throughput_tok_s` rows by ``fit_batching_curve``.

    Args:
        concurrency: streams per GPU, scalar or array, >= 0.
    Returns:
        tokens/s per GPU, same shape. Raises ValueError for negative concurrency.
    """
    c = _arr("concurrency", concurrency)
    return _out(tech.skill * tech.decode_sat_tok_s_per_gpu * -np.expm1(-c / tech.decode_half_concurrency))


@lru_cache(maxsize=4096)  # ServingTech is frozen (hashable); the model asks the same tech every round
def slo_concurrency(tech: ServingTech) -> float:
    """Streams per GPU at which each stream's speed T(c)/c falls to ``tech.user_speed_tok_s``.

    T(c)/c falls monotonically from skill*T_sat/c0 (at c -> 0), so the root is unique; found by bisection.
    When even a single stream cannot reach the target (a large model on slow serving: skill*T_sat/c0 ≤ user
    speed), the deployment runs one stream per GPU at whatever speed it gets (assumption: users accept a slower
    model rather than none).
    """
    top = tech.skill * tech.decode_sat_tok_s_per_gpu / tech.decode_half_concurrency
    if top <= tech.user_speed_tok_s:
        return 1.0
    # In x = c / c0 the condition T(c)/c > speed reads (1 − e^−x)/x > r; plain floats, not numpy scalars,
    # because the model asks this for every firm every round.
    r = tech.user_speed_tok_s / top
    lo, hi = 0.0, 1.0 / r  # (1 − e^−x)/x < 1/x, so the root lies below 1/r
    for _ in range(100):  # 100 halvings take any bracket below double precision
        mid = 0.5 * (lo + hi)
        if -math.expm1(-mid) / mid > r:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi) * tech.decode_half_concurrency


@lru_cache(maxsize=4096)
def gpu_seconds_per_mtok(tech: ServingTech) -> float:
    """GPU-seconds to serve 1 Mtok blended at full (SLO-bound) batching, no idle time.

    = 1e6 * [input_share * (1 - cache_hit_rate) / (skill * prefill) + (1 - input_share) / T(c_slo)],
    where T already carries skill (so a skilled lab also batches more streams per GPU at the same latency).
    """
    prefill = tech.input_share * (1.0 - tech.cache_hit_rate) / (tech.skill * tech.prefill_tok_s_per_gpu)
    decode = (1.0 - tech.input_share) / decode_throughput_per_gpu(slo_concurrency(tech), tech)
    return float(1e6 * (prefill + decode))


def mean_streams(mtok_per_month, tech: ServingTech):
    """Mean concurrent decode streams of an average demand (output tok/s over per-stream speed); Mtok/month in."""
    v = _arr("mtok_per_month", mtok_per_month)
    return _out(v * 1e6 * (1.0 - tech.input_share) / SECONDS_PER_MONTH / tech.user_speed_tok_s)


def peak_to_average(mtok_per_month, tech: ServingTech):
    """Capacity to provision per unit of average load, >= 1.

    d * (1 + z / sqrt(d * n)): the peak-hour mean d*n streams plus z Poisson standard deviations, over the average
    n = ``mean_streams``; d = diurnal_peak_to_average. Tends to d at large volume; np.inf at volume 0.
    Flat mode (scale_economies=False): d at every volume.
    """
    v = _arr("mtok_per_month", mtok_per_month)
    d = tech.diurnal_peak_to_average
    if not tech.scale_economies:
        return _out(np.full_like(v, d))
    with np.errstate(divide="ignore"):
        # sqrt(d*b) * sqrt(v) rather than sqrt(d*b*v): the product underflows for subnormal volumes.
        return _out(d * (1.0 + tech.burst_z / (np.sqrt(d * float(mean_streams(1.0, tech))) * np.sqrt(v))))


def max_volume_mtok_per_month(gpus, tech: ServingTech):
    """Largest average demand (Mtok/month) whose own peak `gpus` can cover: solves v * gps * P(v) = gpus * S.

    With n = b*v this is d*gps/S * (v + z*sqrt(v/(d*b))) = gpus, a quadratic in sqrt(v).
    """
    g = _arr("gpus", gpus)
    gps, d = gpu_seconds_per_mtok(tech), tech.diurnal_peak_to_average
    c = g * SECONDS_PER_MONTH / (gps * d)
    if not tech.scale_economies:
        return _out(c)
    b = np.asarray(mean_streams(1.0, tech))
    k = tech.burst_z / np.sqrt(d * b)
    x = (-k + np.sqrt(k * k + 4.0 * c)) / 2.0
    return _out(x * x)


def capacity_mtok_per_month(gpus, tech: ServingTech, mtok_per_month_expected=None):
    """Average demand (Mtok/month) that `gpus` can serve while covering its peak.

    gpus * S / (gps * P), P = peak_to_average(mtok_per_month_expected); None -> large-volume limit P = d (what
    flat mode always uses); 0 -> P at the volume the GPUs can just cover (``max_volume_mtok_per_month``).

    Raises:
        ValueError: negative gpus or expected volume.
    """
    g = _arr("gpus", gpus)
    if mtok_per_month_expected is None or not tech.scale_economies:
        p = tech.diurnal_peak_to_average
    else:
        e = _arr("mtok_per_month_expected", mtok_per_month_expected)
        if np.all(e == 0):
            return max_volume_mtok_per_month(g, tech)
        p = np.asarray(peak_to_average(np.where(e > 0, e, max_volume_mtok_per_month(g, tech)), tech))
    return _out(g * SECONDS_PER_MONTH / (gpu_seconds_per_mtok(tech) * p))


def gpus_required(mtok_per_month, tech: ServingTech):
    """GPUs to provision for an average demand of `mtok_per_month` including its peak.

    Rounded up to whole replicas, at least one replica if volume > 0, 0 if volume == 0 (floats, whole numbers).
    Flat mode: continuous v * gps * d / S. Non-decreasing in volume. Raises ValueError for negative volume.
    """
    v = _arr("mtok_per_month", mtok_per_month)
    gps = gpu_seconds_per_mtok(tech)
    if not tech.scale_economies:
        return _out(v * gps * tech.diurnal_peak_to_average / SECONDS_PER_MONTH)
    # v * peak_to_average(v) written without dividing by sqrt(v): stays finite for subnormal volumes.
    d, b = tech.diurnal_peak_to_average, float(mean_streams(1.0, tech))
    raw = gps * d / SECONDS_PER_MONTH * (v + tech.burst_z * np.sqrt(v / (d * b)))
    r = tech.replica_gpus
    return _out(np.where(v > 0, np.ceil(raw / r) * r, 0.0))


def marginal_cost_usd_per_mtok(tech: ServingTech, gpu_price_usd_per_hour):
    """$ per Mtok of the GPU time one more Mtok occupies at full batching (no idle share): gps * price / 3600.

    Raises ValueError for gpu_price_usd_per_hour <= 0.
    """
    p = _arr("gpu_price_usd_per_hour", gpu_price_usd_per_hour, strict=True)
    return _out(gpu_seconds_per_mtok(tech) * p / 3600.0)


def unit_cost_usd_per_mtok(gpu_cost_usd, mtok_served):
    """DESIGN §4 unit cost: GPU cost of provisioned capacity ($) / Mtok served, idle capacity included.

    Served == 0: np.inf if cost > 0 (capacity paid, nothing sold), np.nan if cost == 0 too (undefined).
    Raises ValueError for negative inputs.
    """
    c, m = _arr("gpu_cost_usd", gpu_cost_usd), _arr("mtok_served", mtok_served)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(m > 0, c / np.where(m > 0, m, 1.0), np.where(c > 0, np.inf, np.nan)))


def unit_cost_at_volume(mtok_per_month, tech: ServingTech, gpu_price_usd_per_hour):
    """Unit cost ($/Mtok) when `gpus_required(mtok_per_month)` GPUs are rented at the price for a month and
    exactly the average demand is served."""
    cost = np.asarray(gpus_required(mtok_per_month, tech)) * _arr(
        "gpu_price_usd_per_hour", gpu_price_usd_per_hour, strict=True) * HOURS_PER_MONTH
    return unit_cost_usd_per_mtok(cost, mtok_per_month)


def daily_serving_cost(input_tokens, output_tokens, prefill_tok_s_per_node, decode_tok_s_per_node,
                       gpus_per_node, gpu_price_usd_per_hour, peak_to_average=1.0):
    """DeepSeek's Day-6 arithmetic: node-seconds = input/prefill + output/decode (per-node rates include cache
    hits), times GPUs per node and peak_to_average (1 = fleet tracks load, as DeepSeek's did).

    Returns:
        (GPU-hours per day, $ per day). Raises ValueError for negative tokens or non-positive rates/prices.
    """
    i, o = _arr("input_tokens", input_tokens), _arr("output_tokens", output_tokens)
    pf = _arr("prefill_tok_s_per_node", prefill_tok_s_per_node, strict=True)
    dc = _arr("decode_tok_s_per_node", decode_tok_s_per_node, strict=True)
    gpn = _arr("gpus_per_node", gpus_per_node, strict=True)
    price = _arr("gpu_price_usd_per_hour", gpu_price_usd_per_hour, strict=True)
    p2a = _arr("peak_to_average", peak_to_average, lo=1.0)
    gpu_hours = (i / pf + o / dc) / 3600.0 * gpn * p2a
    return _out(gpu_hours), _out(gpu_hours * price)


def theoretical_revenue(input_tokens, output_tokens, cache_hit_input_tokens, price_cache_hit_usd_per_m,
                        price_cache_miss_usd_per_m, price_output_usd_per_m):
    """$ if every token were billed at list prices ($ per 1e6 tokens): hits, misses (= input - hits), output.

    Raises ValueError for negative amounts or cache hits exceeding input tokens.
    """
    i, o = _arr("input_tokens", input_tokens), _arr("output_tokens", output_tokens)
    h = _arr("cache_hit_input_tokens", cache_hit_input_tokens)
    if np.any(h > i):
        raise ValueError(f"cache_hit_input_tokens={cache_hit_input_tokens!r} out of range: must be <= input_tokens")
    ph, pm, po = (_arr(n, x) for n, x in (("price_cache_hit_usd_per_m", price_cache_hit_usd_per_m),
                                          ("price_cache_miss_usd_per_m", price_cache_miss_usd_per_m),
                                          ("price_output_usd_per_m", price_output_usd_per_m)))
    return _out((h * ph + (i - h) * pm + o * po) / 1e6)


def cost_profit_margin(revenue, cost):
    """Markup on cost, (revenue - cost) / cost, as a fraction (DeepSeek's "545 %" is 5.45). cost must be > 0."""
    c = _arr("cost", cost, strict=True)
    return _out((np.asarray(revenue, dtype=float) - c) / c)


def nim_batching_points() -> tuple[np.ndarray, np.ndarray]:
    """The NIM Llama-3.3-70B 2xH100 benchmark per GPU: (streams per GPU, output tok/s per GPU), both / NIM_GPUS."""
    c = np.array(NIM_CONCURRENCY, dtype=float)
    t = np.array([cal.value(f"nim_llama33_70b_2xh100_c{k}_throughput_tok_s") for k in NIM_CONCURRENCY])
    return c / NIM_GPUS, t / NIM_GPUS


def fit_batching_curve(concurrency, throughput) -> tuple[float, float]:
    """Least squares in log throughput (equal weight to the small-batch points) of T_sat*(1-exp(-c/c0)).

    For each c0 the best log T_sat is a mean; c0 is found by a log-grid then golden-section search.
    Returns (T_sat tok/s, c0 streams), in the inputs' units. Raises ValueError for non-positive data.
    """
    c, y = _arr("concurrency", concurrency, strict=True), _arr("throughput", throughput, strict=True)

    def sse(c0: float) -> tuple[float, float]:
        lf = np.log(-np.expm1(-c / c0))
        lt = float(np.mean(np.log(y) - lf))
        return float(np.sum((np.log(y) - lt - lf) ** 2)), lt

    grid = np.geomspace(c.min() / 100, c.max() * 100, 400)
    i = int(np.argmin([sse(g)[0] for g in grid]))
    a, b = np.log(grid[max(i - 1, 0)]), np.log(grid[min(i + 1, len(grid) - 1)])
    phi = (np.sqrt(5) - 1) / 2
    for _ in range(100):
        m1, m2 = b - phi * (b - a), a + phi * (b - a)
        a, b = (a, m2) if sse(np.exp(m1))[0] < sse(np.exp(m2))[0] else (m1, b)
    c0 = float(np.exp((a + b) / 2))
    return float(np.exp(sse(c0)[1])), c0


@cache
def nim_curve() -> tuple[float, float]:
    """(T_sat tok/s per GPU, c0 streams per GPU) of ``fit_batching_curve`` on ``nim_batching_points``, cached."""
    return fit_batching_curve(*nim_batching_points())


@cache
def deepseek_tech() -> ServingTech:
    """DeepSeek V3/R1 serving (Feb 2025), the lab calibration.

    Base curve (skill 1): the NIM fit, i.e. assumption: the frontier MoE on vanilla tensor parallelism runs at the
    per-GPU rate of a 70B dense model on TP. skill: solves T(c*) = `deepseek_decode_throughput_per_node_tok_s` /
    `deepseek_gpus_per_node` with c* = that / `deepseek_output_speed_per_user_low_tok_s` (92.5 streams, vs the
    88 of `deepseek_implied_streams_per_decode_gpu_derived`), giving ~4.1; cross-check `sglang_ep_vs_tp_output_gain`
    (up to 5x). Prefill (skill 1): `deepseek_prefill_throughput_per_node_tok_s` x (1 - hit rate) / 8 / skill, so
    that cache hits cost nothing and the published node-seconds are reproduced; assumption: one skill for both
    phases. cache_hit_rate: `deepseek_cache_hit_input_tokens_per_day` / `deepseek_input_tokens_per_day`.
    replica_gpus: (`deepseek_prefill_unit_nodes` + `deepseek_decode_unit_nodes`) x 8 = 176, the EP deployment unit.
    """
    t_sat, c0 = nim_curve()
    per_gpu = cal.value("deepseek_decode_throughput_per_node_tok_s") / cal.value("deepseek_gpus_per_node")
    speed = cal.value("deepseek_output_speed_per_user_low_tok_s")
    skill = per_gpu / (t_sat * -np.expm1(-(per_gpu / speed) / c0))
    inp = cal.value("deepseek_input_tokens_per_day")
    hit = cal.value("deepseek_cache_hit_input_tokens_per_day") / inp
    prefill = cal.value("deepseek_prefill_throughput_per_node_tok_s") * (1 - hit) / cal.value("deepseek_gpus_per_node")
    return ServingTech(
        prefill_tok_s_per_gpu=float(prefill / skill), decode_sat_tok_s_per_gpu=t_sat, decode_half_concurrency=c0,
        user_speed_tok_s=speed,
        replica_gpus=int((cal.value("deepseek_prefill_unit_nodes") + cal.value("deepseek_decode_unit_nodes"))
                         * cal.value("deepseek_gpus_per_node")),
        input_share=inp / (inp + cal.value("deepseek_output_tokens_per_day")), cache_hit_rate=hit,
        diurnal_peak_to_average=cal.value("deepseek_peak_nodes") / cal.value("deepseek_avg_nodes"),
        skill=float(skill))


def lab_tech(**overrides) -> ServingTech:
    """A large lab: ``deepseek_tech()`` with any field replaced (e.g. skill=1 for vanilla TP, replica_gpus=8).

    The default 176-GPU replica is DeepSeek's EP deployment unit: the skill that EP buys comes only in that size,
    so a small lab with default settings pays for a mostly idle unit (the Q2 mechanism).

    Raises TypeError for unknown fields, ValueError for out-of-range values.
    """
    return dataclasses.replace(deepseek_tech(), **overrides)


def provider_tech(**overrides) -> ServingTech:
    """A low-volume provider serving a 70B-class open-weight model on 2xH100 (NIM, TP2), skill 1.

    Decode curve: NIM fit (``fit_batching_curve``). Prefill: NIM_INPUT_TOKENS / NIM_TTFT_C1_S / 2 GPUs (~6.1k
    tok/s per GPU; from the note of `nim_llama33_70b_2xh100_c1_throughput_tok_s`). Speed target, mix and diurnal
    shape as DeepSeek (assumption: same latency target and demand shape). cache_hit_rate 0 (assumption: no
    cross-request KV cache). Since NIM's output throughput was measured with its prefills co-scheduled, adding
    prefill time separately overstates this cost somewhat (conservative). Fields overridable as in ``lab_tech``.
    """
    t_sat, c0 = nim_curve()
    ds = deepseek_tech()
    base = ServingTech(
        prefill_tok_s_per_gpu=NIM_INPUT_TOKENS / NIM_TTFT_C1_S / NIM_GPUS, decode_sat_tok_s_per_gpu=t_sat,
        decode_half_concurrency=c0, user_speed_tok_s=ds.user_speed_tok_s, replica_gpus=NIM_GPUS,
        input_share=ds.input_share, cache_hit_rate=0.0, diurnal_peak_to_average=ds.diurnal_peak_to_average)
    return dataclasses.replace(base, **overrides)
