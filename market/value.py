"""Value capture by owner, return on invested capital and the cost benchmarks of below-cost pricing (DESIGN.md §6).

Defined once here; recording (``market/recording.py``) writes them to model.csv and agents.csv, the detectors
(``market/outcomes.py``) read them back from those tables, and docs/outcomes.md states them in words.

**Value captured** in a month ($/month), by owner:

* consumers: consumer surplus over the outside option (``recording.consumer_surplus_usd``);
* a firm: its gross profit, revenue less the variable cost of what it sold (serving GPUs, free-tier GPUs, token
  bills). A lab's value is its API *and* its own apps (chat plans, vertical apps) together: the lab's own app is
  the lab's, so a thin API margin does not make a lab's owners poor while its app earns;
* independent apps: the wrappers' gross profit (a wrapper bought by a lab stops being independent: its customers
  are the lab's);
* hosts: the low-volume providers' gross profit;
* GPU suppliers: their margin on what the market spends on GPU-hours, ``outcomes.gpu_supplier_margin`` × GPU spend.

Fixed costs (training compute, opex) are not subtracted: value captured is each owner's share of the surplus the
month's trade creates, before what the owner chooses to invest. Its sum over owners is the ``value_total_usd``
the shares ``value_share_<owner>`` are taken of.

**Return on invested capital** (fraction per year): 12 × the month's operating profit / invested capital, with
invested capital the owners' paid-in capital: the firm's initial cash plus every funding inflow since (investor
rounds, parent transfers). Owned GPUs are bought with that cash on delivery (``market/fleets.py``) and rented ones
paid by the hour, so the owners' cash is the only capital a firm employs; a return above the owners' cost of capital (``finance.cost_of_capital_*``) creates value for them.

**Cost benchmarks of an API seller** ($ per frontier-equivalent Mtok, the unit of ``unit_cost``):

* average avoidable cost (AAC): the marginal cost, the GPU time one more Mtok occupies at full batching
  (``costs.marginal_cost_usd_per_mtok``). Assumption: over a campaign of months the serving fleet follows
  demand (orders arrive within months, GPUs retire at 1/48 a month), so the GPU time the tokens use is what
  not selling them would save; idle capacity is not;
* unit cost: the paid pool's GPU cost / paid tokens, idle capacity included (as before);
* average total cost (ATC): every cost of the firm — the whole fleet (paid, free tier, training, idle) and opex —
  per paid frontier-equivalent Mtok.

The API's realised price is its API revenue per frontier-equivalent Mtok (every tier and wrappers' bills), so a
cheap small tier counts at its size.
"""

from __future__ import annotations

import math
from typing import Any

MONTHS_PER_YEAR = 12.0
OWNERS = ("consumers", "labs", "independent_apps", "hosts", "gpu_suppliers")
FIRM_OWNER = {"lab": "labs", "wrapper": "independent_apps", "provider": "hosts"}


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 and math.isfinite(num) else math.nan


def roic_per_year(operating_profit_usd: float, invested_capital_usd: float) -> float:
    """Return on invested capital, annual run rate (fraction per year): 12 × operating profit ($/month) /
    invested capital ($). NaN when the capital is ≤ 0."""
    return _ratio(MONTHS_PER_YEAR * operating_profit_usd, invested_capital_usd)


def cost_of_capital_per_year(finance, funding: str) -> float:
    """The owners' cost of capital (fraction per year) of a firm funded by ``funding`` (investor, self_funded,
    efficient; hosts and wrappers are investor-funded), from ``finance.cost_of_capital_*``.

    Raises:
        ValueError: unknown funding type.
    """
    rates = {"investor": finance.cost_of_capital_investor, "self_funded": finance.cost_of_capital_self_funded,
             "efficient": finance.cost_of_capital_efficient}
    if funding not in rates:
        raise ValueError(f"funding: {funding!r} unknown; allowed: {', '.join(rates)}")
    return float(rates[funding])


def api_equiv_mtok(kind: str, rec) -> float:
    """API tokens of a lab or host in frontier-model equivalents (Mtok/month): a host's model is its own unit."""
    return rec.api_equiv_mtok if kind == "lab" else rec.api_tokens_mtok


def api_marginal_cost_usd(kind: str, rec) -> float:
    """What the month's API tokens cost at marginal cost ($/month): marginal cost × frontier-equivalent Mtok;
    0 without tokens or without a marginal cost."""
    mc, q = rec.marginal_cost_usd_per_mtok, api_equiv_mtok(kind, rec)
    return mc * q if q > 0 and math.isfinite(mc) else 0.0


def api_price_usd_per_mtok(kind: str, rec) -> float:
    """Realised API price ($ per frontier-equivalent Mtok): API revenue / API tokens in frontier equivalents."""
    return _ratio(rec.api_revenue_usd, api_equiv_mtok(kind, rec))


def average_avoidable_cost_usd_per_mtok(kind: str, rec) -> float:
    """Average avoidable cost of API tokens ($ per frontier-equivalent Mtok): the marginal cost (see the module
    docstring for the assumption); NaN for a firm that served no paid tokens."""
    served = rec.paid_equiv_mtok if kind == "lab" else rec.paid_tokens_mtok
    return rec.marginal_cost_usd_per_mtok if served > 0 else math.nan


def average_total_cost_usd_per_mtok(kind: str, rec) -> float:
    """Average total cost ($ per paid frontier-equivalent Mtok): (GPU cost of the whole fleet + opex) / paid
    tokens in frontier equivalents; NaN without paid tokens."""
    served = rec.paid_equiv_mtok if kind == "lab" else rec.paid_tokens_mtok
    return _ratio(rec.gpu_cost_usd + rec.opex_usd, served)


def lab_gross_profit_split(rec) -> tuple[float, float]:
    """A lab's gross profit by product ($/month): (API: API revenue − its serving cost; apps: app revenue − their
    serving cost − the free tier's GPUs). The two add up to the lab's gross profit."""
    api = rec.api_revenue_usd - rec.api_serving_cost_usd
    return api, rec.gross_profit_usd - api


def firm_columns(kind: str, rec, invested_capital_usd: float, cost_of_capital: float) -> dict[str, Any]:
    """A firm's agents.csv columns of value capture, return on capital and cost benchmarks (units in the names).

    ``rec`` is the firm's round record (zeros if it did not settle this round); ``invested_capital_usd`` its
    paid-in capital to date ($); ``cost_of_capital`` its owners' rate (fraction per year)."""
    nan = math.nan
    api_gp, app_gp = lab_gross_profit_split(rec) if kind == "lab" else (
        (rec.gross_profit_usd, 0.0) if kind == "provider" else (0.0, rec.gross_profit_usd))
    seller = kind in ("lab", "provider")
    return dict(
        value_captured_usd=rec.gross_profit_usd, api_gross_profit_usd=api_gp, app_gross_profit_usd=app_gp,
        invested_capital_usd=invested_capital_usd,
        roic_per_year=roic_per_year(rec.operating_profit_usd, invested_capital_usd),
        cost_of_capital_per_year=cost_of_capital,
        api_equiv_mtok=api_equiv_mtok(kind, rec) if seller else nan,
        api_price_usd_per_mtok=api_price_usd_per_mtok(kind, rec) if seller else nan,
        average_avoidable_cost_usd_per_mtok=average_avoidable_cost_usd_per_mtok(kind, rec) if seller else nan,
        average_total_cost_usd_per_mtok=average_total_cost_usd_per_mtok(kind, rec) if seller else nan)


def market_columns(firms: list[tuple[str, Any, float]], consumer_surplus_usd: float, gpu_spend_usd: float,
                   gpu_supplier_margin: float) -> dict[str, float]:
    """model.csv columns of value capture by owner and return on capital by firm type.

    ``firms``: (kind, round record, invested capital $) of every firm recorded this round, i.e. every row of
    agents.csv for the round (a firm gone before settlement contributes its zero record and its capital), so each
    total is the sum over the round's rows. Returns ``value_<owner>_usd`` ($/month) for each owner of
    :data:`OWNERS`, ``value_total_usd``, ``value_share_<owner>`` (fraction of the total; NaN when the total is
    ≤ 0), and per firm type (labs, hosts, independent_apps) ``invested_capital_<type>_usd`` ($),
    ``operating_profit_<type>_usd`` ($/month) and ``roic_<type>_per_year`` (Σ operating profit × 12 / Σ
    invested capital over the type's firms)."""
    value = dict.fromkeys(OWNERS, 0.0)
    value["consumers"] = float(consumer_surplus_usd)
    value["gpu_suppliers"] = float(gpu_supplier_margin * gpu_spend_usd)
    capital = dict.fromkeys(FIRM_OWNER.values(), 0.0)
    profit = dict.fromkeys(FIRM_OWNER.values(), 0.0)
    for kind, rec, invested in firms:
        owner = FIRM_OWNER[kind]
        value[owner] += rec.gross_profit_usd
        capital[owner] += invested
        profit[owner] += rec.operating_profit_usd
    total = sum(value.values())
    out: dict[str, float] = {f"value_{o}_usd": v for o, v in value.items()}
    out["value_total_usd"] = total
    out.update({f"value_share_{o}": _ratio(v, total) for o, v in value.items()})
    for owner in FIRM_OWNER.values():
        out[f"invested_capital_{owner}_usd"] = capital[owner]
        out[f"operating_profit_{owner}_usd"] = profit[owner]
        out[f"roic_{owner}_per_year"] = roic_per_year(profit[owner], capital[owner])
    return out
