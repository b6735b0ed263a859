"""Bulk indexing in worker processes: the big commits of `SearchIndex.apply` on several cores.

Imported only on the write path, and only for a batch of at least `index.PARALLEL_MINIMUM`
papers: `search` and `show` never load it (or multiprocessing).

Why not Whoosh's own `MpWriter`: it forks its workers, which then inherit every open file
descriptor -- paperidx's writer lock and Whoosh's among them -- and outlive a parent killed
with `kill -9`, holding both locks and blocking every later writer. Here:

- Workers are started with the multiprocessing "spawn" context: a fresh interpreter that
  inherits no descriptor but the two ends it is given (its pipe, multiprocessing's
  resource-tracker pipe), so no lock.
- A worker cannot outlive the parent. Its only work comes down a pipe whose other end only
  the parent holds; a thread reads it all the time, so the moment the parent is gone -- even
  while the worker is busy writing its segment -- the read ends and the worker exits. On
  Linux the kernel also kills it (`PR_SET_PDEATHSIG`), which does not wait for Python's GIL.
- Each worker writes Whoosh segments of its own (one, unless its share is very large:
  `SEGMENT_POSTINGS`) without taking Whoosh's lock (as MpWriter's sub-writers do,
  `_lk=False`); the parent, which holds both locks for the whole build, adds those
  segments to the index in ONE commit (`ParallelWriter.commit`). Until
  that commit the segments are files no table of contents names: after a crash the next
  writer deletes them (`SearchIndex._discard_unfinished`).
- A worker that fails or dies fails the whole build: the parent kills the others, the index
  stays as it was (its state file still names the older store revision, so the next command
  catches it up), and the user is told. Never a commit with a segment missing.

The index a parallel build makes is the one a single process makes, document numbers
included (so even papers tied on a score rank alike): every worker indexes one contiguous
run of the documents, and its segments follow the previous worker's. Documents are pickled
in batches of `BATCH_SIZE` into a spill file beside the index (only the parent reads the
store); the first worker starts on the first batches at once, `QUEUED_BATCHES` ahead of
it, and once the parent has read them all it knows how many there are and gives every
worker its run of the rest, sized to finish together. The parent also deletes the old
copies of updated papers (`SearchIndex.apply`).

Workers write their segments with `paperidx.search.writer.FastWriter` (one analysis per
distinct word, postings written per term), as every smaller commit of the index does.

Environment: ``PAPERIDX_INDEX_WORKERS=N`` sets the number of worker processes (default
``min(usable CPUs, MAX_WORKERS)``); ``PAPERIDX_INDEX_WORKERS=1`` forces the single-process
writer, for debugging.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from whoosh.writing import SegmentWriter

from paperidx.errors import LibraryError
from paperidx.search.writer import FastWriter

WORKERS_ENV = "PAPERIDX_INDEX_WORKERS"
# Each worker adds a segment that every search then reads, and holds its postings in
# memory until it writes them: past a few workers those costs outgrow what they save.
MAX_WORKERS = 4
BATCH_SIZE = 250
# How far the parent keeps the first worker ahead while it still reads the store.
QUEUED_BATCHES = 2
# A worker keeps its segment's postings in memory (about 80 bytes each, with the rest of
# the worker: 470 MB for half of 75k papers) and starts a new segment past this many, which
# a 75k-paper build on two workers stays under (about 140 postings a paper).
SEGMENT_POSTINGS = 6_000_000
# The posting pool Whoosh's writer sets up stays empty in a worker (`FastWriter` keeps its
# postings itself).
WORKER_LIMIT_MB = 32
# How long to wait for stopped workers to be gone before giving up on them.
STOP_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


def worker_count() -> int:
    """How many worker processes a bulk build uses; 1 means the single-process writer."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise LibraryError(
                f"{WORKERS_ENV} must be a number of processes, not {configured!r}"
            ) from None
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_WORKERS))


class WorkerFailed(LibraryError):
    """An indexing worker failed or died: the build was abandoned, the index left as it was."""


@dataclass(frozen=True, slots=True)
class _Failure:
    """What went wrong in a worker, sent to the parent (exceptions may not unpickle)."""

    kind: str
    message: str
    errno: int | None


# -- the parent --------------------------------------------------------------------------


class ParallelWriter(SegmentWriter):  # type: ignore[misc]
    """A Whoosh writer whose documents are indexed by worker processes.

    The parent writer itself takes Whoosh's lock, applies deletions to the committed
    segments and writes whatever the merge policy folds in; `commit` adds the workers'
    segments after its own, in one table of contents.
    """

    def __init__(self, ix: Any, *, workers: int, timeout: float, limitmb: int) -> None:
        super().__init__(ix, timeout=timeout, limitmb=limitmb)
        self._batch: list[dict[str, Any]] = []
        try:
            self._workers = _Workers(self.storage.folder, self._tempstorage.folder, workers)
        except BaseException:
            SegmentWriter.cancel(self)
            raise

    def add_document(self, **fields: Any) -> None:
        self._check_state()
        self._batch.append(fields)
        if len(self._batch) >= BATCH_SIZE:
            self._workers.add(self._batch)
            self._batch = []

    def commit(self, mergetype: Any = None, optimize: Any = None, merge: Any = None) -> None:
        self._check_state()
        if self._batch:
            self._workers.add(self._batch)
            self._batch = []
        self._workers.finish()
        # The merge policy's work overlaps the workers' indexing.
        segments = self._merge_segments(mergetype, optimize, merge)
        if self._added:
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        segments.extend(self._workers.segments())
        self._commit_toc(segments)
        self._finish()

    def cancel(self) -> None:
        try:
            self._workers.stop()
        finally:
            SegmentWriter.cancel(self)


class _Worker:
    def __init__(self, process: Any, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.given = 0  # batches sent to it
        self.indexed = 0  # batches it has indexed
        self.segments: list[Any] = []
        self.finished = False

    def describe(self) -> str:
        return f"indexing process {self.process.pid}"


class _Workers:
    """The worker processes of one build, as seen from the parent, and the spill file of
    the batches they index."""

    def __init__(self, folder: str, scratch: str, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        # (offset, length) of every batch in the spill file, in document order.
        self._batches: list[tuple[int, int]] = []
        self._spill_path = os.path.join(scratch, f"batches-{os.getpid()}.pickles")
        self._spill = os.open(self._spill_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._spilled = 0
        try:
            for number in range(count):
                ours, theirs = context.Pipe(duplex=True)
                process = context.Process(
                    target=_work,
                    args=(theirs, folder, self._spill_path, os.getpid()),
                    name=f"paperidx-indexer-{number}",
                    daemon=True,  # multiprocessing stops it should the parent exit early
                )
                with _no_main_module():
                    process.start()
                # The parent must not keep the worker's end: the worker's read has to end
                # when the parent goes.
                theirs.close()
                self._workers.append(_Worker(process, ours))
        except OSError as error:
            self.stop()
            raise WorkerFailed(f"cannot start an indexing process: {error.strerror}") from None
        except BaseException:
            self.stop()
            raise

    def add(self, batch: list[dict[str, Any]]) -> None:
        """Spill the next batch of documents; keep the first worker busy meanwhile."""
        payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(payload)
        while view:
            view = view[os.write(self._spill, view) :]
        self._batches.append((self._spilled, len(payload)))
        self._spilled += len(payload)
        self._receive(block=False)
        self._feed_first()

    def finish(self) -> None:
        """Give every worker its run of the batches, then the end of its work.

        The first worker has had the first batches, as many as it could take; the rest are
        cut into contiguous runs so that every worker has as much left to index.
        """
        os.close(self._spill)
        self._spill = -1
        while self._receive(block=False):
            pass  # how far the first worker has got
        first, total = self._workers[0], len(self._batches)
        share = -(-(total - first.indexed) // len(self._workers))
        start = max(first.given, min(total, first.indexed + share))
        self._give(first, start)
        rest, base = self._workers[1:], start
        for number, worker in enumerate(rest):
            worker.given = start  # its run begins where the previous one ends
            start = base + (total - base) * (number + 1) // len(rest)
            self._give(worker, start)
        for worker in self._workers:
            self._send(worker, ("end",))

    def segments(self) -> list[Any]:
        """Every worker's segments, in document order, once all of them are written."""
        while not all(worker.finished for worker in self._workers):
            self._receive(block=True)
        for worker in self._workers:
            worker.process.join(STOP_SECONDS)
            worker.connection.close()
        return [segment for worker in self._workers for segment in worker.segments]

    def stop(self) -> None:
        """Stop every worker now (the build is abandoned) and wait until they are gone, so
        none writes a file after the caller has cleaned up."""
        for worker in self._workers:
            worker.connection.close()
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                worker.process.join(STOP_SECONDS)
        if self._spill >= 0:
            with contextlib.suppress(OSError):
                os.close(self._spill)
            self._spill = -1

    def _feed_first(self) -> None:
        first = self._workers[0]
        while first.given < len(self._batches) and first.given - first.indexed < QUEUED_BATCHES:
            self._give(first, first.given + 1)

    def _give(self, worker: _Worker, end: int) -> None:
        """Send `worker` the batches from the one after those it has up to `end`."""
        for offset, length in self._batches[worker.given : end]:
            self._send(worker, ("batch", offset, length))
        worker.given = max(worker.given, end)

    def _send(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        try:
            worker.connection.send(message)
        except (OSError, ValueError):
            raise self._died(worker) from None

    def _receive(self, *, block: bool) -> bool:
        """Handle what the workers have said (waiting for something when `block`); whether
        there was anything."""
        by_connection = {w.connection: w for w in self._workers if not w.finished}
        by_sentinel = {w.process.sentinel: w for w in self._workers if not w.finished}
        ready = wait([*by_connection, *by_sentinel], timeout=None if block else 0)
        for item in ready:
            if item in by_connection:
                self._message(by_connection[item])
        for item in ready:
            # A worker's exit is noticed here only once its pipe holds nothing more to say.
            if item in by_sentinel and not by_sentinel[item].finished:
                worker = by_sentinel[item]
                if not worker.connection.poll():
                    raise self._died(worker)
        return bool(ready)

    def _message(self, worker: _Worker) -> None:
        try:
            kind, value = worker.connection.recv()
        except (EOFError, OSError):
            raise self._died(worker) from None
        if kind == "indexed":
            worker.indexed += 1
        elif kind == "segment":
            if value is not None:
                worker.segments.append(value)
        elif kind == "done":
            worker.finished = True
        else:
            raise _raised(worker, value)

    def _died(self, worker: _Worker) -> WorkerFailed:
        worker.process.join(1.0)
        code = worker.process.exitcode
        if code is None:
            how = "stopped answering"
        elif code < 0:
            how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return WorkerFailed(f"{worker.describe()} {how}; the search index was left as it was")


@contextlib.contextmanager
def _no_main_module() -> Iterator[None]:
    """Start a spawned process without the parent's main module.

    multiprocessing re-runs the parent's main script in every spawned child (as
    `__mp_main__`) so that functions defined there can be unpickled. A worker needs none of
    it (its code lives here), and a script without an `if __name__ == "__main__"` guard --
    say a tool calling paperidx's CLI -- would run the whole command again in each worker:
    an ingest waiting for the writer lock its own parent holds. With a bare module in its
    place, the child is told there is no main module to run.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _raised(worker: _Worker, failure: _Failure) -> Exception:
    # An environment error (a full disk) must stay one: the index's error handling tells it
    # apart from damage by its errno.
    if failure.errno is not None:
        return OSError(failure.errno, failure.message)
    return WorkerFailed(
        f"{worker.describe()} failed ({failure.kind}: {failure.message}); "
        "the search index was left as it was"
    )


# -- a worker ----------------------------------------------------------------------------


def _work(connection: Connection, folder: str, spill: str, parent: int) -> None:
    """A worker's whole life: index the batches it is given, in order, write segments and
    hand them back."""
    _die_with(parent)
    # Ctrl-C reaches the whole process group; the parent decides what happens to a build.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
    done = threading.Event()
    threading.Thread(target=_read, args=(connection, inbox, done), daemon=True).start()
    try:
        writer = _open_writer(folder)
        with open(spill, "rb", buffering=0) as batches:
            while (order := inbox.get())[0] == "batch":
                _, offset, length = order
                for fields in pickle.loads(os.pread(batches.fileno(), length, offset)):
                    writer.add_document(**fields)
                if writer.postings >= SEGMENT_POSTINGS:
                    connection.send(("segment", writer.write_segment()))
                    writer = _open_writer(folder)
                connection.send(("indexed", None))
        segment = writer.write_segment() if writer.docnum else None
        done.set()
        connection.send(("segment", segment))
        connection.send(("done", None))
    except BaseException as error:  # everything goes to the parent, which decides
        errno = error.errno if isinstance(error, OSError) else None
        message = (error.strerror if isinstance(error, OSError) else None) or str(error)
        with contextlib.suppress(OSError, ValueError):
            connection.send(("failed", _Failure(type(error).__name__, message[:300], errno)))
        done.set()
        os._exit(1)


def _read(
    connection: Connection, inbox: queue.SimpleQueue[tuple[Any, ...]], done: threading.Event
) -> None:
    """Move everything the parent sends into `inbox`, and exit when the parent is gone.

    Always blocked reading the pipe, so the end of it (the parent's death closes its end)
    is seen at once, whatever the worker's main thread is busy with.
    """
    while True:
        try:
            inbox.put(connection.recv())
        except (EOFError, OSError):
            if not done.is_set():
                os._exit(3)
            return


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the parent dies (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    # The parent may have died before the request was made.
    if os.getppid() != parent:
        os._exit(3)


def _open_writer(folder: str) -> FastWriter:
    """A worker's writer: no lock (the parent holds it); its segment goes to the parent."""
    from pathlib import Path

    from paperidx.search.storage import INDEX_NAME, file_storage

    ix = file_storage(Path(folder)).open_index(INDEX_NAME)
    return FastWriter(ix, lock=False, limitmb=WORKER_LIMIT_MB)


__all__ = ["MAX_WORKERS", "WORKERS_ENV", "ParallelWriter", "WorkerFailed", "worker_count"]
