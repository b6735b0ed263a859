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
copies of updated papers (`SearchIndex._apply_in_parallel`).

Workers analyse text with `_fast_index` (the same terms, positions and weights as the
field's analyzer, one cached analysis per distinct word) and write postings with the
segment's lengths read once into memory (`_MemoryLengths`): the two hot spots of a profile.

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
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.formats import Positions
from whoosh.writing import SegmentWriter

from paperidx.errors import LibraryError
from paperidx.search.analysis import TOKEN_PATTERN, HyphenFilter

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
# The posting pool Whoosh's writer sets up stays empty in a worker (`_SegmentBuilder` keeps
# its postings itself).
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


def _open_writer(folder: str) -> _SegmentBuilder:
    from pathlib import Path

    from paperidx.search.storage import INDEX_NAME, file_storage

    ix = file_storage(Path(folder)).open_index(INDEX_NAME)
    return _SegmentBuilder(ix)


# One term's postings in a segment being built: document numbers, weights, encoded values
# (positions). Three flat arrays rather than a tuple per posting: a third of the memory.
_Postings = tuple["array[int]", "array[float]", list[bytes]]


class _SegmentBuilder(SegmentWriter):  # type: ignore[misc]
    """A worker's writer: no lock (the parent holds it), one segment, handed to the parent.

    Whoosh's writer puts every posting in a pool of tuples, sorts the pool, and writes it
    one posting at a time through `FieldWriter.add_postings`. Documents arrive here in
    document-number order, so the postings are kept per term instead: only the terms are
    sorted, and each term's postings are written a block at a time (`_write_term`), with
    the same bytes as Whoosh's own writer (tests/test_parallel_index.py compares the files).
    """

    def __init__(self, ix: Any) -> None:
        # Whoosh's default codec (zlib level 3 for posting blocks): level 1 saves under 1%
        # of a worker's time, no compression 12% for postings files 2.4 times the size.
        super().__init__(ix, _lk=False, limitmb=WORKER_LIMIT_MB)
        # fieldname -> term -> its postings, documents ascending
        self._terms: dict[str, dict[bytes, _Postings]] = {}
        self.postings = 0
        caches: dict[int, dict[str, tuple[bytes, ...]]] = {}
        for name in self.schema.names():
            field = self.schema[name]
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: vectors and spelling are not supported here")
            if _analysed_word_by_word(field):
                # This schema is the worker's own copy, never written back to the index.
                cache = caches.setdefault(id(field.analyzer), {})
                field.index = _fast_index(field, cache)

    def add_document(self, **fields: Any) -> None:
        # Whoosh's `SegmentWriter.add_document`, less vectors and spelling (refused above),
        # with the postings kept per term rather than in the pool.
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                terms = self._terms.setdefault(fieldname, {})
                scorable = field.scorable
                for text, frequency, weight, encoded in field.index(value):
                    if scorable:
                        length += frequency
                    postings = terms.get(text)
                    if postings is None:
                        postings = terms[text] = (array("I"), array("d"), [])
                    postings[0].append(docnum)
                    postings[1].append(weight * fieldboost)
                    postings[2].append(encoded)
                    self.postings += 1
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            column = field.column_type
            if column and stored is not None:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def write_segment(self) -> Any:
        """Write the segment's files and close it (as MpWriter's sub-writers do); the
        parent adds it to the index."""
        return self._finalize_segment()

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader()
        try:
            lengths = _MemoryLengths(reader, self.schema)
            writer = self.fieldwriter
            if _writes_blocks(writer):
                for fieldname in sorted(self._terms):
                    writer.start_field(fieldname, self.schema[fieldname])
                    terms = self._terms[fieldname]
                    for text in sorted(terms):
                        writer.start_term(text)
                        _write_term(writer._postwriter, terms[text], lengths.of(fieldname))
                        writer.finish_term()
                    writer.finish_field()
            else:
                writer.add_postings(self.schema, lengths, self._in_order())
            writer.close()
        finally:
            reader.close()
        self._terms = {}

    def _in_order(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """The postings as Whoosh's pool gives them: by field, term, then document."""
        for fieldname in sorted(self._terms):
            terms = self._terms[fieldname]
            for text in sorted(terms):
                docnums, weights, values = terms[text]
                for docnum, weight, encoded in zip(docnums, weights, values, strict=True):
                    yield fieldname, text, docnum, weight, encoded


def _writes_blocks(writer: Any) -> bool:
    """Whether `_write_term` knows this field writer (Whoosh 2.7.4's W3FieldWriter)."""
    from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter

    probe = W3PostingsWriter.__init__.__code__.co_names
    return type(writer) is W3FieldWriter and "_blocklimit" in probe and "_byteids" in probe


def _write_term(postwriter: Any, postings: _Postings, lengths: Callable[[int], int | None]) -> None:
    """One term's postings, a block at a time, exactly as `W3PostingsWriter.add_posting`
    would buffer them one by one: full blocks of `_blocklimit`, the last one written by
    `finish_postings` (the caller's `finish_term`)."""
    limit = postwriter._blocklimit
    assert not postwriter._byteids
    docnums, weights, values = postings
    for start in range(0, len(docnums), limit):
        end = start + limit
        ids = docnums[start:end]
        known = [length for length in map(lengths, ids) if length]
        highest = max(weights[start:end])
        postwriter._ids = ids
        postwriter._weights = array("f", weights[start:end])
        postwriter._values = _distinct([encoded for encoded in values[start:end] if encoded])
        # As add_posting: the maximum starts at int 0, pickled as such when nothing beats it.
        postwriter._maxweight = highest if highest > 0 else 0
        postwriter._minlength = min(known) if known else None
        postwriter._maxlength = max(known) if known else 0
        if end < len(docnums):
            postwriter._write_block()


def _analysed_word_by_word(field: Any) -> bool:
    """Whether `_fast_index` gives exactly what `field.index` gives: a positions field whose
    analyzer is paperidx's (`analysis.ANALYZER`): a regex tokenizer whose matches do not
    depend on their surroundings, then filters that each work on one token alone (the stop
    filter also renumbers positions, which `_fast_index` mirrors)."""
    analyzer = getattr(field, "analyzer", None)
    if not isinstance(field.format, Positions) or not isinstance(analyzer, CompositeAnalyzer):
        return False
    kinds = [type(item) for item in analyzer.items]
    if kinds != [RegexTokenizer, HyphenFilter, LowercaseFilter, StopFilter, StemFilter]:
        return False
    tokenizer, stop = analyzer.items[0], analyzer.items[3]
    return tokenizer.expression.pattern == TOKEN_PATTERN and not tokenizer.gaps and stop.renumber


def _fast_index(
    field: Any, cache: dict[str, tuple[bytes, ...]]
) -> Callable[..., list[tuple[bytes, int, float, bytes]]]:
    """`field.index` for a field `_analysed_word_by_word` accepts, many times faster.

    Whoosh runs every token of every document through the whole filter chain (the stemmer
    has its own cache, but the generators around it cost more than the stemming). Here each
    distinct word is analysed once, by the field's own analyzer, and its terms are cached.
    Positions follow Whoosh's stop filter: the first kept term keeps its word's position,
    each later kept term is one more. tests/test_parallel_index.py compares the two.
    """
    analyzer = field.analyzer
    pattern = analyzer.items[0].expression
    encode = field.format.encode
    boost = field.format.field_boost
    # Most terms occur once in a document: their encoded position lists repeat.
    once: dict[int, bytes] = {}
    one = float(1) * boost

    def encoded(places: list[int]) -> bytes:
        if len(places) == 1:
            value = once.get(places[0])
            if value is None:
                value = once[places[0]] = encode(places)
            return value
        return encode(places)  # type: ignore[no-any-return]

    def index(value: str, **_: Any) -> list[tuple[bytes, int, float, bytes]]:
        positions: dict[bytes, list[int]] = {}
        first = -1
        kept = 0
        for number, word in enumerate(pattern.findall(value)):
            terms = cache.get(word)
            if terms is None:
                terms = tuple(token.text.encode("utf-8") for token in analyzer(word))
                cache[word] = terms
            for term in terms:
                if first < 0:
                    first = number
                seen = positions.get(term)
                if seen is None:
                    positions[term] = [first + kept]
                else:
                    seen.append(first + kept)
                kept += 1
        return [
            (
                term,
                len(places),
                one if len(places) == 1 else float(len(places)) * boost,
                encoded(places),
            )
            for term, places in positions.items()
        ]

    return index


def _distinct(values: list[bytes]) -> list[bytes]:
    """`values` with no object twice. Whoosh pickles a block's values, and pickle writes an
    object it has seen before as a back-reference: `_fast_index` shares the encodings of
    single positions, which would change the bytes written (not what they decode to)."""
    seen: set[int] = set()
    for number, value in enumerate(values):
        if id(value) in seen:
            values[number] = bytes(bytearray(value))
        else:
            seen.add(id(value))
    return values


class _MemoryLengths:
    """A new segment's per-document field lengths, each field's column read into memory once.

    Whoosh's writer asks the segment's per-document reader for a length for every posting
    it writes, which without mmap is a seek and a read each: a third of a worker's flush.
    Falls back to that reader for a field whose column is not as Whoosh 2.7.4 writes it.
    """

    def __init__(self, reader: Any, schema: Any) -> None:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        self._reader = reader
        # Whoosh answers None for a zero length byte.
        self._lengths = [byte_to_length(b) if b else None for b in range(256)]
        self._columns: dict[str, bytes] = {}
        # Fields with no lengths column (not scorable): Whoosh answers 0, after looking for
        # the column's file each time.
        self._none: set[str] = set()
        for name in schema.names():
            try:
                if not reader.has_column(_lenfield(name)):
                    self._none.add(name)
                    continue
                column = reader._cached_reader(_lenfield(name), LENGTHS_COLUMN)
                data = column._dbfile.get(column._basepos, column._doccount)
            except (AttributeError, TypeError, ValueError):
                continue
            if isinstance(data, bytes) and len(data) == column._doccount:
                self._columns[name] = data

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> Any:
        column = self._columns.get(fieldname)
        if column is not None:
            return self._lengths[column[docnum]]
        if fieldname in self._none:
            return default
        return self._reader.doc_field_length(docnum, fieldname, default)

    def of(self, fieldname: str) -> Callable[[int], int | None]:
        """`doc_field_length` of one field, as a function of the document number."""
        column = self._columns.get(fieldname)
        if column is not None:
            table = self._lengths
            return lambda docnum: table[column[docnum]]
        if fieldname in self._none:
            return lambda docnum: 0
        return lambda docnum: self._reader.doc_field_length(docnum, fieldname, 0)


__all__ = ["MAX_WORKERS", "WORKERS_ENV", "ParallelWriter", "WorkerFailed", "worker_count"]
