"""Chart builders: their Vega-Lite specs (mark, encodings, data rows, aggregation), on a real small run and on
hand-made tables."""

import numpy as np
import pandas as pd
import pytest

from market.config import VERTICALS
from market.simulate import run_once
from runs.reports import charts
from tests.conftest import small_config


def data_rows(spec: dict, name: str | None = None) -> list[dict]:
    """Rows of the spec's dataset (the top-level one, or the one named ``name``)."""
    key = name or spec["data"]["name"]
    return spec["datasets"][key]


def layer_rows(spec: dict, i: int) -> list[dict]:
    return spec["datasets"][spec["layer"][i]["data"]["name"]]


@pytest.fixture(scope="module")
def run():
    cfg = small_config(world__rounds=6)
    result = run_once(cfg, seed=0)
    return charts.RunFrames(result.model, result.agents, result.events, charts.lab_shares_from(cfg.model_dump()))


def test_price_cost_lines_per_api_seller_on_log_scale(run):
    spec = charts.price_cost_chart(run.agents).to_dict()
    assert spec["mark"]["type"] == "line"
    enc = spec["encoding"]
    assert enc["x"]["field"] == "round" and enc["y"]["field"] == "usd_per_mtok"
    assert enc["y"]["scale"]["type"] == "log"
    assert enc["color"]["field"] == "name" and enc["strokeDash"]["field"] == "measure"
    rows = data_rows(spec)
    sellers = run.agents[run.agents["type"].isin(["lab", "provider"])]
    expected = int((sellers["price"] > 0).sum() + (sellers["unit_cost"] > 0).sum())
    assert len(rows) == expected
    assert {r["measure"] for r in rows} == {"API price", "unit cost"}
    assert not {r["name"] for r in rows} & set(run.agents.loc[run.agents["type"] == "wrapper", "name"])


def test_firm_colours_agree_across_charts(run):
    price = charts.price_cost_chart(run.agents).to_dict()["encoding"]["color"]["scale"]
    colour = {}
    for row in charts.cash_runway_chart(run.agents).to_dict()["vconcat"]:
        scale = row["hconcat"][0]["encoding"]["color"]["scale"]
        colour.update(zip(scale["domain"], scale["range"]))
    assert set(price["domain"]) <= set(colour)
    assert all(colour[n] == c for n, c in zip(price["domain"], price["range"]))


def test_market_shares_sum_to_one_per_round_and_market(run):
    agents = run.agents.copy()
    for i, v in enumerate(VERTICALS):
        agents[f"customers_{v}"] = np.where(agents["type"] == "lab", 100.0 + i, 0.0)
    shares = charts.market_shares(agents)
    assert set(shares["market"]) == {"API", *VERTICALS}
    sums = shares.groupby(["round", "market"])["share"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=1e-9)
    spec = charts.market_share_chart(agents).to_dict()
    assert spec["spec"]["mark"]["type"] == "area"
    assert spec["spec"]["encoding"]["y"]["stack"] == "normalize"
    assert spec["facet"]["field"] == "market"
    assert len(data_rows(spec)) == len(shares)


def test_market_shares_without_vertical_columns_show_the_api_only(run):
    # Older run folders have no customers_<vertical> columns: the chart falls back to the API market alone.
    old = run.agents.drop(columns=[c for c in run.agents if c.startswith("customers_")])
    shares = charts.market_shares(old)
    assert set(shares["market"]) == {"API"}
    sellers = run.agents[run.agents["type"].isin(["lab", "provider"])]
    n_sellers = int((sellers.groupby("name")["api_tokens_mtok"].sum() > 0).sum())  # sellers with no sales are left out
    assert len(shares) == n_sellers * run.model["round"].nunique()


def test_gross_profit_share_two_layers_summing_to_one(run):
    spec = charts.gross_profit_share_chart(run.model).to_dict()
    assert spec["mark"]["type"] == "line" and spec["encoding"]["color"]["field"] == "layer"
    rows = pd.DataFrame(data_rows(spec))
    assert len(rows) == 2 * len(run.model)
    np.testing.assert_allclose(rows.groupby("round")["share"].sum(), 1.0, rtol=1e-9)
    app = rows[rows["layer"] == "apps"].set_index("round")["share"]
    np.testing.assert_allclose(app.values, run.model.set_index("round")["app_share_of_gross_profit"].values,
                               rtol=1e-9)


def test_value_capture_by_owner_is_the_recorded_value_stacked_to_shares(run):
    spec = charts.value_capture_chart(run.model).to_dict()
    assert spec["mark"]["type"] == "area" and spec["encoding"]["y"]["stack"] == "normalize"
    rows = pd.DataFrame(data_rows(spec))
    assert len(rows) == 5 * len(run.model)
    labs = rows[rows["owner"] == "labs (API and own apps)"].set_index("round")["usd"]
    np.testing.assert_allclose(labs.values, run.model.set_index("round")["value_labs_usd"].clip(lower=0).values)
    assert charts.value_capture_chart(run.model.drop(columns="value_labs_usd")).to_dict()["mark"]["type"] == "text"


def test_lerner_chart_layers_lines_and_zero_rule(run):
    spec = charts.lerner_chart(run.model).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line", "rule"]
    rows = layer_rows(spec, 0)
    assert len(rows) == 2 * len(run.model)
    assert {r["layer"] for r in rows} == {"pipe (API)", "apps"}


def test_runway_is_cash_over_burn_capped_when_not_burning():
    agents = pd.DataFrame({"cash_usd": [100.0, 100.0, -5.0], "operating_profit_usd": [-10.0, 5.0, -1.0]})
    np.testing.assert_allclose(charts.runway_months(agents), [10.0, charts.RUNWAY_CAP_MONTHS, 0.0])


def test_cash_is_split_by_firm_type_each_row_with_its_own_scale(run):
    spec = charts.cash_runway_chart(run.agents).to_dict()
    types = [t for t, _ in charts.FIRM_TYPES if t in set(run.agents["type"])]
    assert len(types) == 3 and len(spec["vconcat"]) == 3  # labs, hosts, wrappers in the small config
    assert spec["resolve"]["scale"] == {"y": "independent", "color": "independent"}
    rows = data_rows(spec)
    assert len(rows) == len(run.agents)
    assert max(r["runway_months"] for r in rows) <= charts.RUNWAY_CAP_MONTHS
    for kind, row in zip(types, spec["vconcat"]):
        cash, runway = row["hconcat"]
        assert [cash["encoding"]["y"]["field"], runway["encoding"]["y"]["field"]] == ["cash_usd", "runway_months"]
        assert cash["transform"] == [{"filter": {"field": "type", "oneOf": [kind]}}]
        firms = set(run.agents.loc[run.agents["type"] == kind, "name"])
        assert set(cash["encoding"]["color"]["scale"]["domain"]) == firms
        assert "scale" not in cash["encoding"]["y"]  # the y scale comes from this row's data only: no shared domain
    # a run without hosts has no hosts row
    no_hosts = charts.cash_runway_chart(run.agents[run.agents["type"] != "provider"]).to_dict()
    assert len(no_hosts["vconcat"]) == 2


def test_compute_split_uses_each_labs_recorded_allocation(run):
    split = charts.compute_split(run.agents, run.lab_shares)
    labs = run.agents[run.agents["type"] == "lab"].set_index(["round", "name"])
    for use, col in (("training", "training_gpus"), ("free tier", "free_gpus"), ("paid serving", "paid_gpus"),
                     ("inference R&D", "rd_gpus")):
        got = split[split["use"] == use].set_index(["round", "name"])["gpus"]
        np.testing.assert_allclose(got.loc[labs.index], labs[col], rtol=1e-12)
    spec = charts.compute_split_chart(run.agents, run.lab_shares).to_dict()
    assert spec["spec"]["mark"]["type"] == "area" and spec["facet"]["field"] == "name"
    assert spec["spec"]["encoding"]["y"]["stack"] == "zero"
    assert len(data_rows(spec)) == 4 * len(labs)


def test_compute_split_falls_back_to_configured_shares():
    agents = pd.DataFrame({"round": [1, 2], "name": ["lab_a", "lab_a"], "type": "lab", "gpus": [100.0, 200.0]})
    split = charts.compute_split(agents, {"lab_a": (0.4, 0.5)}).set_index(["round", "use"])["gpus"]
    assert split[(2, "training")] == pytest.approx(80.0)
    assert split[(2, "free tier")] == pytest.approx(60.0) and split[(2, "paid serving")] == pytest.approx(60.0)
    assert charts.lab_shares_from({"labs": [{"name": "x", "training_share": 0.3, "free_tier": False}]}) == {
        "x": (0.3, 0.0)}


def test_events_are_aggregated_per_round_and_kind():
    events = pd.DataFrame({"round": [3, 3, 10], "kind": ["funding_round", "funding_round", "exit"],
                           "actor": ["lab_a", "lab_b", "wrapper_1"], "target": ["", "", ""],
                           "amount": [1e9, 2e9, 0.0], "unit": ["usd"] * 3})
    spec = charts.events_chart(events, last_round=12).to_dict()
    assert spec["mark"]["type"] == "circle"
    assert spec["encoding"]["y"]["field"] == "kind" and spec["encoding"]["size"]["field"] == "n"
    assert spec["encoding"]["x"]["scale"]["domain"] == [0, 12]
    rows = {(r["round"], r["kind"]): r for r in data_rows(spec)}
    assert set(rows) == {(3, "funding_round"), (10, "exit")}
    assert rows[(3, "funding_round")]["n"] == 2 and rows[(3, "funding_round")]["amount_usd"] == 3e9
    assert rows[(3, "funding_round")]["actors"] == "lab_a, lab_b"


def test_empty_tables_give_a_text_placeholder_for_every_chart():
    empty = charts.RunFrames(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(columns=["round", "kind"]))
    for key, chart in charts.run_charts(empty).items():
        spec = chart.to_dict()
        assert spec["mark"]["type"] == "text", key
        assert "no data yet" in data_rows(spec)[0]["text"]


def test_no_events_in_a_finished_run_says_so(run):
    spec = charts.events_chart(run.events.iloc[0:0], last_round=6).to_dict()
    assert data_rows(spec)[0]["text"] == "no events in rounds 1–6"


def test_thin_rounds_caps_rows_and_keeps_the_last_round():
    df = pd.DataFrame({"round": np.repeat(np.arange(1, 1001), 20), "v": 1.0})
    thin = charts.thin_rounds(df, max_rows=4000)
    assert len(thin) <= 4000 + 20 and thin["round"].max() == 1000
    assert charts.thin_rounds(df.iloc[:100]) is not None and len(charts.thin_rounds(df.iloc[:100])) == 100


def test_long_runs_stay_under_altairs_row_limit(run):
    many = pd.concat([run.agents.assign(round=run.agents["round"] + 6 * k) for k in range(100)])
    spec = charts.cash_runway_chart(many).to_dict()
    assert len(data_rows(spec)) <= charts.MAX_ROWS


def test_outcome_flags_report_first_round_fired():
    model = pd.DataFrame({"round": [1, 2, 3], "outcome_dumb_pipe": [False, True, True],
                          "outcome_vertical_takeover": [False, False, np.nan], "lerner_api": [0.1, 0.2, 0.3]})
    assert charts.outcome_flags(model) == [("dumb_pipe", 2)]
    assert charts.outcome_flags(model.drop(columns=["outcome_dumb_pipe", "outcome_vertical_takeover"])) == []


def runs_table():
    rng = np.random.default_rng(1)
    rows = [{"run_id": f"r{i}", "gpu_market.reference_rent_usd_per_hour": g, "open_weights.distill_lag_months": lag,
             "lerner_api_last": float(rng.normal()), "outcome_dumb_pipe": lag == 12 or (g == 2 and s == 0)}
            for i, (g, lag, s) in enumerate((g, lag, s) for g in (2, 4) for lag in (0, 6, 12) for s in range(4))]
    return pd.DataFrame(rows)


def test_outcome_heatmap_one_cell_per_parameter_pair():
    runs = runs_table()
    spec = charts.outcome_heatmap(runs, "gpu_market.reference_rent_usd_per_hour", "open_weights.distill_lag_months",
                                  "outcome_dumb_pipe").to_dict()
    assert spec["mark"]["type"] == "rect"
    assert spec["encoding"]["color"]["field"] == "frequency"
    assert spec["encoding"]["x"]["title"].startswith("gpu_market.reference_rent_usd_per_hour (")  # path and unit
    cells = {(r["x"], r["y"]): r for r in data_rows(spec)}
    assert len(cells) == 6 and all(c["n"] == 4 for c in cells.values())
    assert cells[(2, 12)]["frequency"] == 1.0 and cells[(4, 0)]["frequency"] == 0.0
    assert cells[(2, 0)]["frequency"] == pytest.approx(0.25)


def test_metric_distribution_one_row_per_parameter_value():
    runs = runs_table()
    spec = charts.metric_distribution_chart(runs, "open_weights.distill_lag_months", "lerner_api_last").to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "bar", "tick"]
    rows = {r["value"]: r for r in data_rows(spec)}
    assert sorted(rows) == [0, 6, 12] and all(r["count"] == 8 for r in rows.values())
    median = runs.groupby("open_weights.distill_lag_months")["lerner_api_last"].median()
    assert rows[6]["median"] == pytest.approx(median[6])


def test_firm_colours_are_distinct_and_wrappers_share_their_verticals_hue():
    import colorsys

    from runs.reports.charts import VERTICAL_HUES, firm_colours

    rows = [dict(agent_id=i, round=1, type="lab", name=f"lab_{i}", vertical="") for i in range(6)]
    rows += [dict(agent_id=10 + i, round=1, type="provider", name=f"provider_{i}", vertical="") for i in range(20)]
    rows += [dict(agent_id=40 + 4 * i + k, round=1, type="wrapper", name=f"{v}_wrapper_{i}", vertical=v)
             for i in range(6) for k, v in enumerate(VERTICAL_HUES)]
    colours = firm_colours(pd.DataFrame(rows))
    assert len(colours) == len(rows) == len(set(colours.values()))  # 50 firms, no colour twice
    for name, colour in colours.items():
        if "_wrapper_" in name:
            r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
            hue = colorsys.rgb_to_hls(r, g, b)[0] * 360
            base = VERTICAL_HUES[name.split("_wrapper_")[0]]
            assert abs((hue - base + 180) % 360 - 180) < 30, (name, hue, base)  # within the vertical's family


def test_firm_legends_give_full_names():
    from runs.reports.charts import price_cost_chart

    agents = pd.DataFrame([dict(agent_id=i, round=1, type="provider", name=f"a_very_long_provider_name_{i}",
                                price=1.0, unit_cost=0.5, vertical="") for i in range(3)])
    legend = price_cost_chart(agents).to_dict()["encoding"]["color"]["legend"]
    assert legend["labelLimit"] == 0  # vega: no cut
