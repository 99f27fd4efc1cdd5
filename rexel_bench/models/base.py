"""The model interface every system implements, and the registry that names them.

A model is anything with ``name``, ``predict(documents) -> documents`` and ``describe()``. Predicted
documents keep the input's id, title and sentences and carry the model's mentions, entities (types,
QIDs) and relations. A model may leave out a document it cannot predict (too long for its memory bound)
and say why in ``skipped`` (document id → reason); the run counts, prints and records it. Models may
fill ``timings`` (seconds per stage) so that reports show where the
time goes. Names map to factories: the built-in ones register here, ``file:<path>`` reads an external
system's predictions, and installed plugins join through the entry-point group ``rexel_bench.models``.
"""

from __future__ import annotations

import copy
import importlib
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from rexel_bench.data.model import Document
from rexel_bench.errors import ConfigError, RexelBenchError

ENTRY_POINT_GROUP = "rexel_bench.models"

#: The optional attributes of a :class:`Model` that ``run`` reads: each one's type and its value when absent
#: (``chunk_size`` absent: the run's batch size).
OPTIONAL_ATTRIBUTES: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "timings": (dict, {}), "chunk_size": (int, None), "skipped": (dict, {}), "notes": (list, []),
    "document_ids": ((set, frozenset, list, tuple), ()), "path": ((str, Path), ""),
}


def model_detail(model: Any, name: str, absent: Any = None) -> Any:
    """A model's optional attribute ``name`` (one of :data:`OPTIONAL_ATTRIBUTES`), or its value when absent
    (``absent`` where given); an attribute of the wrong type is an error naming the model."""
    kind, default = OPTIONAL_ATTRIBUTES[name]
    value = getattr(model, name, None)
    if value is None:
        return absent if absent is not None else copy.copy(default)  # a fresh dict or list each time
    if not isinstance(value, kind):
        raise ConfigError(f"model {getattr(model, 'name', model)!r}: {name} must be {kind}, found "
                          f"{type(value).__name__}")
    return value


@runtime_checkable
class Model(Protocol):
    """What every system implements: ``name``, ``predict`` and ``describe``.

    A model may also have these attributes, which ``run`` reads through :func:`model_detail` when present
    (:data:`OPTIONAL_ATTRIBUTES` states each one's type and the value taken when it is absent):
    ``timings`` (seconds per stage, accumulated over ``predict`` calls), ``chunk_size`` (documents per ``predict``
    call, e.g. a cluster's several batches), ``skipped`` (document id → why it was not predicted), ``notes`` (lines
    the report shows under the system), ``document_ids`` (the ids a fixed prediction file holds) and ``path``
    (that file).
    """

    name: str

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        """Predict mentions, entities (types, QIDs) and relations for each document."""

    def describe(self) -> dict[str, Any]:
        """Checkpoint hash, encoder, parameters: what identifies this model's predictions."""


#: Longest document, in word tokens, that the neural models predict by default (option ``max_words``).
#: Their pair stages are quadratic in time (memory is bounded by blocks); at this length REXEL takes about
#: two minutes and 1.5 GB on two cores (``benchmarks/bench_long_document.py``). Longer documents are skipped.
MAX_WORDS = 20_000


def as_documents(items: Sequence[Document | str]) -> list[Document]:
    """What a model's ``predict`` takes from a script or a notebook: documents, or plain strings of text (each
    split into sentences and tokens, with the id ``text-<n>`` by its position)."""
    from rexel_bench.data.text import document_from_text

    return [document_from_text(f"text-{n}", f"text {n}", item) if isinstance(item, str) else item
            for n, item in enumerate(items, 1)]


def split_too_long(docs: Sequence[Document], max_words: int, model_name: str
                   ) -> tuple[list[Document], dict[str, str]]:
    """The documents a model predicts, and a reason for each one that is over its length limit."""
    kept, skipped = [], {}
    for doc in docs:
        if doc.num_tokens > max_words:
            skipped[doc.id] = (f"{doc.num_tokens:,} words, over {model_name}'s limit of {max_words:,} "
                               "(option max_words)")
        else:
            kept.append(doc)
    return kept, skipped


def predict_in_batches(model: Model, docs: Sequence[Document], batch_size: int) -> list[Document]:
    """A model's predictions of ``docs``, batch by batch from the first document. Batches change the
    numbers (padding, shapes), so wherever documents are predicted in pieces (a cluster's partitions, the
    run's cache misses) the pieces are whole batches and the batches are these."""
    out: list[Document] = []
    for start in range(0, len(docs), batch_size):
        out += model.predict(docs[start:start + batch_size])
    return out


_REGISTRY: dict[str, Callable[..., Model]] = {}


FactoryT = TypeVar("FactoryT", bound=Callable[..., Model])


def register(name: str) -> Callable[[FactoryT], FactoryT]:
    """Register a model factory under a name (decorator): a function or a model class, whose named
    parameters are the options it takes."""
    def add(factory: FactoryT) -> FactoryT:
        _REGISTRY[name] = factory
        return factory
    return add


#: The built-in models and the module that registers each. A module is imported only when its model is named,
#: so that a core install (without the models extra: no torch) still runs ``file:`` predictions.
BUILTIN_MODULES = {"file": "rexel_bench.models.external", "rexel": "rexel_bench.models.rexel.model",
                   "pipeline-heuristic": "rexel_bench.baselines.heuristic",
                   "pipeline": "rexel_bench.baselines.pipeline",
                   "pipeline-spacy": "rexel_bench.baselines.spacy_pipeline"}


def _builtin(name: str | None = None) -> None:
    """Import the module that registers the built-in model ``name`` (every built-in one when None): importing
    registers it."""
    for model, module in BUILTIN_MODULES.items():
        if name is None or model == name:
            importlib.import_module(module)


def _plugin_entry_points() -> list[Any]:
    """Models that installed packages register (imported here: ``importlib.metadata`` costs every command
    that never looks for a plugin, such as ``score``, 15 ms)."""
    from importlib import metadata

    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def available_models() -> list[str]:
    """Registered model names, built-in and plugins (read without importing any model)."""
    plugins = [ep.name for ep in _plugin_entry_points()]
    return sorted(set(BUILTIN_MODULES) | set(_REGISTRY) | set(plugins))


# run-wide options handed to every model; a model whose factory does not name one simply does not use it
SHARED_OPTIONS = frozenset({"device", "batch_size", "kb"})


def call_factory(factory: Callable[..., Model], spec: str, options: dict[str, Any]) -> Model:
    """Call a model factory with the options it names; an option it does not take is an error, never
    silently dropped (except the run-wide :data:`SHARED_OPTIONS`). A factory with ``**kwargs`` takes all."""
    params = inspect.signature(factory).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(options) - set(params) - SHARED_OPTIONS)
        if unknown:
            raise ConfigError(f"model {spec!r} takes no option {', '.join(unknown)}; it takes: "
                              f"{', '.join(sorted(params)) or 'none'}")
        options = {k: v for k, v in options.items() if k in params}
    try:
        return factory(**options)
    except (RexelBenchError, OSError):  # already one line naming the file or option
        raise
    except Exception as exc:  # a plugin's or a py: factory's own failure
        raise ConfigError(f"model {spec!r} could not be built: {type(exc).__name__}: {exc}") from exc


def _factory(spec: str) -> tuple[Callable[..., Model], dict[str, Any]]:
    """The factory a spec names and the options the spec itself gives it (``path``, ``checkpoint``)."""
    if spec.partition(":")[0] in BUILTIN_MODULES:
        _builtin(spec.partition(":")[0])
    if spec.startswith("file:"):
        return _REGISTRY["file"], {"path": Path(spec[5:])}
    if spec.startswith("py:"):
        module_name, _, attr = spec[3:].partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr), {}
        except Exception as exc:  # not importable, no such attribute, or a module that fails as it loads
            raise ConfigError(f"cannot load model factory {spec!r}: {exc}") from exc
    if spec in _REGISTRY:
        return _REGISTRY[spec], {}
    name, _, checkpoint = spec.partition(":")
    if checkpoint and name in _REGISTRY:  # ``rexel:<checkpoint>``: a registered model with another checkpoint
        if not Path(checkpoint).exists():
            raise ConfigError(f"model {spec!r}: no checkpoint at {checkpoint!r}")
        return _REGISTRY[name], {"checkpoint": Path(checkpoint)}
    for ep in _plugin_entry_points():
        if ep.name == spec:
            try:
                return ep.load(), {}
            except Exception as exc:  # a plugin that is installed but broken
                raise ConfigError(f"the installed plugin model {spec!r} cannot be loaded: "
                                  f"{type(exc).__name__}: {exc}") from exc
    raise ConfigError(f"unknown model {spec!r}; available: {', '.join(available_models())}, or file:<path>")


#: Joins the checkpoints (training seeds) of one system in a model spec: ``rexel:ckpt-a+ckpt-b+ckpt-c``.
SEED_SEPARATOR = "+"


def seed_members(spec: str) -> list[str]:
    """The members (one per training seed) of a system spec: ``rexel:a+b+c`` is ``rexel:a``, ``rexel:b`` and
    ``rexel:c`` (``file:x.jsonl+y.jsonl`` likewise); any other spec is its own one member."""
    name, colon, rest = spec.partition(":")
    if not colon or SEED_SEPARATOR not in rest or name == "py":
        return [spec]
    parts = rest.split(SEED_SEPARATOR)
    if not all(parts):
        raise ConfigError(f"{spec!r}: a member is empty (members are joined by {SEED_SEPARATOR!r})")
    return [f"{name}:{part}" for part in parts]


def runs_code(spec: str) -> bool:
    """Whether naming this model imports and calls code that is not the toolkit's: a ``py:`` factory or an
    installed plugin (anything but a built-in name, ``name:<checkpoint>`` of one, or ``file:``)."""
    if spec.startswith("file:"):
        return False
    return spec.partition(":")[0] not in BUILTIN_MODULES and spec.partition(":")[0] not in _REGISTRY


def takes_option(spec: str, option: str) -> bool:
    """Whether the model a spec names takes an option (e.g. ``kb``), read from its factory's signature
    without building the model."""
    params = inspect.signature(_factory(spec)[0]).parameters
    return option in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def load_model(spec: str, **options: Any) -> Model:
    """A model by name (``rexel``, ``pipeline``, ...), a name with another checkpoint
    (``rexel:<checkpoint>``), ``file:<path>``, ``py:<module>:<factory>`` (any
    importable factory, like spaCy's registered functions), or an installed plugin."""
    factory, given = _factory(spec)
    return call_factory(factory, spec, {**options, **given})
