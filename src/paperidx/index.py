"""The Whoosh full-text index: the only module that imports whoosh.

The index is derived data. It is built from the record store and can always be rebuilt
(`paperidx reindex`); the store remains the source of truth. Beside Whoosh's own files the
index keeps a small state file with the schema version it was built with and the store
revision it has caught up to: a different schema version means "rebuild", a lower revision
means "index the papers changed since".

Only the paper id is stored in the index; titles and abstracts for display come from the
store, which keeps the index small and ingest fast.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.index import EmptyIndexError, LockError

from paperidx.errors import LibraryError, LockTimeoutError
from paperidx.query import QueryPlan
from paperidx.results import StoredPaper

SCHEMA_VERSION = 2
STATE_FILE = "paperidx-index.json"
INDEX_NAME = "papers"
BULK_THRESHOLD = 5_000

ANALYZER = StemmingAnalyzer()


def build_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=ANALYZER, phrase=True),
        abstract=TEXT(analyzer=ANALYZER, phrase=True),
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


@dataclass(slots=True)
class RawHit:
    paper_id: str
    score: float


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
        "abstract": paper.abstract,
        "text": f"{paper.title}\n{paper.abstract}",
        "authors": ", ".join(paper.authors),
        "arxiv_id": paper.arxiv_id or "",
        "date": int(date.strftime("%Y%m%d")) if date else 0,
    }


class SearchIndex:
    """A Whoosh index in one folder, plus its state file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    # -- state -------------------------------------------------------------------------

    def state(self) -> IndexState | None:
        """The recorded state, or None when there is no usable index."""
        try:
            data = json.loads((self.path / STATE_FILE).read_text(encoding="utf-8"))
            state = IndexState(schema=int(data["schema"]), revision=int(data["revision"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if state.schema != SCHEMA_VERSION or not self._exists():
            return None
        return state

    def _write_state(self, revision: int) -> None:
        target = self.path / STATE_FILE
        temporary = target.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({"schema": SCHEMA_VERSION, "revision": revision}), encoding="utf-8"
        )
        os.replace(temporary, target)

    def _exists(self) -> bool:
        try:
            return bool(whoosh_index.exists_in(str(self.path), indexname=INDEX_NAME))
        except Exception:
            return False

    # -- writing -----------------------------------------------------------------------

    def reset(self) -> None:
        """Throw the index away and start an empty one (the store is untouched)."""
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        whoosh_index.create_in(str(self.path), build_schema(), indexname=INDEX_NAME)
        self._write_state(0)

    def apply(self, papers: Iterable[StoredPaper], *, fresh: bool, bulk: bool) -> int:
        """Index new or changed papers in one commit. Returns how many were indexed.

        `fresh` (an index known to be empty) skips the delete-before-add of an update.
        """
        count = 0
        with self._writer(bulk=bulk) as writer:
            add = writer.add_document if fresh else writer.update_document
            for paper in papers:
                add(**_document(paper))
                count += 1
        return count

    def mark_revision(self, revision: int) -> None:
        """Record that every store change up to `revision` is in the index."""
        self._write_state(revision)

    @contextmanager
    def _writer(self, *, bulk: bool) -> Iterator[Any]:
        ix = self._open()
        try:
            if bulk:
                writer = ix.writer(procs=os.cpu_count() or 1, limitmb=256, multisegment=True)
            else:
                writer = ix.writer(timeout=30.0)
        except LockError:
            raise LockTimeoutError("the search index is locked by another writer") from None
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def _open(self) -> Any:
        try:
            return whoosh_index.open_dir(str(self.path), indexname=INDEX_NAME)
        except (EmptyIndexError, OSError, ValueError, EOFError) as error:
            raise LibraryError(f"the search index at {self.path} is unreadable: {error}") from None

    # -- reading -----------------------------------------------------------------------

    def doc_count(self) -> int:
        ix = self._open()
        return int(ix.doc_count())

    def search(
        self,
        plan: QueryPlan,
        *,
        limit: int,
        sort_by_date: bool = False,
        expansions: Callable[[list[str]], dict[str, list[str]]] | None = None,
    ) -> IndexResults:
        """Run a planned query: parse, correct spelling, expand acronyms, filter, rank."""
        from paperidx import ranking

        ix = self._open()
        with ix.searcher(weighting=ranking.weighting()) as searcher:
            return ranking.run(
                searcher, plan, limit=limit, sort_by_date=sort_by_date, expansions=expansions
            )

    def similar(self, paper: StoredPaper, *, limit: int) -> IndexResults:
        """Papers sharing this one's most distinctive terms."""
        from paperidx import ranking

        ix = self._open()
        with ix.searcher(weighting=ranking.weighting()) as searcher:
            return ranking.more_like(searcher, f"{paper.title}\n{paper.abstract}", paper.id, limit)
