"""The Whoosh full-text index: the only module that imports whoosh.

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
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as whoosh_index
from whoosh.analysis import (
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StandardAnalyzer,
    StemFilter,
    StopFilter,
)
from whoosh.analysis.filters import STOP_WORDS
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.index import IndexError as WhooshIndexError
from whoosh.index import LockError
from whoosh.lang.porter2 import stem as porter2_stem

from paperidx.errors import IndexDamagedError, LibraryError, PaperidxError
from paperidx.query import QueryPlan
from paperidx.results import StoredPaper

if TYPE_CHECKING:
    from paperidx.ranking import Recommendation

SCHEMA_VERSION = 4
STATE_FILE = "paperidx-index.json"
INDEX_NAME = "papers"
BULK_THRESHOLD = 5_000
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


class HyphenFilter(Filter):  # type: ignore[misc]
    """ "GPT-4" -> "gpt", "4", "gpt4": parts and the joined form, so every spelling matches.

    Part of the pickled schema: keep its import path stable.
    """

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for token in tokens:
            text = token.text
            if "-" not in text:
                yield token
                continue
            parts = [part for part in text.split("-") if part]
            for part in parts:
                token.text = part
                yield token
            if len(parts) > 1:
                token.text = "".join(parts)
                yield token


def _analyzer() -> Any:
    """Words with inner hyphens or dots kept together ("gpt-4", "1.8"), Whoosh's short stop
    list, one-letter words kept, Porter2 stems (measured in benchmarks/quality.py)."""
    return (
        RegexTokenizer(r"\w+(?:[-.]\w+)*")
        | HyphenFilter()
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter(stemfn=porter2_stem, cachesize=-1)
    )


ANALYZER = _analyzer()


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        # Title and abstract together are what queries match; the title alone adds a
        # small boost and serves `title:` queries.
        title=TEXT(analyzer=ANALYZER, phrase=True),
        text=TEXT(analyzer=ANALYZER, phrase=True),
        authors=TEXT(analyzer=StandardAnalyzer(stoplist=None)),
        arxiv_id=ID,
        # Signed: Whoosh 2.7's range queries are wrong on unsigned numeric fields.
        date=NUMERIC(int, bits=32, sortable=True),
    )


@dataclass(slots=True)
class IndexState:
    schema: int = SCHEMA_VERSION
    revision: int = 0
    # Whoosh's commit generation when `revision` was recorded. An index whose generation is
    # lower was rolled back (restored, or a commit lost) and no longer holds that revision.
    generation: int = 0


@dataclass(frozen=True, slots=True)
class PaperSet:
    """Papers by id that a search may return (`allow`), or must not (`not allow`): whichever
    of the two is the shorter list."""

    ids: set[str]
    allow: bool


@dataclass(slots=True)
class RawHit:
    paper_id: str
    score: float
    because: str | None = None


@dataclass(slots=True)
class IndexResults:
    hits: list[RawHit]
    total: int
    # Analyzed (stemmed) query terms, for snippets.
    terms: set[str] = field(default_factory=set)
    notices: list[str] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)


def _document(paper: StoredPaper) -> dict[str, Any]:
    date = paper.date
    return {
        "id": paper.id,
        "title": paper.title,
        "text": paper.searchable_text,
        "authors": ", ".join(paper.authors),
        "arxiv_id": paper.arxiv_id or "",
        "date": int(date.strftime("%Y%m%d")) if date else 0,
    }


def _storage(path: Path) -> Any:
    """Whoosh's file storage without memory-mapping.

    With mmap, Whoosh reads a compound segment by copying each part it opens into memory
    (`BufferFile` wraps the map in a `BytesIO`): 350 MB per search at 75k papers. Without
    it, parts are read in place. Compound segments stay: their directory sits at the end of
    the file, so a truncated segment is noticed as soon as the index is opened.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(path), supports_mmap=False)


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

    def state(self) -> IndexState | None:
        """The recorded state, or None when there is no usable index."""
        try:
            return self.check(open_segments=False)
        except LibraryError:
            return None

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
            ix = _storage(self.path).create_index(build_schema(), indexname=INDEX_NAME)
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

        `fresh` (an index known to be empty) skips the delete-before-add of an update; so
        does a paper the index has never held (most papers of a daily ingest), because
        Whoosh's update opens a searcher per document to delete the old copy.
        """
        count = 0
        with self._writer(bulk=bulk) as writer:
            with self._whoosh_trouble():
                held = None if fresh else writer.reader()
            for paper in papers:
                document = _document(paper)
                # Only Whoosh's own work is translated: errors reading the store are not
                # index damage and must not trigger a rebuild.
                with self._whoosh_trouble():
                    if held is not None and ("id", paper.id) in held:
                        writer.update_document(**document)
                    else:
                        writer.add_document(**document)
                count += 1
        return count

    def mark_revision(self, revision: int) -> None:
        """Record that every store change up to `revision` is in the index."""
        with self._whoosh_trouble():
            generation = int(self._open().latest_generation())
        self._write_state(revision, generation)

    @contextmanager
    def _writer(self, *, bulk: bool) -> Iterator[Any]:
        # One process only: Whoosh's multiprocess writer forks workers that outlive a
        # parent killed with `kill -9`, and they inherit (and so keep holding) both
        # Whoosh's lock and paperidx's writer lock, blocking every later writer.
        with self._whoosh_trouble():
            self._discard_unfinished()
            ix = self._open()
            writer = ix.writer(
                limitmb=BULK_LIMIT_MB if bulk else 128,
                timeout=WHOOSH_LOCK_WAIT_SECONDS,
            )
        try:
            yield writer
            with self._whoosh_trouble():
                writer.commit()
        except BaseException:
            from whoosh.writing import IndexingError  # write path only: keep reads light

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
        with self._whoosh_trouble():
            ix = self._open()
            toc = ix._read_toc()  # Whoosh has no public way to list committed segments
            whoosh_index.clean_files(ix.storage, INDEX_NAME, toc.generation, toc.segments)
            shutil.rmtree(self.path / f"{INDEX_NAME}.tmp", ignore_errors=True)

    def _open(self) -> Any:
        if self._opened is None:
            with self._whoosh_trouble():
                self._opened = _storage(self.path).open_index(INDEX_NAME)
        return self._opened

    # -- reading -----------------------------------------------------------------------

    def doc_count(self) -> int:
        with self._whoosh_trouble():
            return int(self._open().doc_count())

    def search(
        self,
        plan: QueryPlan,
        *,
        limit: int,
        sort_by_date: bool = False,
        expansions: Callable[[list[str]], dict[str, list[str]]] | None = None,
        texts: Callable[[list[str]], dict[str, str]] | None = None,
        only: PaperSet | None = None,
        strict: bool = False,
    ) -> IndexResults:
        """Run a planned query: parse, correct spelling, expand acronyms, filter, rank.

        `expansions` looks up acronyms and long forms; `texts` gives the title and abstract
        of papers by id, for the proximity re-ranking; `only` restricts the papers (the
        user's `is:starred`, `tag:`); `strict` is for watches (see `ranking.run`).
        """
        from paperidx import ranking

        ix = self._open()
        with self._reading_trouble(), ix.searcher(weighting=ranking.weighting()) as searcher:
            allowed = None
            if only is not None:
                allowed = ranking.DocFilter.of_papers(searcher, only.ids, only.allow)
            return ranking.run(
                searcher,
                plan,
                limit=limit,
                sort_by_date=sort_by_date,
                expansions=expansions,
                texts=texts,
                only=allowed,
                strict=strict,
            )

    def recommend(
        self,
        liked: dict[str, str],
        disliked: dict[str, str],
        excluded: set[str],
        *,
        limit: int,
        dislike_weight: float | None = None,
    ) -> list[Recommendation]:
        """Papers most like the `liked` ones (id -> text); see `ranking.recommend`."""
        from paperidx import ranking

        ix = self._open()
        weight = ranking.RECOMMEND_DISLIKE_WEIGHT if dislike_weight is None else dislike_weight
        with self._reading_trouble(), ix.searcher(weighting=ranking.weighting()) as searcher:
            return ranking.recommend(
                searcher, liked, disliked, excluded, limit, dislike_weight=weight
            )

    def similar(self, paper: StoredPaper, *, limit: int) -> IndexResults:
        """Papers sharing this one's most distinctive terms."""
        from paperidx import ranking

        ix = self._open()
        with self._reading_trouble(), ix.searcher(weighting=ranking.weighting()) as searcher:
            return ranking.more_like(searcher, paper.searchable_text, paper.id, limit)
