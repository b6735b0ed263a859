"""`paperidx doctor`: checks the store and the index and that they agree; `--fix` rebuilds
a bad index; a damaged store is reported, never repaired over."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from paperidx.errors import ExitCode
from paperidx.library import Library
from paperidx.locking import writer_lock
from paperidx.paths import LibraryPaths
from paperidx.search.index import STATE_FILE, SearchIndex
from paperidx.search.storage import INDEX_NAME

from .reliability_support import cli, generated_papers, ingest_in_process, write_jsonl

CHECKS = [
    "store opens",
    "store integrity",
    "store schema",
    "user state",
    "index opens",
    "index revision",
    "index documents",
]


@pytest.fixture
def library(tmp_path: Path, library_home: Path) -> set[str]:
    path = tmp_path / "papers.jsonl"
    ids = write_jsonl(path, generated_papers("doctor", 25))
    ingest_in_process(path)
    return ids


def findings(*options: str) -> tuple[int, list[dict[str, object]], str]:
    result = cli("doctor", "--format", "json", *options)
    return result.exit_code, json.loads(result.stdout), result.stderr


def problems(report: list[dict[str, object]]) -> list[str]:
    return [str(f["check"]) for f in report if not f["ok"]]


def state_path(home: Path) -> Path:
    return home / "index" / STATE_FILE


def test_a_healthy_library_passes_every_check(library: set[str]) -> None:
    code, report, messages = findings()
    assert code == ExitCode.OK
    assert [f["check"] for f in report] == CHECKS
    assert problems(report) == []
    assert messages == ""
    documents = next(f for f in report if f["check"] == "index documents")
    assert documents["detail"] == "25 papers in the index, 25 in the store"


@pytest.mark.parametrize("fmt", ["table", "tsv", "json", "jsonl", "csv"])
def test_every_format_lists_every_check(library: set[str], fmt: str) -> None:
    result = cli("doctor", "--format", fmt)
    assert result.exit_code == 0
    for check in CHECKS:
        assert check in result.stdout
    if fmt == "tsv":
        assert all(line.split("\t")[0] == "ok" for line in result.stdout.splitlines())
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [row["check"] for row in rows] == CHECKS


def test_an_index_behind_the_store_is_reported_not_repaired(
    library: set[str], library_home: Path
) -> None:
    state = json.loads(state_path(library_home).read_text())
    state_path(library_home).write_text(json.dumps(state | {"revision": 0}))
    before = state_path(library_home).read_bytes()

    code, report, messages = findings()

    assert code == ExitCode.LIBRARY
    assert problems(report) == ["index revision"]
    assert "index at store revision 0, the store is at 1" in str(report[5]["detail"])
    assert "run 'paperidx doctor --fix'" in messages
    assert state_path(library_home).read_bytes() == before  # doctor alone changes nothing


def test_papers_missing_from_the_index_are_counted(library: set[str], library_home: Path) -> None:
    ix = whoosh_index.open_dir(str(library_home / "index"), indexname=INDEX_NAME)
    writer = ix.writer()
    for paper in sorted(library)[:3]:
        writer.delete_by_term("id", paper)
    writer.commit()
    # The state file stays consistent with the index: only counting finds the gap.
    state = json.loads(state_path(library_home).read_text())
    state["generation"] = ix.latest_generation()
    state_path(library_home).write_text(json.dumps(state))

    code, report, _ = findings()

    assert code == ExitCode.LIBRARY
    assert problems(report) == ["index documents"]
    assert report[-1]["detail"] == "22 papers in the index, 25 in the store"


def test_a_damaged_index_is_reported(library: set[str], library_home: Path) -> None:
    next((library_home / "index").glob("_papers_*.toc")).write_bytes(b"\x00garbage" * 50)

    code, report, _ = findings()

    assert code == ExitCode.LIBRARY
    assert problems(report) == ["index opens"]
    assert "damaged" in str(report[-1]["detail"])


def test_a_missing_index_is_reported(library: set[str], library_home: Path) -> None:
    import shutil

    shutil.rmtree(library_home / "index")

    code, report, _ = findings()

    assert code == ExitCode.LIBRARY
    assert problems(report) == ["index opens"]
    assert not (library_home / "index").exists()


def test_fix_rebuilds_a_bad_index_and_checks_again(library: set[str], library_home: Path) -> None:
    next((library_home / "index").glob("*.seg")).write_bytes(b"")

    code, report, messages = findings("--fix")

    assert code == ExitCode.OK
    assert problems(report) == []
    assert "rebuilding the search index" in messages
    assert SearchIndex(library_home / "index").doc_count() == len(library)


def test_fix_never_touches_a_damaged_store(library: set[str], library_home: Path) -> None:
    store = library_home / "papers.sqlite3"
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with store.open("r+b") as stream:
        stream.write(b"this is no longer a database header")
    before = store.read_bytes()

    code, report, _ = findings("--fix")

    assert code == ExitCode.LIBRARY
    assert problems(report) == ["store opens"]
    assert "left untouched" in str(report[0]["detail"])
    assert store.read_bytes() == before


def test_a_store_from_a_newer_paperidx_is_reported(library: set[str], library_home: Path) -> None:
    with sqlite3.connect(library_home / "papers.sqlite3") as db:
        db.execute("PRAGMA user_version = 99")

    code, report, _ = findings()

    assert code == ExitCode.LIBRARY
    assert problems(report) == ["store opens"]
    assert "newer paperidx" in str(report[0]["detail"])


def test_no_library_is_not_found_and_nothing_is_created(library_home: Path) -> None:
    result = cli("doctor")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "no library" in result.stderr
    assert not library_home.exists()


def test_doctor_waits_for_a_running_writer_instead_of_reporting_drift(
    library: set[str], library_home: Path
) -> None:
    release = threading.Event()
    holding = threading.Event()

    def ingest_running() -> None:
        with writer_lock(library_home / "write.lock", purpose="ingest"):
            holding.set()
            release.wait(timeout=10)

    writer = threading.Thread(target=ingest_running)
    writer.start()
    holding.wait(timeout=10)
    threading.Timer(0.3, release.set).start()
    result = cli("doctor")
    writer.join(timeout=10)

    assert result.exit_code == 0
    assert "waiting for paperidx ingest" in result.stderr


def test_the_library_api_returns_findings(library: set[str], library_home: Path) -> None:
    with Library(LibraryPaths(library_home)) as opened:
        report = opened.doctor()
    assert [f.check for f in report] == CHECKS
    assert all(f.ok for f in report)


def test_user_state_is_checked_and_never_rebuilt_away(
    library: set[str], library_home: Path
) -> None:
    paper = sorted(library)[0]
    assert cli("mark", paper, "star").exit_code == 0
    assert cli("watch", "add", "probe", "robust indexing").exit_code == 0
    code, report, _ = findings()
    assert code == ExitCode.OK
    detail = next(f["detail"] for f in report if f["check"] == "user state")
    assert "1 starred" in str(detail) and "1 watches" in str(detail)
    db = sqlite3.connect(library_home / "papers.sqlite3")
    with db:  # what no paperidx command writes: a mark for a paper the store lacks
        db.execute("INSERT INTO marks (paper_id, starred_at) VALUES ('0000000000', 'x')")
    db.close()
    code, report, _ = findings("--fix")
    assert code == ExitCode.LIBRARY
    assert problems(report) == ["user state"]
    assert "1 marks rows for papers not in the store" in str(report[3]["detail"])
    assert cli("show", paper, "--format", "json").exit_code == 0  # nothing was removed
