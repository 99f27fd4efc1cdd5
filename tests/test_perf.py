"""The garbage collector pause used while loading and scoring leaves the collector as it found it."""

from __future__ import annotations

import gc

import pytest

from rexel_bench.data import io as data_io
from rexel_bench.errors import DataError
from rexel_bench.perf import paused_gc


@pytest.fixture()
def collector_state():
    was = gc.isenabled()
    yield
    gc.enable() if was else gc.disable()


def test_loading_and_failing_leave_the_collector_enabled(collector_state, tmp_path):
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    broken = tmp_path / "broken.json"
    broken.write_text('[{"title": "A", "sents": [["a"]], "vertexSet": [[{"name": 3}]]}', encoding="utf-8")
    with pytest.raises(DataError):
        data_io.load(broken, strict=True)
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled(collector_state):
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()
