"""Keeping the search index in step with the record store: the most delicate code here.

The store commits first (one transaction per input file); the index then catches up to the
store's revision. If anything dies in between, the next command notices the index is
behind and catches it up; if the index is missing, damaged, built by another version, older
than its state file or ahead of the store, it is rebuilt from the store, beside the old one.
So the two never drift for long and no paper is ever lost.

Writers hold the writer lock (`paperidx.locking`) while they call `catch_up` or `rebuild`;
readers call `readable` and `read`, which repair only when no writer is at work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

from paperidx.errors import IndexDamagedError, LibraryError, LockTimeoutError
from paperidx.locking import writer_lock

if TYPE_CHECKING:
    from paperidx.paths import LibraryPaths
    from paperidx.search.index import SearchIndex
    from paperidx.store import Store

T = TypeVar("T")
Progress = Callable[[str], None]
# (what is being done, how many so far, how many in all when known)
Tracker = Callable[[str, int, int | None], None]
PROGRESS_EVERY = 250


def tracked(items: Iterable[T], what: str, total: int | None, track: Tracker) -> Iterator[T]:
    """Pass `items` through, telling `track` how far along they are every few hundred."""
    done = 0
    for item in items:
        yield item
        done += 1
        if done % PROGRESS_EVERY == 0:
            track(what, done, total)
    track(what, done, total)


class IndexSync:
    """The search index of one library, brought to the store's revision when needed."""

    def __init__(self, paths: LibraryPaths, on_message: Progress, on_progress: Tracker) -> None:
        self.paths = paths
        self.on_message = on_message
        self.on_progress = on_progress

    def index(self) -> SearchIndex:
        from paperidx.search.index import SearchIndex

        return SearchIndex(self.paths.index)

    def catch_up(self, store: Store) -> int:
        """Bring the index up to the store's revision (writer lock held). Returns papers indexed.

        Whatever is wrong with the index -- missing, damaged, built by another version,
        older than its state file, ahead of the store -- it is rebuilt from the store, and
        the user is told why (a first build is silent).
        """
        index = self.index()
        target = store.revision()
        try:
            state = index.check()
            if state is not None:
                return self._index_changes(index, store, state.revision, target)
        except IndexDamagedError as damage:
            self.on_message(f"{damage}: rebuilding it from the record store")
            return self.rebuild(store)
        if target > 0:  # not a first build: the index was there and has gone
            self.on_message(
                f"the search index at {index.path} is missing: rebuilding it from the record store"
            )
        return self.rebuild(store)

    def _index_changes(self, index: SearchIndex, store: Store, done: int, target: int) -> int:
        """Index what changed between revisions `done` and `target`, then verify the count.

        Raises `IndexDamagedError` when the index cannot be trusted (ahead of the store, or
        holding another number of papers: a lost or doubled Whoosh commit shows only here).
        """
        from paperidx.search.index import BULK_THRESHOLD

        if done > target:
            raise IndexDamagedError(
                f"the search index at {index.path} is ahead of the record store "
                f"(revision {done}, the store is at {target})"
            )
        indexed = 0
        if done < target:
            # 0 when every paper written since kept its revision: its index document is
            # unchanged (`StoreWriter.add`).
            pending = store.count_changed(done)
            if pending:
                changed = tracked(store.iter_changed(done), "indexing", pending, self.on_progress)
                indexed = index.apply(changed, fresh=False, bulk=pending >= BULK_THRESHOLD)
            index.mark_revision(target)
        documents, papers = index.doc_count(), store.count()
        if documents != papers:
            raise IndexDamagedError(
                f"the search index at {index.path} holds {documents} papers, "
                f"the record store {papers}"
            )
        return indexed

    def rebuild(self, store: Store) -> int:
        """A new index from every paper in the store (writer lock held)."""
        target = store.revision()
        papers = tracked(store.iter_changed(0), "indexing", store.count(), self.on_progress)
        return self.index().rebuild(papers, target)

    def readable(self, store: Store) -> SearchIndex:
        """The index for a read command, caught up or repaired first when no writer is busy.

        While a writer works, a usable index is read as it is: it lags by at most what the
        running ingest adds, which the writer indexes itself when it is done. A missing or
        damaged index cannot be read at all, so then the reader waits (bounded, saying so)
        for the writer lock and repairs the index if the writer has not.
        """
        index = self.index()
        try:
            # Segments are not opened to check them: the read opens them, and `read`
            # repairs an index found damaged then (a search opened them twice, ~0.5 ms).
            state = index.check(open_segments=False)
        except IndexDamagedError:
            state = None  # catch_up says what is wrong when it repairs it
        if state is not None and state.revision == store.revision():
            return index
        if state is None:
            with writer_lock(
                self.paths.lock, purpose="search index repair", on_wait=self.on_message
            ):
                self.catch_up(store)
            return index
        try:
            with writer_lock(self.paths.lock, purpose="search index update", wait_seconds=0):
                self.catch_up(store)
        except LockTimeoutError:
            pass  # a writer is at work; it catches the index up when it is done
        except LibraryError as error:
            # E.g. a read-only library: the index is usable, only not up to date.
            self.on_message(f"search results may miss recent papers: {error}")
        return index

    def read(self, store: Store, read: Callable[[SearchIndex], T]) -> T:
        """Read the index; damage found only while reading (a corrupt posting list passes
        every cheaper check) is repaired once from the store, then the read is retried."""
        index = self.readable(store)
        try:
            return read(index)
        except IndexDamagedError as damage:
            with writer_lock(
                self.paths.lock, purpose="search index repair", on_wait=self.on_message
            ):
                self.on_message(f"{damage}: rebuilding it from the record store")
                self.rebuild(store)
            return read(self.index())


__all__ = ["IndexSync", "Progress", "Tracker", "tracked"]
