"""Shared fixtures: the real data directory (../shared/datasets) and small hand-made documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from rexel_bench.data.registry import data_dir

SHARED = data_dir()


def shared_file(relative: str) -> Path:
    """A file of ../shared/datasets; the test is skipped where that directory is absent."""
    if SHARED is None or not (SHARED / relative).exists():
        pytest.skip(f"real data {relative} not available (no ../shared/datasets)")
    return SHARED / relative


@pytest.fixture()
def shared():
    """Accessor for files of the real data directory."""
    return shared_file
