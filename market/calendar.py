"""The one place that maps calendar dates to rounds (one round = one month).

Round 0 is July 2024: most first-round calibration rows are dated mid-2024 (GPT-4o's August 2024 prices,
ChatGPT's 200M weekly users in August 2024, the June 2024 breakdown of OpenAI's revenue and API tokens), so the
model starts where they describe the market, and the dated paths of 2024–2026 (``path_targets.csv``) fall on
rounds 0–23. A date is placed at the middle of the period it names: a month at its own round, a quarter at its
middle month, a year at its mid-point (round of July of that year minus 0.5, i.e. between June and July).
"""

from __future__ import annotations

import re

START_YEAR, START_MONTH = 2024, 7  # round 0

_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


class DateError(ValueError):
    """A date string the calendar cannot place; names the text and the accepted forms."""


def round_of(date: str) -> float:
    """Round (months since July 2024, may be fractional or negative) of a date.

    Accepted forms: ``YYYY-MM`` (that month), ``YYYY-MM-DD`` (the month, plus the day's fraction of it, counted
    from mid-month), ``YYYY-Qn`` or ``YYYYQn`` (the quarter's middle month), ``YYYY`` (mid-year: 5.5 months
    after January). Returns months as a float.

    Raises:
        DateError: text in none of these forms, or a month outside 1–12 / day outside 1–31.
    """
    text = str(date).strip()
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise DateError(f"date {text!r}: month {month} outside 1–12")
        offset = 0.0
        if m.group(3) is not None:
            day = int(m.group(3))
            if not 1 <= day <= 31:
                raise DateError(f"date {text!r}: day {day} outside 1–31")
            offset = (day - 15.5) / 30.5  # a month's mid-point is its round
        return 12.0 * (year - START_YEAR) + (month - START_MONTH) + offset
    if m := _QUARTER.match(text):
        year, quarter = int(m.group(1)), int(m.group(2))
        return 12.0 * (year - START_YEAR) + (3 * quarter - 1 - START_MONTH)
    if m := _YEAR.match(text):
        return 12.0 * (int(m.group(1)) - START_YEAR) + (6.5 - START_MONTH)
    raise DateError(f"date {text!r}: not a date; allowed: YYYY-MM, YYYY-MM-DD, YYYY-Qn, YYYY")


def date_of(round_: float) -> str:
    """``YYYY-MM`` of the month a round falls in (fractions round to the nearest month)."""
    months = START_YEAR * 12 + (START_MONTH - 1) + int(round(round_))
    return f"{months // 12:04d}-{months % 12 + 1:02d}"
