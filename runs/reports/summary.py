"""The summary table printed after a run: the last round by firm type, next to 2024–25 public figures."""

from __future__ import annotations

import pandas as pd

from market.outcomes import verdict_lines
from market.simulate import RunResult


def _money(x: float) -> str:
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:,.2f}{unit}"
    return f"${x:,.2f}"


def firm_type_table(agents: pd.DataFrame, round_: int) -> pd.DataFrame:
    """Per firm type in ``round_``: firms alive, revenue and operating profit ($/month and annual run rate),
    tokens served (Mtok/month), volume-weighted price and unit cost. No rows when no firm is alive."""
    last = agents[(agents["round"] == round_) & agents["alive"]]
    rows = []
    for kind, g in last.groupby("type", sort=False):
        tok = g["tokens_mtok"].sum()
        price = (g["price"] * g["tokens_mtok"]).sum() / tok if tok > 0 else float("nan")
        unit = (g["unit_cost"].fillna(0) * g["tokens_mtok"]).sum() / tok if tok > 0 else float("nan")
        rows.append(dict(type=kind, firms=len(g), revenue_per_month=_money(g["revenue_usd"].sum()),
                         run_rate_per_year=_money(12 * g["revenue_usd"].sum()),
                         operating_profit_per_month=_money(g["operating_profit_usd"].sum()),
                         tokens_mtok_per_month=f"{tok:,.3g}",
                         price=f"{price:,.3g} {'$/month' if kind == 'wrapper' else '$/Mtok'}",
                         unit_cost=f"{unit:,.3g} {'$/month' if kind == 'wrapper' else '$/Mtok'}"))
    return pd.DataFrame(rows, columns=["type", "firms", "revenue_per_month", "run_rate_per_year",
                                       "operating_profit_per_month", "tokens_mtok_per_month", "price",
                                       "unit_cost"]).set_index("type")


def _firm_types(agents: pd.DataFrame, round_: int) -> str:
    table = firm_type_table(agents, round_)
    return "no firm alive" if table.empty else table.to_string()


def summary_table(result: RunResult) -> str:
    """Human-readable summary of a run: market figures of the first and last round, one line per outcome verdict
    and the firm-type table."""
    m = result.model
    first, last = m.iloc[0], m.iloc[-1]
    keys = [("API price ($/Mtok)", "api_price_usd_per_mtok", "{:.3g}"),
            ("API unit cost ($/Mtok)", "api_unit_cost_usd_per_mtok", "{:.3g}"),
            ("Lerner index, API", "lerner_api", "{:.2f}"), ("Lerner index, apps", "lerner_app", "{:.2f}"),
            ("App share of gross profit", "app_share_of_gross_profit", "{:.2f}"),
            ("HHI, API", "hhi_api", "{:.0f}"), ("Paid tokens (Mtok/month)", "tokens_paid_mtok", "{:.3g}"),
            ("Free tokens (Mtok/month)", "tokens_free_mtok", "{:.3g}"),
            ("Customers using AI", "customers_using_ai", "{:.3g}"),
            ("Consumer surplus ($/month)", "consumer_surplus_usd", "{:.3g}"),
            ("Labs / providers / wrappers alive", None, None)]
    lines = [f"run {m['run_id'].iloc[0]}  seed {m['seed'].iloc[0]}  rounds {int(last['round'])}", "",
             f"{'market':<36}{'round ' + str(int(first['round'])):>14}{'round ' + str(int(last['round'])):>14}"]
    for label, col, fmt in keys:
        if col is None:
            a = f"{int(first['n_labs'])}/{int(first['n_providers'])}/{int(first['n_wrappers'])}"
            b = f"{int(last['n_labs'])}/{int(last['n_providers'])}/{int(last['n_wrappers'])}"
        else:
            a, b = fmt.format(first[col]), fmt.format(last[col])
        lines.append(f"{label:<36}{a:>14}{b:>14}")
    if result.outcomes.get("dumb_pipe") is not None:
        lines += ["", f"outcomes at round {int(last['round'])} (market/outcomes.py; one line per verdict):",
                  *(f"  {line}" for line in verdict_lines(result.outcomes))]
    lines += ["", f"by firm type, round {int(last['round'])} (price and unit cost: the firm's own list price and "
                  f"unit cost, weighted by all paid tokens it served, apps included; the API price above is "
                  f"per API token):",
              _firm_types(result.agents, int(last["round"]))]
    return "\n".join(lines)
