"""Jumps between two profiles of a column, and sensitive names (pure)."""

from catalog.quality.jumps import DISTINCT_COLLAPSED, NULLS_ROSE, RANGE_MOVED, is_sensitive, jumps


def test_nulls_rising_from_none_to_a_fifth_is_a_jump_a_little_more_is_not():
    assert jumps({"null_frac": 0.0}, {"null_frac": 0.2}, "integer") == [(NULLS_ROSE, "null fraction rose from 0% to 20%")]
    assert jumps({"null_frac": 0.30}, {"null_frac": 0.35}, "integer") == []
    assert jumps({"null_frac": 0.02}, {"null_frac": 0.08}, "integer") == []
    assert jumps({}, {"null_frac": 0.9}, "integer") == []  # nothing known before: nothing compared


def test_distinct_collapsing_to_one():
    assert jumps({"distinct": 1200}, {"distinct": 1}, "text") == [(DISTINCT_COLLAPSED, "distinct values fell from about 1,200 to 1")]
    assert jumps({"distinct": 1}, {"distinct": 1}, "text") == []


def test_max_below_the_previous_min_for_ordered_types_only():
    assert jumps({"min": "100", "max": "200"}, {"min": "1", "max": "50"}, "integer") == [
        (RANGE_MOVED, "max 50 is below the previous min 100")]
    assert jumps({"min": "100"}, {"max": "50"}, "integer", show_values=False) == [(RANGE_MOVED, "max is below the previous min")]
    assert jumps({"min": "2026-02-01"}, {"max": "2026-01-15"}, "date")[0][0] == RANGE_MOVED
    assert jumps({"min": "b"}, {"max": "a"}, "text") == []  # text order is the engine's collation: not compared
    assert jumps({"min": "x"}, {"max": "50"}, "integer") == []  # not a number: not compared


def test_sensitive_names_by_pattern():
    patterns = ["email", "ssn", "password"]
    assert is_sensitive("customer_Email", patterns) and is_sensitive("SSN", patterns) and is_sensitive("password_hash", patterns)
    assert not is_sensitive("amount", patterns)
