"""Speed helpers shared by the loaders and the scorers."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block, then restored as it was.

    Parsing and scoring build hundreds of thousands of small acyclic objects (mentions, spans, counts);
    each allocation burst triggers collections that scan every live object again, about a third of the
    time of loading or scoring a corpus. Nothing those blocks build is a reference cycle, so reference
    counting frees it all the same; a collection runs when the block ends, as it would have.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
