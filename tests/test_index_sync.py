"""`paperidx.index_sync` on its own: catching up, rebuilding, and saying why."""

from __future__ import annotations

import shutil
from pathlib import Path

from paperidx.index_sync import IndexSync, tracked
from paperidx.paths import LibraryPaths
from paperidx.store import Store

from .reliability_support import generated_papers, ingest_in_process, write_jsonl


def test_tracked_reports_every_few_hundred_and_at_the_end() -> None:
    seen: list[tuple[str, int, int | None]] = []
    assert list(tracked(range(600), "indexing", 600, lambda *a: seen.append(a))) == list(range(600))
    assert seen == [("indexing", 250, 600), ("indexing", 500, 600), ("indexing", 600, 600)]


def test_catch_up_indexes_what_the_store_has_and_rebuilds_a_missing_index(
    tmp_path: Path, library_home: Path
) -> None:
    path = tmp_path / "papers.jsonl"
    write_jsonl(path, generated_papers("sync", 30))
    ingest_in_process(path)
    messages: list[str] = []
    sync = IndexSync(LibraryPaths(library_home), messages.append, lambda *_: None)
    store = Store.open(library_home / "papers.sqlite3", create=False)
    try:
        assert sync.catch_up(store) == 0  # already caught up: nothing to do, nothing said
        assert messages == []
        shutil.rmtree(library_home / "index")
        assert sync.catch_up(store) == 30
        assert messages == [
            f"the search index at {library_home / 'index'} is missing: "
            "rebuilding it from the record store"
        ]
        assert sync.index().doc_count() == store.count() == 30
        assert sync.read(store, lambda index: index.doc_count()) == 30
    finally:
        store.close()
