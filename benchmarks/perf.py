"""Performance of paperidx on real papers, as ratios to baselines measured in the same run.

Run it with the interpreter of the environment paperidx is installed in::

    python benchmarks/perf.py [--sizes 10000,20000,75000] [--repeats 5] [--quick]

Data: the first N of the 74,728 arXiv cs.* abstracts in
``shared/data/arxiv_cs_75k/papers.jsonl.gz`` (``--data`` points elsewhere). Each N-line
slice is written once, as plain JSON Lines, into ``benchmarks/.work/``.

What is measured, per size, every command as a fresh subprocess with its output piped (as a
script or a shell pipeline would run it), wall time from ``Popen`` to ``wait4``:

- **Bulk ingest**: ``paperidx ingest slice.jsonl`` into an empty library, against a *naive
  Whoosh* script on the same papers: ``Schema(id=ID, title=TEXT, abstract=TEXT)`` with
  ``StemmingAnalyzer``, one ``ix.writer()``, one ``commit()``. That script is what anyone
  would write in ten minutes with the same engine, so the ratio prices everything paperidx
  adds on top of Whoosh (validation, the SQLite store, acronyms, its richer schema).
- **search / show**: a fixed set of short topic queries and two long natural-language ones,
  and ``show`` by id prefix and by arXiv id, against the *start-up floor*
  ``python -c "import typer, whoosh.index, whoosh.qparser"``: the least any typer CLI on top
  of Whoosh can cost, on this interpreter, right now. What is left above it is paperidx's.
- **Daily ingest**: the bundled 67-paper digest sample into a copy of the big library,
  against the same floor: the everyday "add today's digest" command, with five watches
  evaluated after it (as a user with a few standing topics has). And the same for an
  arXiv subscription e-mail of ~200 papers (``--email-papers``): real papers from the
  ``shared/data/arxiv_cs_daily`` listing of 2025-04-22, laid out as arXiv's daily mailing
  lays them out (header paragraph, ``\\`` blocks, wrapped fields and abstracts).
- **Size and memory**: index and store size on disk, and the peak RSS of every process, read
  from that process's own ``wait4`` rusage (per child, so one process's peak never leaks into
  another's; a process's figure includes its own waited-for children, e.g. Whoosh's
  multiprocessing writers, as the larger of the two, not their sum).
- **SQLite FTS5** (skip with ``--no-fts5``): the same papers in an FTS5 table (porter
  tokenizer), build time and in-process query time, to show the engine gap honestly.

This machine is shared and noisy, so no absolute time is asserted anywhere: commands are
interleaved round by round (a slow spell hits the baseline too), a warm-up round is
discarded (it also leaves bytecode behind: commands run without PYTHONDONTWRITEBYTECODE, as
an installed paperidx would), and medians of ``--repeats`` rounds are quoted. Bulk ingest is run
``--ingest-repeats`` times (default 1: at 75k one run takes minutes), naive and paperidx
back to back. Results go to stdout (machine, then a Markdown table for the README), progress
to stderr, and everything to ``benchmarks/.work/perf-results.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASET = Path("arxiv_cs_75k") / "papers.jsonl.gz"
DAILY_SAMPLE = REPO / "data" / "hf-daily-papers-sample.txt"
DAILY_YEAR = "2024"
EMAIL_LISTING = Path("arxiv_cs_daily") / "data" / "2025-04-22.jsonl"
EMAIL_PAPERS = 200
DEFAULT_WORK = BENCHMARKS / ".work"

FLOOR_CODE = "import typer, whoosh.index, whoosh.qparser"
SHORT_QUERIES = (
    "gaussian splatting",
    "lora",
    "diffusion models",
    "mixture of experts",
    "speculative decoding",
    "graph neural networks",
)
LONG_QUERIES = (
    "how can large language models be made to reason more reliably about math problems",
    "compressing the key value cache of transformers for long context inference on one gpu",
)
# The watches a daily ingest evaluates (a user with a few standing topics).
WATCHES = {
    "splatting": '"gaussian splatting" OR 3dgs',
    "moe": "mixture of experts",
    "peft": "lora OR peft",
    "agents": "llm agents",
    "speculative": '"speculative decoding"',
}
# Which line of the slice `show` looks up (it must lie inside the smallest slice).
SHOW_LINE = 1234

TARGET_INGEST = 0.6
TARGET_READ = 1.3
# Issue 13: a long natural-language question may cost up to twice the floor (at 75k papers).
TARGET_LONG = 2.0
TARGET_DAILY = 3.0
TARGET_SEARCH_RSS_MB = 150.0

START = time.perf_counter()


# -- running one measured process ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """One finished subprocess: wall and CPU seconds, peak RSS, exit code and output."""

    seconds: float
    cpu_seconds: float
    maxrss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run(command: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run `command` with stdout piped; time it and read its own rusage via wait4."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=clean_env() if env is None else env,
        )
        assert process.stdout is not None
        out = process.stdout.read()
        process.stdout.close()
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    return Run(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        returncode=process.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err,
    )


def checked(command: Sequence[str], env: dict[str, str] | None = None) -> Run:
    result = run(command, env)
    if result.returncode != 0:
        shown = " ".join(command)
        raise SystemExit(f"perf: `{shown}` failed ({result.returncode}):\n{result.stderr}")
    return result


def log(text: str) -> None:
    sys.stderr.write(f"[perf {time.perf_counter() - START:7.1f}s] {text}\n")
    sys.stderr.flush()


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


# -- environment --------------------------------------------------------------------------


def paperidx_command() -> list[str]:
    """The `paperidx` of the environment this script runs in."""
    script = Path(sys.executable).parent / "paperidx"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "paperidx"]


# Dropped from every measured command's environment. PYTHONDONTWRITEBYTECODE would make each
# run compile paperidx from source (20-40 ms a command) where an installed paperidx, and
# this script's warm-up round, leave bytecode behind.
UNSET = ("PYTHONDONTWRITEBYTECODE",)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("PAPERIDX_")}


def library_env(home: Path) -> dict[str, str]:
    return clean_env() | {"PAPERIDX_HOME": str(home)}


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
        "unset_for_commands": [name for name in UNSET if name in os.environ],
        "paperidx": paperidx_command(),
    }


# -- data ---------------------------------------------------------------------------------


def write_slices(source: Path, sizes: Sequence[int], work: Path) -> dict[int, Path]:
    """`slice-N.jsonl` with the first N lines of `source`, for every N (written once)."""
    paths = {n: work / f"slice-{n}.jsonl" for n in sizes}
    missing = sorted(n for n, p in paths.items() if not p.exists())
    if not missing:
        return paths
    log(f"writing slices {missing} from {source}")
    temporaries = {n: paths[n].with_suffix(".tmp") for n in missing}
    handles = {n: open(temporaries[n], "w", encoding="utf-8") for n in missing}  # noqa: SIM115
    try:
        with gzip.open(source, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                open_handles = [h for n, h in handles.items() if number <= n]
                if not open_handles:
                    break
                for handle in open_handles:
                    handle.write(line)
    finally:
        for handle in handles.values():
            handle.close()
    for n in missing:
        os.replace(temporaries[n], paths[n])
    return paths


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def arxiv_id_at(path: Path, line_number: int) -> str:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number == line_number:
                return str(json.loads(line)["id"]).lower()
    raise SystemExit(f"perf: {path} has fewer than {line_number + 1} lines")


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def store_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("papers.sqlite3*"))


def show_references(home: Path, arxiv_id: str) -> tuple[str, str]:
    """(shortest unique id prefix of at least 6 characters, arXiv id) of one stored paper."""
    uri = f"file:{home / 'papers.sqlite3'}?mode=ro"
    # Closed on leaving the block (`with` on a connection alone only commits).
    with closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute("SELECT id FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
        if row is None:
            raise SystemExit(f"perf: arXiv {arxiv_id} is not in the library at {home}")
        paper_id = str(row[0])
        for length in range(6, len(paper_id) + 1):
            prefix = paper_id[:length]
            (matches,) = db.execute(
                "SELECT count(*) FROM papers WHERE id >= ? AND id < ?", (prefix, prefix + "g")
            ).fetchone()
            if matches == 1:
                return prefix, arxiv_id
    return paper_id, arxiv_id


# -- workers (this file run as `perf.py _worker NAME ...`) ---------------------------------


def worker_naive(slice_path: str, index_dir: str) -> None:
    """The naive baseline: one writer, one commit, the schema a newcomer would write."""
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    analyzer = StemmingAnalyzer()
    schema = Schema(
        id=ID(stored=True),
        title=TEXT(analyzer=analyzer, stored=True),
        abstract=TEXT(analyzer=analyzer, stored=True),
    )
    ix = index.create_in(index_dir, schema)
    writer = ix.writer()
    with open(slice_path, encoding="utf-8") as lines:
        for line in lines:
            paper = json.loads(line)
            writer.add_document(id=paper["id"], title=paper["title"], abstract=paper["summary"])
    writer.commit()


def worker_fts5_build(slice_path: str, db_path: str) -> None:
    db = sqlite3.connect(db_path)
    db.execute(
        "CREATE VIRTUAL TABLE papers USING fts5(id UNINDEXED, title, abstract, "
        "tokenize = 'porter unicode61')"
    )
    with open(slice_path, encoding="utf-8") as lines:
        rows = ((p["id"], p["title"], p["summary"]) for p in map(json.loads, lines))
        db.executemany("INSERT INTO papers (id, title, abstract) VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()


def fts5_match(query: str) -> str:
    """Whoosh-like OR query: the words minus Whoosh's stop words, each one quoted."""
    import re

    from whoosh.analysis import STOP_WORDS

    words = [w for w in re.findall(r"\w+", query.lower()) if w not in STOP_WORDS]
    return " OR ".join(f'"{w}"' for w in words)


def worker_fts5_query(db_path: str, repeats: str) -> None:
    """Print {query: median milliseconds} for the query set, top 10 by bm25, in-process."""
    db = sqlite3.connect(db_path)
    sql = "SELECT id FROM papers WHERE papers MATCH ? ORDER BY bm25(papers) LIMIT 10"
    timings: dict[str, float] = {}
    for query in (*SHORT_QUERIES, *LONG_QUERIES):
        match = fts5_match(query)
        samples = []
        for _ in range(int(repeats) + 1):
            start = time.perf_counter()
            db.execute(sql, (match,)).fetchall()
            samples.append((time.perf_counter() - start) * 1000)
        timings[query] = median(samples[1:])
    print(json.dumps(timings))


WORKERS: dict[str, Callable[..., None]] = {
    "naive": worker_naive,
    "fts5-build": worker_fts5_build,
    "fts5-query": worker_fts5_query,
}


def worker_command(name: str, *arguments: object) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "_worker", name, *map(str, arguments)]


# -- measurements -------------------------------------------------------------------------


@dataclass(slots=True)
class SizeResult:
    """Everything measured at one size; seconds unless a name says otherwise."""

    papers: int
    load_average: list[float] = field(default_factory=list)
    naive_ingest: list[float] = field(default_factory=list)
    paperidx_ingest: list[float] = field(default_factory=list)
    naive_ingest_cpu: list[float] = field(default_factory=list)
    paperidx_ingest_cpu: list[float] = field(default_factory=list)
    naive_ingest_rss_mb: float = 0.0
    paperidx_ingest_rss_mb: float = 0.0
    paperidx_ingest_report: str = ""
    index_bytes: int = 0
    naive_index_bytes: int = 0
    store_bytes: int = 0
    floor: list[float] = field(default_factory=list)
    search: dict[str, list[float]] = field(default_factory=dict)
    search_hits: dict[str, int] = field(default_factory=dict)
    search_rss_mb: float = 0.0
    show: dict[str, list[float]] = field(default_factory=dict)
    show_rss_mb: float = 0.0
    show_references: dict[str, str] = field(default_factory=dict)
    daily: list[float] = field(default_factory=list)
    daily_rss_mb: float = 0.0
    daily_email: list[float] = field(default_factory=list)
    daily_email_rss_mb: float = 0.0
    fts5_build: float | None = None
    fts5_bytes: int | None = None
    fts5_query_ms: dict[str, float] = field(default_factory=dict)


def measure_ingest(result: SizeResult, slice_path: Path, home: Path, repeats: int) -> None:
    """Naive Whoosh and `paperidx ingest`, back to back, `repeats` times; keeps the library."""
    naive_dir = home.parent / f"naive-{result.papers}"
    for round_number in range(1, repeats + 1):
        for folder in (home, naive_dir):
            shutil.rmtree(folder, ignore_errors=True)
        naive_dir.mkdir(parents=True)
        log(f"{result.papers}: naive Whoosh ingest ({round_number}/{repeats})")
        naive = checked(worker_command("naive", slice_path, naive_dir))
        log(f"{result.papers}:   naive {naive.seconds:.1f}s; paperidx ingest …")
        ours = checked([*paperidx_command(), "ingest", str(slice_path)], library_env(home))
        log(f"{result.papers}:   paperidx {ours.seconds:.1f}s")
        result.naive_ingest.append(naive.seconds)
        result.naive_ingest_cpu.append(naive.cpu_seconds)
        result.paperidx_ingest.append(ours.seconds)
        result.paperidx_ingest_cpu.append(ours.cpu_seconds)
        result.naive_ingest_rss_mb = max(result.naive_ingest_rss_mb, naive.maxrss_mb)
        result.paperidx_ingest_rss_mb = max(result.paperidx_ingest_rss_mb, ours.maxrss_mb)
        result.paperidx_ingest_report = ours.stderr.strip().splitlines()[-1]
    result.naive_index_bytes = folder_bytes(naive_dir)
    shutil.rmtree(naive_dir, ignore_errors=True)
    result.index_bytes = folder_bytes(home / "index")
    result.store_bytes = store_bytes(home)


def read_commands(prefix: str, arxiv_id: str) -> dict[str, list[str]]:
    """name -> argv of every timed read command (the floor included)."""
    paperidx = paperidx_command()
    commands = {"floor": [sys.executable, "-c", FLOOR_CODE]}
    for query in (*SHORT_QUERIES, *LONG_QUERIES):
        commands[f"search:{query}"] = [*paperidx, "search", query]
    commands["show:prefix"] = [*paperidx, "show", prefix]
    commands["show:arxiv"] = [*paperidx, "show", arxiv_id]
    return commands


def record_read(result: SizeResult, name: str, measured: Run) -> None:
    kind, _, what = name.partition(":")
    if kind == "floor":
        result.floor.append(measured.seconds)
    elif kind == "search":
        result.search.setdefault(what, []).append(measured.seconds)
        result.search_hits[what] = len(measured.stdout.splitlines())
        result.search_rss_mb = max(result.search_rss_mb, measured.maxrss_mb)
    else:
        result.show.setdefault(what, []).append(measured.seconds)
        result.show_rss_mb = max(result.show_rss_mb, measured.maxrss_mb)


def measure_reads(
    result: SizeResult, home: Path, commands: dict[str, list[str]], repeats: int
) -> None:
    """One discarded warm-up round, then `repeats` rounds of every command, interleaved."""
    env = library_env(home)
    for command in commands.values():
        checked(command, env)
    for round_number in range(1, repeats + 1):
        log(f"{result.papers}: search/show round {round_number}/{repeats}")
        for name, command in commands.items():
            record_read(result, name, checked(command, env))


def measure_daily(result: SizeResult, home: Path, repeats: int, email: Path | None) -> None:
    """The 67-paper sample (and the arXiv e-mail) into a fresh copy of the library each
    round, beside the floor."""
    copy = home.parent / f"{home.name}-daily"
    daily = [*paperidx_command(), "ingest", str(DAILY_SAMPLE), "--year", DAILY_YEAR]
    floor = [sys.executable, "-c", FLOOR_CODE]
    for round_number in range(1, repeats + 1):
        log(f"{result.papers}: daily ingest round {round_number}/{repeats}")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(home, copy)
        measured = checked(daily, library_env(copy))
        result.daily.append(measured.seconds)
        result.daily_rss_mb = max(result.daily_rss_mb, measured.maxrss_mb)
        result.floor.append(checked(floor).seconds)
        if email is None:
            continue
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(home, copy)
        measured = checked([*paperidx_command(), "ingest", str(email)], library_env(copy))
        result.daily_email.append(measured.seconds)
        result.daily_email_rss_mb = max(result.daily_email_rss_mb, measured.maxrss_mb)
    shutil.rmtree(copy, ignore_errors=True)


_MAIL_RULE = "-" * 78


def _wrapped(text: str, field_name: str, width: int = 78) -> list[str]:
    """`Title: ...` wrapped as arXiv wraps it: continuation lines indented by two spaces."""
    import textwrap

    return textwrap.wrap(
        " ".join(text.split()), width, initial_indent=field_name, subsequent_indent="  "
    )


def write_arxiv_email(listing: Path, papers: int, target: Path) -> Path:
    """Real papers from a raw arXiv listing, laid out as arXiv's daily e-mail lays them out."""
    seen: set[str] = set()
    entries: list[dict[str, Any]] = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        paper = json.loads(line)
        if paper["id"] not in seen and len(entries) < papers:
            seen.add(paper["id"])
            entries.append(paper)
    out = [
        "From: no-reply@arXiv.org",
        "Subject: cs daily Subj-class mailing 1 1",
        "",
        _MAIL_RULE,
        _MAIL_RULE,
        "Send any comments regarding submissions directly to submitter.",
        _MAIL_RULE,
        "Archives at http://arxiv.org/",
        "To unsubscribe, e-mail To: cs@arXiv.org, Subject: cancel",
        _MAIL_RULE,
        " Submissions to:",
        "Computer Vision and Pattern Recognition",
        " received from  Mon 21 Apr 25 18:00:00 GMT  to  Tue 22 Apr 25 18:00:00 GMT",
        _MAIL_RULE,
    ]
    for paper in entries:
        out += [
            "\\\\",
            f"arXiv:{paper['id']}",
            "Date: Mon, 21 Apr 2025 12:00:00 GMT   (1024kb)",
            "",
            *_wrapped(paper["title"], "Title: "),
            *_wrapped(", ".join(paper["authors"]), "Authors: "),
            "Categories: " + " ".join(c for c in paper["categories"] if "." in c),
        ]
        if paper.get("comment"):
            out += _wrapped(paper["comment"], "Comments: ")
        out += ["\\\\", *(f"  {line}" for line in paper["summary"].splitlines())]
        out += [f"\\\\ ( https://arxiv.org/abs/{paper['id']} ,  1024kb)", _MAIL_RULE]
    out += ["", "%%%---%%%---%%%---%%%---%%%---%%%---%%%---%%%---%%%---%%%---%%%---%%%"]
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def measure_fts5(result: SizeResult, slice_path: Path, work: Path, repeats: int) -> None:
    db_path = work / f"fts5-{result.papers}.sqlite3"
    db_path.unlink(missing_ok=True)
    log(f"{result.papers}: SQLite FTS5 reference")
    result.fts5_build = checked(worker_command("fts5-build", slice_path, db_path)).seconds
    result.fts5_bytes = db_path.stat().st_size
    queried = checked(worker_command("fts5-query", db_path, repeats))
    result.fts5_query_ms = json.loads(queried.stdout)
    db_path.unlink(missing_ok=True)


def measure_size(slice_path: Path, work: Path, options: argparse.Namespace) -> SizeResult:
    papers = count_lines(slice_path)
    result = SizeResult(papers=papers, load_average=[os.getloadavg()[0]])
    home = work / f"library-{papers}"
    measure_ingest(result, slice_path, home, options.ingest_repeats)
    prefix, arxiv_id = show_references(home, arxiv_id_at(slice_path, min(SHOW_LINE, papers - 1)))
    result.show_references = {"prefix": prefix, "arxiv": arxiv_id}
    measure_reads(result, home, read_commands(prefix, arxiv_id), options.repeats)
    for name, query in WATCHES.items():  # a user's watches run after every daily ingest
        checked([*paperidx_command(), "watch", "add", name, query, "--replace"], library_env(home))
    email = None
    if options.email_papers:
        email = write_arxiv_email(
            options.data / EMAIL_LISTING, options.email_papers, work / "arxiv-email.txt"
        )
    measure_daily(result, home, options.repeats, email)
    if options.fts5:
        measure_fts5(result, slice_path, work, options.repeats)
    result.load_average.append(os.getloadavg()[0])
    return result


# -- reporting ----------------------------------------------------------------------------


def seconds_text(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def mb(value: float) -> str:
    return f"{value / 1e6:.1f} MB"


@dataclass(frozen=True, slots=True)
class Summary:
    """The medians and ratios a row of the table shows, for one size."""

    ingest: float
    naive: float
    floor: float
    short: float
    long: float
    prefix: float
    arxiv: float
    daily: float
    daily_email: float

    @property
    def ingest_ratio(self) -> float:
        return self.ingest / self.naive

    def to_floor(self, value: float) -> float:
        return value / self.floor


def summarize(result: SizeResult) -> Summary:
    per_query = {q: median(times) for q, times in result.search.items()}
    return Summary(
        ingest=median(result.paperidx_ingest),
        naive=median(result.naive_ingest),
        floor=median(result.floor),
        short=median(per_query[q] for q in SHORT_QUERIES),
        long=median(per_query[q] for q in LONG_QUERIES),
        prefix=median(result.show["prefix"]),
        arxiv=median(result.show["arxiv"]),
        daily=median(result.daily),
        daily_email=median(result.daily_email) if result.daily_email else float("nan"),
    )


Row = tuple[str, str, Callable[[SizeResult, Summary], str]]


def _timed(value: float, ratio: float, against: str) -> str:
    return f"{seconds_text(value)} ({ratio:.2f}x {against})"


def _ingest_cpu(r: SizeResult, _s: Summary) -> str:
    ours, naive = median(r.paperidx_ingest_cpu), median(r.naive_ingest_cpu)
    return f"{seconds_text(ours)} ({ours / naive:.2f}x naive's {seconds_text(naive)})"


def _fts5_build(r: SizeResult, s: Summary) -> str:
    if r.fts5_build is None:
        return "—"
    return _timed(r.fts5_build, r.fts5_build / s.naive, "naive")


def _fts5_query(r: SizeResult, _s: Summary) -> str:
    if not r.fts5_query_ms:
        return "—"
    return f"{median(r.fts5_query_ms.values()):.1f} ms"


ROWS: list[Row] = [
    (
        "bulk ingest, paperidx",
        f"≤ {TARGET_INGEST}x naive",
        lambda r, s: _timed(s.ingest, s.ingest_ratio, "naive"),
    ),
    ("bulk ingest, naive Whoosh", "baseline", lambda r, s: seconds_text(s.naive)),
    (
        "ingest papers/s, paperidx / naive",
        "",
        lambda r, s: f"{r.papers / s.ingest:.0f} / {r.papers / s.naive:.0f}",
    ),
    ("bulk ingest CPU time (user+sys, all processes)", "", _ingest_cpu),
    (
        "start-up floor (python -c import typer, whoosh)",
        "baseline",
        lambda r, s: seconds_text(s.floor),
    ),
    (
        f"search, {len(SHORT_QUERIES)} short queries (median)",
        f"≤ {TARGET_READ}x floor",
        lambda r, s: _timed(s.short, s.to_floor(s.short), "floor"),
    ),
    (
        f"search, {len(LONG_QUERIES)} long queries (median)",
        f"≤ {TARGET_LONG}x floor",
        lambda r, s: _timed(s.long, s.to_floor(s.long), "floor"),
    ),
    (
        "show by id prefix",
        f"≤ {TARGET_READ}x floor",
        lambda r, s: _timed(s.prefix, s.to_floor(s.prefix), "floor"),
    ),
    (
        "show by arXiv id",
        f"≤ {TARGET_READ}x floor",
        lambda r, s: _timed(s.arxiv, s.to_floor(s.arxiv), "floor"),
    ),
    (
        "daily ingest, 67 papers into the library",
        f"≤ {TARGET_DAILY}x floor",
        lambda r, s: _timed(s.daily, s.to_floor(s.daily), "floor"),
    ),
    (
        "daily ingest, arXiv e-mail of ~200 papers",
        f"≤ {TARGET_DAILY}x floor",
        lambda r, s: (
            _timed(s.daily_email, s.to_floor(s.daily_email), "floor")
            if r.daily_email
            else "not run"
        ),
    ),
    (
        "index on disk (bytes/paper)",
        "",
        lambda r, s: f"{mb(r.index_bytes)} ({r.index_bytes / r.papers:,.0f} B)",
    ),
    (
        "naive Whoosh index, stored fields (bytes/paper)",
        "",
        lambda r, s: f"{mb(r.naive_index_bytes)} ({r.naive_index_bytes / r.papers:,.0f} B)",
    ),
    (
        "record store (bytes/paper)",
        "",
        lambda r, s: f"{mb(r.store_bytes)} ({r.store_bytes / r.papers:,.0f} B)",
    ),
    (
        "peak RSS ingest, paperidx / naive (largest process)",
        "",
        lambda r, s: f"{r.paperidx_ingest_rss_mb:.0f} / {r.naive_ingest_rss_mb:.0f} MB",
    ),
    (
        "peak RSS search / show / daily ingest",
        f"search ≤ {TARGET_SEARCH_RSS_MB:.0f} MB",
        lambda r, s: f"{r.search_rss_mb:.0f} / {r.show_rss_mb:.0f} / {r.daily_rss_mb:.0f} MB",
    ),
    ("SQLite FTS5 build (reference)", "", _fts5_build),
    ("SQLite FTS5 query, in-process (median)", "", _fts5_query),
]


def markdown_table(results: Sequence[SizeResult]) -> str:
    summaries = [summarize(r) for r in results]
    header = ["measurement", *(f"{r.papers:,} papers" for r in results), "target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, target, cell in ROWS:
        cells = [cell(r, s) for r, s in zip(results, summaries, strict=True)]
        lines.append("| " + " | ".join([label, *cells, target]) + " |")
    return "\n".join(lines)


def verdicts(result: SizeResult) -> list[str]:
    """Target by target at one size: PASS or MISS, with the measured ratio."""
    s = summarize(result)
    checks = [
        ("bulk ingest / naive", s.ingest_ratio, TARGET_INGEST),
        ("search (short) / floor", s.to_floor(s.short), TARGET_READ),
        ("search (long) / floor", s.to_floor(s.long), TARGET_LONG),
        ("show prefix / floor", s.to_floor(s.prefix), TARGET_READ),
        ("show arXiv / floor", s.to_floor(s.arxiv), TARGET_READ),
        ("daily ingest / floor", s.to_floor(s.daily), TARGET_DAILY),
        ("daily arXiv e-mail / floor", s.to_floor(s.daily_email), TARGET_DAILY),
        ("search peak RSS MB", result.search_rss_mb, TARGET_SEARCH_RSS_MB),
    ]
    return [
        f"{'PASS' if value <= target else 'MISS'}  {name}: {value:.2f} (target ≤ {target:g})"
        for name, value, target in checks
    ]


def print_report(info: dict[str, Any], results: Sequence[SizeResult], per_query: bool) -> None:
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")
    print(f"paperidx: {' '.join(info['paperidx'])}")
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in info['load_average_at_start'])}")
    for result in results:
        low, high = min(result.load_average), max(result.load_average)
        print(f"1-min load average around the {result.papers:,} run: {low:.2f} … {high:.2f}")
    if per_query:
        for result in results:
            floor = median(result.floor)
            print(f"\nper query at {result.papers:,} papers (median, ratio to floor, lines out):")
            for query, times in result.search.items():
                value = median(times)
                hits = result.search_hits[query]
                print(f"  {seconds_text(value):>8} {value / floor:5.2f}x  {hits:2d}  {query}")
    print(f"\ntargets at {results[-1].papers:,} papers:")
    for line in verdicts(results[-1]):
        print(f"  {line}")
    print()
    print(markdown_table(results))


def write_json(path: Path, info: dict[str, Any], results: Sequence[SizeResult], args: Any) -> None:
    payload = {
        "machine": info,
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "queries": {"short": list(SHORT_QUERIES), "long": list(LONG_QUERIES)},
        "results": [asdict(r) | {"summary": asdict(summarize(r))} for r in results],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


# -- command line -------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,20000,75000", help="papers per run, comma list")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds of search/show/daily")
    parser.add_argument("--ingest-repeats", type=int, default=1, help="bulk ingests per size")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2000 papers, 3 repeats")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where files go")
    parser.add_argument("--no-fts5", dest="fts5", action="store_false", help="skip SQLite FTS5")
    parser.add_argument("--per-query", action="store_true", help="also print every query's time")
    parser.add_argument(
        "--email-papers",
        type=int,
        default=EMAIL_PAPERS,
        help="papers in the arXiv e-mail of the daily-ingest measurement (0 skips it)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = "2000", 3
    args.sizes = sorted({int(n) for n in str(args.sizes).split(",")})
    return args


def main(argv: Sequence[str]) -> None:
    if argv[:1] == ["_worker"]:
        WORKERS[argv[1]](*argv[2:])
        return
    args = parse_arguments(argv)
    source = args.data / DATASET
    if not source.exists():
        raise SystemExit(f"perf: no data at {source} (pass --data)")
    args.work.mkdir(parents=True, exist_ok=True)
    info = machine()
    log(f"{info['cpu']}, {info['cores']} cores, Python {info['python']}; sizes {args.sizes}")
    slices = write_slices(source, args.sizes, args.work)
    results = [measure_size(slices[n], args.work, args) for n in args.sizes]
    out = args.work / "perf-results.json"
    write_json(out, info, results, args)
    log(f"results written to {out}")
    print_report(info, results, args.per_query)


if __name__ == "__main__":
    main(sys.argv[1:])
