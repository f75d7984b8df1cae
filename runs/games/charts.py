"""Altair charts of a game's analysis: regret per profile, payoffs with error bars, and the payoff matrices of a
two-role game. Pure functions: tidy DataFrames (the analysis CSVs' rows) in, ``alt.Chart`` out."""

from __future__ import annotations

import altair as alt
import pandas as pd

from runs.games.analysis import money

WIDTH = 520
ROW_PX = 18  # height per profile row


def regret_chart(regret: pd.DataFrame, condition: str) -> alt.LayerChart:
    """Regret ($) of every profile of one condition, largest deviation in the tooltip; equilibria in orange;
    the rule spans the bootstrap 5–95 % range of the regret (when there is one)."""
    df = regret[regret["condition"] == condition].copy()
    df["status"] = df["equilibrium"].map({True: "equilibrium", False: "not an equilibrium"})
    order = list(df.sort_values("regret_usd")["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360))
    base = alt.Chart(df).encode(y=y)
    bars = base.mark_bar().encode(
        x=alt.X("regret_usd:Q", title="regret ($ of owners' value)"),
        color=alt.Color("status:N", scale=alt.Scale(domain=["equilibrium", "not an equilibrium"],
                                                    range=["#f58518", "#4c78a8"]), title=None),
        tooltip=["label", alt.Tooltip("regret_usd:Q", format=",.4g"), alt.Tooltip("regret_rel:Q", format=".2%"),
                 "deviation", alt.Tooltip("equilibrium_share:Q", format=".0%", title="equilibrium in bootstrap")])
    # A dot at every profile's regret, so that equilibria (regret 0, no bar) show too.
    dots = base.mark_point(filled=True, size=60).encode(x="regret_usd:Q", color=alt.Color("status:N", legend=None))
    layers = [bars, dots]
    if df["regret_p95_usd"].notna().any():
        layers.append(base.mark_rule(color="#333").encode(x="regret_p05_usd:Q", x2="regret_p95_usd:Q"))
    return alt.layer(*layers).properties(width=WIDTH, height=max(60, ROW_PX * len(df)),
                                         title=f"{condition}: regret of each profile")


def payoff_chart(payoffs: pd.DataFrame, condition: str) -> alt.LayerChart:
    """Mean payoff ($) of each role's strategy in each profile of one condition, ±1.96 standard errors."""
    df = payoffs[payoffs["condition"] == condition].copy()
    df["who"] = df["role"] + ": " + df["strategy"]
    df["lo"] = df["payoff_mean_usd"] - 1.96 * df["payoff_se_usd"].fillna(0)
    df["hi"] = df["payoff_mean_usd"] + 1.96 * df["payoff_se_usd"].fillna(0)
    base = alt.Chart(df).encode(y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=360)),
                                yOffset="who:N", color=alt.Color("who:N", title="role: strategy"))
    points = base.mark_point(filled=True).encode(
        x=alt.X("payoff_mean_usd:Q", title="mean payoff ($ of owners' value)", scale=alt.Scale(zero=False)),
        tooltip=["label", "who", "firms", alt.Tooltip("payoff_mean_usd:Q", format=",.4g"),
                 alt.Tooltip("payoff_se_usd:Q", format=",.3g"), "replicates"])
    rules = base.mark_rule().encode(x="lo:Q", x2="hi:Q")
    n = df["label"].nunique() * max(1, df["who"].nunique() // 2)
    return alt.layer(rules, points).properties(width=WIDTH, height=max(80, ROW_PX * n),
                                               title=f"{condition}: payoffs (±1.96 SE)")


def matrix_chart(payoffs: pd.DataFrame, condition: str, roles: list[tuple[str, list[str]]]) -> alt.HConcatChart:
    """For a game of two one-lab roles: each role's payoff as a heatmap over (row role's strategy, column role's
    strategy), values written in the cells. ``roles``: [(name, strategies)] of the two roles."""
    (r1, s1), (r2, s2) = roles
    df = payoffs[payoffs["condition"] == condition]
    rows = []
    for label, grp in df.groupby("label", sort=False):
        by_role = {rec["role"]: rec for rec in grp.to_dict("records")}
        for role in (r1, r2):
            value = by_role[role]["payoff_mean_usd"]
            rows.append({"payoff of": role, r1: by_role[r1]["strategy"], r2: by_role[r2]["strategy"],
                         "payoff_busd": value / 1e9, "text": money(value)})
    data = pd.DataFrame(rows)
    charts = []
    for role in (r1, r2):
        base = alt.Chart(data[data["payoff of"] == role]).encode(
            x=alt.X(f"{r2}:N", sort=s2, title=f"{r2}'s strategy"), y=alt.Y(f"{r1}:N", sort=s1, title=f"{r1}'s strategy"))
        heat = base.mark_rect().encode(color=alt.Color("payoff_busd:Q", title="$B", scale=alt.Scale(scheme="viridis")))
        text = base.mark_text(color="white").encode(text="text:N")
        charts.append((heat + text).properties(width=220, height=220, title=f"payoff of {role}"))
    return alt.hconcat(*charts).resolve_scale(color="independent").properties(title=f"{condition}: payoff matrices")
