"""Pausing the cyclic garbage collector around bulk work. Django-free: connectors use it too."""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    """For loops that make hundreds of thousands of small acyclic objects: the cyclic collector would only rescan them.

    What was made meanwhile goes straight to the oldest generation (freeze, then unfreeze: two list
    moves), so the collector does not scan it all again when it resumes; unless something else froze
    objects (a pre-fork server, say), whose frozen set this must not thaw.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
