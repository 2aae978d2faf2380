"""catalog.core.deadline: a hard stop for pure-Python work, in any thread, that never lands after its block."""

import threading
import time

import pytest

from catalog.core.deadline import Budget, TimeLimitExceeded, time_limit


def _spin_swallowing_errors():
    """Busy pure-Python work whose own `except Exception` would hide an ordinary exception."""
    count = 0
    while True:
        try:
            count += 1
        except Exception:
            pass


def test_stops_busy_work_that_catches_exceptions():
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.2):
            _spin_swallowing_errors()
    assert 0.15 < time.monotonic() - started < 1.0


def test_stops_work_in_another_thread():
    outcome = {}

    def worker():
        started = time.monotonic()
        try:
            with time_limit(0.2):
                _spin_swallowing_errors()
        except TimeLimitExceeded:
            outcome["stopped_after"] = time.monotonic() - started

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert 0.15 < outcome["stopped_after"] < 1.0


def test_a_swallowed_stop_is_raised_again():
    """As when the stop lands in a finalizer the garbage collector runs: CPython reports and drops it there."""
    swallowed = 0
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.1):
            try:
                _spin_swallowing_errors()
            except TimeLimitExceeded:
                swallowed += 1
            _spin_swallowing_errors()
    assert swallowed == 1 and time.monotonic() - started < 1.5  # raised again within a few 50 ms retries, even on a loaded machine


def test_a_stop_never_lands_after_the_block():
    """Blocks that end right at their limit: a stop that fired too late is withdrawn, never raised afterwards."""
    stopped = 0
    for _ in range(2000):
        try:
            with time_limit(0.0002):
                sum(range(2000))
        except TimeLimitExceeded:
            stopped += 1
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:  # busy code after the blocks: a stray stop would be raised here
        sum(range(100))
    assert stopped < 2000


def test_budget_is_shared_by_its_stages():
    budget = Budget(0.3)
    with budget.stage():
        time.sleep(0.2)
    with pytest.raises(TimeLimitExceeded):
        with budget.stage():
            _spin_swallowing_errors()
    assert budget.remaining() <= 0
    with pytest.raises(TimeLimitExceeded):
        with budget.stage():
            pass
