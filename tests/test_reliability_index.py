"""A damaged search index heals itself from the store; a damaged store is never touched.

The index is derived data: whatever happens to its files -- truncated, garbage, deleted,
rolled back behind its state file, locked by a stray process, left half-built by a crash
-- the next command says what it found on stderr, rebuilds the index from the record
store and answers with every paper. The store is the user's data: when it is damaged every
command says so (exit 6) and leaves the file byte for byte as it was.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperidx.errors import ExitCode
from paperidx.search.index import STATE_FILE, SearchIndex

from .reliability_support import (
    assert_store_and_index_agree,
    cli,
    generated_papers,
    ingest_in_process,
    search_everything_args,
    searched_ids,
    write_jsonl,
)


@pytest.fixture
def library(tmp_path: Path, library_home: Path) -> set[str]:
    """A library of two ingests (so two store revisions and several index commits)."""
    ids: set[str] = set()
    for part in range(2):
        path = tmp_path / f"part{part}.jsonl"
        ids |= write_jsonl(path, generated_papers(f"part{part}x", 60))
        ingest_in_process(path)
    return ids


def index_dir(home: Path) -> Path:
    return home / "index"


def biggest_index_file(home: Path) -> Path:
    files = [p for p in index_dir(home).iterdir() if p.suffix in (".seg", ".trm", ".pst")]
    return max(files, key=lambda p: p.stat().st_size)


def toc_file(home: Path) -> Path:
    return next(index_dir(home).glob("_papers_*.toc"))


def truncate_biggest_file(home: Path) -> None:
    target = biggest_index_file(home)
    os.truncate(target, target.stat().st_size // 2)


def truncate_biggest_file_to_nothing(home: Path) -> None:
    os.truncate(biggest_index_file(home), 0)


def garbage_over_biggest_file(home: Path) -> None:
    target = biggest_index_file(home)
    target.write_bytes(os.urandom(target.stat().st_size))


def garbage_toc(home: Path) -> None:
    toc_file(home).write_bytes(os.urandom(600))


def garbage_inside_toc(home: Path) -> None:
    toc = toc_file(home)
    data = bytearray(toc.read_bytes())
    data[40:240] = os.urandom(200)
    toc.write_bytes(bytes(data))


def truncate_toc(home: Path) -> None:
    os.truncate(toc_file(home), 20)


def delete_toc(home: Path) -> None:
    toc_file(home).unlink()


def delete_biggest_file(home: Path) -> None:
    biggest_index_file(home).unlink()


def delete_index_dir(home: Path) -> None:
    shutil.rmtree(index_dir(home))


def delete_state_file(home: Path) -> None:
    (index_dir(home) / STATE_FILE).unlink()


def garbage_state_file(home: Path) -> None:
    (index_dir(home) / STATE_FILE).write_bytes(b"\x00\xffnot json")


def state_from_another_version(home: Path) -> None:
    state = index_dir(home) / STATE_FILE
    data = json.loads(state.read_text())
    state.write_text(json.dumps(data | {"schema": data["schema"] + 100}))


def state_ahead_of_the_store(home: Path) -> None:
    state = index_dir(home) / STATE_FILE
    data = json.loads(state.read_text())
    state.write_text(json.dumps(data | {"revision": data["revision"] + 7}))


def index_replaced_by_a_file(home: Path) -> None:
    shutil.rmtree(index_dir(home))
    index_dir(home).write_text("not a directory")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "biggest segment file truncated": truncate_biggest_file,
    "biggest segment file emptied": truncate_biggest_file_to_nothing,
    "biggest segment file garbage": garbage_over_biggest_file,
    "table of contents garbage": garbage_toc,
    "garbage inside the table of contents": garbage_inside_toc,
    "table of contents truncated": truncate_toc,
    "table of contents deleted": delete_toc,
    "segment file deleted": delete_biggest_file,
    "state file deleted": delete_state_file,
    "state file garbage": garbage_state_file,
    "state file from another version": state_from_another_version,
    "state file ahead of the store": state_ahead_of_the_store,
    "index folder replaced by a file": index_replaced_by_a_file,
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_search_heals_a_damaged_index_and_finds_every_paper(
    damage: str, library: set[str], library_home: Path
) -> None:
    DAMAGE[damage](library_home)

    healed = cli(*search_everything_args())

    assert healed.exit_code == 0, healed.output
    assert searched_ids(healed.stdout) == library
    assert "rebuilding it from the record store" in healed.stderr
    assert len(healed.stderr.strip().splitlines()) == 1  # one clear line
    assert_store_and_index_agree(library_home, library)
    assert cli("doctor").exit_code == 0


def test_a_deleted_index_is_rebuilt_saying_so(library: set[str], library_home: Path) -> None:
    delete_index_dir(library_home)

    healed = cli(*search_everything_args())

    assert healed.exit_code == 0, healed.output
    assert searched_ids(healed.stdout) == library
    assert "search index" in healed.stderr and "missing" in healed.stderr


@pytest.mark.parametrize("damage", ["biggest segment file truncated", "table of contents garbage"])
def test_ingest_heals_a_damaged_index_and_adds_its_papers(
    damage: str, library: set[str], library_home: Path, tmp_path: Path
) -> None:
    DAMAGE[damage](library_home)
    more = tmp_path / "more.jsonl"
    added = write_jsonl(more, generated_papers("more", 30))

    ingested = cli("ingest", str(more))

    assert ingested.exit_code == 0, ingested.output
    assert "rebuilding it from the record store" in ingested.stderr
    assert_store_and_index_agree(library_home, library | added)


@pytest.mark.parametrize("damage", ["table of contents garbage", "segment file deleted"])
def test_reindex_restores_every_paper_after_damage(
    damage: str, library: set[str], library_home: Path
) -> None:
    DAMAGE[damage](library_home)

    rebuilt = cli("reindex")

    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"reindexed {len(library)} papers" in rebuilt.stderr
    assert_store_and_index_agree(library_home, library)


def test_an_index_rolled_back_behind_its_state_file_is_rebuilt(
    tmp_path: Path, library_home: Path
) -> None:
    """The state file is newer than the index (a restored copy, a lost commit): the index
    does not hold what the state file vouches for, and that is noticed."""
    first = tmp_path / "first.jsonl"
    ids = write_jsonl(first, generated_papers("first", 40))
    ingest_in_process(first)
    snapshot = tmp_path / "index-after-first"
    shutil.copytree(index_dir(library_home), snapshot)
    second = tmp_path / "second.jsonl"
    ids |= write_jsonl(second, generated_papers("second", 40))
    ingest_in_process(second)
    newer_state = (index_dir(library_home) / STATE_FILE).read_bytes()
    shutil.rmtree(index_dir(library_home))
    shutil.copytree(snapshot, index_dir(library_home))
    (index_dir(library_home) / STATE_FILE).write_bytes(newer_state)

    healed = cli(*search_everything_args())

    assert healed.exit_code == 0, healed.output
    assert "older than its state file" in healed.stderr
    assert searched_ids(healed.stdout) == ids


def test_a_leftover_whoosh_lock_file_is_harmless(
    library: set[str], library_home: Path, tmp_path: Path
) -> None:
    (index_dir(library_home) / "papers_WRITELOCK").write_text("left by a killed writer")
    more = tmp_path / "more.jsonl"
    added = write_jsonl(more, generated_papers("more", 10))

    ingested = cli("ingest", str(more))

    assert ingested.exit_code == 0, ingested.output
    assert "rebuilding" not in ingested.stderr
    assert_store_and_index_agree(library_home, library | added)


@pytest.fixture
def stray_whoosh_lock(library_home: Path) -> Iterator[None]:
    """Another process holds Whoosh's lock and never lets go (an orphaned worker)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(120)\n",
            str(index_dir(library_home) / "papers_WRITELOCK"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_an_index_locked_by_a_stray_process_is_rebuilt_beside_it(
    library: set[str], library_home: Path, tmp_path: Path, stray_whoosh_lock: None
) -> None:
    more = tmp_path / "more.jsonl"
    added = write_jsonl(more, generated_papers("more", 10))

    ingested = cli("ingest", str(more))

    assert ingested.exit_code == 0, ingested.output
    assert "locked by a stray process" in ingested.stderr
    assert_store_and_index_agree(library_home, library | added)


def test_leftovers_of_a_crashed_rebuild_are_cleared(library: set[str], library_home: Path) -> None:
    """Killed between the two renames of a rebuild: no `index`, a whole `index.old` and a
    whole `index.new`; and a half-built `index.new` from an earlier crash."""
    home = library_home
    shutil.copytree(index_dir(home), home / "index.new")
    os.rename(index_dir(home), home / "index.old")
    (home / "index.new" / "papers_half_written.seg").write_bytes(os.urandom(100))

    healed = cli(*search_everything_args())

    assert healed.exit_code == 0, healed.output
    assert searched_ids(healed.stdout) == library
    assert not (home / "index.new").exists() and not (home / "index.old").exists()
    assert_store_and_index_agree(home, library)


def test_files_of_an_unfinished_index_write_are_removed(
    library: set[str], library_home: Path, tmp_path: Path
) -> None:
    """A killed writer leaves segment files no commit refers to; the next write drops them."""
    orphan = index_dir(library_home) / "papers_orphansegment1.pst"
    orphan.write_bytes(b"\x00" * 4096)
    (index_dir(library_home) / "papers.tmp").mkdir()
    more = tmp_path / "more.jsonl"
    added = write_jsonl(more, generated_papers("more", 5))

    assert cli("ingest", str(more)).exit_code == 0

    assert not orphan.exists()
    assert not (index_dir(library_home) / "papers.tmp").exists()
    assert_store_and_index_agree(library_home, library | added)


def test_papers_lost_from_the_index_are_noticed_by_the_next_writer(
    library: set[str], library_home: Path, tmp_path: Path
) -> None:
    """Revisions agree but a commit's papers are gone (a restored segment, a lost write):
    the counts disagree, and the next ingest rebuilds."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(index_dir(library_home)), indexname="papers")
    writer = ix.writer()
    for paper in sorted(library)[:5]:
        writer.delete_by_term("id", paper)
    writer.commit(optimize=True)  # no deleted documents left behind
    state = json.loads((index_dir(library_home) / STATE_FILE).read_text())
    state["generation"] = ix.latest_generation()
    (index_dir(library_home) / STATE_FILE).write_text(json.dumps(state))
    more = tmp_path / "more.jsonl"
    added = write_jsonl(more, generated_papers("more", 5))

    ingested = cli("ingest", str(more))

    assert ingested.exit_code == 0, ingested.output
    assert f"holds {len(library) - 5} papers, the record store {len(library)}" in ingested.stderr
    assert_store_and_index_agree(library_home, library | added)


def test_search_works_after_papers_are_reindexed(
    library: set[str], library_home: Path, tmp_path: Path
) -> None:
    """A changed paper is re-indexed as delete + add, so the index then holds deleted
    documents; a catch-up after a crash re-indexes papers the same way."""
    again = tmp_path / "again.jsonl"
    papers = generated_papers("part0x", 60)
    for paper in papers:
        paper["date"] = "2023-01-01"  # a new sighting: every paper changes
    write_jsonl(again, papers)
    ingest_in_process(again)

    found = cli(*search_everything_args())

    assert found.exit_code == 0, found.output
    assert searched_ids(found.stdout) == library


def test_index_state_records_the_whoosh_generation(library: set[str], library_home: Path) -> None:
    index = SearchIndex(index_dir(library_home))
    state = index.check()
    assert state is not None and state.revision == 2 and state.generation >= 1


# -- a damaged store ------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def store_file(home: Path) -> Path:
    return home / "papers.sqlite3"


def checkpointed(home: Path) -> Path:
    """The store with every change in the main file (no WAL), as after a clean exit."""
    with sqlite3.connect(store_file(home)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store_file(home)


def store_truncated_to_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def store_emptied(path: Path) -> None:
    os.truncate(path, 0)


def store_header_garbage(path: Path) -> None:
    with path.open("r+b") as stream:
        stream.write(b"GARBAGE BYTES OVER THE SQLITE HEADER" * 2)


def store_all_garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def store_pages_garbage(path: Path) -> None:
    with path.open("r+b") as stream:
        stream.seek(4096 * 3)
        stream.write(os.urandom(4096 * 6))


STORE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated to half": store_truncated_to_half,
    "emptied": store_emptied,
    "garbage over the header": store_header_garbage,
    "garbage throughout": store_all_garbage,
    "garbage over some pages": store_pages_garbage,
}


def commands(tmp_path: Path) -> list[list[str]]:
    more = tmp_path / "more.jsonl"
    write_jsonl(more, generated_papers("more", 5))
    return [
        ["ingest", str(more)],
        ["reindex"],
        ["doctor"],
        ["doctor", "--fix"],
        ["stats"],
        ["list"],
        [*search_everything_args()],
    ]


@pytest.mark.parametrize("damage", list(STORE_DAMAGE))
def test_a_damaged_store_is_reported_and_never_touched(
    damage: str, library: set[str], library_home: Path, tmp_path: Path
) -> None:
    path = checkpointed(library_home)
    STORE_DAMAGE[damage](path)
    before = sha256(path)

    for command in commands(tmp_path):
        result = cli(*command)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            command,
            result.exception,
        )
        if command[0] in ("ingest", "reindex", "doctor"):
            # Writers check the store before writing; doctor checks it in full.
            assert result.exit_code == ExitCode.LIBRARY, (command, result.output)
        else:
            # A read may not reach a damaged page; when it does, it says so.
            assert result.exit_code in (ExitCode.OK, ExitCode.LIBRARY), (command, result.output)
        if result.exit_code == ExitCode.LIBRARY and command[0] != "doctor":
            assert "record store" in result.stderr and "damaged" in result.stderr
            assert "Traceback" not in result.output
        assert sha256(path) == before, f"{command} changed the damaged store"
    assert not list(library_home.glob(".papers.sqlite3.new-*"))


def test_a_damaged_store_is_what_doctor_reports(library: set[str], library_home: Path) -> None:
    store_header_garbage(checkpointed(library_home))

    report = cli("doctor", "--format", "json")

    assert report.exit_code == ExitCode.LIBRARY
    findings = json.loads(report.stdout)
    assert findings[0]["check"] == "store opens" and findings[0]["ok"] is False
    assert "damaged" in findings[0]["detail"]


def _full_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from paperidx.store import Store

    calls: list[int] = []
    check = Store.integrity_problems

    def counted(self: Store) -> list[str]:
        calls.append(1)
        return check(self)

    monkeypatch.setattr(Store, "integrity_problems", counted)
    return calls


def test_a_store_as_paperidx_left_it_is_not_checked_again_before_each_write(
    library: set[str], library_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The full check reads the whole file (0.14 s at 75k papers): not before every `mark`.
    full_checks = _full_checks(monkeypatch)
    more = tmp_path / "more.jsonl"
    write_jsonl(more, generated_papers("more", 3))
    paper = sorted(library)[0]

    assert cli("ingest", str(more)).exit_code == 0
    assert cli("mark", paper, "star").exit_code == 0
    assert cli("tag", paper, "later").exit_code == 0

    assert full_checks == []
    assert (library_home / "papers.sqlite3.checked").is_file()


def test_a_store_changed_behind_paperidx_is_checked_before_a_write(
    library: set[str], library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Garbage over a few pages: the damage only the full check finds before writing.
    full_checks = _full_checks(monkeypatch)
    store_pages_garbage(checkpointed(library_home))
    before = sha256(store_file(library_home))

    result = cli("mark", sorted(library)[0], "star")

    assert full_checks == [1]
    assert result.exit_code == ExitCode.LIBRARY and "damaged" in result.stderr
    assert sha256(store_file(library_home)) == before


def test_a_sound_store_is_checked_in_full_again_after_a_week(
    library: set[str], library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperidx.store import RECHECK_SECONDS

    stamp = library_home / "papers.sqlite3.checked"
    recorded = json.loads(stamp.read_text(encoding="utf-8"))
    recorded["checked_at"] -= RECHECK_SECONDS + 1
    stamp.write_text(json.dumps(recorded), encoding="utf-8")
    full_checks = _full_checks(monkeypatch)

    assert cli("mark", sorted(library)[0], "star").exit_code == 0
    assert cli("mark", sorted(library)[0], "unstar").exit_code == 0

    assert full_checks == [1]  # then vouched for again


def test_a_half_created_store_from_a_crash_is_never_there(
    library_home: Path, tmp_path: Path
) -> None:
    """Stores are created under a temporary name and renamed: a leftover temporary file
    from a crash does not stop the next ingest."""
    library_home.mkdir(parents=True)
    (library_home / f".papers.sqlite3.new-{os.getpid() + 1}").write_bytes(b"half")
    first = tmp_path / "first.jsonl"
    ids = write_jsonl(first, generated_papers("first", 5))

    assert cli("ingest", str(first)).exit_code == 0

    assert_store_and_index_agree(library_home, ids)
    assert not list(library_home.glob(".papers.sqlite3.new-*"))


# -- a full disk, a read-only library ------------------------------------------------


def test_a_full_disk_while_storing_is_one_line_and_loses_nothing(
    library: set[str], library_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperidx.store import StoreWriter

    original = StoreWriter.add
    calls = 0

    def add_until_the_disk_is_full(self: StoreWriter, paper: object) -> tuple[bool, str]:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise sqlite3.OperationalError("database or disk is full")
        return original(self, paper)  # type: ignore[arg-type]

    more = tmp_path / "more.jsonl"
    write_jsonl(more, generated_papers("more", 20))

    with monkeypatch.context() as disk:
        disk.setattr(StoreWriter, "add", add_until_the_disk_is_full)
        failed = cli("ingest", str(more))

    assert failed.exit_code == ExitCode.LIBRARY
    assert failed.stderr.strip() == (
        f"paperidx: error: cannot write to the library at {library_home}: database or disk is full"
    )
    assert_store_and_index_agree(library_home, library)  # the failed file left no trace
    assert cli("doctor").exit_code == 0


def test_a_full_disk_while_indexing_keeps_the_papers_and_catches_up_later(
    library: set[str], library_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import whoosh.writing

    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    more = tmp_path / "more.jsonl"
    added = write_jsonl(more, generated_papers("more", 20))

    with monkeypatch.context() as disk:
        disk.setattr(whoosh.writing.SegmentWriter, "commit", no_space)
        failed = cli("ingest", str(more))
        # The index cannot catch up yet; reads still work, from the index as it is.
        stale = cli(*search_everything_args())

    assert failed.exit_code == ExitCode.LIBRARY
    assert failed.stderr.strip().endswith(
        f"paperidx: error: cannot write the search index at {index_dir(library_home)}: "
        "No space left on device"
    )
    assert stale.exit_code == 0 and searched_ids(stale.stdout) == library
    assert "may miss recent papers" in stale.stderr
    # Space is freed: the next command catches the index up.
    healed = cli(*search_everything_args())
    assert healed.exit_code == 0 and searched_ids(healed.stdout) == library | added


@pytest.fixture
def tiny_file_system(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB tmpfs (root only); skipped where mounting is not allowed."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_really_full_disk_and_a_read_only_library(
    tiny_file_system: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tiny_file_system / "library"
    monkeypatch.setenv("PAPERIDX_HOME", str(home))
    small = tmp_path / "small.jsonl"
    kept = write_jsonl(small, generated_papers("small", 30))
    assert cli("ingest", str(small)).exit_code == 0
    big = tmp_path / "big.jsonl"
    write_jsonl(big, generated_papers("big", 3000))

    full = cli("ingest", str(big))

    assert full.exit_code == ExitCode.LIBRARY, full.output
    assert len(full.stderr.strip().splitlines()) == 1
    assert "disk is full" in full.stderr or "No space left on device" in full.stderr
    after = cli(*search_everything_args())
    assert after.exit_code == 0
    assert kept <= searched_ids(after.stdout)

    subprocess.run(["mount", "-o", "remount,ro", str(tiny_file_system)], check=True)
    read = cli(*search_everything_args())
    assert read.exit_code == 0 and kept <= searched_ids(read.stdout)
    assert cli("list").exit_code == 0
    refused = cli("ingest", str(small))
    assert refused.exit_code == ExitCode.LIBRARY
    assert refused.stderr.strip().splitlines() == [
        f"paperidx: error: cannot create the lock file {home / 'write.lock'}: Read-only file system"
    ]
