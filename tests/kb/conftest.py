"""Shared by the KB tests: the scale benchmark's realistic generated dump (shared names, sitelinks, mul labels)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("bench_kb_scale",
                                               Path(__file__).parents[2] / "benchmarks" / "bench_kb_scale.py")
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)

#: ``write_realistic_dump(path, n)``: a dump of ``n`` generated entities in the official layout.
write_realistic_dump = _bench.write_dump
