"""A hard time limit on pure-Python work in the calling thread. Django-free.

`time_limit(seconds)` stops the code inside it when the time is up, wherever it
is: a watcher thread asks CPython to raise `TimeLimitExceeded` in the calling
thread (`PyThreadState_SetAsyncExc`), which the interpreter does at its next
bytecode check, a few microseconds away in pure-Python code such as sqlglot and
sqlparse; and again every 50 ms until the block ends, since CPython swallows one
that lands in a finalizer the garbage collector happens to be running. Unlike
SIGALRM it works in any thread (gunicorn's threaded workers, the embedded server,
a Celery worker), and it needs no cooperation from the code it stops. It cannot
interrupt one long call into C; use it around Python code only, and not around
database queries (a query stopped half way leaves its connection unusable: they
have their own statement timeout).

`TimeLimitExceeded` is a BaseException, so a library's own `except Exception`
cannot swallow it. Leaving the block withdraws a stop that fired too late to
be raised inside it: it can never land in the caller's code after the block.
"""

from __future__ import annotations

import ctypes
import threading
import time
from contextlib import contextmanager

# Our own prototype of the C function (not ctypes.pythonapi's shared one, whose argtypes other code may set).
# Passing an empty py_object() passes NULL: "withdraw the pending exception".
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(("PyThreadState_SetAsyncExc", ctypes.pythonapi))


class TimeLimitExceeded(BaseException):
    """The code inside time_limit() ran out of time."""


@contextmanager
def time_limit(seconds: float):
    """Run the block for at most `seconds` of wall time (hence at most that much CPU); raises TimeLimitExceeded."""
    if seconds <= 0:
        raise TimeLimitExceeded()
    target = threading.get_ident()
    lock = threading.Lock()
    finished = threading.Event()
    # "armed" only while the block runs: a stop is never raised inside threading's own code (Thread.start).
    state = {"armed": False, "expired": False}

    def watch():
        if finished.wait(seconds):
            return
        # Raised again every 50 ms until the block has ended: CPython swallows an exception that lands in a
        # finalizer or a weakref callback (run by the garbage collector in the middle of anything).
        while True:
            with lock:
                state["expired"] = True
                if state["armed"]:
                    _set_async_exc(target, ctypes.py_object(TimeLimitExceeded))
            if finished.wait(0.05):
                return

    watcher = threading.Thread(target=watch, name="time-limit", daemon=True)
    watcher.start()
    try:
        with lock:
            if state["expired"]:
                raise TimeLimitExceeded()
            state["armed"] = True
        yield
    finally:
        while True:
            try:
                with lock:
                    if state["armed"]:
                        state["armed"] = False
                        if state["expired"]:
                            _set_async_exc(target, ctypes.py_object())  # withdraw one not raised yet
                    finished.set()
                break
            except TimeLimitExceeded:  # the stop arrived while disarming: disarm again, then it is gone
                continue


class Budget:
    """One time budget spent over several stages (work between stages, such as queries, counts too)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def stage(self):
        """A hard time_limit for one stage: whatever is left of the budget."""
        return time_limit(self.remaining())
