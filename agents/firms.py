"""State and decisions shared by every firm: cash, funding type, revenue history, funding requests.

Firms never move money themselves: the market's settlement posts every transfer (DESIGN.md §2).
"""

from __future__ import annotations

from collections import deque

import mesa

from agents.types import FundingObservation


class Firm(mesa.Agent):
    """A seller with cash ($), a funding type and a short revenue history ($/month).

    ``funding`` is ``investor`` (raises rounds from investors), ``self_funded`` (a parent covers losses up to a
    monthly budget), ``efficient`` (lives on its own revenue) or ``none``.
    """

    kind = "firm"

    def __init__(self, model: mesa.Model, name: str, cash_usd: float, funding: str = "investor") -> None:
        super().__init__(model)
        self.name = name
        self.cash_usd = float(cash_usd)
        self.funding = funding
        self.alive = True
        self.revenue_history: deque[float] = deque(maxlen=7)
        self.last: dict[str, float] = {}

    def record_revenue(self, revenue_usd: float) -> None:
        """Append this round's revenue ($/month) to the rolling history used by funding decisions."""
        self.revenue_history.append(float(revenue_usd))

    def funding_observation(self, burn_usd_per_month: float) -> FundingObservation:
        """What the firm shows investors: cash, burn and revenue now vs six months ago ($, $/month)."""
        hist = self.revenue_history
        now = hist[-1] if hist else 0.0
        ago = hist[0] if hist else 0.0
        return FundingObservation(self.cash_usd, burn_usd_per_month, now, ago)

    def runway_months(self) -> float:
        """Months of cash left at last round's operating loss (``inf`` when not losing money)."""
        burn = -self.last.get("operating_profit_usd", 0.0)
        return self.cash_usd / burn if burn > 0 else float("inf")

    def wants_to_raise(self, obs: FundingObservation, runway_trigger_months: float) -> bool:
        """Raise when runway (months) falls below the trigger; only investor-funded firms go to investors."""
        return self.funding == "investor" and obs.runway_months < runway_trigger_months
