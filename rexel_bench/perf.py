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


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``count`` for the block (unchanged when None), then restored.

    A model's floats depend in their last digits on how its sums are split over threads, so runs that must
    give the same bytes (one process, a cluster's workers) predict with the same count.
    """
    import torch

    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
