"""Human labels for the reports' axes and captions: a config path with its unit from the schema, a metric of
runs.csv with its unit, and one caption per chart saying what to read."""

from __future__ import annotations

from market.config import ConfigError, field_meta, resolve

METRICS = {  # runs.csv / model.csv column stem → axis title with unit
    "lerner_api": "Lerner index, API ((price − unit cost) / price)",
    "lerner_app": "Lerner index, apps ((price − unit cost) / price)",
    "app_share_of_gross_profit": "apps' share of industry gross profit (0–1)",
    "hhi_api": "HHI of the API market (0–10,000)",
    "api_price_usd_per_mtok": "API price ($/Mtok)",
}

CAPTIONS = {  # chart key of runs.reports.charts.RUN_CHARTS → what to read in it
    "prices": "Each seller's API price (solid) against its unit cost (dashed), idle capacity included; a solid "
              "line under its dashed one is a sale below cost. Log scale.",
    "shares": "Who serves each market: the API market by API tokens, each vertical by customers served there "
              "(a direct API user counts for the API seller).",
    "gross_profit": "How industry gross profit (revenue − serving cost) splits between the API layer and apps: "
                    "a falling pipe share is the dumb-pipe claim.",
    "value": "Who keeps the value the market creates each month: consumers (surplus), labs, independent apps, "
             "hosts and GPU suppliers, as shares of the month's total.",
    "lerner": "Mark-up over unit cost, revenue-weighted, in the API and app layers; near 0 means price at cost.",
    "cash": "Cash per firm (left) and runway = cash ÷ burn (right; months, drawn at the cap when not burning), "
            "one row per firm type with its own cash scale: labs, hosts, wrappers. Future funding is not counted "
            "in runway.",
    "compute": "Each lab's GPUs by use: training, the free tier and paid serving.",
    "events": "Entries, exits, acquisitions, vertical launches, funding rounds and upstream switches, one mark per "
              "round and kind, sized by count.",
}


def param_label(path: str) -> str:
    """Axis title of a config path: the path and its schema unit (``world.gpu_rent_usd_per_hour ($/GPU-hour)``);
    the path alone when the schema does not know it or gives no unit."""
    try:
        slot = resolve(path)
        unit = field_meta(slot.model, slot.name).get("unit") if slot.model is not None and slot.name else None
    except (ConfigError, KeyError, TypeError):
        unit = None
    return f"{path} ({unit})" if unit and unit not in ("switch", "choice", "flag") else path


def metric_label(column: str) -> str:
    """Axis title of a runs.csv metric column (``lerner_api_last`` → ``Lerner index, API (…), last round``)."""
    for suffix, when in (("_last", ", last round"), ("_mean", ", mean over rounds")):
        if column.endswith(suffix) and column.removesuffix(suffix) in METRICS:
            return METRICS[column.removesuffix(suffix)] + when
    if column.startswith("last_") and column.removeprefix("last_") in METRICS:
        return METRICS[column.removeprefix("last_")] + ", last round"
    return METRICS.get(column, column.replace("_", " "))
