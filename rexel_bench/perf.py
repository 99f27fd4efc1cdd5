"""Speed and memory helpers shared by the loaders, the scorers, the run and the cluster workers."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_value(Generic[T]):
    """``functools.cached_property`` without its lock: the value is computed on first read and stored in the
    instance's ``__dict__``, where later reads find it without calling the descriptor.

    Python 3.11's ``cached_property`` takes a lock on every first read: profiled, about a quarter of the time of
    scoring DocRED facts (each mention's span and each entity's spans are read once per document). The values
    cached here are pure functions of frozen data, so two threads that compute one both get the same.
    """

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_value[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | cached_value[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


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


def torch_thread_count() -> int | None:
    """torch's intra-op thread count (part of what a prediction depends on), or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op thread count set to ``count`` for the block (unchanged when None), then restored.

    A model's floats depend in their last digits on how its sums are split over threads, so runs that must
    give the same bytes (one process, a cluster's workers) predict with the same count.
    """
    try:
        import torch
    except ImportError:  # a core install predicts nothing with torch: there is no count to set
        yield
        return
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def reset_peak_memory() -> None:
    """Restart this process's peak-memory count (Linux; elsewhere nothing happens)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets the VmHWM high-water mark


def peak_memory_mb() -> float | None:
    """Peak resident memory of this process since the last reset, in MB (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
