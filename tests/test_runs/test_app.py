"""The browser page: levers come from the config schema, the page's model factory, the page rendered without a
browser (solara.render), the `viz` command, and end to end in headless chromium (marked ``browser``)."""

import json
import re
import subprocess
from types import SimpleNamespace

import ipyvuetify as v
import numpy as np
import pandas as pd
import pytest
import solara

from market.config import ConfigError, field_meta
from market.scenario import config_from
from market.model import TokenMarket
from runs.page import app
from tests.conftest import small_config
from runs.commands.main import main
from runs.page.assets import AssetsError, ensure_assets
from tests.browser_support import (CHROMIUM_SKIP_REASON, assets_env, block_external, chromium_available, free_port,
                                   launch_chromium, serve_solara, unexpected_console)

BASE = {k: v["value"] for k, v in app.model_params("baseline").items()}


def small(**changes):
    return {**BASE, "n_customers": 5000, **changes}


# ----------------------------------------------------------------------------------------------- levers

def test_sliders_start_at_the_scenario_values_within_schema_bounds():
    cfg = config_from("baseline").model_dump()
    params = app.model_params("baseline")
    for lever in app.LEVERS:
        if not app.available(lever):
            assert lever.name not in params
            continue
        spec = params[lever.name]
        if lever.kind == "scale":
            assert spec["value"] == 1.0 and spec["min"] <= 1.0 <= spec["max"]
        elif lever.kind == "count":
            assert spec["value"] == spec["max"] == len(cfg["labs"]) and spec["min"] == 1
        elif lever.kind == "single":  # a list field's first value, within the slider's range
            assert spec["value"] == app._get(cfg, lever.paths[0])[0][0]
            assert spec["min"] <= spec["value"] <= spec["max"]
        elif spec["type"] == "Select":  # a choice: the scenario's value for every lab, or "as in scenario"
            values = set(app._get(cfg, lever.paths[0]))
            assert spec["value"] == (values.pop() if len(values) == 1 else app.AS_SCENARIO)
            assert spec["value"] in spec["values"]
        else:
            assert spec["value"] == app._get(cfg, lever.paths[0])[0]
            if spec["type"] != "Checkbox":
                meta = field_meta(*app.schema_field(lever.paths[0]))
                assert meta.get("ge", -np.inf) <= spec["min"] <= spec["value"] <= spec["max"] <= meta.get("le", np.inf)


def test_levers_missing_from_the_schema_are_left_off():
    assert app.schema_field("labs.*.skill") is not None and app.schema_field("world.nope") is None
    assert not app.available(app.Lever("x", "x", ("labs.*.not_a_field",)))
    params = set(app.model_params("baseline"))
    assert {"n_labs", "n_providers", "open_weight_quality", "switching_cost_x", "gpu_supply_x",
            "scale_economies", "scenario_name", "n_customers", "seed"} <= params
    assert "investor_appetite" in params


def test_page_config_turns_levers_into_overrides():
    base = config_from("baseline")
    cfg = app.page_config("baseline", 5000, {"n_labs": 2, "switching_cost_x": 2.0, "gpu_supply_x": 2.0,
                                             "open_weight_quality": 0.8, "investor_appetite": 0.25,
                                             "scale_economies": False})
    assert [lab.name for lab in cfg.labs] == [lab.name for lab in base.labs[:2]]
    assert [s.switching_cost_usd for s in cfg.customers.segments] == pytest.approx(
        [2 * s.switching_cost_usd for s in base.customers.segments])
    assert cfg.gpu_market.supply_share == pytest.approx(2 * base.gpu_market.supply_share)
    assert cfg.capital.appetites == (0.25,)
    assert cfg.open_weights.initial_quality == 0.8 and cfg.world.scale_economies is False
    assert cfg.customers.n_customers == 5000


def test_unmoved_levers_keep_the_selected_scenarios_values(tmp_path):
    other = tmp_path / "other.toml"
    other.write_text('name = "other"\n[providers]\nn = 7\n[open_weights]\ninitial_quality = 0.8\n')
    # the page re-seeds its controls from the chosen scenario: left there, they keep its values
    shown = app.initial_params(str(other))
    assert shown["n_providers"] == 7 and shown["open_weight_quality"] == 0.8
    kept = app.page_config(str(other), 5000, {"n_providers": shown["n_providers"], "n_labs": shown["n_labs"]})
    assert kept.providers.n == 7 and kept.open_weights.initial_quality == 0.8
    moved = app.page_config(str(other), 5000, {"n_providers": 2})
    assert moved.providers.n == 2


@pytest.mark.parametrize("bad", [{"n_labs": 2, "nope": 1}, {"gpu_supply_x": 100.0}])
def test_bad_levers_raise_config_errors(bad):
    with pytest.raises(ConfigError):
        app.page_config("baseline", 5000, bad)


def test_seed_text_is_parsed_strictly():
    assert app.parse_seed(" 12 ") == 12 and app.parse_seed(3) == 3
    for bad in ("abc", "-1", "1.5"):
        with pytest.raises(ConfigError, match="seed"):
            app.parse_seed(bad)


# ----------------------------------------------------------------------------------------------- model

def test_page_model_records_vertical_customers_matching_the_model_row():
    model = app.PageMarket(**small(seed="4"))
    assert model.seed == 4 and model.config.customers.n_customers == 5000
    for _ in range(2):
        model.step()
    frames = model.frames()
    assert frames is model.frames()  # built once per round
    last = frames.agents[frames.agents["round"] == 2]
    cols = [c for c in last.columns if c.startswith("customers_")]
    assert len(cols) == 4 and last["api_tokens_mtok"].notna().sum() == len(model.labs) + len(model.providers)
    using_ai = frames.model.set_index("round").loc[2, "customers_using_ai"]
    assert last[cols].to_numpy().sum() == pytest.approx(using_ai, rel=1e-9)


def test_firm_extras_count_customers_per_vertical_with_many_offers():
    # 120 offers and int8 verticals: 3 × 121 overflows int8, so the cell code must be computed wide.
    model = TokenMarket(small_config(**{"customers.n_customers": 200}), rng=0)
    pop = model.population
    firms = [SimpleNamespace(name=f"f{i}") for i in range(60)]
    pop.choice[:] = -1
    pop.choice[:5] = [119, 119, 0, -1, 5]
    pop.version += 1
    fake = SimpleNamespace(book=SimpleNamespace(entries=[SimpleNamespace(firm=f) for f in firms for _ in range(2)]),
                           population=pop, weight=10.0)
    from market.recording import vertical_customers_by_firm

    rows = vertical_customers_by_firm(fake)
    vert = pop.vertical[:5].astype(int)
    expected = {name: np.zeros(4) for name in ("f59", "f0", "f2")}
    for k, name in ((0, "f59"), (1, "f59"), (2, "f0"), (4, "f2")):
        expected[name][vert[k]] += 10.0
    for name, counts in expected.items():
        assert rows[name] == pytest.approx(counts)
    assert sum(r.sum() for r in rows.values()) == 40.0


def test_same_page_parameters_same_run_different_seed_differs():
    a, b, c = (app.PageMarket(**small(seed=s)) for s in ("1", "1", "2"))
    for m in (a, b, c):
        m.step()
    assert a.recorder.model_rows == b.recorder.model_rows
    assert a.recorder.model_rows != c.recorder.model_rows


def test_chart_data_is_per_firm_whatever_the_population():
    for n in (5000, 100_000):
        model = app.PageMarket(**small(n_customers=n))
        model.step()
        n_firms = len(model.labs) + len(model.providers) + len(model.wrappers)
        for key, (_, build) in app.RUN_CHARTS.items():
            spec = build(model.frames()).to_dict()
            rows = sum(len(r) for r in spec.get("datasets", {}).values())
            assert 0 < rows <= 5 * n_firms, (n, key, rows)  # ≤ markets × firms for one round


def test_detectors_run_every_round_and_a_badge_appears_when_an_outcome_fires():
    # Thresholds loosened so that the dumb pipe's window (2 months, both legs in 1) is met at once: the page must
    # show the badge in the round the detector fires, without waiting for the end of the run.
    model = app.PageMarket(**small())
    loose = model.config.outcomes.model_copy(update=dict(dumb_pipe_window_months=2, dumb_pipe_hold_share=0.5,
                                                         dumb_pipe_margin_max=1.0, dumb_pipe_independent_share_min=0.0))
    model.config = model.config.model_copy(update={"outcomes": loose})

    @solara.component
    def Shown():
        return app.Summary(model)

    def badges() -> list[str]:
        _, rc = solara.render(Shown(), handle_error=False)
        return [c.widget.children[0] for c in rc.find(v.Chip, class_="outcome-badge ma-1")]

    model.step()
    assert badges() == [] and not model.frames().model["outcome_dumb_pipe"].any()
    model.step()
    assert badges() == ["dumb pipe · since round 2"]
    assert model.frames().model["outcome_dumb_pipe"].tolist() == [False, True]
    assert model.verdicts()["dumb_pipe"]["detected"]


# ----------------------------------------------------------------------------------------------- page, no browser

def render_page():
    _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    return rc


def round_text(rc) -> str:
    return rc.find(v.Html, class_="tm-round").widget.children[0]


def test_page_steps_resets_and_keeps_one_model_per_tab():
    tab1, tab2 = render_page(), render_page()
    assert round_text(tab1) == "Round 0 of 60"
    tab1.find(v.Btn, children=["Step"]).widget.click()
    tab1.find(v.Btn, children=["Step"]).widget.click()
    assert round_text(tab1) == "Round 2 of 60" and round_text(tab2) == "Round 0 of 60"
    charts = tab1.find(app.VegaChart).widgets
    assert len(charts) == len(app.RUN_CHARTS)
    price = json.loads(charts[0].spec)
    assert len(next(iter(price["datasets"].values()))) > 0
    slider = tab1.find(v.Slider, label="labs (first N) = 4 labs").widget
    slider.v_model = 2
    tab1.find(v.Btn, children=["Reset"]).widget.click()
    assert round_text(tab1) == "Round 0 of 60"
    assert " 2 labs " in tab1.find(v.Html, class_="tm-settings").widget.children[0]


def test_bad_input_on_the_page_is_reported_not_fatal():
    tab = render_page()
    box = tab.find(v.TextField, label="seed (integer ≥ 0)").widget
    box.v_model = "abc"
    box.fire_event("focusout", None)  # the text box commits on focus-out or Enter
    tab.find(v.Btn, children=["Reset"]).widget.click()
    assert round_text(tab) == "Round 0 of 60"
    assert "seed: expected an integer" in tab.find(v.Alert, class_="tm-error").widget.children[0]
    tab.find(v.Btn, children=["Step"]).widget.click()
    assert round_text(tab) == "Round 1 of 60"


# ----------------------------------------------------------------------------------------------- viz command

def test_viz_rejects_unknown_scenario_and_busy_port(capsys):
    assert main(["viz", "--scenario", "no_such_scenario"]) == 2
    assert "no_such_scenario" in capsys.readouterr().err
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["viz", "--port", str(s.getsockname()[1])]) == 2
    assert "in use" in capsys.readouterr().err


@pytest.mark.parametrize("assets_fail", [False, True])
def test_viz_prepares_assets_then_runs_solara(monkeypatch, capsys, assets_fail):
    calls = {}

    def fake_ensure(**kw):
        calls["assets"] = True
        if assets_fail:
            raise AssetsError("npm not found: install Node.js/npm")

    monkeypatch.setattr("runs.page.assets.ensure_assets", fake_ensure)
    class FakeServer:  # stands in for the solara process: exits at once
        pid = -1

        def __init__(self, cmd, env, start_new_session):
            calls.update(cmd=cmd, env=env, own_group=start_new_session)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    port = free_port()
    assert main(["viz", "--scenario", "baseline", "--port", str(port), "--no-open"]) == 0
    cmd = calls["cmd"]
    assert calls["assets"] and cmd[1:5] == ["-m", "solara", "run", "runs.page.app"]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == str(port)
    assert "--production" in cmd and "--no-open" in cmd
    assert calls["env"][app.SCENARIO_ENV] == "baseline"
    assert calls["env"]["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert calls["own_group"]  # so that stopping viz can stop the whole server group
    err = capsys.readouterr().err
    assert ("npm not found" in err) == assets_fail


def test_viz_prints_the_address_only_once_the_server_answers(capsys):
    import http.server
    import threading
    import time

    from runs.page.server import announce_when_ready

    port = free_port()
    url = f"http://127.0.0.1:{port}/"

    class Running:  # the server process as announce_when_ready sees it: still running
        def poll(self):
            return None

    result = {}
    waiter = threading.Thread(target=lambda: result.update(ok=announce_when_ready(Running(), url, timeout_s=30)))
    waiter.start()
    time.sleep(1.0)  # nothing listens yet: nothing printed
    assert "serving" not in capsys.readouterr().err and waiter.is_alive()
    server = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        waiter.join(timeout=20)
    finally:
        server.shutdown()
        server.server_close()
    assert result == {"ok": True}
    assert f"serving {url}" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------- browser

@pytest.fixture(scope="session")
def solara_assets():
    if not chromium_available():
        pytest.skip(CHROMIUM_SKIP_REASON)
    try:
        return assets_env(ensure_assets(quiet=True))
    except AssetsError as e:
        pytest.skip(str(e))


COLOURED_PIXELS = """() => [...document.querySelectorAll('.vega-embed canvas')].map(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
    }
    return n; })"""


@pytest.mark.browser
def test_page_in_headless_chromium(solara_assets, tmp_path):
    port = free_port()
    with serve_solara("runs.page.app", port, env=solara_assets) as url:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            try:
                context = browser.new_context(viewport={"width": 1500, "height": 1100})
                blocked = block_external(context)
                page, messages = context.new_page(), []
                page.on("console", lambda m: messages.append(m))
                page.goto(url)
                page.locator(".tm-round").get_by_text("Round 0 of 60").wait_for(timeout=30_000)
                # Round 0 has no model or agent rows yet: placeholders, no coloured pixels. The events chart
                # may already show round-0 events (the wrappers' first choice of upstream), so it is left out.
                n, ev = len(app.RUN_CHARTS), list(app.RUN_CHARTS).index("events")
                page.wait_for_function(
                    f"(c => c.length == {n} && Math.max(...c.filter((_, i) => i != {ev})) == 0)"
                    f"(({COLOURED_PIXELS})())", timeout=15_000)
                for r in (1, 2, 3):
                    page.get_by_role("button", name="Step").click()
                    page.locator(".tm-round").get_by_text(f"Round {r} of 60").wait_for(timeout=180_000)
                page.wait_for_function(f"(c => c.length == {n} && c[0] > 200)(({COLOURED_PIXELS})())",
                                       timeout=15_000)  # the price chart's lines are drawn

                other = context.new_page()  # a second tab gets its own model
                other.goto(url)
                other.locator(".tm-round").get_by_text("Round 0 of 60").wait_for(timeout=30_000)
                other.close()
                assert page.locator(".tm-round").get_by_text("Round 3 of 60").is_visible()

                slider = page.get_by_role("slider", name="labs (first N)")
                slider.focus()
                for _ in range(6):  # a key press can be lost while the page redraws: press until it shows 2
                    if slider.get_attribute("aria-valuenow") == "2":
                        break
                    slider.press("ArrowLeft")
                    page.wait_for_timeout(150)
                assert slider.get_attribute("aria-valuenow") == "2"
                # A Reset builds a new model; under the whole suite's load on 2 cores that took over 60 s once.
                for attempt in range(5):  # the slider's new value reaches the server asynchronously
                    page.get_by_role("button", name="Reset").click()
                    page.locator(".tm-round").get_by_text("Round 0 of 60").wait_for(timeout=180_000)
                    if page.locator(".tm-settings", has_text=" 2 labs ").count():
                        break
                    page.wait_for_timeout(200 * (attempt + 1))
                assert page.locator(".tm-settings", has_text=" 2 labs ").count() == 1
                page.get_by_role("button", name="Step").click()
                page.locator(".tm-round").get_by_text("Round 1 of 60").wait_for(timeout=180_000)
                page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
            finally:
                browser.close()
    assert (tmp_path / "page.png").stat().st_size > 10_000
    own = "willReadFrequently"  # chromium's hint about this test's own getImageData pixel reads
    assert [m for m in unexpected_console(messages) if own not in m] == []
    assert blocked == []


# ----------------------------------------------------------------------------------------------- honest controls

def test_control_labels_show_value_and_unit():
    specs = app.model_params("baseline")
    assert app.control_label(specs["rounds"], 60) == "rounds = 60 months"
    assert app.control_label(specs["gpu_supply_x"], 1.25) == "GPU supply = 1.25 × scenario"
    assert app.control_label(specs["n_providers"], 7) == "providers = 7 hosts"
    assert app.control_label(specs["seed"], "3") == "seed (integer ≥ 0)"  # the text box shows its value itself


def test_pending_changes_name_the_moved_controls():
    specs = app.model_params("baseline")
    applied = {k: v["value"] for k, v in specs.items()}
    assert app.pending_changes(applied, applied, specs) == []
    assert app.pending_changes({**applied, "gpu_supply_x": 2.0, "seed": "5"}, applied, specs) == [
        "seed (integer ≥ 0)", "GPU supply"]


def test_the_model_stops_exactly_at_the_horizon():
    model = app.PageMarket(**small(rounds=3))
    for _ in range(7):  # more steps than rounds, as a redraw interval of 7 would ask
        model.step()
    assert model.round == 3 and not model.running
    assert len(model.frames().model) == 3


def test_the_equivalent_command_rebuilds_the_same_config():
    from runs.commands.common import parse_sets

    model = app.PageMarket(**small(gpu_supply_x=2.0, open_weight_quality=0.9, rounds=24, seed="7"))
    words = app.run_command(model).split()
    assert words[:3] == ["tokenmarket", "run", "--scenario"] and words[words.index("--seed") + 1] == "7"
    sets = parse_sets([words[i + 1] for i, w in enumerate(words) if w == "--set"])
    rebuilt = config_from(words[3], {**sets, "world.rounds": int(words[words.index("--rounds") + 1])})
    assert rebuilt.model_dump() == model.config.model_dump()


def test_long_runs_are_thinned_on_the_page_with_the_last_round_kept():
    df = pd.DataFrame({"round": np.repeat(np.arange(1, 151), 2)})
    shown = app.shown_rounds(df, limit=60)
    rounds = sorted(set(shown["round"]))
    assert rounds[-1] == 150 and len(rounds) <= 61 and set(np.diff(rounds[:-1])) == {3}
    assert app.shown_rounds(df.head(40), limit=60) is not None and len(app.shown_rounds(df.head(40))) == 40


def test_choosing_a_scenario_reseeds_the_controls(tmp_path, monkeypatch):
    tab = render_page()
    names = tab.find(v.Select, label="scenario").widget.items
    other = next(n for n in names if n != "baseline")
    expected = app.initial_params(other)
    tab.find(v.Select, label="scenario").widget.v_model = other
    sliders = {w.label.split(" = ")[0]: w.v_model for w in tab.find(v.Slider).widgets}
    for lever in app.LEVERS:
        spec = app.model_params(other).get(lever.name)
        if spec and spec["type"].startswith("Slider"):
            assert sliders[spec["label"]] == pytest.approx(expected[lever.name]), lever.name
    assert "scenario" in tab.find(v.Alert, class_="tm-pending").widget.children[0]
    tab.find(v.Btn, children=["Reset"]).widget.click()
    assert f"scenario {other} " in tab.find(v.Html, class_="tm-settings").widget.children[0]
    assert not tab.find(v.Alert, class_="tm-pending").widgets


def test_run_past_the_calibrated_horizon_is_flagged():
    from runs.reports.horizon import built_horizon, horizon_warning

    assert horizon_warning(built_horizon()) is None
    assert "extrapolation" in horizon_warning(built_horizon() + 1)


def test_settings_line_has_human_numbers_and_no_list_brackets():
    model = app.PageMarket(**small(switching_cost_x=2.0))
    text = app.settings_text(model)
    assert not re.search(r"\de[+-]\d", text)  # 2400 shows as 2.4k, not 2.4e+03
    assert "investor appetite: 0.7 ·" in text  # a list setting shows its values, not "(0.7,)" or "[0.7]"
