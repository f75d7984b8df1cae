"""Pinned small runs: a mechanism that changes silently changes these numbers (docs/design.md, "Strategic moves").

Three scenarios × 36 rounds × 10,000 customers, seed 0: model-level series at rounds 12, 24 and 36 (prices,
margins, concentration, revenue by firm type, consumer surplus, firm counts) and the count of events of each kind
and of decisions of each (move, option), against ``data/regression_pins.json`` to a relative tolerance of 1e-6
(the runs are deterministic; the tolerance absorbs floating-point summation order, not behaviour). After an
intended change, regenerate the pins and say why in the commit:

    python -m tests.test_market.test_regression --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

PINS = Path(__file__).parent / "data" / "regression_pins.json"
SCENARIOS = ("baseline", "api_war_growth_money", "merger_control")
ROUNDS, CUSTOMERS, SEED = 36, 10_000, 0
SERIES = ("api_price_usd_per_mtok", "lerner_api", "hhi_api", "app_share_of_gross_profit", "revenue_labs_usd",
          "revenue_providers_usd", "revenue_wrappers_usd", "consumer_surplus_usd", "tokens_paid_mtok", "n_wrappers",
          "n_providers")
RTOL = 1e-6


def measure(scenario: str) -> dict:
    """The pinned figures of one small run."""
    from market.scenario import config_from
    from market.simulate import run_once

    cfg = config_from(scenario, {"customers.n_customers": CUSTOMERS, "world.rounds": ROUNDS})
    result = run_once(cfg, SEED)
    model = result.model.set_index("round")
    series = {f"{col}@{r}": float(model.loc[r, col]) for col in SERIES for r in (12, 24, 36)}
    ev = result.events
    kinds = {k: int(v) for k, v in ev["kind"].value_counts().sort_index().items()}
    d = ev[ev["kind"] == "decision"]
    moves = d["detail"].map(lambda s: json.loads(s)["move"]) + ":" + d["target"]
    chosen = {k: int(v) for k, v in moves.value_counts().sort_index().items()}
    return {"series": series, "events": kinds, "decisions": chosen}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_small_runs_reproduce_their_pinned_figures(scenario):
    pinned = json.loads(PINS.read_text())[scenario]
    got = measure(scenario)
    assert got["events"] == pinned["events"]
    assert got["decisions"] == pinned["decisions"]
    for key, value in pinned["series"].items():
        assert got["series"][key] == pytest.approx(value, rel=RTOL, nan_ok=True), key


if __name__ == "__main__" and "--update" in sys.argv:
    PINS.write_text(json.dumps({s: measure(s) for s in SCENARIOS}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {PINS}")
