"""The summary printed after a run: market figures of the first and last round, one entry per outcome verdict and
the last round by firm type, in human units (−$137.1M, 67.3M, 3.78 $/Mtok) within :data:`WIDTH` columns."""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from market.outcomes import verdict_lines
from market.simulate import RunResult

WIDTH = 100  # columns: a terminal beside an editor
MINUS = "−"  # U+2212: a minus sign, as in print


def human(x: float, digits: int = 3) -> str:
    """A count in short scale with ``digits`` significant figures: 67300000 → '67.3M', 0.969 → '0.969'; NaN →
    'n/a'. Units from thousand (k) to trillion (T); never scientific notation."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    sign = MINUS if x < 0 else ""
    a = abs(float(x))
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= div:
            return f"{sign}{_sig(a / div, digits)}{unit}"
    return f"{sign}{_sig(a, digits)}"


def _sig(a: float, digits: int) -> str:
    if a == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(a))))
    return f"{a:,.{decimals}f}"


def money(x: float, digits: int = 4) -> str:
    """Dollars in short scale, the sign before the $: −137080000 → '−$137.1M'; NaN → 'n/a'."""
    text = human(x, digits)
    return text if text == "n/a" else (f"{MINUS}${text[1:]}" if text.startswith(MINUS) else f"${text}")


def firm_type_table(agents: pd.DataFrame, round_: int) -> pd.DataFrame:
    """Per firm type in ``round_`` (text cells, human units): firms alive, revenue ($/month), its annual run rate
    ($/year), operating profit ($/month), tokens served (Mtok/month), volume-weighted price and unit cost ($/Mtok
    for labs and hosts, $/month per subscriber for wrappers). No rows when no firm is alive."""
    last = agents[(agents["round"] == round_) & agents["alive"]]
    rows = []
    columns = ["type", "firms", "revenue/mo", "run rate/yr", "op. profit/mo", "Mtok/mo", "price", "unit cost"]
    for kind, g in last.groupby("type", sort=False):
        tok = g["tokens_mtok"].sum()
        price = (g["price"] * g["tokens_mtok"]).sum() / tok if tok > 0 else float("nan")
        unit = (g["unit_cost"].fillna(0) * g["tokens_mtok"]).sum() / tok if tok > 0 else float("nan")
        per = "$/month" if kind == "wrapper" else "$/Mtok"
        rows.append({"type": kind, "firms": len(g), "revenue/mo": money(g["revenue_usd"].sum()),
                     "run rate/yr": money(12 * g["revenue_usd"].sum()),
                     "op. profit/mo": money(g["operating_profit_usd"].sum()),
                     "Mtok/mo": human(tok), "price": f"{human(price)} {per}", "unit cost": f"{human(unit)} {per}"})
    return pd.DataFrame(rows, columns=columns).set_index("type")


def _firm_types(agents: pd.DataFrame, round_: int) -> str:
    table = firm_type_table(agents, round_)
    return "no firm alive" if table.empty else table.to_string()


MARKET_ROWS = (("API price ($/Mtok)", "api_price_usd_per_mtok", human),
               ("API unit cost ($/Mtok)", "api_unit_cost_usd_per_mtok", human),
               ("Lerner index, API", "lerner_api", lambda x: f"{x:.2f}"),
               ("Lerner index, apps", "lerner_app", lambda x: f"{x:.2f}"),
               ("App share of gross profit", "app_share_of_gross_profit", lambda x: f"{x:.0%}"),
               ("HHI, API (0-10,000)", "hhi_api", lambda x: f"{x:,.0f}"),
               ("Paid tokens (Mtok/month)", "tokens_paid_mtok", human),
               ("Free tokens (Mtok/month)", "tokens_free_mtok", human),
               ("Customers using AI", "customers_using_ai", human),
               ("Consumer surplus ($/month)", "consumer_surplus_usd", money))


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_on_hyphens=False) or [indent]


def next_hint(out_dir: str) -> str:
    """The command that draws a run folder's charts."""
    return f"next: tokenmarket report {out_dir}   (charts in report.html and figures/)"


def summary_table(result: RunResult) -> str:
    """Human-readable summary of a run within :data:`WIDTH` columns: market figures of the first and last round,
    one entry per outcome verdict (long ones wrapped under their first line) and the firm-type table."""
    m = result.model
    first, last = m.iloc[0], m.iloc[-1]
    r0, r1 = int(first["round"]), int(last["round"])
    lines = [f"run {m['run_id'].iloc[0]}  seed {m['seed'].iloc[0]}  rounds {r1}", "",
             f"{'market':<36}{'round ' + str(r0):>14}{'round ' + str(r1):>14}"]
    for label, col, fmt in MARKET_ROWS:
        if col in m:
            lines.append(f"{label:<36}{fmt(first[col]):>14}{fmt(last[col]):>14}")
    alive = "/".join(f"{int(first[c])}" for c in ("n_labs", "n_providers", "n_wrappers")), \
        "/".join(f"{int(last[c])}" for c in ("n_labs", "n_providers", "n_wrappers"))
    lines.append(f"{'Labs / hosts / wrappers alive':<36}{alive[0]:>14}{alive[1]:>14}")
    if result.outcomes.get("dumb_pipe") is not None:
        lines += ["", f"outcomes at round {r1} (market/outcomes.py; one entry per verdict):"]
        for verdict in verdict_lines(result.outcomes):
            lines += _wrapped(verdict)
    lines += ["", f"by firm type, round {r1}:", _firm_types(result.agents, r1)]
    lines += _wrapped("price and unit cost: each firm's own list price and unit cost, weighted by all paid tokens "
                      "it served, apps included (the API price above is per API token)", indent="")
    return "\n".join(lines)
