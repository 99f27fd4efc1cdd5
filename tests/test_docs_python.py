"""docs/python.md runs as written: its Python blocks are executed in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "python.md"


def test_the_python_walkthrough_runs_as_written(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{DOC.name}, block {number}", "exec"), namespace)
    assert (tmp_path / "end-to-end.png").stat().st_size > 1000
    assert (tmp_path / "compare-report" / "metrics.json").exists()
    assert set(namespace["frame"].columns) >= {"system", "metric", "value", "ci_low", "ci_high"}
