"""Product text describes the product as it is, never how the work was done: no numbered past iterations or
sessions, no issue or pull-request numbers, no commit hashes used as history, no talk of goals met or missed.
History belongs in CHANGELOG.md and commit messages; generated reports (which record the commit they ran at),
data and checkpoints are not prose and are not read. The detector is shown to catch a planted phrase of each
kind, so that a green run means the tree is clean rather than that the patterns match nothing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from rexel_bench.resources import checkout_root

ROOT = checkout_root()
PROSE = (".md", ".py", ".yaml", ".yml", ".toml", ".txt", ".cfg")
SCANNED = ("README.md", "Makefile", "pyproject.toml", "docs", "configs", "rexel_bench", "baselines", "benchmarks",
           "experiments", "tests", ".ci")
NOT_PROSE = {Path(__file__).resolve()}  # this file states the patterns it looks for
HASH = r"(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}"
PATTERNS = {
    "numbered past iteration": re.compile(r"\b(?:stop|iteration|session)s? \d+\b", re.IGNORECASE),
    "issue number": re.compile(r"\b(?:issues?|PRs?|pull requests?|tickets?)\s+#?\d+\b"
                               r"|(?:^|[\s(\[])#\d{1,4}(?=[\s).,:;\]]|$)", re.IGNORECASE),
    "commit hash as history": re.compile(rf"\b(?:commit|at|since|before|after|until|from|in|head)\s+`?{HASH}\b"),
    "session talk": re.compile(r"\b(?:previous|last|this|earlier|next) (?:session|iteration|stop)s?\b", re.IGNORECASE),
    "goal talk": re.compile(r"\b(?:the|its|our|issue's) goal (?:of|was|is|were)\b|\bgoal (?:was|were) not met\b",
                            re.IGNORECASE),
}


def product_files() -> list[Path]:
    """Every prose file of the product and the lab, generated output left out."""
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += [p for p in sorted(path.rglob("*")) if p.is_file() and (p.suffix in PROSE or not p.suffix)
                      and "_shipped" not in p.parts and "__pycache__" not in p.parts]
    return [p for p in files if p.resolve() not in NOT_PROSE]


def process_language(text: str) -> list[tuple[str, str]]:
    """Each (kind, phrase) of process language in ``text``."""
    return [(kind, match.group(0).strip()) for kind, pattern in PATTERNS.items() for match in pattern.finditer(text)]


def test_no_product_text_speaks_of_how_the_work_was_done():
    found = [f"{path.relative_to(ROOT)}:{text[:m_start].count(chr(10)) + 1}: {kind}: {phrase!r}"
             for path in product_files()
             for text in [path.read_text(encoding="utf-8", errors="replace")]
             for kind, pattern in PATTERNS.items() for m in pattern.finditer(text)
             for m_start, phrase in [(m.start(), m.group(0).strip())]]
    assert not found, "process language in product text:\n" + "\n".join(found)


@pytest.mark.parametrize(("phrase", "kind"), [
    ("The default REXEL since stop 19 is this one.", "numbered past iteration"),
    ("Fixed in iteration 4 of the work.", "numbered past iteration"),
    ("See issue 33 for the seeds.", "issue number"),
    ("Rejected (#18): the head never fired.", "issue number"),
    ("These numbers were measured at 62a1cbe, before the change.", "commit hash as history"),
    ("As in the previous session, the cache is cold.", "session talk"),
    ("The issue's goal is 3.5x; the goal was not met.", "goal talk"),
])
def test_the_detector_catches_a_planted_phrase_in_a_product_file(tmp_path, monkeypatch, phrase, kind):
    planted = tmp_path / "docs" / "planted.md"
    planted.parent.mkdir()
    planted.write_text(f"# A page\n\nSome text.\n{phrase}\n", encoding="utf-8")
    assert kind in {k for k, _ in process_language(planted.read_text())}
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match=rf"docs/planted.md:4: {kind}"):
        test_no_product_text_speaks_of_how_the_work_was_done()


@pytest.mark.parametrize("text", [
    "body{color:#222}", "rng = np.random.default_rng(20261124)", "an early-stopping patience of 3 epochs",
    "the 2nd stop word", "sha256: 856368a1e858781b3cfdb7e3c5f0f972963e966eb1fc6cce40e801a4e0cc455b",
    "`git_commit` records the commit of the run", "in 8 epochs", "round 3 decimals",
])
def test_ordinary_text_is_not_flagged(text):
    assert process_language(text) == []
