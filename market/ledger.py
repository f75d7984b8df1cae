"""Double-entry ledger: every dollar has a payer and a payee (DESIGN.md §3, step 5).

Firms' cash lives on the firm objects (``cash_usd``); outside parties (customers, GPU vendors, clouds that rent
GPUs out, buyers of used GPUs, investors, parents, original owners, staff, creditors) are named external accounts. Every posting moves the same amount out of one account
and into another, so the sum over all accounts — firms alive or exited, plus externals — is zero at all times.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

EXTERNAL = ("customers", "gpu_vendors", "clouds", "gpu_buyers", "investors", "parents", "owners", "staff", "creditors",
            "sellers_of_firms")


class Ledger:
    """Posts transfers between firms (objects with ``cash_usd``) and external accounts (names)."""

    def __init__(self) -> None:
        self.external: dict[str, float] = {name: 0.0 for name in EXTERNAL}
        self.firms: list[Any] = []
        self.flows: dict[str, float] = defaultdict(float)  # this round's totals by kind, $

    def open(self, firm: Any, initial_cash_usd: float, source: str = "investors") -> None:
        """Register a firm and fund its initial cash from an external ``source``."""
        self.firms.append(firm)
        firm.cash_usd = 0.0
        self.post(source, firm, initial_cash_usd, "initial_capital")

    def post(self, payer: Any, payee: Any, amount_usd: float, kind: str) -> None:
        """Move ``amount_usd`` (≥ 0, $) from payer to payee; both a firm or an external account name.

        Raises:
            ValueError: negative or non-finite amount, or an unknown external account.
        """
        if not (amount_usd >= 0.0) or amount_usd == float("inf"):
            raise ValueError(f"amount_usd: must be finite and ≥ 0, got {amount_usd!r} ({kind})")
        if amount_usd == 0.0:
            return
        self._move(payer, -amount_usd)
        self._move(payee, amount_usd)
        self.flows[kind] += amount_usd

    def _move(self, account: Any, delta: float) -> None:
        if isinstance(account, str):
            if account not in self.external:
                raise ValueError(f"account: unknown external {account!r}; allowed: {', '.join(EXTERNAL)}")
            self.external[account] += delta
        else:
            account.cash_usd += delta

    def total(self) -> float:
        """Sum over every account ($); zero up to rounding when money is conserved."""
        return sum(self.external.values()) + sum(f.cash_usd for f in self.firms)

    def scale(self) -> float:
        """Largest absolute account balance ($): the scale against which :meth:`total` is judged."""
        return max([abs(v) for v in self.external.values()] + [abs(f.cash_usd) for f in self.firms] + [1.0])

    def new_round(self) -> dict[str, float]:
        """Return this round's flows by kind and start a new round."""
        flows, self.flows = dict(self.flows), defaultdict(float)
        return flows
