"""The one-edit index's deletion keys in their hash-addressed file: a probe returns exactly the aliases filed under
the keys (equal to a brute-force reference), the file is the same however small the batches it was sorted in, it
moves into place with its KB, and a KB refuses a file that is missing or was made for other aliases."""

from __future__ import annotations

import random
import shutil
import zlib

import numpy as np
import pytest

from rexel_bench.errors import DataError
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.deletions import WIDE_BUCKET, DeletionIndex, deletions_path, write_deletion_index
from rexel_bench.kb.store import KnowledgeBase, deletion_keys


def _names(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return sorted({"".join(rng.choice("abcdefg ") for _ in range(rng.randint(1, 9))).strip() or "a"
                   for _ in range(n)})


def _clashing_keys(norm: str) -> set[int]:
    """Few distinct keys, so that many aliases share one, with the sign bit set and not."""
    return {zlib.crc32(norm.encode()) % 50 - 25, (len(norm) - 5) << 59}


@pytest.mark.parametrize("keys_of", [deletion_keys, _clashing_keys])
def test_a_probe_returns_every_alias_filed_under_the_keys(tmp_path, keys_of):
    """Keys spread over the directory, and keys many aliases share (buckets searched on their own)."""
    norms = _names(1, 1500)
    written = write_deletion_index(tmp_path / "index", norms, keys_of)
    pairs = sorted({(key, norm) for norm in norms for key in keys_of(norm)})
    assert written["entries"] == len(pairs)
    index = DeletionIndex(tmp_path / "index", written["sha256"])
    widest = int(np.diff(index._arrays["directory"]).max())
    assert (widest > WIDE_BUCKET) == (keys_of is _clashing_keys)
    assert sorted(index.rows()) == pairs
    rng = random.Random(2)
    stored = sorted({key for key, _ in pairs})
    for _ in range(200):
        keys = rng.sample(stored, rng.randint(1, 5)) + [rng.getrandbits(64) - 2**63 for _ in range(3)]
        expected = sorted(norm for key, norm in pairs if key in keys)
        assert sorted(index.norms_under(keys)) == expected
    assert index.norms_under([]) == []


def test_the_file_is_the_same_whatever_the_batches(tmp_path):
    norms = _names(3, 300)
    one = write_deletion_index(tmp_path / "one", norms, deletion_keys)
    many = write_deletion_index(tmp_path / "many", iter(norms), deletion_keys, batch_pairs=7)
    assert one == many
    assert (tmp_path / "one").read_bytes() == (tmp_path / "many").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many", "one"]  # the partitions are gone


def test_an_empty_index_finds_nothing(tmp_path):
    written = write_deletion_index(tmp_path / "index", [], deletion_keys)
    assert written["entries"] == 0
    assert DeletionIndex(tmp_path / "index", written["sha256"]).norms_under(deletion_keys("abc")) == []


def _build(tmp_path, names: list[str], fuzzy_index: str = "one-edit"):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "aliases.tsv").write_text("".join(f"{name}\tQ{i}\t1\n" for i, name in enumerate(names)))
    build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "aliases.tsv"], fuzzy_index=fuzzy_index)


def test_a_build_puts_the_file_beside_its_kb_and_a_trigram_build_removes_it(tmp_path):
    _build(tmp_path, ["illinois", "indiana", "iowa"])
    assert deletions_path(tmp_path / "kb.sqlite").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aliases.tsv", "kb.sqlite", "kb.sqlite-deletions"]
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        assert [c.qid for c in kb.candidates("ilinois", k=3)] == ["Q0"]
        assert "alias_deletions" not in {n for (n,) in kb.db.execute("SELECT name FROM sqlite_master")}
    _build(tmp_path, ["illinois", "indiana", "iowa"], fuzzy_index="trigram")
    assert not deletions_path(tmp_path / "kb.sqlite").exists()


def test_a_kb_refuses_a_missing_file_or_one_made_for_other_aliases(tmp_path):
    _build(tmp_path / "a", ["illinois", "indiana"])
    _build(tmp_path / "b", ["illinois", "iowa"])
    shutil.copy(deletions_path(tmp_path / "b" / "kb.sqlite"), deletions_path(tmp_path / "a" / "kb.sqlite"))
    with KnowledgeBase(tmp_path / "a" / "kb.sqlite") as kb, \
            pytest.raises(DataError, match="written for other aliases than its KB's") as error:
        kb.candidates("ilinois")
    assert "kb.sqlite-deletions" in str(error.value)
    deletions_path(tmp_path / "a" / "kb.sqlite").unlink()
    with KnowledgeBase(tmp_path / "a" / "kb.sqlite") as kb, pytest.raises(DataError, match="index file is missing"):
        kb.candidates("ilinois")
    with KnowledgeBase(tmp_path / "a" / "kb.sqlite") as kb:
        assert [c.qid for c in kb.candidates("illinois")] == ["Q0"]  # an exact look-up needs no fuzzy index


def test_a_failed_build_leaves_the_kb_and_its_file_as_they_were(tmp_path):
    _build(tmp_path, ["illinois", "indiana"])
    before = deletions_path(tmp_path / "kb.sqlite").read_bytes()
    with pytest.raises(DataError):
        build_kb(tmp_path / "kb.sqlite", tsv=[tmp_path / "missing.tsv"], fuzzy_index="one-edit")
    assert deletions_path(tmp_path / "kb.sqlite").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aliases.tsv", "kb.sqlite", "kb.sqlite-deletions"]
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        assert [c.qid for c in kb.candidates("indianna", k=3)] == ["Q1"]
