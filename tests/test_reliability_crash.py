"""`kill -9` at any moment of an ingest (or a reindex) loses no paper.

Real `python -m paperidx` processes are killed with SIGKILL -- no cleanup runs, as after a
power cut of the process -- at chosen points (before the store commits, after it, inside
Whoosh's segment writing, its merge and its commit, before the index state is recorded)
and at random moments. After each kill: the next command works and finds every paper of
the ingests that completed, the index has caught up with whatever the store committed,
and re-running the interrupted ingest completes with no paper twice, in store or index.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .reliability_support import (
    PYTHON,
    assert_store_and_index_agree,
    cli,
    duplicates,
    environment,
    generated_papers,
    ingest_in_process,
    killed_by_sigkill,
    run_crashing_at,
    search_everything_args,
    searched_ids,
    store_ids,
    write_jsonl,
)

pytestmark = pytest.mark.slow


def earlier_ingests(folder: Path, batches: int, size: int) -> set[str]:
    """Completed ingests (in this process: only the crash needs a real one). Five tiny
    batches leave five one-paper segments, which Whoosh merges on its next commit."""
    ids: set[str] = set()
    for number in range(batches):
        path = folder / f"earlier-{number}.jsonl"
        ids |= write_jsonl(path, generated_papers(f"earlier{number}x", size))
        ingest_in_process(path)
    return ids


def assert_next_command_sees(earlier: set[str], home: Path) -> set[str]:
    """The next command works, finds every earlier paper, and the index has caught up
    with everything the store holds (drift repaired). Returns what it found."""
    found = cli(*search_everything_args())
    assert found.exit_code == 0, found.output
    hits = searched_ids(found.stdout)
    assert earlier <= hits, f"{len(earlier - hits)} papers of completed ingests not found"
    stored = store_ids(home)
    assert not duplicates(stored)
    assert hits == set(stored), "the index did not catch up with the store"
    return hits


def assert_doctor_finds_nothing() -> None:
    doctor = cli("doctor", "--format", "tsv")
    assert doctor.exit_code == 0, doctor.output


# (where to die, on which call): each names one moment of an ingest.
CRASH_POINTS = {
    # Parsing and store writes are done, the transaction is not committed.
    "before store commit": ("paperidx.store:StoreWriter.finish", 1),
    # The store committed; the index has not started catching up.
    "after store commit": ("paperidx.search.index:SearchIndex.apply", 1),
    # The store's log is being copied into its file, on a thread, beside the indexing.
    "while the store checkpoints": ("paperidx.store:_fold_log", 1),
    # Half-way through adding documents to a new Whoosh segment.
    "inside index writing": ("paperidx.search.writer:FastWriter.add_document", 60),
    # While Whoosh merges the small segments of earlier ingests into the new one.
    "inside segment merge": ("whoosh.writing:SegmentWriter.add_reader", 2),
    # The segment files are written; Whoosh's table of contents is not.
    "inside index commit": ("whoosh.index:TOC.write", 1),
    # Whoosh committed; the state file still names the previous store revision.
    "before index state is recorded": ("paperidx.search.index:SearchIndex._write_state", 1),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_sigkill_at_each_moment_of_an_ingest_loses_nothing(
    point: str, tmp_path: Path, library_home: Path
) -> None:
    earlier = earlier_ingests(tmp_path, batches=5, size=1)
    interrupted = tmp_path / "interrupted.jsonl"
    new = write_jsonl(interrupted, generated_papers("interrupted", 120))
    target, nth = CRASH_POINTS[point]

    crashed = run_crashing_at(library_home, target, nth, "ingest", str(interrupted))

    assert killed_by_sigkill(crashed), f"never reached {target}: {crashed.stderr}"
    assert_next_command_sees(earlier, library_home)
    ingest_in_process(interrupted)
    assert_store_and_index_agree(library_home, earlier | new)
    assert_doctor_finds_nothing()


def test_sigkill_during_reindex_keeps_the_old_index_searchable(
    tmp_path: Path, library_home: Path
) -> None:
    earlier = earlier_ingests(tmp_path, batches=1, size=300)

    crashed = run_crashing_at(
        library_home, "whoosh.writing:SegmentWriter.add_document", 150, "reindex"
    )

    assert killed_by_sigkill(crashed), crashed.stderr
    # The new index was being built beside the old one, which is still whole.
    assert (library_home / "index.new").exists()
    assert assert_next_command_sees(earlier, library_home) == earlier
    assert cli("reindex").exit_code == 0
    assert not (library_home / "index.new").exists()
    assert_store_and_index_agree(library_home, earlier)


def test_sigkill_at_random_moments_of_ingests_loses_nothing(
    tmp_path: Path, library_home: Path
) -> None:
    """Rounds of: start an ingest of new papers (two files, two transactions), SIGKILL it
    at a random moment, check, then re-run it to completion. Bounded in rounds and time."""
    rng = random.Random(20240507)
    expected = earlier_ingests(tmp_path, batches=1, size=200)
    # How long a whole ingest of one round takes here; kills are spread over it.
    span = 2.0
    deadline = time.monotonic() + 8
    rounds = 0
    while rounds < 4 and (rounds < 2 or time.monotonic() < deadline):
        rounds += 1
        files, new = [], set()
        for part in range(2):
            path = tmp_path / f"round{rounds}-part{part}.jsonl"
            new |= write_jsonl(path, generated_papers(f"round{rounds}p{part}y", 250))
            files.append(str(path))
        started = time.monotonic()
        process = subprocess.Popen(
            [PYTHON, "-m", "paperidx", "ingest", *files],
            env=environment(library_home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            process.wait(timeout=rng.uniform(0.05, span))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode in (0, -signal.SIGKILL), stderr
        if process.returncode == 0:  # finished before the kill: aim earlier next time
            span = max(0.5, time.monotonic() - started)

        assert_next_command_sees(expected, library_home)

        for name in files:
            ingest_in_process(Path(name))
        expected |= new
        assert_store_and_index_agree(library_home, expected)

    assert_doctor_finds_nothing()
