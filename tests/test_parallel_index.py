"""The parallel bulk indexer (`paperidx.search.parallel`): the same index as one process
builds, and no orphan or held lock whatever is killed.

Real papers (the first few thousand of the shared arXiv slice) go through both the
single-process writer and the workers, with the parallel path forced for a batch smaller
than a real bulk one; the two indexes must hold the same postings, answer queries alike,
and stay alike through updates of re-ingested papers (deletions of the old copies). The
crash tests start real `paperidx` processes and SIGKILL the parent, or one worker, in the
middle of a parallel build. No timing is asserted: deadlines only bound the waits.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from paperidx.errors import LibraryError
from paperidx.locking import writer_lock
from paperidx.paths import LibraryPaths
from paperidx.search import index, parallel, storage, writer

from .conftest import invoke
from .index_support import (
    index_content,
    indexed_documents,
    papers_in_order,
    ranking,
    segment_count,
)
from .reliability_support import (
    CHILDREN_FILE_ENV,
    COMMON_WORD,
    PYTHON,
    assert_store_and_index_agree,
    environment,
    generated_papers,
    run_crashing_at,
    search_everything_args,
    searched_ids,
    store_ids,
    write_jsonl,
)

REAL_PAPERS = 2_400
# Small enough to be quick, large enough for several batches per worker.
FORCED_MINIMUM = 300
QUERIES = (
    "gaussian splatting",
    "large language models reasoning",
    "graph neural networks",
    "diffusion",
    "reinforcement learning from human feedback",
    '"neural network"',
    "title:transformer",
    "lora OR adapter",
)
# Bulk papers for a real process: at least `index.BULK_THRESHOLD`, so the catch-up after
# the store commits takes the parallel path as a real ingest does.
BULK_PAPERS = 5_200
# Bounds on waiting (not timings): a worker should be gone within a second or two.
GONE_WITHIN_SECONDS = 30.0


# -- data ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = Path(__file__).resolve().parents[2] / "shared/data/arxiv_cs_75k/papers.jsonl.gz"
    if not source.exists():
        pytest.skip(f"shared data not found at {source}")
    target = tmp_path_factory.mktemp("real") / "papers.jsonl"
    with gzip.open(source, "rt", encoding="utf-8") as lines, target.open("w") as out:
        for number, line in enumerate(lines):
            if number == REAL_PAPERS:
                break
            out.write(line)
    return target


@pytest.fixture(scope="module")
def documents(real_jsonl: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The Whoosh documents of the real papers, as the index receives them."""
    return indexed_documents(tmp_path_factory.mktemp("documents"), real_jsonl)


def _workers(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setenv(parallel.WORKERS_ENV, str(count))
    # The sync decides "bulk" with BULK_THRESHOLD, the index "parallel" with PARALLEL_MINIMUM.
    monkeypatch.setattr(index, "BULK_THRESHOLD", FORCED_MINIMUM)
    monkeypatch.setattr(index, "PARALLEL_MINIMUM", FORCED_MINIMUM)


# -- the analysis and the segment files ----------------------------------------------------


def test_a_worker_writes_the_same_segment_files_as_whoosh(
    documents: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh.writing import SegmentWriter

    # As Whoosh: every block compressed.
    monkeypatch.setattr(writer, "COMPRESS_FROM", 1)
    monkeypatch.setattr(writer, "SMALL_SEGMENT_DOCUMENTS", 0)
    written: dict[str, dict[str, bytes]] = {}
    for kind in ("whoosh", "worker"):
        folder = tmp_path / kind
        index.SearchIndex(folder).reset()
        if kind == "whoosh":
            ix = storage.file_storage(folder).open_index(storage.INDEX_NAME)
            chosen = SegmentWriter(ix, _lk=False)
        else:
            chosen = parallel._open_writer(str(folder))
        chosen.compound = False  # the segment's files one by one, to compare
        for document in documents[:1500]:
            chosen.add_document(**document)
        segment = chosen._finalize_segment()
        name = segment.segment_id()
        written[kind] = {
            path.name.replace(name, "SEGMENT"): path.read_bytes()
            for path in folder.iterdir()
            if name in path.name
        }
    assert sorted(written["worker"]) == sorted(written["whoosh"])
    assert len(written["whoosh"]) >= 5  # terms, postings, stored fields, lengths, columns
    for file_name, content in written["whoosh"].items():
        assert written["worker"][file_name] == content, file_name


# -- the same index, built two ways --------------------------------------------------------


def test_parallel_and_single_process_builds_hold_the_same_index(
    real_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    single, several = tmp_path / "single", tmp_path / "parallel"
    for home, workers in ((single, 1), (several, 2)):
        with monkeypatch.context() as patch:
            _workers(patch, workers)
            done = invoke("--home", str(home), "ingest", str(real_jsonl))
        assert done.exit_code == 0, done.output
    assert segment_count(single) == 1
    assert segment_count(several) >= 2  # one per worker: the parallel path was taken

    papers = len(store_ids(single))
    for home in (single, several):
        assert index.SearchIndex(home / "index").doc_count() == papers
    # The same documents in the same order: even papers tied on a score rank alike.
    assert papers_in_order(several) == papers_in_order(single)
    assert index_content(several) == index_content(single)
    for query in QUERIES:
        assert ranking(several, query) == ranking(single, query), query
    some = sorted(store_ids(single))[:: papers // 5]
    for paper in some:
        shown = [invoke("--home", str(h), "show", paper, "-f", "json") for h in (single, several)]
        assert shown[0].exit_code == 0, shown[0].output
        assert shown[1].stdout == shown[0].stdout

    # Re-ingested with longer abstracts: updates, i.e. the old copies deleted and new ones
    # added -- by the parent and the workers respectively in the parallel build.
    updated = tmp_path / "updated.jsonl"
    marker = "zqrevisedabstractmarker"
    with real_jsonl.open() as lines, updated.open("w") as out:
        for number, line in enumerate(lines):
            if number % 3 == 0:
                paper = json.loads(line)
                paper["summary"] += f" Revised: {marker}."
                out.write(json.dumps(paper) + "\n")
    for home, workers in ((single, 1), (several, 2)):
        with monkeypatch.context() as patch:
            _workers(patch, workers)
            done = invoke("--home", str(home), "ingest", str(updated))
        assert done.exit_code == 0, done.output
        assert index.SearchIndex(home / "index").doc_count() == papers
    assert segment_count(several) >= 3  # the update went to workers too
    assert papers_in_order(several) == papers_in_order(single)
    assert index_content(several) == index_content(single)
    revised = [ranking(home, marker) for home in (single, several)]
    assert len(revised[0]) == 40
    assert revised[1] == revised[0]
    for query in QUERIES[:3]:
        assert ranking(several, query) == ranking(single, query), query

    # A rebuild (`reindex`): a fresh index beside the old one, swapped in.
    for home, workers in ((single, 1), (several, 2)):
        with monkeypatch.context() as patch:
            _workers(patch, workers)
            assert invoke("--home", str(home), "reindex").exit_code == 0
    assert (segment_count(single), segment_count(several)) == (1, 2)
    assert papers_in_order(several) == papers_in_order(single)
    assert index_content(several) == index_content(single)
    for query in QUERIES[:3]:
        assert ranking(several, query) == ranking(single, query), query
    assert invoke("--home", str(several), "doctor", "--format", "tsv").exit_code == 0


def test_small_batches_and_one_worker_stay_in_one_process(
    real_jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Started(BaseException):
        """Not an error paperidx handles: it would end the test."""

    def refuse(*_: object, **__: object) -> None:
        raise Started("the parallel writer was started")

    monkeypatch.setattr(parallel.ParallelWriter, "__init__", refuse)
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    home = tmp_path / "small"
    # `reindex` is a bulk build of all REAL_PAPERS, below the real PARALLEL_MINIMUM.
    for command in (("ingest", str(real_jsonl)), ("reindex",)):
        assert invoke("--home", str(home), *command).exit_code == 0
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    monkeypatch.setattr(index, "PARALLEL_MINIMUM", FORCED_MINIMUM)
    assert invoke("--home", str(home), "reindex").exit_code == 0
    assert segment_count(home) == 1


def test_worker_count_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(parallel.WORKERS_ENV, raising=False)
    assert 1 <= parallel.worker_count() <= parallel.MAX_WORKERS
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    assert parallel.worker_count() == 1
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    assert parallel.worker_count() == 3
    monkeypatch.setenv(parallel.WORKERS_ENV, "many")
    with pytest.raises(LibraryError, match=parallel.WORKERS_ENV):
        parallel.worker_count()


def test_a_worker_s_disk_error_stays_an_environment_error() -> None:
    import errno

    worker = parallel._Worker(process=SimpleNamespace(pid=1), connection=cast(Any, None))
    full = parallel._raised(worker, parallel._Failure("OSError", "No space left", errno.ENOSPC))
    assert isinstance(full, OSError) and full.errno == errno.ENOSPC
    bug = parallel._raised(worker, parallel._Failure("TypeError", "bad", None))
    assert isinstance(bug, parallel.WorkerFailed)


def test_search_and_show_do_not_load_the_parallel_indexer(real_jsonl: Path, tmp_path: Path) -> None:
    home = tmp_path / "startup"
    assert invoke("--home", str(home), "ingest", str(real_jsonl)).exit_code == 0
    # Printed by an exit handler: the CLI ends its process without the usual teardown.
    probe = (
        "import atexit, json, sys\n"
        "def loaded():\n"
        "    names = sorted(m for m in sys.modules\n"
        "                   if m.startswith(('multiprocessing', 'paperidx.search.parallel')))\n"
        "    print(json.dumps(names), file=sys.stderr, flush=True)\n"
        "atexit.register(loaded)\n"
        "from paperidx.cli import main\n"
        "sys.argv = ['paperidx', *sys.argv[1:]]\n"
        "main()\n"
    )
    for args in (("search", "gaussian splatting"), ("show", sorted(store_ids(home))[0])):
        done = subprocess.run(
            [PYTHON, "-c", probe, "--home", str(home), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stderr.strip().splitlines()[-1]) == []


# -- kill -9 ---------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Running (a zombie no parent has reaped yet is not running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_until_gone(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while (alive := [pid for pid in pids if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _children(pid: int) -> Iterator[int]:
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return
    for thread in threads:
        try:
            yield from map(int, Path(f"/proc/{pid}/task/{thread}/children").read_text().split())
        except OSError:
            continue


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _assert_no_lock_held(home: Path) -> None:
    """Both locks free right now: paperidx's writer lock and Whoosh's."""
    with writer_lock(LibraryPaths(home).lock, purpose="test", wait_seconds=0):
        pass
    lock = storage.file_storage(home / "index").lock(f"{storage.INDEX_NAME}_WRITELOCK")
    assert lock.acquire(blocking=False), "Whoosh's lock is held"
    lock.release()


def _assert_next_commands_work(home: Path, papers: set[str], source: Path) -> None:
    found = invoke(*search_everything_args())
    assert found.exit_code == 0, found.output
    assert searched_ids(found.stdout) == papers
    again = invoke("ingest", str(source))
    assert again.exit_code == 0, again.output
    assert_store_and_index_agree(home, papers)
    assert invoke("doctor", "--format", "tsv").exit_code == 0


# The crash tests find processes and their states in /proc.
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.mark.slow
@linux_only
@pytest.mark.parametrize(
    ("moment", "target", "nth"),
    [
        ("while documents are shipped", "paperidx.search.parallel:_Workers.add", 6),
        ("while workers write their segments", "paperidx.search.parallel:_Workers.segments", 1),
    ],
)
def test_sigkill_of_the_parent_leaves_no_worker_and_no_lock(
    moment: str, target: str, nth: int, tmp_path: Path, library_home: Path
) -> None:
    source = tmp_path / "bulk.jsonl"
    papers = write_jsonl(source, generated_papers("parallelkill", BULK_PAPERS))
    pids_file = tmp_path / "children.txt"
    # A script file without a main guard: spawned workers must not run it again.
    crashed = run_crashing_at(
        library_home,
        target,
        nth,
        "ingest",
        str(source),
        timeout=600,
        script=tmp_path / "crashing.py",
        env={parallel.WORKERS_ENV: "2", CHILDREN_FILE_ENV: str(pids_file)},
    )

    assert crashed.returncode == -signal.SIGKILL, f"never got {moment}: {crashed.stderr}"
    children = [int(pid) for pid in pids_file.read_text().split()]
    assert len(children) >= 2  # two workers (and multiprocessing's resource tracker)
    assert _wait_until_gone(children) == [], f"still running after the parent was killed {moment}"
    _assert_no_lock_held(library_home)
    assert set(store_ids(library_home)) == papers  # the store had committed
    _assert_next_commands_work(library_home, papers, source)


@pytest.mark.slow
@linux_only
def test_a_killed_worker_fails_the_build_and_leaves_a_usable_index(
    tmp_path: Path, library_home: Path
) -> None:
    earlier_file = tmp_path / "earlier.jsonl"
    earlier = write_jsonl(earlier_file, generated_papers("beforekill", 50))
    assert invoke("ingest", str(earlier_file)).exit_code == 0
    source = tmp_path / "bulk.jsonl"
    papers = write_jsonl(source, generated_papers("workerkill", BULK_PAPERS))
    process = subprocess.Popen(
        [PYTHON, "-m", "paperidx", "ingest", str(source)],
        env=environment(library_home) | {parallel.WORKERS_ENV: "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    victim, others = None, set()
    deadline = time.monotonic() + 300
    while victim is None and process.poll() is None and time.monotonic() < deadline:
        workers = [pid for pid in _children(process.pid) if _is_worker(pid)]
        if workers:
            victim = workers[0]
            os.kill(victim, signal.SIGKILL)
            others = set(_children(process.pid)) - {victim}
        else:
            time.sleep(0.01)
    _, stderr = process.communicate(timeout=600)

    assert victim is not None, f"no worker was seen: {stderr}"
    assert process.returncode == 6, stderr  # ExitCode.LIBRARY: reported, not a traceback
    assert "indexing process" in stderr and "Traceback" not in stderr
    assert _wait_until_gone(sorted(others)) == []
    _assert_no_lock_held(library_home)
    # The store committed; the index is the one from before (all earlier papers, none of
    # the new ones: no half-built commit), and the next command catches it up.
    from .reliability_support import index_ids

    assert set(index_ids(library_home)) == earlier
    found = invoke("search", COMMON_WORD, "--limit", "100000", "--format", "jsonl")
    assert found.exit_code == 0, found.output
    assert searched_ids(found.stdout) == earlier | papers
    assert_store_and_index_agree(library_home, earlier | papers)
