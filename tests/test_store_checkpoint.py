"""The record store copies an ingest's write-ahead log into its file while the ingest goes on.

`Store.fold_log_in_background` runs SQLite's checkpoint on a thread of its own while the
index is updated; closing the store waits for it. What a user relies on: the papers are in
the store's file when the command ends, no thread is left behind, and a checkpoint that
fails costs nothing (closing copies the log as before).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from paperidx import store as store_module
from paperidx.store import Store

from .reliability_support import (
    cli,
    generated_papers,
    ingest_in_process,
    store_ids,
    write_jsonl,
)


def papers_in_main_file(path: Path) -> int:
    """Papers in the database file itself, not counting what only its log holds."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM papers").fetchone()[0])


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "paperidx-checkpoint"]


def test_an_ingest_copies_its_papers_into_the_file_before_closing_and_leaves_no_thread(
    tmp_path: Path, library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = tmp_path / "earlier.jsonl"
    write_jsonl(earlier, generated_papers("earlier", 5))
    ingest_in_process(earlier)
    in_file_at_close: list[int] = []
    real_close = Store.close

    def close(store: Store) -> None:
        # What the file holds once the background copy is done, before close copies the rest.
        for thread in checkpoint_threads():
            thread.join()
        in_file_at_close.append(papers_in_main_file(store.path))
        real_close(store)

    monkeypatch.setattr(Store, "close", close)
    path = tmp_path / "papers.jsonl"
    ids = write_jsonl(path, generated_papers("fold", 40))
    ingest_in_process(path)
    assert in_file_at_close == [45]
    assert checkpoint_threads() == []
    assert ids <= set(store_ids(library_home))


def test_a_failed_background_checkpoint_loses_nothing(
    tmp_path: Path, library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "papers.jsonl"
    ids = write_jsonl(path, generated_papers("refused", 20))
    real_fold = store_module._fold_log
    calls: list[Path] = []

    def fold(at: Path) -> None:
        calls.append(at)
        real_fold(at.parent / "gone" / at.name)  # SQLite cannot open it: the copy fails

    monkeypatch.setattr(store_module, "_fold_log", fold)
    ingest_in_process(path)
    assert calls == [library_home / "papers.sqlite3"]
    assert set(store_ids(library_home)) == ids
    assert papers_in_main_file(library_home / "papers.sqlite3") == 20
    assert checkpoint_threads() == []


def test_an_ingest_that_stores_nothing_starts_no_checkpoint(
    tmp_path: Path, library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "papers.jsonl"
    write_jsonl(path, generated_papers("first", 10))
    ingest_in_process(path)
    calls: list[Path] = []
    monkeypatch.setattr(store_module, "_fold_log", calls.append)
    refused = tmp_path / "notes.txt"
    refused.write_text("just a line\n", encoding="utf-8")
    assert cli("ingest", str(refused)).exit_code != 0
    assert calls == []
