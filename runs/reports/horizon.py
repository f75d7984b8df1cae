"""How far a run may go before its figures stop meaning anything: the warning printed by ``tokenmarket run`` and
shown on the page.

Two dates bound what the inputs cover: the last dated public path the model is checked against
(``market/data/path_targets.csv``, read through ``market.path_targets``) and the horizon the scenarios are built
for (the schema's default of ``world.rounds``: five years, "the horizon of the 2025 debate"). Past the latter,
the yearly trends (efficiency gain, usage growth, GPU price decline) compound with nothing to hold them — a
600-round run prices tokens at 1e-6 $/Mtok — so the figures are extrapolation, not calibration.
"""

from __future__ import annotations

import functools

from market import calendar, path_targets
from market.config import WorldConfig, field_meta


@functools.cache
def last_dated_target() -> tuple[str, float]:
    """(as_of, round) of the latest dated public figure in path_targets.csv (round: months since July 2024)."""
    dated = []
    for key in path_targets.keys():
        as_of = path_targets.row(key)["as_of"]
        try:
            dated.append((calendar.round_of(as_of), as_of))
        except calendar.DateError:
            continue
    r, as_of = max(dated)
    return as_of, r


def built_horizon() -> int:
    """Months the scenarios are built for: the schema's default of ``world.rounds``."""
    return int(field_meta(WorldConfig, "rounds")["default"])


def horizon_warning(rounds: int) -> str | None:
    """A one-line warning when ``rounds`` (months) goes past :func:`built_horizon`, else None."""
    limit = built_horizon()
    if rounds <= limit:
        return None
    as_of, r = last_dated_target()
    return (f"warning: {rounds} rounds run past the {limit}-month horizon the scenarios are built for (to "
            f"{calendar.date_of(limit)}; the last dated public figure is {as_of}, round {r:.0f}); the yearly "
            f"trends compound beyond it, so rounds after {limit} are extrapolation, not calibration")
