"""Concurrent use: writers take turns, readers never fail and never see half a change.

Real processes: two `paperidx ingest` at once (the second waits for the writer lock and
says so on stderr, then succeeds), with `search`, `show` and `list` run over and over
meanwhile. Each input file is one store transaction and each catch-up one index commit,
so a reader may see the library before or after a file, never part of one.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from paperidx.errors import LockTimeoutError
from paperidx.locking import writer_lock

from .reliability_support import (
    PYTHON,
    assert_store_and_index_agree,
    cli,
    environment,
    generated_papers,
    ingest_in_process,
    run_paperidx,
    search_everything_args,
    searched_ids,
    write_jsonl,
)


def start_ingest(home: Path, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, "-m", "paperidx", "ingest", str(path)],
        env=environment(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_holding_lock(home: Path, process: subprocess.Popen[str]) -> None:
    lock = home / "write.lock"
    deadline = time.monotonic() + 60
    while f"pid {process.pid})" not in (lock.read_text() if lock.exists() else ""):
        assert process.poll() is None, "the writer ended before taking the lock"
        assert time.monotonic() < deadline, "the writer never took the lock"
        time.sleep(0.02)


def listed_ids(output: str) -> set[str]:
    return {json.loads(line)["id"] for line in output.splitlines() if line.strip()}


@pytest.mark.slow
def test_two_writers_take_turns_while_readers_see_only_whole_files(
    tmp_path: Path, library_home: Path
) -> None:
    base_file = tmp_path / "base.jsonl"
    base = write_jsonl(base_file, generated_papers("base", 150))
    ingest_in_process(base_file)
    first_file, second_file = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first = write_jsonl(first_file, generated_papers("first", 1200))
    second = write_jsonl(second_file, generated_papers("second", 200))
    # The first writer holds the lock throughout, so the second comes after it.
    whole_states = [base, base | first, base | first | second]
    a_base_paper = sorted(base)[0]

    writer_one = start_ingest(library_home, first_file)
    wait_until_holding_lock(library_home, writer_one)
    writer_two = start_ingest(library_home, second_file)
    reads = 0
    while writer_one.poll() is None or writer_two.poll() is None or reads < 3:
        listed = run_paperidx(library_home, "list", "--format", "jsonl")
        assert listed.returncode == 0, listed.stderr
        assert listed_ids(listed.stdout) in whole_states
        found = run_paperidx(library_home, *search_everything_args())
        assert found.returncode == 0, found.stderr
        assert searched_ids(found.stdout) in whole_states
        shown = run_paperidx(library_home, "show", a_base_paper, "--format", "json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["id"] == a_base_paper
        reads += 1

    _, first_messages = writer_one.communicate(timeout=60)
    _, second_messages = writer_two.communicate(timeout=60)
    assert writer_one.returncode == 0, first_messages
    assert writer_two.returncode == 0, second_messages
    assert f"waiting for paperidx ingest (pid {writer_one.pid}) to finish" in second_messages
    assert "200 new" in second_messages
    assert_store_and_index_agree(library_home, base | first | second)


@pytest.mark.slow
def test_searches_during_a_reindex_see_the_whole_old_or_whole_new_index(
    tmp_path: Path, library_home: Path
) -> None:
    papers_file = tmp_path / "papers.jsonl"
    everything = write_jsonl(papers_file, generated_papers("reindexed", 700))
    ingest_in_process(papers_file)

    reindex = subprocess.Popen(
        [PYTHON, "-m", "paperidx", "reindex"],
        env=environment(library_home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    searches = 0
    while reindex.poll() is None or searches < 3:
        found = cli(*search_everything_args())
        assert found.exit_code == 0, found.output
        assert searched_ids(found.stdout) == everything
        searches += 1
    assert reindex.wait(timeout=60) == 0
    assert_store_and_index_agree(library_home, everything)


def test_a_busy_lock_is_waited_for_with_a_message_then_taken(library_home: Path) -> None:
    lock = library_home / "write.lock"
    messages: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with writer_lock(lock, purpose="ingest"):
            holding.set()
            release.wait(timeout=10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(timeout=10)
    threading.Timer(0.3, release.set).start()
    with writer_lock(lock, purpose="ingest", wait_seconds=10, on_wait=messages.append):
        pass
    holder.join(timeout=10)
    assert len(messages) == 1
    assert "waiting for paperidx ingest (pid" in messages[0]
    assert "to finish (up to 10s)" in messages[0]


def test_a_lock_held_too_long_is_a_clear_error_naming_the_holder(library_home: Path) -> None:
    lock = library_home / "write.lock"
    with writer_lock(lock, purpose="reindex"):
        started = time.monotonic()
        with (
            pytest.raises(LockTimeoutError) as raised,
            writer_lock(lock, purpose="ingest", wait_seconds=0.3),
        ):
            pass
    assert 0.3 <= time.monotonic() - started < 5
    assert "paperidx reindex (pid" in str(raised.value)
