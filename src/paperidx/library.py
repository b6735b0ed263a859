"""The library: the one API the CLI (and any other program) uses.

Data flows one way: input -> parser -> validated `Paper` -> record store -> search index.
This module is the API: ingest, read, search, the user's state and watches. Keeping the
index in step with the store is `paperidx.index_sync`; the checks of `doctor` are
`paperidx.doctor`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from paperidx import state
from paperidx.errors import (
    InputError,
    NotFoundError,
    UsageError,
)
from paperidx.index_sync import IndexSync, Progress, Tracker, tracked
from paperidx.locking import writer_lock
from paperidx.paths import LibraryPaths, resolve_home
from paperidx.results import Hit, SearchResult, StoredPaper
from paperidx.state import PaperState, StateFilter, Watch
from paperidx.store import Store, StoreWriter

if TYPE_CHECKING:
    from paperidx.models import Paper
    from paperidx.parsing.base import CarriedWatch, ParseOptions, RawRecord
    from paperidx.reading import Source
    from paperidx.reports import FileReport, Finding, IngestReport, LibraryStats
    from paperidx.search.ranking import IndexResults

T = TypeVar("T")
# A limit no library reaches: every match of a query.
EVERY_MATCH = 10_000_000
# The most recently starred (and read) papers a recommendation starts from.
MAX_RECOMMEND_SEEDS = 100


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How `Library.ingest` reads its inputs (each left None is detected)."""

    format: str | None = None
    encoding: str | None = None
    # None: what the input says, and today's date (see `paperidx.parsing.base.ParseOptions`).
    parse: ParseOptions | None = None


def _quiet(_message: str) -> None:
    return None


def _untracked(_what: str, _done: int, _total: int | None) -> None:
    return None


class Library:
    """A paperidx library in one folder (see `paperidx.paths`)."""

    def __init__(
        self,
        paths: LibraryPaths,
        *,
        on_message: Progress = _quiet,
        on_progress: Tracker = _untracked,
    ) -> None:
        self.paths = paths
        self.on_message = on_message
        self.on_progress = on_progress
        self._store: Store | None = None
        self._store_verified = False
        self._sync = IndexSync(paths, on_message, on_progress)

    @classmethod
    def open(
        cls,
        home: Path | None = None,
        *,
        on_message: Progress = _quiet,
        on_progress: Tracker = _untracked,
    ) -> Library:
        return cls(resolve_home(home), on_message=on_message, on_progress=on_progress)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
            self._store_verified = False

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
        if not self._store_verified:
            # Writing into a damaged database could spread the damage or bury it under new
            # rows: refuse, once per library object, before the first write.
            self._store.refuse_if_damaged()
            self._store_verified = True
        return self._store

    # -- ingest ------------------------------------------------------------------------

    def ingest(
        self, arguments: list[str], options: IngestOptions = IngestOptions()
    ) -> IngestReport:
        from paperidx.reading import expand
        from paperidx.reports import IngestReport

        sources = expand(arguments)
        report = IngestReport()
        with writer_lock(self.paths.lock, purpose="ingest", on_wait=self.on_message):
            store = self._store_for_writing()
            self._sync.catch_up(store)
            for source in sources:
                report.files.append(self._ingest_source(store, source, options))
            if report.new or report.merged:
                # The papers are committed: their pages reach the file while they are indexed.
                store.fold_log_in_background()
            self._sync.catch_up(store)
            new_ids = {pid for file in report.files for pid in file.new_ids}
            if new_ids:
                report.watches = self._run_watches(store, new_ids)
        return report

    def ingest_records(self, records: Iterable[RawRecord], source: str) -> FileReport:
        """Ingest records made by a program rather than read from a file (benchmarks, tools)."""
        from paperidx.reports import FileReport

        file_report = FileReport(source=source, format="records")
        with writer_lock(self.paths.lock, purpose="ingest", on_wait=self.on_message):
            store = self._store_for_writing()
            with store.transaction() as writer:
                for record in records:
                    self._add_record(writer, record, source, file_report)
            self._sync.catch_up(store)
        return file_report

    def _ingest_source(self, store: Store, source: Source, options: IngestOptions) -> FileReport:
        from paperidx.parsing import detect_format, parser_for, unreadable
        from paperidx.parsing.base import CarriedWatch, Notice, ParseOptions, RawRecord, Skipped
        from paperidx.reading import read_head, read_lines
        from paperidx.reports import FileReport

        report = FileReport(source=source.name, format=options.format or "?")
        head = ""
        try:
            head = read_head(source, options.encoding)
            if options.format is None:
                report.format = detect_format(head, source.name)
            parser = parser_for(report.format)
            parse_options = replace(options.parse or ParseOptions(), source_name=source.path.name)
            digest = hashlib.sha256()
            lines = _hashing(read_lines(source, options.encoding), digest)
            watches = 0
            with store.transaction() as writer:
                events = tracked(
                    parser(lines, parse_options), f"reading {source.name}", None, self.on_progress
                )
                for event in events:
                    if isinstance(event, RawRecord):
                        self._add_record(writer, event, source.name, report)
                    elif isinstance(event, Skipped):
                        report.note_skipped(f"{source.name}:{event.line}: {event.reason}")
                    elif isinstance(event, Notice):
                        report.notices.append(f"{source.name}: {event.message}")
                    elif isinstance(event, CarriedWatch):
                        watches += 1
                        self._restore_watch(writer, event, source.name, report)
                if report.new + report.merged + watches == 0:
                    if report.rejected:
                        raise InputError(_nothing_valid(source.name, report))
                    # Which parser found nothing helps when it was not the plain-text fallback.
                    tried = "" if report.format == "digest" else f"read as {report.format}"
                    raise unreadable(source.name, head, tried)
                writer.record_digest(digest.hexdigest(), source.name, report.parsed)
        except InputError as error:
            message = str(error)
            # Parsers describe what is wrong; the file it is wrong in is named here.
            named = message.startswith(source.name)
            report.error = message if named else f"{source.name}: {message}"
            report.new = report.merged = 0
        return report

    def _add_record(
        self, writer: StoreWriter, record: RawRecord, source: str, report: FileReport
    ) -> None:
        from paperidx.models import Rejected, validate_raw
        from paperidx.search.acronyms import find_acronyms

        report.parsed += 1
        try:
            paper = validate_raw(record, source)
        except Rejected as rejected:
            report.rejected_records += 1
            for problem in rejected.problems:
                report.note_rejected(f"{source}:{rejected.line}: {problem}")
            return
        paper = _with_carried_provenance(paper, record)
        new, stored_id = writer.add(paper)
        if new:
            report.new += 1
            report.new_ids.append(stored_id)
        else:
            report.merged += 1
        writer.add_acronyms(stored_id, find_acronyms(paper.abstract))
        carried = PaperState.from_dict(record.carried_state)
        if carried is not None and not carried.empty:
            report.restored += 1
            if state.restore(writer.connection, stored_id, carried):
                report.notes_kept += 1

    def _restore_watch(
        self, writer: StoreWriter, watch: CarriedWatch, source: str, report: FileReport
    ) -> None:
        """A watch from an export: added unless the library has its own of that name."""
        known = {w.name: w for w in state.watches(writer.connection)}
        mine = known.get(watch.name)
        if mine is None:
            try:
                _check_watch_query(watch.query, watch.exclude)
                state.add_watch(
                    writer.connection, watch.name, watch.query, watch.exclude, replace=False
                )
            except UsageError as error:
                report.note_skipped(f"{source}:{watch.line}: watch not restored: {error}")
        elif (mine.query, mine.exclude) != (watch.query, watch.exclude):
            report.notices.append(
                f"{source}:{watch.line}: kept this library's watch {watch.name!r} "
                "(the export's has another query)"
            )

    # -- reading -----------------------------------------------------------------------

    def show(self, reference: str) -> StoredPaper:
        """One paper with the user's marks, tags and note."""
        store = self._store_for_reading()
        return self._with_state(store, [store.resolve(reference)])[0]

    def list_papers(
        self,
        *,
        limit: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        wanted: StateFilter | None = None,
    ) -> list[StoredPaper]:
        return [*self.iter_papers(limit=limit, since=since, until=until, wanted=wanted)]

    def iter_papers(
        self,
        *,
        limit: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        wanted: StateFilter | None = None,
    ) -> Iterator[StoredPaper]:
        """Like `list_papers`, streamed (exports of the whole library), with the user's state."""
        store = self._store_for_reading()
        papers = store.iter_all(limit=limit, since=since, until=until, wanted=wanted)
        for batch in _batched(papers, 500):
            yield from self._with_state(store, batch)

    def select_papers(
        self,
        query: str,
        *,
        limit: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> tuple[Iterator[StoredPaper], list[str]]:
        """What an export writes: the whole library streamed from the store (newest first),
        or every paper a search finds (best first), with the user's state; and the search's
        notices. No snippets are made: a query matching 14k of 75k papers took 13 s with."""
        if not query:
            return self.iter_papers(limit=limit, since=since, until=until), []
        store = self._store_for_reading()
        found = self._search_index(store, query, limit or EVERY_MATCH, since, until, False)
        papers = store.get_many([hit.paper_id for hit in found.hits])
        ranked = [papers[hit.paper_id] for hit in found.hits if hit.paper_id in papers]
        return iter(self._with_state(store, ranked)), found.notices

    def _with_state(self, store: Store, papers: list[StoredPaper]) -> list[StoredPaper]:
        found = store.read_state(lambda db: state.states(db, [p.id for p in papers]))
        return [replace(p, state=found.get(p.id, PaperState())) for p in papers]

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        since: dt.date | None = None,
        until: dt.date | None = None,
        sort_by_date: bool = False,
    ) -> SearchResult:
        store = self._store_for_reading()
        found = self._search_index(store, query, limit, since, until, sort_by_date)
        result = self._hits(store, found)
        result.query = query
        return result

    def _search_index(
        self,
        store: Store,
        query: str,
        limit: int,
        since: dt.date | None,
        until: dt.date | None,
        sort_by_date: bool,
    ) -> IndexResults:
        from paperidx.search import ranking
        from paperidx.search.plan import plan_query
        from paperidx.search.ranking import IndexResults, PaperSet, RawHit

        plan = plan_query(query, since=since, until=until)
        if not plan.text and plan.state.active:
            # Only filters (`is:starred tag:x`): the papers in that state, newest first.
            listed = store.iter_all(
                limit=limit, since=plan.since, until=plan.until, wanted=plan.state
            )
            hits = [RawHit(p.id, 0.0) for p in listed]
            return IndexResults(hits, len(hits), notices=plan.notices)
        only = PaperSet(*store.state_selection(plan.state)) if plan.state.active else None
        return self._sync.read(
            store,
            lambda index: ranking.run(
                index,
                plan,
                limit=limit,
                sort_by_date=sort_by_date,
                expansions=store.alternatives,
                texts=store.texts,
                only=only,
            ),
        )

    def similar(self, reference: str, *, limit: int = 10) -> SearchResult:
        from paperidx.search import ranking

        store = self._store_for_reading()
        paper = store.resolve(reference)
        result = self._hits(
            store, self._sync.read(store, lambda index: ranking.similar(index, paper, limit=limit))
        )
        result.query = f"similar to {paper.id}"
        return result

    def _hits(self, store: Store, found: IndexResults) -> SearchResult:
        from paperidx.search.analysis import snippet

        papers = store.get_many([h.paper_id for h in found.hits])
        hits: list[Hit] = []
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
        from paperidx.reports import LibraryStats

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

    # -- the user's state ----------------------------------------------------------------

    def _store_for_state(self) -> Store:
        """The store, for a change to the user's state: it must exist and be sound."""
        store = self._store_for_reading()
        if not self._store_verified:
            store.refuse_if_damaged()
            self._store_verified = True
        return store

    def mark(self, references: list[str], action: str) -> list[StoredPaper]:
        """Mark papers read, unread, starred or unstarred. Every reference is resolved before
        anything changes: one unknown id changes nothing."""
        if action not in state.MARK_ACTIONS:
            raise UsageError(f"{action!r} is not one of {', '.join(state.MARK_ACTIONS)}")
        store = self._store_for_state()
        papers = list({p.id: p for p in map(store.resolve, references)}.values())
        with store.user_transaction(self.on_message) as db:
            state.mark(db, [p.id for p in papers], action)
        return self._with_state(store, papers)

    def tag(self, reference: str, changes: list[str]) -> StoredPaper:
        """`+name` (or `name`) adds a tag, `-name` removes one."""
        add = [state.check_tag(c.removeprefix("+")) for c in changes if not c.startswith("-")]
        remove = [c[1:] for c in changes if c.startswith("-")]
        if not add and not remove:
            raise UsageError("no tags given (+name adds one, -name removes one)")
        store = self._store_for_state()
        paper = store.resolve(reference)
        with store.user_transaction(self.on_message) as db:
            state.change_tags(db, paper.id, add, remove)
        return self._with_state(store, [paper])[0]

    def note(self, reference: str, body: str | None) -> StoredPaper:
        """Replace a paper's note; `None` deletes it. An empty note is refused."""
        if body is not None and not body.strip():
            raise UsageError("the note is empty: nothing changed (--delete removes a note)")
        store = self._store_for_state()
        paper = store.resolve(reference)
        with store.user_transaction(self.on_message) as db:
            state.set_note(db, paper.id, body or "")
        return self._with_state(store, [paper])[0]

    def watches(self) -> list[Watch]:
        return self._store_for_reading().read_state(state.watches)

    def add_watch(
        self, name: str, query: str, exclude: str = "", *, replace: bool = False
    ) -> Watch:
        """Add a watch; papers ingested from now on that match it are remembered for `new`."""
        state.check_watch_name(name)
        _check_watch_query(query, exclude)
        store = self._store_for_writing()
        with store.user_transaction(self.on_message) as db:
            state.add_watch(db, name, query.strip(), exclude.strip(), replace=replace)
        return next(w for w in self.watches() if w.name == name)

    def remove_watch(self, name: str) -> None:
        store = self._store_for_state()
        with store.user_transaction(self.on_message) as db:
            if not state.remove_watch(db, name):
                raise NotFoundError(f"no watch named {name!r}")

    def new_papers(
        self, name: str | None = None, *, peek: bool = False
    ) -> dict[str, list[StoredPaper]]:
        """Papers watches matched since the last look, by watch; marked seen unless `peek`."""
        store = self._store_for_reading()
        if name is not None and name not in {w.name for w in self.watches()}:
            raise NotFoundError(f"no watch named {name!r}")
        hits = store.read_state(lambda db: state.unseen_hits(db, name))
        if hits and not peek:
            with self._store_for_state().user_transaction(self.on_message) as db:
                state.mark_seen(db, hits)
        papers = store.get_many([pid for ids in hits.values() for pid in ids])
        return {
            watch: self._with_state(store, [papers[pid] for pid in ids if pid in papers])
            for watch, ids in hits.items()
        }

    def _run_watches(self, store: Store, new_ids: set[str]) -> dict[str, int]:
        """Match every watch against the papers an ingest added (writer lock held)."""
        from paperidx.search.plan import plan_query

        watches = store.read_state(state.watches)
        if not watches:
            return {}
        from paperidx.search import ranking
        from paperidx.search.ranking import PaperSet

        # Only the new papers are looked at (matching is narrowed to their ids): over the
        # whole library, five watches walked its posting lists for ~0.3 s at 20k papers.
        found = ranking.run_many(
            self._sync.index(),
            [plan_query(watch_query(watch.query, watch.exclude)) for watch in watches],
            limit=len(new_ids),
            expansions=store.alternatives,
            only=PaperSet(new_ids, allow=True),
            strict=True,
        )
        matched = {
            watch.name: [hit.paper_id for hit in results.hits]
            for watch, results in zip(watches, found, strict=True)
        }
        counts: dict[str, int] = {}
        with store.user_transaction(self.on_message) as db:
            for name, ids in matched.items():
                counts[name] = state.record_hits(db, name, ids)
        return counts

    def recommend(self, *, limit: int = 20, dislike_weight: float | None = None) -> SearchResult:
        """Unread papers ranked by how much they resemble the starred ones, each with the
        star it resembles most. Offline and with nothing to train: the index is the model.
        """
        from paperidx.search import ranking
        from paperidx.search.ranking import IndexResults

        store = self._store_for_reading()
        starred = store.read_state(lambda db: state.marked(db, "starred", MAX_RECOMMEND_SEEDS))
        if not starred:
            raise UsageError("no starred papers yet: star a few (paperidx mark ID star) first")
        read = store.read_state(lambda db: state.marked(db, "read", None))
        liked = store.get_many(starred)
        disliked_ids = [pid for pid in read if pid not in liked][:MAX_RECOMMEND_SEEDS]
        disliked = store.get_many(disliked_ids)
        picks = self._sync.read(
            store,
            lambda index: IndexResults(
                hits=ranking.recommend(
                    index,
                    {pid: p.searchable_text for pid, p in liked.items()},
                    {pid: p.searchable_text for pid, p in disliked.items()},
                    set(read),
                    limit=limit,
                    dislike_weight=dislike_weight,
                ),
                total=0,
            ),
        )
        papers = store.get_many([h.paper_id for h in picks.hits])
        hits: list[Hit] = []
        for raw in picks.hits:
            if raw.paper_id not in papers or raw.because not in liked:
                continue
            reason = f"because you starred: {liked[raw.because].title}"
            hits.append(
                Hit(len(hits) + 1, papers[raw.paper_id], raw.score, reason, because=raw.because)
            )
        return SearchResult(query="recommend", hits=hits, total=len(hits))

    # -- maintenance -------------------------------------------------------------------

    def reindex(self) -> int:
        """Rebuild the search index from the store. Returns papers indexed."""
        with writer_lock(self.paths.lock, purpose="reindex", on_wait=self.on_message):
            return self._sync.rebuild(self._store_for_reading())

    def doctor(self, *, fix: bool = False) -> list[Finding]:
        """Check the store, the user's state and the search index (see `paperidx.doctor`)."""
        from paperidx.doctor import doctor

        return doctor(self._store_for_reading, self._sync, fix=fix)


def _with_carried_provenance(paper: Paper, record: RawRecord) -> Paper:
    """A re-imported export keeps the dates, sources and id its records carry.

    Carried sources replace the export file's own `file:line`: the export is a copy of the
    library, not another sighting of the paper, and adding it would grow every record on
    each export-and-import round trip. A carried id is kept only when the title derives it
    (see `StoreWriter.add`), so an input cannot choose ids that collide with others.
    """
    from paperidx.models import twin_id

    update: dict[str, object] = {}
    if record.carried_dates:
        update["dates"] = sorted({*paper.dates, *record.carried_dates})
    if record.carried_sources:
        update["sources"] = list(dict.fromkeys(record.carried_sources))
    if paper.arxiv_id and record.carried_id == twin_id(paper.title, paper.arxiv_id):
        update["id"] = record.carried_id
    return paper.model_copy(update=update) if update else paper


def watch_query(query: str, exclude: str) -> str:
    """A watch as the query it runs: plain words must all appear (a watch is a standing
    alert, not a ranking: "gaussian splatting" must not fire on every "gaussian"); the
    query language is used as written; `exclude` removes what it matches."""
    from paperidx.search.plan import needs_parser

    text = query if needs_parser(query) else " AND ".join(query.split())
    return f"({text}) NOT ({exclude})" if exclude.strip() else text


def _check_watch_query(query: str, exclude: str) -> None:
    from paperidx.search.plan import plan_query, syntax_problem

    if not query.strip():
        raise UsageError("a watch needs a query")
    for what, text in (("query", query), ("--exclude", exclude)):
        problem = syntax_problem(text) if text.strip() else None
        if problem:
            raise UsageError(f"the watch {what} {text!r} has {problem}")
    if not plan_query(query).text:
        raise UsageError(f"the watch query {query!r} has no words to look for")


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _hashing(lines: Iterator[str], digest: hashlib._Hash) -> Iterator[str]:
    for line in lines:
        digest.update(line.rstrip().encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
        yield line


def _nothing_valid(name: str, report: FileReport) -> str:
    first = report.rejected[0]
    return f"{name}: no valid papers ({report.rejected_records} rejected; first: {first})"


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
