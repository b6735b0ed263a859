"""The library: the one API the CLI (and any other program) uses.

Data flows one way: input -> parser -> validated `Paper` -> record store -> search index.
The store commits first (one transaction per input file); the index then catches up to the
store's revision. If anything dies in between, the next command notices the index is
behind and catches it up, so the two never drift for long and no paper is ever lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from paperidx.errors import InputError, LockTimeoutError, NotFoundError
from paperidx.locking import writer_lock
from paperidx.parsing.base import Notice, ParseOptions, RawRecord, Skipped
from paperidx.paths import LibraryPaths, resolve_home
from paperidx.results import (
    FileReport,
    Hit,
    IngestReport,
    LibraryStats,
    SearchResult,
    StoredPaper,
)
from paperidx.store import Store, StoreWriter

if TYPE_CHECKING:
    from paperidx.index import IndexResults, SearchIndex
    from paperidx.reading import Source

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    format: str | None = None
    encoding: str | None = None
    parse: ParseOptions = ParseOptions()


def _quiet(_message: str) -> None:
    return None


class Library:
    """A paperidx library in one folder (see `paperidx.paths`)."""

    def __init__(self, paths: LibraryPaths, *, on_message: Progress = _quiet) -> None:
        self.paths = paths
        self.on_message = on_message
        self._store: Store | None = None

    @classmethod
    def open(cls, home: Path | None = None, *, on_message: Progress = _quiet) -> Library:
        return cls(resolve_home(home), on_message=on_message)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------

    def _store_for_reading(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.paths.store, create=False)
        return self._store

    def _store_for_writing(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.paths.store, create=True)
        return self._store

    def _index(self) -> SearchIndex:
        from paperidx.index import SearchIndex

        return SearchIndex(self.paths.index)

    def _catch_up_index(self, store: Store) -> int:
        """Bring the index up to the store's revision (writer lock held). Returns papers indexed."""
        index = self._index()
        target = store.revision()
        state = index.state()
        if state is None:
            if index.path.exists():
                self.on_message("search index missing or from another version: rebuilding it")
            index.reset()
            after, fresh = 0, True
        elif state.revision >= target:
            return 0
        else:
            after, fresh = state.revision, False
        pending = store.count_changed(after)
        indexed = index.apply(store.iter_changed(after), fresh=fresh, bulk=pending >= 5_000)
        index.mark_revision(target)
        return indexed

    def _readable_index(self, store: Store) -> SearchIndex:
        """The index for a read command, caught up first when no writer is busy."""
        index = self._index()
        state = index.state()
        if state is not None and state.revision >= store.revision():
            return index
        try:
            with writer_lock(self.paths.lock, purpose="index repair", wait_seconds=0):
                self._catch_up_index(store)
        except LockTimeoutError:
            if state is None:
                raise
        return index

    # -- ingest ------------------------------------------------------------------------

    def ingest(
        self, arguments: list[str], options: IngestOptions = IngestOptions()
    ) -> IngestReport:
        from paperidx.reading import expand

        sources = expand(arguments)
        report = IngestReport()
        with writer_lock(self.paths.lock, purpose="ingest", on_wait=self.on_message):
            store = self._store_for_writing()
            self._catch_up_index(store)
            for source in sources:
                report.files.append(self._ingest_source(store, source, options))
            self._catch_up_index(store)
        return report

    def ingest_records(self, records: Iterable[RawRecord], source: str) -> FileReport:
        """Ingest records made by a program rather than read from a file (benchmarks, tools)."""
        file_report = FileReport(source=source, format="records")
        with writer_lock(self.paths.lock, purpose="ingest", on_wait=self.on_message):
            store = self._store_for_writing()
            with store.transaction() as writer:
                for record in records:
                    self._add_record(writer, record, source, file_report)
            self._catch_up_index(store)
        return file_report

    def _ingest_source(self, store: Store, source: Source, options: IngestOptions) -> FileReport:
        from paperidx.parsing import detect_format, parser_for
        from paperidx.reading import read_head, read_lines

        report = FileReport(source=source.name, format=options.format or "?")
        try:
            if options.format is None:
                report.format = detect_format(read_head(source, options.encoding))
            parser = parser_for(report.format)
            parse_options = replace(options.parse, source_name=source.path.name)
            digest = hashlib.sha256()
            lines = _hashing(read_lines(source, options.encoding), digest)
            with store.transaction() as writer:
                for event in parser(lines, parse_options):
                    if isinstance(event, RawRecord):
                        self._add_record(writer, event, source.name, report)
                    elif isinstance(event, Skipped):
                        report.skipped.append(f"{source.name}:{event.line}: {event.reason}")
                    elif isinstance(event, Notice):
                        report.notices.append(f"{source.name}: {event.message}")
                if report.new + report.merged == 0:
                    raise InputError(_nothing_found(source.name, report))
                writer.record_digest(digest.hexdigest(), source.name, report.parsed)
        except InputError as error:
            report.error = str(error)
            report.new = report.merged = 0
        return report

    def _add_record(
        self, writer: StoreWriter, record: RawRecord, source: str, report: FileReport
    ) -> None:
        from paperidx.acronyms import find_acronyms
        from paperidx.models import Rejected, validate_raw

        report.parsed += 1
        try:
            paper = validate_raw(record, source)
        except Rejected as rejected:
            report.rejected_records += 1
            for problem in rejected.problems:
                report.rejected.append(f"{source}:{rejected.line}: {problem}")
            return
        if record.carried_dates or record.carried_sources:
            paper = paper.model_copy(
                update={
                    "dates": sorted({*paper.dates, *record.carried_dates}),
                    "sources": list(dict.fromkeys([*record.carried_sources, *paper.sources])),
                }
            )
        if writer.add(paper):
            report.new += 1
        else:
            report.merged += 1
        writer.add_acronyms(paper.id, find_acronyms(paper.abstract))

    # -- reading -----------------------------------------------------------------------

    def show(self, reference: str) -> StoredPaper:
        return self._store_for_reading().resolve(reference)

    def list(
        self,
        *,
        limit: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[StoredPaper]:
        return self._store_for_reading().list(limit=limit, since=since, until=until)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sort_by_date: bool = False,
    ) -> SearchResult:
        from paperidx.query import plan_query

        store = self._store_for_reading()
        index = self._readable_index(store)
        plan = plan_query(query, since=since, until=until)
        found = index.search(
            plan, limit=limit, sort_by_date=sort_by_date, expansions=store.alternatives
        )
        result = self._hits(store, found)
        result.query = query
        return result

    def similar(self, reference: str, *, limit: int = 10) -> SearchResult:
        store = self._store_for_reading()
        paper = store.resolve(reference)
        index = self._readable_index(store)
        result = self._hits(store, index.similar(paper, limit=limit))
        result.query = f"similar to {paper.id}"
        return result

    def _hits(self, store: Store, found: IndexResults) -> SearchResult:
        from paperidx.ranking import snippet

        papers = store.get_many([h.paper_id for h in found.hits])
        hits = []
        for raw in found.hits:
            paper = papers.get(raw.paper_id)
            if paper is None:
                continue  # indexed but gone from the store: the next catch-up drops it
            text, spans = snippet(paper.abstract, found.terms)
            hits.append(Hit(len(hits) + 1, paper, raw.score, text, spans))
        return SearchResult(
            query="",
            hits=hits,
            total=found.total,
            notices=found.notices,
            explanation=found.explanation,
        )

    def stats(self) -> LibraryStats:
        store = self._store_for_reading()
        first, last = store.date_range()
        return LibraryStats(
            papers=store.count(),
            digests=store.digests(),
            first_date=first,
            last_date=last,
            home=str(self.paths.home),
            size_bytes=_folder_size(self.paths.home),
            with_arxiv_id=store.count_with_arxiv_id(),
        )

    # -- maintenance -------------------------------------------------------------------

    def reindex(self) -> int:
        """Rebuild the search index from the store. Returns papers indexed."""
        with writer_lock(self.paths.lock, purpose="reindex", on_wait=self.on_message):
            store = self._store_for_reading()
            self._index().reset()
            return self._catch_up_index(store)


def _hashing(lines: Iterator[str], digest: hashlib._Hash) -> Iterator[str]:
    for line in lines:
        digest.update(line.rstrip().encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
        yield line


def _nothing_found(name: str, report: FileReport) -> str:
    if report.rejected:
        return f"{name}: no valid papers ({len(report.rejected)} problems; first: {report.rejected[0]})"
    return f"{name}: no papers found (expected titles each followed by an abstract paragraph)"


def _folder_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                continue
    return total


__all__ = ["IngestOptions", "Library", "NotFoundError"]
