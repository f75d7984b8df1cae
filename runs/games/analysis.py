"""Analysis of a finished game folder: per condition, the payoff table, every profile's regret, the equilibria
and their robustness, and what the labs chose by themselves in the free runs — as tables and a text summary.

Pure (no file writes; :mod:`runs.games.report` writes). The bootstrap's random numbers come from the game's
master seed (spawn key (3, condition index)), so the same folder always gives the same analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from runs.games.equilibria import EmpiricalGame, Equilibrium, ProfileRegret, Robustness, Solution, robustness
from runs.games.execute import load_game_runs
from runs.games.plan import FREE, GamePlan
from runs.games.profiles import counts_of
from runs.games.spec import GameError
from runs.games.table import PayoffTable, build_table

_BOOTSTRAP_KEY = 3


@dataclass(frozen=True)
class ConditionResult:
    """Everything computed for one condition: payoff table, regret of each profile, equilibria, bootstrap
    robustness (None with one replicate or no resamples), the free runs' choices (a DataFrame, possibly empty)
    and notes."""

    condition: str
    table: PayoffTable
    game: EmpiricalGame
    regrets: list[ProfileRegret]
    solution: Solution
    robustness: Robustness | None
    choices: pd.DataFrame
    notes: tuple[str, ...]


@dataclass(frozen=True)
class GameAnalysis:
    """The analysis of a game folder: its plan, one :class:`ConditionResult` per condition that could be solved,
    the conditions that could not (name → reason), run counts and game-wide notes."""

    plan: GamePlan
    results: tuple[ConditionResult, ...]
    unsolved: dict[str, str]
    n_ok: int
    n_failed: int
    notes: tuple[str, ...]


def _choices(plan: GamePlan, game: EmpiricalGame, runs: pd.DataFrame, condition: str) -> tuple[pd.DataFrame, list[str]]:
    """One row per free run: each role lab's recorded choice, the profile they form and its regret."""
    free = runs[(runs["condition"] == condition) & (runs["profile"] == FREE) & (runs["status"] == "ok")]
    if not plan.unforced:
        return pd.DataFrame(), []
    if free.empty:
        return pd.DataFrame(), ["no free run finished: the labs' own choices are unknown"]
    labs = plan.role_labs
    regrets = {r.profile.counts: r for r in game.regrets()}
    tol = game.tol
    rows, unrecorded = [], set()
    for rec in free.to_dict("records"):
        chosen = {lab: str(rec.get(f"chosen__{lab}", "") or "") for lab in labs}
        unrecorded |= {lab for lab in labs if not chosen[lab]}
        row = {"condition": condition, "run_id": rec["run_id"], "replicate": rec["replicate"], "seed": rec["seed"],
               **{f"chosen__{lab}": chosen[lab] for lab in labs},
               **{f"decisions__{lab}": rec.get(f"decisions__{lab}", 0) for lab in labs}}
        counts = counts_of(plan.roles, chosen) if all(chosen.values()) else None
        if counts is None:
            row.update(profile="", label="", in_game=False, regret_usd=np.nan, regret_rel=np.nan, equilibrium=False)
        else:
            reg = regrets[counts]
            row.update(profile=reg.profile.id, label=reg.profile.label(plan.roles), in_game=True,
                       regret_usd=reg.regret_usd, regret_rel=reg.regret_rel, equilibrium=reg.regret_usd <= tol)
        rows.append(row)
    notes = []
    if unrecorded:
        notes.append(f"events.csv of the free runs has no `decision` rows (kind decision, target = option) for "
                     f"{', '.join(sorted(unrecorded))} on their role's move: the model does not record these "
                     f"choices yet, so the regret of what the labs chose cannot be computed for those runs")
    outside = [r for r in rows if not r["in_game"] and all(r[f"chosen__{lab}"] for lab in labs)]
    if outside:
        notes.append(f"{len(outside)} free run(s) chose options outside the game's strategy sets: no regret")
    return pd.DataFrame(rows), notes


def _forced_notes(plan: GamePlan, runs: pd.DataFrame, condition: str) -> list[str]:
    """Runs where a forced lab recorded a decision other than the option forced on it (the hook not honoured)."""
    forced = runs[(runs["condition"] == condition) & (runs["profile"] != FREE) & (runs["status"] == "ok")]
    bad = set()
    for lab in plan.role_labs:
        chosen, strategy = f"chosen__{lab}", f"strategy__{lab}"
        if chosen in forced and strategy in forced:
            rows = forced[(forced[chosen].astype(str) != "") & (forced[chosen].astype(str) != forced[strategy])]
            bad |= {f"{lab} in {rid}" for rid in rows["run_id"]}
    if not bad:
        return []
    return [f"forced moves not honoured: {len(bad)} lab-run(s) recorded a decision other than the forced option "
            f"(e.g. {sorted(bad)[0]}); check the model's forced-move hook"]


def analyse_condition(plan: GamePlan, runs: pd.DataFrame, index: int) -> ConditionResult:
    """Solve condition number ``index`` of ``plan`` from the runs table.

    Raises:
        GameError: a profile of the condition has no finished run.
    """
    cond = plan.conditions[index]
    table = build_table(plan.roles, plan.profiles, plan.replicates, cond.name, runs)
    game = EmpiricalGame(plan.roles, table.profiles, table.mean(), plan.tolerance_usd)
    solution = game.solve()
    rng = np.random.default_rng(np.random.SeedSequence(plan.master_seed, spawn_key=(_BOOTSTRAP_KEY, index)))
    rob = robustness(table, solution, plan.bootstrap, plan.tolerance_usd, rng)
    choices, notes = _choices(plan, game, runs, cond.name)
    notes = list(solution.notes) + notes + _forced_notes(plan, runs, cond.name)
    n = table.n_replicates()
    if (n < plan.replicates).any():
        notes.append(f"{int((n < plan.replicates).sum())} profile(s) have fewer than {plan.replicates} finished "
                     f"replicates (failed runs): their means use the runs that finished")
    if rob is None:
        notes.append("fewer than 2 replicates (or bootstrap = 0): no standard errors or robustness")
    return ConditionResult(cond.name, table, game, game.regrets(), solution, rob, choices, tuple(notes))


def analyse_game(folder: Path | str) -> GameAnalysis:
    """Analyse every condition of a game folder; a condition with a profile that has no finished run is left
    unsolved (with the reason) instead of failing the whole analysis.

    Raises:
        GameError: not a game folder, or no condition could be solved.
    """
    plan, runs = load_game_runs(folder)
    ok = int((runs["status"] == "ok").sum()) if len(runs) else 0
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    results, unsolved = [], {}
    for i, cond in enumerate(plan.conditions):
        try:
            results.append(analyse_condition(plan, runs, i))
        except GameError as err:
            unsolved[cond.name] = str(err)
    if not results:
        raise GameError(f"{folder}: no condition can be solved: {'; '.join(unsolved.values())}")
    return GameAnalysis(plan, tuple(results), unsolved, ok, failed, plan.notes)


# ------------------------------------------------------------------------------------------- tables

def describe(plan: GamePlan, eq: Equilibrium) -> str:
    """An equilibrium in words: the profile for a pure one; each role's mix (or each lab's, when the labs of a
    role mix differently) for a mixed one."""
    if eq.profile is not None:
        return eq.profile.label(plan.roles)
    parts, j = [], 0
    for role in plan.roles:
        block = eq.mixes[j:j + role.n_firms]
        mixes = [", ".join(f"{s} {p:.2f}" for s, p in zip(role.strategies, m) if p > 1e-9) for m in block]
        if len(set(mixes)) == 1:
            parts.append(f"{role.name}: {mixes[0]}")
        else:
            parts.append("; ".join(f"{lab}: {m}" for lab, m in zip(role.labs, mixes)))
        j += role.n_firms
    return "; ".join(parts)


def regret_frame(analysis: GameAnalysis) -> pd.DataFrame:
    """regret.csv: condition, profile, label, regret_usd, regret_rel, deviation (role: from → to), equilibrium
    (regret ≤ ε), and from the bootstrap: equilibrium_share, regret_p05_usd, regret_p95_usd."""
    rows = []
    for res in analysis.results:
        rob = res.robustness
        for j, reg in enumerate(res.regrets):
            rows.append({"condition": res.condition, "profile": reg.profile.id,
                         "label": reg.profile.label(analysis.plan.roles), "regret_usd": reg.regret_usd,
                         "regret_rel": reg.regret_rel, "deviation": reg.deviation.text() if reg.deviation else "",
                         "equilibrium": reg.regret_usd <= res.game.tol,
                         "equilibrium_share": rob.profile_share[j] if rob else np.nan,
                         "regret_p05_usd": rob.regret_lo[j] if rob else np.nan,
                         "regret_p95_usd": rob.regret_hi[j] if rob else np.nan})
    return pd.DataFrame(rows)


def equilibria_frame(analysis: GameAnalysis) -> pd.DataFrame:
    """equilibria.csv, one row per equilibrium, player (lab) and strategy played with positive probability:
    condition, equilibrium (1, 2, … within the condition), kind, description, method, role, lab, strategy,
    probability (with bootstrap probability_p05 / probability_p95 for mixed ones), expected_payoff_usd,
    regret_usd, robustness (share of bootstrap draws in which it holds)."""
    rows = []
    plan = analysis.plan
    for res in analysis.results:
        players = res.game.players
        rob = res.robustness
        for k, eq in enumerate(res.solution.equilibria):
            share = rob.equilibrium_share[k] if rob else np.nan
            lo = rob.mix_lo[k] if rob and rob.mix_lo else None
            hi = rob.mix_hi[k] if rob and rob.mix_hi else None
            for j, pl in enumerate(players):
                role = plan.roles[pl.role]
                for s, p in enumerate(eq.mixes[j]):
                    if p <= 1e-9:
                        continue
                    rows.append({"condition": res.condition, "equilibrium": k + 1, "kind": eq.kind,
                                 "description": describe(plan, eq), "method": eq.method, "role": role.name,
                                 "lab": pl.lab, "strategy": role.strategies[s], "probability": p,
                                 "probability_p05": lo[j][s] if lo else np.nan,
                                 "probability_p95": hi[j][s] if hi else np.nan,
                                 "expected_payoff_usd": eq.payoffs_usd[j], "regret_usd": eq.regret_usd,
                                 "robustness": share})
    return pd.DataFrame(rows)


def played_frame(analysis: GameAnalysis) -> pd.DataFrame:
    """strategies.csv: for every condition, role and strategy, whether some equilibrium plays it (with positive
    probability) and the largest robustness among those equilibria."""
    rows = []
    for res in analysis.results:
        rob = res.robustness
        for i, role in enumerate(analysis.plan.roles):
            cols = [j for j, pl in enumerate(res.game.players) if pl.role == i]
            for s, strategy in enumerate(role.strategies):
                using = [k for k, eq in enumerate(res.solution.equilibria) if any(eq.mixes[j][s] > 1e-9 for j in cols)]
                rows.append({"condition": res.condition, "role": role.name, "strategy": strategy,
                             "in_equilibrium": bool(using), "equilibria": len(using),
                             "best_robustness": max((rob.equilibrium_share[k] for k in using), default=np.nan)
                             if rob else np.nan})
    return pd.DataFrame(rows)


def choices_frame(analysis: GameAnalysis) -> pd.DataFrame:
    """choices.csv: the free runs of every condition (see :func:`_choices`)."""
    frames = [r.choices for r in analysis.results if not r.choices.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def money(x: float) -> str:
    """A $ amount in short form: $2.97B, -$26.5M, $512 (3 significant digits); n/a when not finite."""
    if not np.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= 0.9995 * div:  # 999.99e6 prints as $1B, not $1e+03M
            return f"{sign}${abs(x) / div:.3g}{unit}"
    return f"{sign}${abs(x):.3g}"


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f} %"


def summary_text(analysis: GameAnalysis) -> str:
    """The text summary printed after a game: per condition, the equilibria (with robustness), the strategies
    played in equilibrium, the regret of the profiles the labs chose in free runs; then notes."""
    plan = analysis.plan
    roles = "; ".join(f"{r.name} ({', '.join(r.labs)}): {r.move} ∈ {{{', '.join(r.strategies)}}}"
                      + (f" in {r.vertical}" if r.vertical else "") for r in plan.roles)
    lines = [f"game {plan.name}: {len(plan.profiles)} profiles × {plan.replicates} replicates × "
             f"{len(plan.conditions)} condition(s); runs ok {analysis.n_ok}, failed {analysis.n_failed}",
             f"roles: {roles}"]
    if plan.tolerance_usd:
        lines.append(f"ε-equilibria with ε = {money(plan.tolerance_usd)}")
    for res in analysis.results:
        cond = next(c for c in plan.conditions if c.name == res.condition)
        over = ", ".join(f"{k}={v}" for k, v in cond.overrides.items()) or "no overrides"
        lines += ["", f"condition {res.condition} ({over}):", f"  method: {res.solution.method}"]
        if not res.solution.equilibria:
            lines.append("  no equilibrium found")
        for k, eq in enumerate(res.solution.equilibria):
            share = f"; holds in {_pct(res.robustness.equilibrium_share[k])} of {res.robustness.draws} bootstrap " \
                    f"draws" if res.robustness else ""
            pays = ", ".join(f"{pl.lab} {money(v)}" for pl, v in zip(res.game.players, eq.payoffs_usd))
            lines.append(f"  {eq.kind:5s} {describe(plan, eq)}  (payoffs {pays}{share})")
        for i, role in enumerate(plan.roles):
            cols = [j for j, pl in enumerate(res.game.players) if pl.role == i]
            played = [s for s_i, s in enumerate(role.strategies)
                      if any(eq.mixes[j][s_i] > 1e-9 for eq in res.solution.equilibria for j in cols)]
            lines.append(f"  played in equilibrium by {role.name}: {', '.join(played) or 'none'}")
        if not res.choices.empty:
            scored = res.choices[res.choices["in_game"]]
            for label, grp in scored.groupby("label", sort=False):
                r = grp.iloc[0]
                lines.append(f"  chosen in {len(grp)} of {len(res.choices)} free runs: {label}: regret "
                             f"{money(r['regret_usd'])} ({_pct(r['regret_rel'])}); "
                             f"{'an equilibrium' if r['equilibrium'] else 'not an equilibrium'}")
        for note in res.notes:
            lines.append(f"  note: {note}")
    for name, reason in analysis.unsolved.items():
        lines += ["", f"condition {name}: not solved: {reason}"]
    if analysis.notes:
        lines.append("")
        lines += [f"note: {n}" for n in analysis.notes]
    return "\n".join(lines)
