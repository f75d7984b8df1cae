"""The default scenario starts at 2025 scale: first-round figures against the calibration table.

Targets are soft (the rows are estimates and mix 2024-26 dates), so each check is an order of magnitude — within a
stated factor — of the row it names. The model is not fitted to them: they come out of the calibrated inputs.

The checks are of the calibrated inputs, so the labs play the status quo of their strategic moves at the first
review (best-response conduct, no vertical entry, the small free tier: ``forced``). Left to choose, the first lab
to review (round 1) closes its free tier and starts builds, and its free users choosing again lift round 1's lab
revenue to ≈ $14.5B a year and lab subscribers to ≈ 42M (seed 0, 20,000 customers): a strategic choice's effect,
not the inputs' scale.
"""

import pytest

from market import calibration as cal
from market.scenario import config_from
from market.simulate import run_once


@pytest.fixture(scope="module")
def first():
    labs = [lab.name for lab in config_from(None).labs]
    status_quo = [{"firm": name, "move": move, "option": option} for name in labs for move, option in
                  (("api_conduct", "best_response"), ("vertical", "stay_out"), ("free_tier", "small"))]
    r = run_once(config_from(None, {"customers.n_customers": 20_000, "world.rounds": 2, "forced": status_quo}), 0)
    return r.model.iloc[0], r.agents[r.agents["round"] == 1]


def within(value, target, factor):
    return target / factor <= value <= target * factor


def test_frontier_lab_revenue_is_2025_scale(first):
    m, _ = first
    # OpenAI 2024 revenue plus Anthropic's early-2025 run rate: ≈ $4.7B a year for two of the three frontier labs.
    target = cal.value("openai_revenue_2024_usd") + cal.value("anthropic_run_rate_2025_01_usd")
    assert within(12 * m["revenue_labs_usd"], target, 3)   # measured ≈ $10B a year


def test_host_revenue_is_inference_cloud_scale(first):
    m, _ = first
    assert within(12 * m["revenue_providers_usd"], cal.value("fireworks_arr_2026_02_usd"), 3)   # ≈ $0.26B


def test_token_volume_lies_between_the_2024_and_2025_public_figures(first):
    # Round 1 is August 2024. The whole market must exceed OpenAI's API alone in June 2024 (a lower bound) and stay
    # below all of Google's surfaces a year later (an upper bound); the path in between is for tokenmarket calibrate.
    m, _ = first
    tokens = (m["tokens_paid_mtok"] + m["tokens_free_mtok"]) * 1e6
    assert cal.value("openai_api_tokens_per_month_2024_06") < tokens < cal.value("google_tokens_per_month_2025_07")


def test_frontier_api_prices_come_out_at_list_prices(first):
    _, a = first
    labs = a[(a["type"] == "lab") & (a["funding"] != "efficient")]
    mix = 608 / 776   # DeepSeek's input share
    gpt4o = mix * cal.value("price_gpt4o_2024_08_input_usd_per_m") + (1 - mix) * cal.value("price_gpt4o_2024_08_output_usd_per_m")
    sonnet = mix * cal.value("price_claude35_sonnet_input_usd_per_m") + (1 - mix) * cal.value("price_claude35_sonnet_output_usd_per_m")
    for price in labs["price"]:
        assert gpt4o / 1.5 <= price <= sonnet * 1.5   # cost-plus on the calibrated cost gives ≈ $5.8/Mtok


def test_paying_app_users_are_chatgpt_plus_scale(first):
    _, a = first
    subs = a.loc[a["type"] == "lab", "subscribers"].sum()
    assert within(subs, cal.value("chatgpt_plus_subscribers_2024_06"), 5)   # ≈ 20M over three labs vs 7.7M
