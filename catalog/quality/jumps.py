"""Jumps between two profiles of one column: what a person would want to hear (pure, no Django).

A profile is the dict a connector gives (DatasetMeta.column_stats) or one stored: null_frac, distinct,
min, max. Only what both profiles know is compared; a type that cannot be ordered is not compared."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

NULLS_ROSE = "nulls_rose"
DISTINCT_COLLAPSED = "distinct_collapsed"
RANGE_MOVED = "range_moved"
NULL_RISE_AT_LEAST = 0.10  # the null fraction rose by ten points or more, and at least doubled
_ORDERED = {"integer", "decimal", "float", "date", "timestamp"}


def _value(text, family):
    if text is None:
        return None
    try:
        if family in ("integer", "decimal", "float"):
            return float(text)
        if family == "date":
            return date.fromisoformat(str(text)[:10])
        if family == "timestamp":
            return datetime.fromisoformat(str(text).replace(" ", "T").replace("+00", "+00:00") if str(text).endswith("+00") else str(text))
    except ValueError:
        return None
    return None


def jumps(before: dict, after: dict, family: str, *, show_values: bool = True) -> list[tuple[str, str]]:
    """[(kind, description)] of the jumps from `before` to `after`; values named only if `show_values`."""
    found = []
    was, now = before.get("null_frac"), after.get("null_frac")
    if was is not None and now is not None and now - was >= NULL_RISE_AT_LEAST and now >= 2 * was:
        found.append((NULLS_ROSE, f"null fraction rose from {was:.0%} to {now:.0%}"))
    was, now = before.get("distinct"), after.get("distinct")
    if was is not None and now is not None and was > 1 and now == 1:
        found.append((DISTINCT_COLLAPSED, f"distinct values fell from about {was:,} to 1"))
    if family in _ORDERED:
        high, low = _value(after.get("max"), family), _value(before.get("min"), family)
        if high is not None and low is not None:
            try:
                below = high < low
            except TypeError:  # an aware and a naive time: not comparable
                below = False
            if below:
                found.append((RANGE_MOVED, f"max {after['max']} is below the previous min {before['min']}" if show_values
                              else "max is below the previous min"))
    return found


def is_sensitive(column_name: str, patterns) -> bool:
    """A column whose name holds one of the patterns (case-insensitive: "email" matches "customer_email")."""
    return bool(_pattern(tuple(patterns)).search(column_name))


@lru_cache(maxsize=8)
def _pattern(patterns: tuple[str, ...]) -> re.Pattern:
    words = [re.escape(p) for p in patterns if p]
    return re.compile("|".join(words) if words else r"(?!)", re.IGNORECASE)
