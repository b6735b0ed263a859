"""The user's state under crashes and concurrency, with real processes: a `kill -9` during
`mark`, `tag` or an ingest loses nothing committed; a `mark` while an ingest runs waits
(saying so) or succeeds, and is never lost."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .reliability_support import (
    PYTHON,
    environment,
    generated_papers,
    ingest_in_process,
    killed_by_sigkill,
    run_crashing_at,
    run_paperidx,
    write_jsonl,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def papers(tmp_path: Path, library_home: Path) -> list[str]:
    path = tmp_path / "papers.jsonl"
    ids = sorted(write_jsonl(path, generated_papers("state", 60)))
    ingest_in_process(path)
    return ids


def starred(home: Path) -> set[str]:
    uri = f"file:{home / 'papers.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        return {r[0] for r in db.execute("SELECT paper_id FROM marks WHERE starred_at NOT NULL")}


def tags(home: Path) -> set[tuple[str, str]]:
    uri = f"file:{home / 'papers.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        return {(r[0], r[1]) for r in db.execute("SELECT paper_id, tag FROM tags")}


# Marks papers one command at a time in one process, printing each id once it committed.
_MARKING = """
import sys
from pathlib import Path
from paperidx.library import Library
with Library.open(Path(sys.argv[1])) as library:
    for paper in sys.argv[2:]:
        library.mark([paper], "star")
        library.tag(paper, ["+seen"])
        print(paper, flush=True)
"""


@pytest.mark.parametrize("after", [1, 7, 23])
def test_kill_9_while_marking_loses_no_committed_mark(
    papers: list[str], library_home: Path, after: int
) -> None:
    process = subprocess.Popen(
        [PYTHON, "-c", _MARKING, str(library_home), *papers],
        stdout=subprocess.PIPE,
        text=True,
        env=environment(library_home),
    )
    assert process.stdout is not None
    committed = [process.stdout.readline().strip() for _ in range(after)]
    process.kill()
    process.wait(timeout=30)
    assert killed_by_sigkill(process)
    assert set(committed) <= starred(library_home)
    assert {(p, "seen") for p in committed} <= tags(library_home)
    doctor = run_paperidx(library_home, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert run_paperidx(library_home, "mark", papers[-1], "star").returncode == 0


@pytest.mark.parametrize(
    ("target", "args"),
    [
        ("paperidx.state:mark", ("mark", "PAPER", "star")),
        ("paperidx.state:change_tags", ("tag", "PAPER", "+urgent")),
        ("paperidx.state:set_note", ("note", "PAPER", "half-written")),
    ],
)
def test_kill_9_inside_a_change_leaves_the_earlier_state_whole(
    papers: list[str], library_home: Path, target: str, args: tuple[str, ...]
) -> None:
    first, second = papers[0], papers[1]
    assert run_paperidx(library_home, "mark", first, "star").returncode == 0
    assert run_paperidx(library_home, "tag", first, "+kept").returncode == 0
    crashed = run_crashing_at(
        library_home, target, 1, *(second if a == "PAPER" else a for a in args)
    )
    assert killed_by_sigkill(crashed), crashed.stderr
    assert starred(library_home) == {first}
    assert tags(library_home) == {(first, "kept")}
    shown = run_paperidx(library_home, "show", second, "--format", "json")
    assert shown.returncode == 0 and '"user"' not in shown.stdout
    assert run_paperidx(library_home, "doctor").returncode == 0


def test_kill_9_during_an_ingest_keeps_the_marks(
    papers: list[str], library_home: Path, tmp_path: Path
) -> None:
    assert run_paperidx(library_home, "mark", *papers[:5], "star").returncode == 0
    more = tmp_path / "more.jsonl"
    write_jsonl(more, generated_papers("more", 400))
    crashed = run_crashing_at(
        library_home, "paperidx.store:StoreWriter.add", 200, "ingest", str(more)
    )
    assert killed_by_sigkill(crashed)
    assert starred(library_home) == set(papers[:5])
    again = run_paperidx(library_home, "ingest", str(more))
    assert again.returncode == 0, again.stderr
    assert starred(library_home) == set(papers[:5])


def test_a_mark_during_an_ingest_waits_or_succeeds_and_is_never_lost(
    papers: list[str], library_home: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.jsonl"
    write_jsonl(big, generated_papers("big", 6000))
    ingest = subprocess.Popen(
        [PYTHON, "-m", "paperidx", "ingest", str(big)],
        env=environment(library_home),
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # inside the ingest's transaction for the big file, most likely
    marks = [run_paperidx(library_home, "mark", paper, "star", timeout=300) for paper in papers[:3]]
    tagged = run_paperidx(library_home, "tag", papers[0], "+during", timeout=300)
    assert ingest.wait(timeout=600) == 0
    for done in [*marks, tagged]:
        assert done.returncode == 0, done.stderr
        lines = done.stderr.strip().splitlines()
        assert all(
            line.startswith(("marked", "waiting for another paperidx", f"{papers[0]} tags"))
            for line in lines
        ), lines
    assert starred(library_home) == set(papers[:3])
    assert (papers[0], "during") in tags(library_home)
    count = run_paperidx(library_home, "stats", "--format", "json")
    assert '"papers": 6060' in count.stdout


def test_two_processes_marking_at_once_lose_no_update(
    papers: list[str], library_home: Path
) -> None:
    halves = (papers[:30], papers[30:])
    runs = [
        subprocess.Popen(
            [PYTHON, "-c", _MARKING, str(library_home), *half],
            stdout=subprocess.DEVNULL,
            env=environment(library_home),
        )
        for half in halves
    ]
    assert [run.wait(timeout=300) for run in runs] == [0, 0]
    assert starred(library_home) == set(papers)
    assert {(p, "seen") for p in papers} == tags(library_home)
