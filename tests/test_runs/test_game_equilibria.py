"""Games with known answers, played through the whole pipeline (game file → forced configs → runs on an
executor → payoff table → regret and equilibria) with stub payoffs in place of the model:

- a prisoner's dilemma: the unique pure equilibrium, every profile's regret in $ and relative, standard errors;
- a 2×2 game with a unique interior mixed equilibrium: the mixing probabilities;
- a battle of the sexes: two pure and one mixed equilibrium;
- a symmetric three-lab role: the reduced profiles, payoffs averaged by hand, regrets, the pure equilibrium;
- robustness: an equilibrium with a wide margin holds in every bootstrap draw, one within the noise does not.
"""

from __future__ import annotations

import numpy as np
import pytest

from runs.games.analysis import analyse_game, equilibria_frame, regret_frame
from runs.games.equilibria import EmpiricalGame
from runs.games.execute import run_game
from runs.games.plan import make_game_plan
from tests.test_runs.game_stubs import table_stub

B = 1e9  # payoffs in $ billions
A_LAB, B_LAB, S_LAB = "lab_investor_a", "lab_investor_b", "lab_self_funded"


def two_role_game(strategies: list[str], replicates: int = 4, bootstrap: int = 50, **extra) -> str:
    lines = ['name = "g"', f"replicates = {replicates}", f"bootstrap = {bootstrap}", "unforced = false"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    for role, lab in (("a", A_LAB), ("b", B_LAB)):
        lines += ["[[roles]]", f'name = "{role}"', f'labs = ["{lab}"]', 'move = "api_conduct"',
                  f"strategies = {strategies!r}".replace("'", '"')]
    return "\n".join(lines) + "\n"


def bimatrix_payoff(strategies, a, b):
    """{lab: $} from row (lab a) and column (lab b) payoff matrices over ``strategies``."""
    def payoff(options):
        i, j = strategies.index(options[A_LAB]), strategies.index(options[B_LAB])
        return {A_LAB: a[i][j] * B, B_LAB: b[i][j] * B}
    return payoff


def play(tmp_path, text: str, stub):
    path = tmp_path / "game.toml"
    path.write_text(text)
    plan = make_game_plan(path)
    run_game(tmp_path / "out", plan, progress=False, simulate_fn=stub)
    return analyse_game(tmp_path / "out")


# ------------------------------------------------------------------------------------- prisoner's dilemma
# premium = cooperate, penetration = defect. T = 5 > R = 3 > P = 2 > S = 1 ($B).
PD_S = ["premium", "penetration"]
PD_A = [[3, 1], [5, 2]]
PD_B = [[3, 5], [1, 2]]


@pytest.fixture(scope="module")
def pd_game(tmp_path_factory):
    # Noise of $0.1B per lab and seed, the same in every profile (common random numbers): deviation gains are
    # exact, means and standard errors are not.
    stub = table_stub(bimatrix_payoff(PD_S, PD_A, PD_B), [A_LAB, B_LAB], [PD_S, PD_S], noise_usd=0.1 * B)
    return play(tmp_path_factory.mktemp("pd"), two_role_game(PD_S), stub)


def test_prisoners_dilemma_has_the_unique_pure_equilibrium_defect_defect(pd_game):
    (res,) = pd_game.results
    eqs = res.solution.equilibria
    assert len(eqs) == 1 and eqs[0].kind == "pure"
    assert eqs[0].profile.label(pd_game.plan.roles) == "a=penetration; b=penetration"


def test_prisoners_dilemma_regret_of_every_profile(pd_game):
    """Regret by hand: (C,C) a defects: 5 − 3 = 2; (C,D) a defects: 2 − 1 = 1; (D,C) b defects: 2 − 1 = 1;
    (D,D) 0. Relative: 2/3, 1/1, 1/1 (gain over the deviator's payoff, ≈ with noise of 0.1 on the base)."""
    reg = regret_frame(pd_game).set_index("label")
    expect = {"a=premium; b=premium": (2, 2 / 3), "a=premium; b=penetration": (1, 1.0),
              "a=penetration; b=premium": (1, 1.0), "a=penetration; b=penetration": (0, 0.0)}
    for label, (usd, rel) in expect.items():
        assert reg.loc[label, "regret_usd"] == pytest.approx(usd * B, rel=1e-9, abs=1.0)
        assert reg.loc[label, "regret_rel"] == pytest.approx(rel, abs=0.1)
    assert reg.loc["a=premium; b=premium", "deviation"] in ("a: premium → penetration", "b: premium → penetration")
    assert list(reg["equilibrium"]) == [False, False, False, True]


def test_prisoners_dilemma_standard_errors_are_the_noise_over_root_n(pd_game):
    (res,) = pd_game.results
    seeds = pd_game.plan.seeds()
    noise = np.array([0.1 * B * np.random.default_rng(np.random.SeedSequence(s, spawn_key=(0,))).normal()
                      for s in seeds])  # lab a is the first lab in sorted order: spawn key (0,)
    se = res.table.se()
    j = res.game.index[((1, 0), (1, 0))]  # (premium, premium): one lab of each role on strategy 0
    # runs.csv keeps 10 significant digits: $1 of a $3B payoff, so rel 1e-6 on the standard error.
    assert se[j, 0, 0] == pytest.approx(noise.std(ddof=1) / np.sqrt(len(seeds)), rel=1e-6)
    assert res.table.mean()[j, 0, 0] == pytest.approx(3 * B + noise.mean(), rel=1e-9)


def test_prisoners_dilemma_equilibrium_survives_every_bootstrap_draw(pd_game):
    eq = equilibria_frame(pd_game)
    assert (eq["robustness"] == 1.0).all()
    reg = regret_frame(pd_game).set_index("label")
    assert reg.loc["a=premium; b=premium", "equilibrium_share"] == 0.0


# ------------------------------------------------------------------------------------- mixed equilibrium
# Row (lab a) wants to match, column (lab b) to mismatch; row's matching payoff is 2 on the first strategy,
# 1 on the second. Unique equilibrium: b plays the first strategy with q = 1/3 (a indifferent: 2q + 10 = 11 − q),
# a with p = 1/2 (b indifferent: 11 − p = 10 + p). Payoffs: a 10 + 2/3, b 10.5 ($B).
MP_S = ["best_response", "premium"]
MP_A = [[12, 10], [10, 11]]
MP_B = [[10, 11], [11, 10]]


def test_interior_mixed_equilibrium_has_the_textbook_probabilities(tmp_path):
    stub = table_stub(bimatrix_payoff(MP_S, MP_A, MP_B), [A_LAB, B_LAB], [MP_S, MP_S])
    analysis = play(tmp_path, two_role_game(MP_S, replicates=2, bootstrap=0), stub)
    (res,) = analysis.results
    (eq,) = res.solution.equilibria
    assert eq.kind == "mixed" and "nashpy support enumeration" in eq.method
    assert eq.mixes[0] == pytest.approx((1 / 2, 1 / 2), abs=1e-9)
    assert eq.mixes[1] == pytest.approx((1 / 3, 2 / 3), abs=1e-9)
    assert eq.payoffs_usd == pytest.approx((10 * B + 2 / 3 * B, 10.5 * B), rel=1e-9)
    assert all(r.regret_usd > 0.9 * B for r in res.regrets)  # no pure profile is an equilibrium (each regret ≥ 1)


def test_battle_of_the_sexes_has_two_pure_and_one_mixed_equilibrium(tmp_path):
    """A = [[3, 0], [0, 1]], B = [[1, 0], [0, 3]] (+ 1): pure (s0, s0) and (s1, s1); mixed: a plays s0 with 3/4
    (b indifferent: p = 3(1 − p)), b plays s0 with 1/4 (a indifferent: 3q = 1 − q)."""
    a, b = [[4, 1], [1, 2]], [[2, 1], [1, 4]]
    stub = table_stub(bimatrix_payoff(MP_S, a, b), [A_LAB, B_LAB], [MP_S, MP_S])
    (res,) = play(tmp_path, two_role_game(MP_S, replicates=2, bootstrap=0), stub).results
    pure = sorted(e.profile.label(res.game.roles) for e in res.solution.equilibria if e.kind == "pure")
    mixed = [e for e in res.solution.equilibria if e.kind == "mixed"]
    assert pure == ["a=best_response; b=best_response", "a=premium; b=premium"]
    assert len(mixed) == 1
    assert mixed[0].mixes[0] == pytest.approx((3 / 4, 1 / 4)) and mixed[0].mixes[1] == pytest.approx((1 / 4, 3 / 4))


# ------------------------------------------------------------------------------------- symmetric role
# Entry: a lab staying out gets 5; each of nb builders gets 12 − 3·nb ($B); lab offsets 0, 0.1, 0.2 $B make the
# labs slightly different, so the reduced payoffs are averages that can be checked by hand.
ENTRY = ["stay_out", "build"]
LABS3 = [A_LAB, B_LAB, S_LAB]
OFFSET = {A_LAB: 0.0, B_LAB: 0.1, S_LAB: 0.2}


def entry_payoff(options):
    nb = sum(o == "build" for o in options.values())
    return {lab: ((5 if o == "stay_out" else 12 - 3 * nb) + OFFSET[lab]) * B for lab, o in options.items()}


SYMMETRIC = """name = "entry"
replicates = 2
bootstrap = 0
unforced = false
[[roles]]
name = "entrants"
labs = ["lab_investor_a", "lab_investor_b", "lab_self_funded"]
move = "vertical"
vertical = "coding"
strategies = ["stay_out", "build"]
"""


@pytest.fixture(scope="module")
def entry_game(tmp_path_factory):
    stub = table_stub(entry_payoff, LABS3, [ENTRY] * 3)
    return play(tmp_path_factory.mktemp("entry"), SYMMETRIC, stub)


def test_symmetric_role_has_four_count_profiles_not_eight(entry_game):
    plan = entry_game.plan
    assert [p.counts for p in plan.profiles] == [((3, 0),), ((2, 1),), ((1, 2),), ((0, 3),)]
    # Counts go to the labs in the role's order: in (1, 2) lab a stays out, lab b and the self-funded lab build.
    assert plan.profiles[2].assignment(plan.roles) == {A_LAB: "stay_out", B_LAB: "build", S_LAB: "build"}
    forced = {m["firm"]: (m["move"], m["option"], m["vertical"]) for m in plan.profiles[2].forced(plan.roles)}
    assert forced[A_LAB] == ("vertical", "stay_out", "coding") and forced[S_LAB] == ("vertical", "build", "coding")


def test_symmetric_role_payoffs_are_averaged_over_the_labs_playing_each_strategy(entry_game):
    """By hand ($B): (3,0) stay: (5 + 5.1 + 5.2)/3 = 5.1; (2,1) stay: (5 + 5.1)/2 = 5.05, build (1 builder):
    9 + 0.2 = 9.2; (1,2) stay: 5.0, build (2 builders): (6.1 + 6.2)/2 = 6.15; (0,3) build: (3 + 3.1 + 3.2)/3 = 3.1."""
    (res,) = entry_game.results
    m = res.table.mean() / B
    expect = {((3, 0),): (5.1, None), ((2, 1),): (5.05, 9.2), ((1, 2),): (5.0, 6.15), ((0, 3),): (None, 3.1)}
    for counts, (stay, build) in expect.items():
        j = res.game.index[counts]
        for s, v in enumerate((stay, build)):
            if v is None:
                assert np.isnan(m[j, 0, s])
            else:
                assert m[j, 0, s] == pytest.approx(v, rel=1e-12)


def test_symmetric_role_regret_and_equilibrium(entry_game):
    """Regret by hand ($B): (3,0): stay → build gives 9.2 − 5.1 = 4.1; (2,1): stay → build 6.15 − 5.05 = 1.1;
    (1,2): build → stay 5.05 − 6.15 < 0, stay → build 3.1 − 5.0 < 0: 0, the equilibrium; (0,3): build → stay
    5.0 − 3.1 = 1.9."""
    (res,) = entry_game.results
    got = {r.profile.counts: (r.regret_usd / B, r.regret_rel) for r in res.regrets}
    assert got[((3, 0),)] == pytest.approx((4.1, 4.1 / 5.1))
    assert got[((2, 1),)] == pytest.approx((1.1, 1.1 / 5.05))
    assert got[((1, 2),)] == (0.0, 0.0)
    assert got[((0, 3),)] == pytest.approx((1.9, 1.9 / 3.1))
    pure = [e for e in res.solution.equilibria if e.kind == "pure"]
    assert [e.profile.counts for e in pure] == [((1, 2),)]


def test_three_players_without_pygambit_get_pure_equilibria_and_say_so(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_gambit(name, *args, **kw):
        if name == "pygambit":
            raise ModuleNotFoundError("No module named 'pygambit'", name="pygambit")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_gambit)
    (res,) = play(tmp_path, SYMMETRIC, table_stub(entry_payoff, LABS3, [ENTRY] * 3)).results
    assert res.solution.method == "pure equilibria only (exhaustive deviation check)"
    assert any("mixed equilibria need pygambit" in n for n in res.solution.notes)
    assert [e.kind for e in res.solution.equilibria] == ["pure"]


def test_three_players_with_pygambit_find_the_symmetric_mixed_equilibrium(tmp_path):
    """Without offsets: E[build] = 9 − 6p when the two others build with probability p, staying out gives 5,
    so the symmetric mixed equilibrium builds with p = 2/3."""
    pytest.importorskip("pygambit")

    def plain(options):
        nb = sum(o == "build" for o in options.values())
        return {lab: (5 if o == "stay_out" else 12 - 3 * nb) * B for lab, o in options.items()}

    (res,) = play(tmp_path, SYMMETRIC, table_stub(plain, LABS3, [ENTRY] * 3)).results
    assert "pygambit" in res.solution.method
    symmetric = [e for e in res.solution.equilibria if e.kind == "mixed" and len(set(e.mixes)) == 1]
    assert len(symmetric) == 1 and symmetric[0].mixes[0] == pytest.approx((1 / 3, 2 / 3), abs=1e-6)


# ------------------------------------------------------------------------------------- robustness

ONE_LAB = """name = "decision"
replicates = 8
bootstrap = 200
unforced = false
[[roles]]
name = "a"
labs = ["lab_investor_a"]
move = "api_conduct"
strategies = ["best_response", "premium"]
"""


@pytest.mark.parametrize("margin, lo, hi", [(10.0, 1.0, 1.0), (0.1, 0.3, 0.95)], ids=["wide", "within-noise"])
def test_robustness_falls_when_the_margin_is_within_the_noise(tmp_path, margin, lo, hi):
    """One lab, two strategies whose payoffs differ by ``margin`` $B, with independent noise of $1B per run (not
    common across profiles): with 8 replicates the standard error of the difference is ≈ $0.5B, so a $0.1B
    margin flips in a good share of bootstrap draws and a $10B margin never does."""
    def payoff(options):
        return {A_LAB: (20 + (margin if options[A_LAB] == "premium" else 0.0)) * B}

    stub = table_stub(payoff, [A_LAB], [["best_response", "premium"]], noise_usd=1 * B, common=False)
    (res,) = play(tmp_path, ONE_LAB, stub).results
    (eq,) = res.solution.equilibria
    assert lo <= res.robustness.equilibrium_share[0] <= hi
    assert res.solution.method.startswith("one firm")


def test_empirical_game_regret_is_exact_with_tolerance_for_epsilon_equilibria():
    """ε: a profile whose best deviation gains $1 is an ε-equilibrium for ε = $2, not for ε = 0."""
    from runs.games.profiles import Role, enumerate_profiles

    roles = (Role("a", (A_LAB,), "api_conduct", ("best_response", "premium")),)
    profiles = tuple(enumerate_profiles(roles))
    means = np.array([[[100.0, np.nan]], [[np.nan, 101.0]]])  # best_response 100 $, premium 101 $
    assert [p.counts for p in EmpiricalGame(roles, profiles, means).pure_equilibria()] == [((0, 1),)]
    assert len(EmpiricalGame(roles, profiles, means, tolerance_usd=2.0).pure_equilibria()) == 2


def test_symmetric_two_lab_role_hawk_dove(tmp_path):
    """Hawk–dove with value 4 and fight cost 6 (+10 to keep payoffs positive): hawk–hawk 9 each, hawk–dove 14 / 10,
    dove–dove 12. One symmetric role of two labs: 3 count profiles; the pure equilibrium is one hawk and one dove
    (listed once, though either lab may be the hawk), and the symmetric mixed one plays hawk with V/C = 2/3."""
    text = SYMMETRIC.replace('"lab_investor_a", "lab_investor_b", "lab_self_funded"', '"lab_investor_a", "lab_investor_b"')
    text = text.replace('["stay_out", "build"]', '["build", "acquire"]')  # build = hawk, acquire = dove

    def payoff(options):
        hawks = sum(o == "build" for o in options.values())
        table = {2: (9, 9), 0: (12, 12)}
        if hawks == 1:
            return {lab: (14 if o == "build" else 10) * B for lab, o in options.items()}
        return {lab: table[hawks][0] * B for lab in options}

    (res,) = play(tmp_path, text, table_stub(payoff, [A_LAB, B_LAB], [["build", "acquire"]] * 2)).results
    assert [p.counts for p in res.table.profiles] == [((2, 0),), ((1, 1),), ((0, 2),)]
    pure = [e for e in res.solution.equilibria if e.kind == "pure"]
    mixed = [e for e in res.solution.equilibria if e.kind == "mixed"]
    assert [e.profile.counts for e in pure] == [((1, 1),)]
    assert len(mixed) == 1
    for mix in mixed[0].mixes:
        assert mix == pytest.approx((2 / 3, 1 / 3))
    assert mixed[0].payoffs_usd == pytest.approx((32 / 3 * B, 32 / 3 * B))  # hawk: 9·2/3 + 14·1/3 = 32/3
