"""Work on documents in partitions on a Dask cluster, with results in input order.

``predict --scheduler`` and ``build-docred-ie --scheduler`` run here: documents travel to the workers in
partitions (a whole number of batches, so that every batch, and so every number, is what one process
would compute); each worker loads its model or KB once and keeps it (:func:`worker_resource`); at most
``2 × workers`` partitions are in flight, so memory stays bounded on both sides; results come back as
partitions finish and are handed on (written) in input order. A partition whose task fails is
resubmitted up to ``retries`` times, and every failure is recorded in the :class:`ClusterRun`; one that
fails every time stops the job with the partition, its first document and the error.

The cluster is a local one (``workers`` processes of one thread) unless a ``dask.distributed`` scheduler
address (``tcp://host:8786``) is given; remote workers need rexel-bench installed and the model's files
(checkpoint, KB) at the same paths.
"""

from __future__ import annotations

import functools
import socket
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from rexel_bench.data.model import Document
from rexel_bench.errors import ClusterError, ConfigError, RexelBenchError
from rexel_bench.perf import peak_memory_mb, reset_peak_memory, torch_threads
from rexel_bench.progress import progress_bar

#: The ``--scheduler`` value that asks for a local cluster.
LOCAL = "local"

#: A task run on a worker: it takes a partition's items and returns the partition's result (picklable: a
#: module-level function, or a ``functools.partial`` of one).
PartitionTask = Callable[[list[Any]], Any]


@dataclass
class ClusterRun:
    """What happened on the cluster: partitions done, failed tries (partition → errors), workers, and each
    worker's peak memory (MB)."""

    partitions: int = 0
    failures: dict[int, list[str]] = field(default_factory=dict)
    workers: int = 0
    peak_memory_mb: dict[str, float | None] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line per partition that needed a retry (printed and recorded by the commands)."""
        return [f"partition {p} failed {len(errors)} time(s) and was retried: {errors[0]}"
                for p, errors in sorted(self.failures.items())]


def partitions(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily."""
    if size < 1:
        raise ValueError(f"partition size must be at least 1, not {size}")
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@functools.lru_cache(maxsize=2)  # a run predicts one fold's KB after another
def worker_resource(kind: str, *args: Any) -> Any:
    """A model or KB built once per worker process and kept for every partition it runs.

    ``kind`` ``"model"``: ``args`` are the model spec and its options as sorted (name, value) pairs;
    ``"kb"``: the KB path.
    """
    if kind == "model":
        from rexel_bench.models.base import load_model

        spec, options = args
        return load_model(spec, **dict(options))
    if kind == "kb":
        from rexel_bench.kb.store import open_kb

        return open_kb(args[0])
    raise ValueError(f"unknown worker resource {kind!r}")


def predict_partition(spec: str, options: tuple[tuple[str, Any], ...], threads: int, docs: list[Document]
                      ) -> tuple[list[Document], dict[str, str], dict[str, float]]:
    """Run on a worker: a partition's predictions by the worker's model (loaded once per worker, predicting
    in the same batches as one process, with ``threads`` torch threads), the documents it skipped (with
    why) and the seconds its stages took."""
    from rexel_bench.models.base import model_detail, predict_in_batches

    model = worker_resource("model", spec, options)
    skipped, timings = model_detail(model, "skipped"), model_detail(model, "timings")
    skipped.clear()  # this partition's skipped documents only
    before = dict(timings)
    with torch_threads(threads):
        predicted = predict_in_batches(model, docs, dict(options)["batch_size"])
    return predicted, dict(skipped or {}), {k: v - before.get(k, 0.0) for k, v in timings.items()}


def check_scheduler(scheduler: str | None, option: str = "--scheduler") -> None:
    """Refuse a scheduler that is neither ``local`` nor a ``tcp://host:port`` (or ``tls://``) address, before
    anything starts (an empty value is not the default)."""
    if scheduler is None or scheduler == LOCAL:
        return
    try:
        parts = urlsplit(scheduler)
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
        raise ConfigError(f"{option}: expected 'local' or a Dask scheduler address such as tcp://host:8786, "
                          f"found {scheduler!r}")


#: Seconds to wait for a scheduler to connect and answer (also what a worker gets to close).
CONNECT_TIMEOUT = 30


#: The local scheduler's HTTP server (health and metrics routes; no dashboard) on any free port: Dask's default,
#: 8787, may be held by another cluster, and Dask then warns.
QUIET_SCHEDULER = {"dashboard": False, "dashboard_address": ":0"}


@contextmanager
def cluster(scheduler: str | None = None, workers: int = 2, timeout: float = CONNECT_TIMEOUT) -> Iterator[Any]:
    """A ``dask.distributed`` client: of a local cluster of ``workers`` one-thread processes (started and
    stopped here) when ``scheduler`` is None or ``"local"``, else of the scheduler at that address, which must
    connect and answer within ``timeout`` seconds (a server that is not a Dask scheduler fails, never hangs)."""
    check_scheduler(scheduler)
    from dask.distributed import Client, LocalCluster

    address = None if scheduler in (None, LOCAL) else scheduler
    if address:
        _probe(address, timeout)
    with _quiet_worker_shutdown():
        local = None if address else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=None, scheduler_kwargs=QUIET_SCHEDULER)
        try:
            try:
                client = Client(address or local, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the Dask scheduler {scheduler!r} within {timeout:g} s: "
                                   f"{exc or type(exc).__name__}") from exc
            with client:
                yield client
        finally:
            if local is not None:
                local.close()


def _probe(address: str, timeout: float) -> None:
    """Refuse, within ``timeout`` seconds, a ``tcp://`` address where nothing listens or where the server is not
    a Dask scheduler: a scheduler greets every new connection first (its handshake), while, say, a web server
    waits for a request, and a Dask client would wait for ever."""
    parts = urlsplit(address)
    if parts.scheme != "tcp":  # a TLS server speaks only after the client's hello: left to dask's own timeout
        return
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as probe:
            greeting = probe.recv(1)
    except TimeoutError:
        greeting = None
    except OSError as exc:
        raise ClusterError(f"cannot reach the Dask scheduler {address!r}: {exc.strerror or exc}") from exc
    if not greeting:
        raise ClusterError(f"cannot reach the Dask scheduler {address!r}: something listens there but did not "
                           f"answer as a Dask scheduler within {timeout:g} s")


@contextmanager
def _quiet_worker_shutdown() -> Iterator[None]:
    """Keep dask's notice that a worker process outlived its grace period and was ended off the console (a
    worker that loaded torch can take that long to exit; nothing is lost, every result came back before)."""
    import logging

    nanny = logging.getLogger("distributed.nanny")
    level = nanny.level
    nanny.setLevel(logging.ERROR)
    try:
        yield
    finally:
        nanny.setLevel(level)


def map_partitions(task: PartitionTask, parts: Iterable[list[Any]], *, client: Any = None,
                   scheduler: str | None = None, workers: int = 2, retries: int = 2, progress: bool = False,
                   total: int | None = None) -> Iterator[Any]:
    """Run ``task`` on every partition on a Dask cluster (``client``'s, or one opened for the call with
    :func:`cluster`); yield the results partition by partition, in input order. After the last partition, the
    generator's return value (``StopIteration.value``) is a :class:`ClusterRun`; use :func:`run_partitions`
    to get it."""
    with (nullcontext(client) if client else cluster(scheduler, workers)) as client, \
            progress_bar(enabled=progress) as bar:
        client.run(reset_peak_memory)
        flow = _InOrder(client, task, enumerate(parts), retries)
        bar_task = bar.add_task("partitions", total=total)
        while (result := flow.next_result()) is not _END:
            bar.advance(bar_task)
            yield result
        flow.record.peak_memory_mb = client.run(peak_memory_mb)
    return flow.record


_END = object()


class _InOrder:
    """Partitions submitted a few at a time (two per worker in flight), results handed out in input order,
    a failed partition resubmitted up to ``retries`` times."""

    def __init__(self, client: Any, task: PartitionTask, source: Iterator[tuple[int, list[Any]]], retries: int
                 ) -> None:
        self.client, self.task, self.source, self.retries = client, task, source, retries
        self.record = ClusterRun(workers=len(client.scheduler_info()["workers"]))
        self.window = 2 * max(1, self.record.workers)
        self.pending: dict[int, tuple[list[Any], Any]] = {}
        self.done: dict[int, Any] = {}
        self.next_out = 0
        self.exhausted = False

    def next_result(self) -> Any:
        """The result of the next partition in input order (waiting for it), or ``_END``."""
        while True:
            self._fill()
            if self.next_out in self.done:
                self.record.partitions += 1
                self.next_out += 1
                return self.done.pop(self.next_out - 1)
            if not self.pending:
                return _END
            self._collect()

    def _fill(self) -> None:
        while not self.exhausted and len(self.pending) + len(self.done) < self.window:
            item = next(self.source, None)
            if item is None:
                self.exhausted = True
                return
            index, part = item
            self._submit(index, part)

    def _submit(self, index: int, part: list[Any]) -> None:
        with warnings.catch_warnings():  # the data must reach a worker (a dump's lines): Dask's advice does not apply
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            self.pending[index] = (part, self.client.submit(self.task, part, pure=False))

    def _collect(self) -> None:
        from dask.distributed import wait

        wait([future for _, future in self.pending.values()], return_when="FIRST_COMPLETED")
        for index in [i for i, (_, future) in self.pending.items() if future.done()]:
            part, future = self.pending.pop(index)
            if future.status == "finished":
                self.done[index] = future.result()
                continue
            errors = self.record.failures.setdefault(index, [])
            errors.append(_error_of(future))
            if _is_deterministic(future):  # a bad option or input fails the same way on every try
                raise future.exception()
            if len(errors) > self.retries:
                raise ClusterError(f"partition {index} (first item {_first_id(part)!r}) failed {len(errors)} times; "
                                   f"last error: {errors[-1]}")
            self._submit(index, part)


def _error_of(future: Any) -> str:
    try:
        exc = future.exception()
    except Exception as lost:
        exc = lost
    return f"{type(exc).__name__}: {exc}"


def _is_deterministic(future: Any) -> bool:
    """Whether a failed task failed on the toolkit's own check of its input or options (not worth a retry)."""
    try:
        return isinstance(future.exception(), RexelBenchError)
    except Exception:
        return False


def _first_id(part: Sequence[Any]) -> str:
    return str(getattr(part[0], "id", part[0])) if part else ""


def run_partitions(task: PartitionTask, parts: Iterable[list[Any]], sink: Callable[[Any], None],
                   **options: Any) -> ClusterRun:
    """:func:`map_partitions`, each partition's results handed to ``sink`` in input order; returns the
    :class:`ClusterRun`."""
    results = map_partitions(task, parts, **options)
    while True:
        try:
            sink(next(results))
        except StopIteration as stop:
            return stop.value
