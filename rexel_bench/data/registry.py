"""Named datasets (``docred-ie:dev``, ``re-docred:test``, ...) and where their files are.

The embedded default, DocRED-IE dev, is vendored in the repository's ``datasets/`` folder. The other
datasets are reached in a data directory laid out like ``../shared/datasets`` (see its README):
``--data-dir``, else the ``REXEL_BENCH_DATA`` environment variable, else ``../shared/datasets`` when
it exists beside the working directory or the checkout. Any path works wherever a name does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rexel_bench.errors import ConfigError
from rexel_bench.resources import checkout_root, dataset_file

DEFAULT_DATASET = "docred-ie:dev"


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset split: its file relative to the data directory, licence and description."""

    name: str
    split: str
    path: str
    licence: str
    description: str
    vendored: bool = False

    @property
    def key(self) -> str:
        """``name:split``."""
        return f"{self.name}:{self.split}"


DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec("docred-ie", "dev", "docred-ie/dev_joint_qcode.json", "MIT-0",
                "DocRED-IE dev: DocRED with silver Wikidata QIDs and fine types (REXEL paper)", vendored=True),
    DatasetSpec("re-docred", "dev", "re-docred/dev_revised.json", "MIT", "Re-DocRED dev (revised labels)"),
    DatasetSpec("re-docred", "test", "re-docred/test_revised.json", "MIT", "Re-DocRED test (revised labels)"),
    DatasetSpec("revisit-docred", "scratch", "revisit-docred/valid_scratch.json", "MIT",
                "Revisit-DocRED: 96 DocRED dev docs re-annotated from scratch"),
    DatasetSpec("revisit-docred", "revise", "revisit-docred/valid_revise.json", "MIT",
                "Revisit-DocRED: the same 96 docs with the original DocRED labels"),
    DatasetSpec("dwie", "annos", "dwie-annos/annos", "GPL-3.0",
                "DWIE annotations without text (802 docs; split in each doc's tags)"),
    DatasetSpec("dwie-bcbr", "dev", "dwie-text-bcbr/dev.json", "local evaluation only",
                "DWIE with text, DocRED layout, one sentence per doc (98 train docs)"),
    DatasetSpec("dwie-bcbr", "test", "dwie-text-bcbr/test.json", "local evaluation only",
                "DWIE with text, DocRED layout (99 official test docs)"),
    DatasetSpec("dwie-knowra", "dev", "dwie-text-knowra/dev.json", "local evaluation only",
                "DWIE with text, sentences, gold Wikipedia links, silver QIDs (137 train docs)"),
    DatasetSpec("dwie-knowra", "test", "dwie-text-knowra/test.json", "local evaluation only",
                "DWIE with text, sentences, gold Wikipedia links, silver QIDs (96 test docs)"),
)


def data_dir(explicit: str | Path | None = None) -> Path | None:
    """The directory holding the non-vendored datasets, or None if none is configured or found."""
    if explicit:
        return Path(explicit)
    if os.environ.get("REXEL_BENCH_DATA"):
        return Path(os.environ["REXEL_BENCH_DATA"])
    for base in (Path.cwd(), *filter(None, [checkout_root()])):
        candidate = base.parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return None


def find_spec(name: str) -> DatasetSpec | None:
    """The registered dataset called ``name`` (``name:split``; a bare name means its first split)."""
    dataset, _, split = name.partition(":")
    for spec in DATASETS:
        if spec.name == dataset and (not split or spec.split == split):
            return spec
    return None


def spec_path(spec: DatasetSpec, explicit_dir: str | Path | None = None) -> Path | None:
    """Where a registered dataset's file is on this machine, or None if it is not available."""
    if spec.vendored:
        vendored = dataset_file(spec.path)
        if vendored.exists():
            return vendored
    base = data_dir(explicit_dir)
    if base is not None and (base / spec.path).exists():
        return base / spec.path
    return None


def resolve(name_or_path: str | Path, explicit_dir: str | Path | None = None) -> Path:
    """A dataset name or a path → an existing path; a clear error naming what was tried otherwise."""
    path = Path(name_or_path)
    if path.exists():
        return path
    spec = find_spec(str(name_or_path))
    if spec is None:
        known = ", ".join(s.key for s in DATASETS)
        raise ConfigError(f"{str(name_or_path)!r} is neither an existing path nor a registered dataset ({known})")
    found = spec_path(spec, explicit_dir)
    if found is None:
        where = data_dir(explicit_dir)
        raise ConfigError(
            f"dataset {spec.key} needs {spec.path} under a data directory; "
            f"{'not found in ' + str(where) if where else 'none is set'} "
            "(pass --data-dir or set REXEL_BENCH_DATA)"
        )
    return found
