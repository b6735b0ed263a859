"""Schema migrations: a library written by an older paperidx opens, migrates, loses nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from paperidx import store as store_module
from paperidx.errors import LibraryError
from paperidx.store import SCHEMA_VERSION, Store

from .conftest import invoke

V1_STORE = Path(__file__).parent / "fixtures" / "library-v1" / "papers.sqlite3"


def rows(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT id, title, abstract, authors, arxiv_id, dates, first_date, sources, links "
            "FROM papers ORDER BY id"
        ).fetchall()
    finally:
        db.close()


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


@pytest.fixture
def v1_library(library_home: Path) -> Path:
    library_home.mkdir(parents=True)
    shutil.copy(V1_STORE, library_home / "papers.sqlite3")
    return library_home / "papers.sqlite3"


def test_the_fixture_is_a_version_1_library() -> None:
    assert user_version(V1_STORE) == 1 and len(rows(V1_STORE)) == 17


def test_a_version_1_library_migrates_on_first_use_and_keeps_every_paper(
    v1_library: Path,
) -> None:
    before = rows(v1_library)
    listed = invoke("list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert user_version(v1_library) == SCHEMA_VERSION
    assert rows(v1_library) == before
    assert {p["id"] for p in json.loads(listed.stdout)} == {r[0] for r in before}
    shown = json.loads(invoke("show", "2405.17430", "--format", "json").stdout)
    assert shown["doi"] is None and shown["published"] is None and "user" not in shown
    # The user's tables came with the migration: marks work on the old library.
    assert invoke("mark", "2405.17430", "star").exit_code == 0
    assert rows(v1_library) == before
    # The index (absent from the fixture) is built from the migrated store.
    found = invoke("search", "transformers", "--format", "json")
    assert found.exit_code == 0 and json.loads(found.stdout)


def test_a_migrated_library_takes_new_fields(v1_library: Path, tmp_path: Path) -> None:
    record = {
        "title": "A Paper Seen First in a Reference Manager",
        "abstract": "",
        "authors": ["Ada Lovelace"],
        "doi": "https://doi.org/10.1234/ABC.5",
        "published": "2024-11-07",
    }
    path = tmp_path / "new.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert invoke("ingest", str(path)).exit_code == 0
    shown = json.loads(invoke("show", "10.1234/abc.5", "--format", "json").stdout)
    assert shown["doi"] == "10.1234/abc.5" and shown["published"] == "2024-11-07"
    assert len(rows(v1_library)) == 18


def test_a_failing_migration_changes_nothing(
    v1_library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = rows(v1_library)
    broken = {1: (*store_module.MIGRATIONS[1], "ALTER TABLE no_such_table ADD COLUMN x TEXT")}
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    with pytest.raises(LibraryError):
        Store.open(v1_library, create=False)
    assert user_version(v1_library) == 1
    assert rows(v1_library) == before
    db = sqlite3.connect(v1_library)
    columns = {row[1] for row in db.execute("PRAGMA table_info(papers)")}
    db.close()
    assert "doi" not in columns  # the first steps were rolled back with the failing one


def test_a_new_library_has_the_same_tables_columns_and_indexes_as_a_migrated_one(
    v1_library: Path, tmp_path: Path
) -> None:
    Store.open(v1_library, create=False).close()
    fresh = Store.open(tmp_path / "fresh" / "papers.sqlite3")
    fresh.close()

    def columns(path: Path) -> dict[str, object]:
        db = sqlite3.connect(path)
        try:
            tables = [
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            indexes = {
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
            }
            found = {t: [r[1:6] for r in db.execute(f"PRAGMA table_info({t})")] for t in tables}
            return {**found, "indexes": sorted(indexes)}
        finally:
            db.close()

    assert columns(v1_library) == columns(tmp_path / "fresh" / "papers.sqlite3")
