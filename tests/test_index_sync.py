"""`paperidx.index_sync` on its own: catching up, rebuilding, and saying why."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from paperidx.index_sync import IndexSync, tracked
from paperidx.models import Paper, paper_id, searched_alike
from paperidx.paths import LibraryPaths
from paperidx.results import StoredPaper
from paperidx.search.index import _document
from paperidx.store import Store

from .reliability_support import cli, generated_papers, ingest_in_process, write_jsonl


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


def _generation(home: Path) -> list[str]:
    """The index's commit (Whoosh's table of contents): a new one for every commit."""
    return sorted(path.name for path in (home / "index").glob("*.toc"))


def test_papers_that_come_back_alike_are_not_indexed_again(
    tmp_path: Path, library_home: Path
) -> None:
    papers = generated_papers("again", 20)
    write_jsonl(tmp_path / "monday.jsonl", papers)
    ingest_in_process(tmp_path / "monday.jsonl")
    committed = _generation(library_home)
    # The same papers from another feed, one of them on a later day: a new source each.
    again = [dict(paper) for paper in papers]
    again[0]["date"] = "2024-06-30"
    write_jsonl(tmp_path / "tuesday.jsonl", again)
    ingest_in_process(tmp_path / "tuesday.jsonl")
    assert _generation(library_home) == committed
    shown = cli("show", paper_id(papers[0]["title"]), "--format", "json")
    assert "tuesday.jsonl" in shown.stdout and "2024-06-30" in shown.stdout
    # A copy with a longer abstract replaces the stored one: that paper is indexed again.
    again[1]["abstract"] += " It also covers zqlongerabstractx."
    write_jsonl(tmp_path / "wednesday.jsonl", again)
    store = Store.open(library_home / "papers.sqlite3", create=False)
    try:
        before = store.revision()
    finally:
        store.close()
    ingest_in_process(tmp_path / "wednesday.jsonl")
    assert _generation(library_home) != committed
    store = Store.open(library_home / "papers.sqlite3", create=False)
    try:
        assert [paper.id for paper in store.iter_changed(before)] == [paper_id(papers[1]["title"])]
    finally:
        store.close()
    found = cli("search", "zqlongerabstractx", "--format", "jsonl")
    hits = [json.loads(line)["id"] for line in found.stdout.splitlines()]
    assert hits == [paper_id(papers[1]["title"])]


_DAYS = st.dates(dt.date(2024, 5, 1), dt.date(2024, 5, 9))
# What a copy of the paper may bring: each field, a few values (commas included: authors
# are indexed joined by ", ").
_COPIES = {
    "title": st.sampled_from(["A study", "A Study", "Another study"]),
    "abstract": st.sampled_from(["", "We show x.", "We show y."]),
    "authors": st.lists(st.sampled_from(["Ann Lee", "Bo Li", "Lee, Ann"]), max_size=3),
    "arxiv_id": st.sampled_from([None, "2405.00001", "2405.00002"]),
    "dates": st.lists(_DAYS, max_size=3, unique=True).map(sorted),
    "sources": st.lists(st.sampled_from(["a.txt", "b.jsonl"]), unique=True),
    "links": st.lists(st.sampled_from(["https://a.org/1", "https://b.org/2"]), unique=True),
    "doi": st.sampled_from([None, "10.1000/xyz"]),
    "published": st.sampled_from([None, dt.date(2024, 4, 1)]),
}


@given(st.fixed_dictionaries({}, optional=_COPIES), st.fixed_dictionaries({}, optional=_COPIES))
def test_papers_are_searched_alike_exactly_when_their_index_documents_are_the_same(
    one_copy: dict[str, Any], other_copy: dict[str, Any]
) -> None:
    base: dict[str, Any] = {
        "id": "0123456789",
        "title": "A study",
        "abstract": "We show x.",
        "authors": ["Ann Lee"],
        "arxiv_id": None,
        "dates": [dt.date(2024, 5, 2)],
        "sources": ["a.txt"],
        "links": [],
        "doi": None,
        "published": None,
    }
    one, other = (Paper.model_construct(**base | copy) for copy in (one_copy, other_copy))
    documents = [_document(StoredPaper(**dict(paper))) for paper in (one, other)]
    assert searched_alike(one, other) == (documents[0] == documents[1])
