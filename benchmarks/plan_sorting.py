"""Who uses how many tokens on which terms: heavy users' sorting between per-token APIs and capped flat plans.

Runs a scenario (baseline by default) for ``--rounds`` months at ``--customers`` customers and, at the end, puts
every customer who uses AI in one class of offer:

* ``api``: a direct API, paid per token (developers and enterprises only);
* ``free``: a lab's free tier (price 0, tight cap);
* ``standard``: a paid plan that is not the highest-cap plan of its menu (a lab's chat plan, a wrapper's or a lab's
  vertical app's plan);
* ``high-cap``: the highest-cap plan of its menu.

Table 1, per segment and class: real customers (millions), mean token need a (Mtok/month at satiation, this
month's usage growth included), mean tokens used x (Mtok/month: the need up to a plan's cap, or the use a per-token
price makes worth it), the share of customers at their plan's cap, and mean payment ($/month). Table 2, per
segment and quintile of need: the share of the segment's AI users on each class. Nothing here assigns a class:
customers choose by nested logit on the surplus of each offer (market/demand.py), so any sorting by need comes
from value and price. The module docstring of market/demand.py gives the mechanism: per token a customer uses
x = a(1 − pa/2B) and keeps B(1 − pa/2B)², which falls with need a at a given benefit B, while a flat plan's
surplus B·φ(min(1, c/a)) − P does not fall with a until the cap binds.

A counterfactual changes a condition with ``--set KEY=VALUE`` (repeatable), e.g.
``--set customers.segments.1.wtp_usage_corr=0``: with willingness to pay drawn independently of need, any sorting
left comes from how value and payment vary with need alone.

Usage: python benchmarks/plan_sorting.py [--scenario baseline] [--customers 200000] [--rounds 24] [--seed 0]
                                        [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from market.config import parse_overrides  # noqa: E402
from market.scenario import config_from  # noqa: E402
from market.model import TokenMarket  # noqa: E402
from market.offers import API, FREE  # noqa: E402

CLASSES = ("api", "free", "standard", "high-cap")


def offer_classes(model) -> np.ndarray:
    """(J,) class index into :data:`CLASSES` of every offer of the current book (-1: none)."""
    offers, entries = model.current_offers, model.book.entries
    n = offers.n
    out = np.full(n, -1, dtype=np.int64)
    menus: dict[tuple, list[int]] = {}
    for j in range(n):
        e = entries[j]
        if e.kind == API:
            out[j] = 0
        elif e.kind == FREE:
            out[j] = 1
        else:
            menus.setdefault((id(e.firm), e.kind, e.vertical), []).append(j)
    for ids in menus.values():
        top = max(offers.cap_mtok[j] for j in ids)
        for j in ids:
            out[j] = 3 if offers.cap_mtok[j] == top and len(ids) > 1 else 2
    return out


def tables(model) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(by segment and class, by segment and need quintile) — see the module docstring."""
    pop, offers = model.population, model.current_offers
    tokens = pop.customer_tokens(offers, model.usage_factor)
    need = pop.usage_mtok * model.usage_factor
    inside = pop.choice >= 0
    j = np.where(inside, pop.choice, 0)
    cls = np.where(inside, offer_classes(model)[j], -1)
    cap = offers.cap_mtok[j]
    over = offers.overage_usd_per_mtok[j]
    extra = np.maximum(0.0, tokens - cap)
    pay = offers.price_month[j] + offers.price_mtok[j] * np.minimum(tokens, cap) + np.where(extra > 0, over, 0) * extra
    at_cap = np.isfinite(cap) & (tokens >= cap * (1 - 1e-9))
    names = [s.name for s in model.config.customers.segments]
    by_class, by_need = [], []
    start = 0
    for s, stop in enumerate(pop.segment_stops):
        seg = slice(start, stop)
        start = stop
        c, a, x, p, capped = cls[seg], need[seg], tokens[seg], pay[seg], at_cap[seg]
        for k, label in enumerate(CLASSES):
            on = c == k
            if not on.any():
                continue
            by_class.append({"segment": names[s], "class": label, "customers_m": on.sum() * model.weight / 1e6,
                             "need_mtok": a[on].mean(), "tokens_mtok": x[on].mean(),
                             "at_cap": capped[on].mean() if label != "api" else np.nan,
                             "pay_usd": p[on].mean()})
        users = c >= 0
        if users.sum() < 5:
            continue
        edges = np.quantile(a[users], [0.2, 0.4, 0.6, 0.8])
        q = np.searchsorted(edges, a, side="right")
        for quint in range(5):
            sel = users & (q == quint)
            row = {"segment": names[s], "need quintile": quint + 1, "need_mtok": a[sel].mean()}
            row.update({label: (c[sel] == k).mean() for k, label in enumerate(CLASSES)})
            by_need.append(row)
    return pd.DataFrame(by_class), pd.DataFrame(by_need)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    overrides = parse_overrides(dict(item.split("=", 1) for item in args.set))
    cfg = config_from(args.scenario, {"customers.n_customers": args.customers, **overrides})
    t0 = time.process_time()
    model = TokenMarket(cfg, rng=args.seed)
    for _ in range(args.rounds):
        model.step()
    by_class, by_need = tables(model)
    fmt = lambda x: f"{x:.3g}"  # noqa: E731
    pd.set_option("display.width", 200)
    print(f"{args.scenario} {' '.join(args.set)}: {args.customers:,} customers, after {args.rounds} rounds, seed {args.seed} "
          f"({time.process_time() - t0:.0f} s CPU)\n")
    print("Per segment and class of offer: real customers (M), mean need and use (Mtok/month), share at the cap, "
          "mean payment ($/month)")
    print(by_class.to_string(index=False, float_format=fmt))
    print("\nShare of each segment's AI users on each class, by quintile of token need")
    print(by_need.to_string(index=False, float_format=fmt))


if __name__ == "__main__":
    main()
