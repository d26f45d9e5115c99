"""Pausing Python's cyclic garbage collector around work that allocates a great deal and frees almost nothing.

Loading a plan, checking one plan of a batch and laying out a memo build large object graphs that live until the
work is done (or, for a batch, until the plan's data is dropped). The collector's passes over them find nothing
to free, yet each pass grows with the heap (docs/performance.md has the figures). Reference counting still frees
what is dropped meanwhile; the collector, back on, finds the cycles left behind.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block and restore it as it was, however the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
