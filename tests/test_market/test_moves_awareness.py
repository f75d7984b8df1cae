"""The awareness a strategic forecast carries forward (market/moves/awareness.py) against hand-worked Bass
diffusion, against the population's own diffusion, and in a free-tier choice where the only thing a free tier buys
is the awareness its users spread."""

import dataclasses
import json

import numpy as np
import pytest

from agents.customers import AI_AWARE
from agents.moves import ChooseByValue, MoveObservation
from market import objective
from market.model import TokenMarket
from market.moves.awareness import Diffusion, flows
from market.moves.forecast import Phase, Terms
from market.moves.sample import SampleBase
from market.population import bass_hazard
from tests.conftest import small_config

LAM1 = np.ones(3)
BIG = 50.0  # utility (logit units) that makes an offer a certain choice against the outside option
SHUT = -np.inf


def _base(v0: np.ndarray, w: np.ndarray, holding: np.ndarray, cells: np.ndarray, rho: float = 1.0) -> SampleBase:
    """Hand-made forecast customers: utilities ``v0`` (J, M), each customer standing for ``w`` real ones, holding
    ``holding`` (offer id or −1), in cell ``cells`` (segment = vertical = the cell index); no switching costs."""
    m = w.size
    cell_tuple = tuple((int(c), int(c), np.flatnonzero(cells == c)) for c in np.unique(cells))
    return SampleBase(v0=v0, x=np.ones_like(v0), pay=np.zeros_like(v0), penalty=np.zeros(m), inside=holding >= 0,
                      holding=holding, rho=np.full(m, rho), rho_news=np.full(m, rho), w=w.astype(float),
                      cells=cell_tuple, vertical=cells, offers=None, lam=LAM1, positions=np.arange(m), oracle=None)


def _diffusion(base: SampleBase, cells: np.ndarray, unaware: list[float], p: float, q: float, knows=None,
               p_b: float = 0.0, q_b: float = 0.0, segments: np.ndarray | None = None, spread: bool = True
               ) -> Diffusion:
    n_cells = len(unaware)
    cell_segment = np.arange(n_cells) if segments is None else segments
    aware = np.bincount(cells, base.w, minlength=n_cells)
    n_seg = int(cell_segment.max()) + 1
    size = np.bincount(cell_segment, aware + np.array(unaware), minlength=n_seg)
    return Diffusion(brand_rows=np.array([0]), knows=np.ones(base.n, bool) if knows is None else knows, cell=cells,
                     cell_segment=cell_segment, unaware=np.array(unaware, float), aware=aware,
                     other_users=np.zeros(n_cells), other_brand=np.zeros(n_cells), size=size,
                     innovation=np.full(n_seg, p), imitation=np.full(n_seg, q), brand_innovation=p_b,
                     brand_imitation=q_b, spread=spread)


def _one_offer(price: float, aware: float, unaware: float, p: float, q: float, months: int):
    """One segment; every aware customer holds the lab's one offer (a certain choice) at ``price`` $/month."""
    cells = np.array([0])
    base = _base(np.array([[BIG]]), np.array([aware]), np.array([0]), cells)
    base = dataclasses.replace(base, pay=np.array([[price]]))
    terms = Terms(base.v0, base.x, base.pay, {"rev": (np.array([0]), base.pay[[0]])})
    diff = _diffusion(base, cells, [unaware], p, q)
    return flows(base, (np.array([0]),), np.array([2]), None, [Phase(1, terms)], months, diff)


def test_awareness_follows_the_bass_recursion_worked_by_hand():
    # n = 1,000, 100 aware, all of them users (the one offer is a certain choice); p = 0.01, q = 0.5.
    series, _, path = _one_offer(price=2.0, aware=100.0, unaware=900.0, p=0.01, q=0.5, months=4)
    aware = path.aware[:, 0]
    assert aware[0] == pytest.approx(100.0)  # month 1's awareness was spread before the review
    assert aware[1] == pytest.approx(100.0 + 900.0 * 0.06, rel=1e-12)  # h = 0.01 + 0.5 · 100 / 1000 = 0.06: 154
    assert aware[2] == pytest.approx(154.0 + 846.0 * 0.087, rel=1e-12)  # h = 0.01 + 0.5 · 0.154 = 0.087: 227.602
    h3 = 0.01 + 0.5 * 227.602 / 1000.0
    assert aware[3] == pytest.approx(227.602 + (1000.0 - 227.602) * h3, rel=1e-12)
    # Every newly aware customer chooses the offer at once and pays for it.
    np.testing.assert_allclose(series["rev"], 2.0 * aware, rtol=1e-9)
    np.testing.assert_allclose(path.users[:, 0], aware, rtol=1e-9)


def test_awareness_forecast_reproduces_the_populations_diffusion():
    p, q, months = 0.02, 0.6, 4
    cfg = small_config(**{"customers.n_customers": 100_000, "customers.segments.0.bass_innovation": p,
                          "customers.segments.0.bass_imitation": q})
    model = TokenMarket(cfg, rng=0)
    pop = model.population
    seg = pop.segments[0]
    aware0 = int(((seg.aware & AI_AWARE) != 0).sum())
    rng = np.random.default_rng(7)
    shares = []
    for _ in range(months - 1):  # each month's users: every aware customer (the hand case's certain choice)
        users = np.zeros(pop.n_segments)
        users[0] = ((seg.aware & AI_AWARE) != 0).sum()
        pop.spread_awareness(users, np.zeros((pop.n_segments, len(model.labs))), cfg.customers, rng)
        shares.append(((seg.aware & AI_AWARE) != 0).mean())
    _, _, path = _one_offer(price=1.0, aware=aware0, unaware=seg.n - aware0, p=p, q=q, months=months)
    forecast = path.aware[1:, 0] / seg.n
    # Binomial noise of the draws: sd of a month's share below 0.003 at this size.
    np.testing.assert_allclose(shares, forecast, atol=0.01)
    assert forecast[-1] > forecast[0] + 0.05  # the case moves: the comparison is not of constants


def test_the_hazard_is_one_law_capped_at_one():
    assert bass_hazard(0.01, 0.5, 100, 1000) == pytest.approx(0.06)
    assert bass_hazard(0.5, 5.0, 1000, 1000) == 1.0
    assert bass_hazard(0.01, 0.5, 0, 0) == pytest.approx(0.01)  # n below 1 counts as 1


def _free_tier_market(q: float):
    """Segment 0, two verticals. Cell 0: 500 aware customers hold the lab's free tier (row 0), which costs the lab
    $1 a month each, and never pay (the paid plan, row 1, is worth nothing to them). Cell 1: 10 aware customers and
    1,000 unaware who value the paid plan ($20 a month, no cost), to whom the free tier is not offered. So the free
    tier can pay only by the awareness its users spread (imitation q, no innovation)."""
    cells = np.array([0, 1])
    v0 = np.array([[BIG, SHUT], [SHUT, BIG]])
    base = _base(v0, np.array([500.0, 10.0]), np.array([0, 1]), cells)
    gp = np.array([[-1.0, 0.0], [20.0, 20.0]])

    def terms(free_open: bool) -> Terms:
        v = v0.copy()
        if not free_open:
            v[0] = SHUT
        return Terms(v, base.x, base.pay, {"gp": (np.array([0, 1]), gp)})

    diff = _diffusion(base, cells, [0.0, 1000.0], p=0.0, q=q, segments=np.array([0, 0]))
    forced = np.zeros((2, 2))
    forced[0, 0] = 1.0  # the free tier's holders choose again when it closes
    groups = (np.array([0, 1]),)
    nest = np.array([2, 2])
    plans = {"off": [Phase(1, terms(False), forced=forced)], "small": [Phase(1, terms(True))]}
    return {o: flows(base, groups, nest, None, ph, 24, diff) for o, ph in plans.items()}


def _choose(runs) -> str:
    rate = objective.monthly_rate(0.25)
    options = ("off", "small")
    values = tuple(objective.present_value(runs[o][0]["gp"], rate) for o in options)
    obs = MoveObservation("free_tier", options, values, (True, True), "small", 24)
    return ChooseByValue().decide(obs).option


def test_a_free_tier_that_pays_only_through_awareness_is_kept_when_word_of_mouth_is_strong():
    strong = _free_tier_market(q=1.0)
    assert _choose(strong) == "small"
    # Month 2: h = q · users / n = 510 / 1,510 under small; 10 / 1,510 under off.
    assert strong["small"][2].aware[1, 0] == pytest.approx(510.0 + 1000.0 * 510.0 / 1510.0, rel=1e-9)
    assert strong["off"][2].aware[1, 0] == pytest.approx(510.0 + 1000.0 * 10.0 / 1510.0, rel=1e-9)


def test_the_same_free_tier_closes_without_word_of_mouth():
    silent = _free_tier_market(q=0.0)
    assert _choose(silent) == "off"
    # Nothing spreads: the free tier costs its holders and the paid plan earns on the 10 it has.
    np.testing.assert_allclose(silent["small"][0]["gp"], -500.0 + 200.0, rtol=1e-9)
    np.testing.assert_allclose(silent["off"][0]["gp"], 200.0, rtol=1e-9)


def test_with_the_free_tier_off_its_users_spread_no_awareness():
    # The free tier is the only offer: once it is off nobody uses AI, and awareness grows by innovation alone.
    p, q, aware0, unaware0, months = 0.02, 0.8, 300.0, 700.0, 12
    cells = np.array([0])
    base = _base(np.array([[BIG]]), np.array([aware0]), np.array([0]), cells)
    diff = _diffusion(base, cells, [unaware0], p=p, q=q)
    forced = np.ones((2, 1))
    closed = Terms(np.array([[SHUT]]), base.x, base.pay, {"free": (np.array([0]), base.x[[0]])})
    open_ = Terms(base.v0, base.x, base.pay, {"free": (np.array([0]), base.x[[0]])})
    g, nest = (np.array([0]),), np.array([2])
    off, _, off_path = flows(base, g, nest, None, [Phase(1, closed, forced=forced)], months, diff)
    small, _, small_path = flows(base, g, nest, None, [Phase(1, open_)], months, diff)
    t = np.arange(months)
    np.testing.assert_allclose(off_path.aware[:, 0], aware0 + unaware0 * (1.0 - (1.0 - p) ** t), rtol=1e-12)
    np.testing.assert_allclose(off["free"], 0.0, atol=1e-9)
    assert np.all(off_path.users[:, 0] == 0.0)
    assert np.all(small_path.aware[1:, 0] > off_path.aware[1:, 0] + 1.0)


def test_customers_learn_of_the_labs_apps_at_the_brand_hazard():
    # 100 aware customers: 50 know the lab and hold its app (certain choice), 50 do not and hold nothing; the lab's
    # app (row 0) is closed to those who do not know it. p_b = 0.02, q_b = 0.3; no one is unaware of AI.
    cells = np.array([0, 0])
    base = _base(np.array([[BIG, BIG]]), np.array([50.0, 50.0]), np.array([0, -1]), cells)
    diff = _diffusion(base, cells, [0.0], p=0.0, q=0.0, knows=np.array([True, False]), p_b=0.02, q_b=0.3)
    terms = Terms(base.v0, base.x, base.pay, {"users": (np.array([0]), base.x[[0]])})
    series, _, path = flows(base, (np.array([0]),), np.array([2]), None, [Phase(1, terms)], 3, diff)
    h2 = 0.02 + 0.3 * 50.0 / 100.0
    h3 = 0.02 + 0.3 * (50.0 + 50.0 * h2) / 100.0
    np.testing.assert_allclose(path.knowing[:, 0], [50.0, 50.0 + 50.0 * h2, 50.0 + 50.0 * (1 - (1 - h2) * (1 - h3))],
                               rtol=1e-9)
    np.testing.assert_allclose(series["users"], path.knowing[:, 0], rtol=1e-9)  # each who learns chooses the app
    held = flows(base, (np.array([0]),), np.array([2]), None, [Phase(1, terms)], 3,
                 _diffusion(base, cells, [0.0], 0.0, 0.0, np.array([True, False]), 0.02, 0.3, spread=False))
    np.testing.assert_allclose(held[0]["users"], 50.0, rtol=1e-9)


def test_a_labs_free_tier_review_credits_each_option_with_its_awareness_beyond_the_status_quos():
    model = TokenMarket(small_config(**{"customers.n_customers": 5000}), rng=0)
    model.step()  # the first lab reviews in round 1, from the default small free tier
    _, _, events = model.recorder.frames()
    rows = events[(events["kind"] == "decision") & events["detail"].str.contains('"move":"free_tier"')]
    assert len(rows) == 1
    detail = json.loads(rows.iloc[0]["detail"])
    with_awareness, held = detail["options"], detail["at_fixed_awareness"]
    assert set(held) == set(with_awareness) == {"off", "small", "large"}
    # The status quo's own awareness growth is in the lab's trend: its value is the one at fixed awareness ...
    assert with_awareness["small"] == pytest.approx(held["small"], rel=1e-9)
    # ... and the other sizes are credited with the awareness they spread more or less than it does.
    assert abs(with_awareness["off"] - held["off"]) > 1e-4 * abs(held["off"])


def test_with_awareness_held_the_forecast_is_the_fixed_awareness_chain():
    # Customers who do not know the lab's apps (row 0 branded) see them closed; everyone else the same terms.
    from market.moves.forecast import flows as fixed_flows

    rng = np.random.default_rng(4)
    j, m = 5, 30
    v0 = rng.normal(0.0, 1.5, (j, m))
    holding = rng.integers(-1, j, m)
    knows = rng.random(m) < 0.6
    holding[~knows & (holding == 0)] = -1  # nobody holds an app it does not know
    cells = np.zeros(m, dtype=np.int64)
    base = dataclasses.replace(_base(v0, rng.uniform(1.0, 5.0, m), holding, cells, rho=0.3),
                               penalty=rng.uniform(0.0, 1.0, m), pay=rng.uniform(0.0, 3.0, (j, m)))
    groups, nest = (np.array([0, 1]), np.array([2])), np.array([1, 1, 2, 2, 0])
    terms = Terms(v0, base.x, base.pay, {"rev": (np.array([0, 1]), base.pay[[0, 1]])})
    held = _diffusion(base, cells, [500.0], p=0.05, q=0.5, knows=knows, p_b=0.1, q_b=0.5, spread=False)
    got, level, _ = flows(base, groups, nest, terms, [Phase(1, terms)], 12, held)
    closed = v0.copy()
    closed[0, ~knows] = SHUT
    seen = Terms(closed, base.x, base.pay, terms.values)
    want, want_level = fixed_flows(dataclasses.replace(base, v0=closed), groups, nest, seen, [Phase(1, seen)], 12)
    np.testing.assert_allclose(got["rev"], want["rev"], rtol=1e-10)
    assert level["rev"] == pytest.approx(want_level["rev"], rel=1e-10)
