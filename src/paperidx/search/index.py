"""The Whoosh full-text index: its schema, storage, writing, state file and damage handling.

Whoosh is imported only inside `paperidx.search`; searching the index is `search.ranking`'s
work (it opens a searcher here, `SearchIndex.searcher`), and this module knows nothing of it.

The index is derived data. It is built from the record store and can always be rebuilt
(`paperidx reindex`); the store remains the source of truth. Beside Whoosh's own files the
index keeps a small state file with the schema version it was built with and the store
revision it has caught up to: a different schema version means "rebuild", a lower revision
means "index the papers changed since". It also records Whoosh's commit generation, so an
index rolled back behind its state file is noticed rather than trusted.

Whoosh trusts its own files; every error it raises from damaged ones is turned into
`IndexDamagedError` here (`SearchIndex._whoosh_trouble`), which the library answers by
rebuilding -- beside the old index, swapped in whole (`SearchIndex.rebuild`).

Only the paper id is stored in the index; titles and abstracts for display come from the
store, which keeps the index small and ingest fast.

A bulk batch (`PARALLEL_MINIMUM` papers or more: a big ingest, a rebuild) is indexed by
spawned worker processes, each writing its own segment, added in one commit by this process
under the locks it holds (`paperidx.search.parallel`, imported only then). The environment
variable ``PAPERIDX_INDEX_WORKERS`` sets how many (default: one per usable CPU, at most
four); ``PAPERIDX_INDEX_WORKERS=1`` keeps every write in this process, for debugging.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from whoosh import fields as whoosh_fields
from whoosh import index as whoosh_index
from whoosh.analysis import StandardAnalyzer
from whoosh.index import IndexError as WhooshIndexError
from whoosh.index import LockError

from paperidx.errors import IndexDamagedError, LibraryError, PaperidxError
from paperidx.results import StoredPaper
from paperidx.search import fields
from paperidx.search.analysis import ANALYZER
from paperidx.search.storage import INDEX_NAME, file_storage

# 5: the analyzer's HyphenFilter moved to `paperidx.search.analysis`; Whoosh pickles the
# schema with the filter's import path, so an index built by version 4 cannot be opened.
SCHEMA_VERSION = 5
STATE_FILE = "paperidx-index.json"
BULK_THRESHOLD = 5_000
# A bulk batch this large is indexed by worker processes (`paperidx.search.parallel`);
# below it, starting them costs more than they save.
PARALLEL_MINIMUM = BULK_THRESHOLD
# Memory for Whoosh's posting pool when many papers are indexed in one commit.
BULK_LIMIT_MB = 256
# paperidx's own writer lock is held around every index write, so Whoosh's lock is only
# ever busy when a stray process (an orphan of a killed writer) still holds it: do not
# wait long for that, rebuild beside it instead.
WHOOSH_LOCK_WAIT_SECONDS = 2.0
# Environment problems, not damage: rebuilding the index would not help.
_ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
)
# Whoosh trusts its files: it reads them with struct and pickle, so a truncated, missing or
# garbage file surfaces as any of these, from opening the index to reading a posting list.
_WHOOSH_DAMAGE: tuple[type[BaseException], ...] = (
    WhooshIndexError,
    OSError,
    EOFError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    AssertionError,
    ImportError,
    ArithmeticError,
    struct.error,
    pickle.UnpicklingError,
)


def build_schema() -> whoosh_fields.Schema:
    return whoosh_fields.Schema(
        **{
            fields.ID: whoosh_fields.ID(stored=True, unique=True),
            # Title and abstract together are what queries match; the title alone adds a
            # small boost and serves `title:` queries.
            fields.TITLE: whoosh_fields.TEXT(analyzer=ANALYZER, phrase=True),
            fields.TEXT: whoosh_fields.TEXT(analyzer=ANALYZER, phrase=True),
            fields.AUTHORS: whoosh_fields.TEXT(analyzer=StandardAnalyzer(stoplist=None)),
            fields.ARXIV_ID: whoosh_fields.ID,
            # Signed: Whoosh 2.7's range queries are wrong on unsigned numeric fields.
            fields.DATE: whoosh_fields.NUMERIC(int, bits=32, sortable=True),
        }
    )


@dataclass(slots=True)
class IndexState:
    """The index's state file: its schema, and the store revision it holds."""

    schema: int = SCHEMA_VERSION
    revision: int = 0
    # Whoosh's commit generation when `revision` was recorded. An index whose generation is
    # lower was rolled back (restored, or a commit lost) and no longer holds that revision.
    generation: int = 0


def _document(paper: StoredPaper) -> dict[str, Any]:
    date = paper.date
    return {
        fields.ID: paper.id,
        fields.TITLE: paper.title,
        fields.TEXT: paper.searchable_text,
        fields.AUTHORS: ", ".join(paper.authors),
        fields.ARXIV_ID: paper.arxiv_id or "",
        fields.DATE: int(date.strftime("%Y%m%d")) if date else 0,
    }


def _damage(path: Path, error: BaseException) -> str:
    detail = (error.strerror if isinstance(error, OSError) else str(error)) or ""
    shown = f"{type(error).__name__}: {detail[:120]}" if detail else type(error).__name__
    return f"the search index at {path} is damaged ({shown})"


class SearchIndex:
    """A Whoosh index in one folder, plus its state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Whoosh re-reads the newest table of contents for every reader, so one opened
        # index object serves a whole command: checking it, then searching it.
        self._opened: Any = None

    # -- state -------------------------------------------------------------------------

    def check(self, *, open_segments: bool = True) -> IndexState | None:
        """The state of a usable index; None when there is no index at all.

        Raises `IndexDamagedError` saying why an index that is there cannot be used: its
        state file is missing or from another version, a Whoosh file is missing, truncated
        or garbage (`open_segments` opens every segment to find out), or the index is older
        than its state file says.
        """
        if not self.path.exists():
            return None
        state = self._read_state()
        self._opened = None  # a check always looks at the files afresh
        ix = self._open()
        with self._whoosh_trouble():
            generation = int(ix.latest_generation())
            if open_segments:
                with ix.reader() as reader:
                    reader.doc_count()
        if generation < state.generation:
            raise IndexDamagedError(
                f"the search index at {self.path} is older than its state file says "
                f"(generation {generation}, expected {state.generation})"
            )
        return state

    def _read_state(self) -> IndexState:
        try:
            data = json.loads((self.path / STATE_FILE).read_text(encoding="utf-8"))
            state = IndexState(
                schema=int(data["schema"]),
                revision=int(data["revision"]),
                generation=int(data["generation"]),
            )
        except (OSError, ValueError, LookupError, TypeError):
            raise IndexDamagedError(
                f"the search index at {self.path} has no readable state file"
            ) from None
        if state.schema != SCHEMA_VERSION:
            raise IndexDamagedError(
                f"the search index at {self.path} was built by another version of paperidx"
            )
        return state

    def _write_state(self, revision: int, generation: int) -> None:
        target = self.path / STATE_FILE
        temporary = target.with_suffix(".tmp")
        with self._whoosh_trouble():
            temporary.write_text(
                json.dumps(
                    {"schema": SCHEMA_VERSION, "revision": revision, "generation": generation}
                ),
                encoding="utf-8",
            )
            os.replace(temporary, target)

    @contextmanager
    def _reading_trouble(self) -> Iterator[None]:
        """Like `_whoosh_trouble`, for searching: Whoosh reports a corrupt posting block
        with a bare `Exception` ("Block tag error"), so every failure while reading the
        index counts as damage. The caller rebuilds once and retries; a second failure is
        reported, so a real bug cannot loop."""
        try:
            with self._whoosh_trouble():
                yield
        except PaperidxError:
            raise
        except Exception as error:
            raise IndexDamagedError(_damage(self.path, error)) from None

    @contextmanager
    def _whoosh_trouble(self) -> Iterator[None]:
        """Whoosh's and the file system's errors as paperidx errors, at the index boundary."""
        try:
            yield
        except LockError:
            raise IndexDamagedError(
                f"the search index at {self.path} is locked by a stray process"
            ) from None
        except OSError as error:
            if error.errno in _ENVIRONMENT_ERRNOS:
                raise LibraryError(
                    f"cannot write the search index at {self.path}: {error.strerror}"
                ) from None
            raise IndexDamagedError(_damage(self.path, error)) from None
        except _WHOOSH_DAMAGE as error:
            raise IndexDamagedError(_damage(self.path, error)) from None

    # -- writing -----------------------------------------------------------------------

    def reset(self) -> None:
        """Throw the index away and start an empty one (the store is untouched)."""
        self._opened = None
        with self._whoosh_trouble():
            # The state file goes first: a crash half-way leaves an index that says it is
            # unusable, never a state file vouching for a half-deleted index.
            if self.path.is_dir() and not self.path.is_symlink():
                (self.path / STATE_FILE).unlink(missing_ok=True)
                shutil.rmtree(self.path)
            elif self.path.exists() or self.path.is_symlink():
                self.path.unlink()
            self.path.mkdir(parents=True)
            ix = file_storage(self.path).create_index(build_schema(), indexname=INDEX_NAME)
            self._write_state(0, int(ix.latest_generation()))

    def rebuild(self, papers: Iterable[StoredPaper], revision: int) -> int:
        """Replace the index with a new one holding `papers`, the store at `revision`.

        The new index is built complete beside this one and then moved into place, so a
        reader never sees it half-built: until the move it reads the old index, and for the
        instant between the two renames it finds none and waits for the writer lock.
        Returns how many papers were indexed.
        """
        staging = SearchIndex(self.path.with_name(self.path.name + ".new"))
        retired = self.path.with_name(self.path.name + ".old")
        try:
            staging.reset()
            count = staging.apply(papers, fresh=True, bulk=True)
            staging.mark_revision(revision)
            with self._whoosh_trouble():
                if retired.exists():
                    shutil.rmtree(retired)
                if self.path.exists():
                    os.rename(self.path, retired)
                os.rename(staging.path, self.path)
                self._opened = None
        except BaseException:
            shutil.rmtree(staging.path, ignore_errors=True)
            raise
        # Open readers keep their files; everything else of the old index can go.
        shutil.rmtree(retired, ignore_errors=True)
        return count

    def apply(self, papers: Iterable[StoredPaper], *, fresh: bool, bulk: bool) -> int:
        """Index new or changed papers in one commit. Returns how many were indexed.

        A paper the index already holds has its old copy deleted first, through one
        searcher for the whole batch; `fresh` (an index known to be empty) skips the look.

        A `bulk` batch of at least `PARALLEL_MINIMUM` papers is indexed by worker processes
        (`paperidx.search.parallel`); a smaller one, or any batch on one CPU, by this
        process alone.
        """
        workers = 1
        if bulk:
            pending = iter(papers)
            head = list(islice(pending, PARALLEL_MINIMUM))
            papers = head
            if len(head) >= PARALLEL_MINIMUM:
                from paperidx.search.parallel import worker_count

                papers = chain(head, pending)
                workers = worker_count()
        count = 0
        with self._writer(bulk=bulk, workers=workers) as writer:
            with self._whoosh_trouble():
                # One searcher for every deletion of an old copy: Whoosh's `update_document`
                # opens one per document (200 re-ingested papers: ~0.1 s of readers).
                searcher = None if fresh else writer.searcher()
            try:
                for paper in papers:
                    document = _document(paper)
                    # Only Whoosh's own work is translated: errors reading the store are not
                    # index damage and must not trigger a rebuild.
                    with self._whoosh_trouble():
                        if searcher is not None and (fields.ID, paper.id) in searcher.reader():
                            writer.delete_by_term(fields.ID, paper.id, searcher=searcher)
                        writer.add_document(**document)
                    count += 1
            finally:
                if searcher is not None:
                    with suppress(*_WHOOSH_DAMAGE):
                        searcher.close()
        return count

    def mark_revision(self, revision: int) -> None:
        """Record that every store change up to `revision` is in the index."""
        with self._whoosh_trouble():
            generation = int(self._open().latest_generation())
        self._write_state(revision, generation)

    @contextmanager
    def _writer(self, *, bulk: bool, workers: int = 1) -> Iterator[Any]:
        # Whoosh's own multiprocess writer (MpWriter) is not used: it forks workers that
        # outlive a parent killed with `kill -9`, and they inherit (and so keep holding) both
        # Whoosh's lock and paperidx's writer lock, blocking every later writer. With
        # `workers` > 1 the documents go to spawned workers that can do neither
        # (`paperidx.search.parallel`).
        with self._whoosh_trouble():
            self._discard_unfinished()
            ix = self._open()
            if workers > 1:
                from paperidx.search.parallel import ParallelWriter

                writer = ParallelWriter(
                    ix,
                    workers=workers,
                    timeout=WHOOSH_LOCK_WAIT_SECONDS,
                    limitmb=BULK_LIMIT_MB,
                )
            elif bulk:
                # Whoosh's own writer: its posting pool spills to disk, `FastWriter` holds
                # every posting in memory.
                writer = ix.writer(limitmb=BULK_LIMIT_MB, timeout=WHOOSH_LOCK_WAIT_SECONDS)
            else:
                from paperidx.search.writer import FastWriter  # write path only

                writer = FastWriter(ix, timeout=WHOOSH_LOCK_WAIT_SECONDS)
        try:
            yield writer
            with self._whoosh_trouble():
                writer.commit()
        except BaseException:
            from whoosh.writing import IndexingError  # write path only: keep reads light

            # For a parallel build this also stops the workers, before the cleanup below.
            with suppress(IndexingError, *_WHOOSH_DAMAGE):
                writer.cancel()
            with suppress(LibraryError):
                self._discard_unfinished()
            raise

    def _discard_unfinished(self) -> None:
        """Delete the files of writes that never committed (the caller holds the writer lock).

        Whoosh removes such files only when a later commit succeeds; after a full disk that
        commit never comes while they fill it, and after `kill -9` they waste space.
        """
        from paperidx.search.first_stage import committed_segments  # Whoosh's internals

        with self._whoosh_trouble():
            ix = self._open()
            generation, segments = committed_segments(ix)
            whoosh_index.clean_files(ix.storage, INDEX_NAME, generation, segments)
            shutil.rmtree(self.path / f"{INDEX_NAME}.tmp", ignore_errors=True)

    def _open(self) -> Any:
        if self._opened is None:
            with self._whoosh_trouble():
                self._opened = file_storage(self.path).open_index(INDEX_NAME)
        return self._opened

    # -- reading -----------------------------------------------------------------------

    def doc_count(self) -> int:
        with self._whoosh_trouble():
            return int(self._open().doc_count())

    @contextmanager
    def searcher(self, weighting: Any) -> Iterator[Any]:
        """A Whoosh searcher scoring with `weighting`, for the whole of one search.

        Every failure inside the block, the caller's work on the searcher included, is
        reported as `IndexDamagedError` (see `_reading_trouble`).
        """
        ix = self._open()
        with self._reading_trouble(), ix.searcher(weighting=weighting) as searcher:
            yield searcher
