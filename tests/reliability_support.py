"""Helpers for the reliability tests: generated papers, real `paperidx` processes, and
independent looks at what the store and the search index hold.

The look-ups read SQLite and Whoosh directly rather than through paperidx, so a test can
tell "the CLI says all is well" apart from "all is well".
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from paperidx.models import paper_id

PYTHON = sys.executable
# A word every generated abstract holds: one search for it lists every paper indexed.
COMMON_WORD = "reliabilityprobe"


def generated_papers(tag: str, count: int) -> list[dict[str, Any]]:
    """`count` distinct papers; each abstract has a word of its own (`zq<tag><n>x`)."""
    return [
        {
            "title": f"{tag.capitalize()} study {number}: robust indexing of corpus {tag}{number}",
            "abstract": (
                f"We describe zq{tag}{number}x, a method for {COMMON_WORD} experiments. "
                f"It is evaluated on {number % 17} benchmarks. Results are reported in full."
            ),
            "authors": [f"Author {number % 13}", "Second Author"],
            "date": f"2024-05-{1 + number % 28:02d}",
        }
        for number in range(count)
    ]


def write_jsonl(path: Path, papers: list[dict[str, Any]]) -> set[str]:
    """Write papers as JSON Lines; returns the paperidx ids they will get."""
    with path.open("w", encoding="utf-8") as out:
        for paper in papers:
            out.write(json.dumps(paper) + "\n")
    return {paper_id(paper["title"]) for paper in papers}


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PAPERIDX_HOME"] = str(home)
    env.pop("NO_COLOR", None)
    return env


def run_paperidx(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m paperidx ARGS` in a real process; output captured."""
    return subprocess.run(
        [PYTHON, "-m", "paperidx", *args],
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Runs the CLI after arranging for this process to die by SIGKILL -- no cleanup, no
# `finally`, exactly like `kill -9` -- on the Nth call of one function. With
# CHILDREN_FILE_ENV set, it first writes down the pids of its children (read from /proc).
CHILDREN_FILE_ENV = "PAPERIDX_TEST_CHILDREN_FILE"
_CRASHING = """
import importlib, os, signal, sys
module_name, attribute_path, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
owner = importlib.import_module(module_name)
*parents, name = attribute_path.split(".")
for parent in parents:
    owner = getattr(owner, parent)
original = getattr(owner, name)
calls = 0
def crashing(*args, **kwargs):
    global calls
    calls += 1
    if calls == nth:
        children_file = os.environ.get("CHILDREN_FILE_ENV")
        if children_file:
            task = f"/proc/{os.getpid()}/task"
            children = [pid for thread in os.listdir(task)
                        for pid in open(f"{task}/{thread}/children").read().split()]
            with open(children_file, "w") as out:
                out.write(" ".join(children))
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
setattr(owner, name, crashing)
sys.argv = ["paperidx", *sys.argv[4:]]
from paperidx.cli import main
main()
""".replace("CHILDREN_FILE_ENV", CHILDREN_FILE_ENV)


def run_crashing_at(
    home: Path,
    target: str,
    nth: int,
    *args: str,
    timeout: float = 120,
    script: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `paperidx ARGS`, killed with SIGKILL on the `nth` call of `target`
    (`module:Attribute.path`). With `script`, the program runs from that file (written
    here, without a main guard, as a careless tool would be) rather than from `-c`."""
    module, attribute = target.split(":")
    program = ["-c", _CRASHING]
    if script is not None:
        script.write_text(_CRASHING, encoding="utf-8")
        program = [str(script)]
    return subprocess.run(
        [PYTHON, *program, module, attribute, str(nth), *args],
        env=environment(home) | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def killed_by_sigkill(process: subprocess.CompletedProcess[str] | subprocess.Popen[str]) -> bool:
    return process.returncode == -signal.SIGKILL


def store_ids(home: Path) -> list[str]:
    """Every paper id in the record store, read with sqlite3 directly (read-only)."""
    uri = f"file:{home / 'papers.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        return [row[0] for row in db.execute("SELECT id FROM papers")]


def index_ids(home: Path) -> list[str]:
    """Every paper id in the search index, duplicates included, read with Whoosh directly."""
    from whoosh import index as whoosh_index

    from paperidx.search.storage import INDEX_NAME

    ix = whoosh_index.open_dir(str(home / "index"), indexname=INDEX_NAME)
    with ix.reader() as reader:
        return [fields["id"] for _number, fields in reader.iter_docs()]


def duplicates(ids: list[str]) -> list[str]:
    return [paper for paper, seen in Counter(ids).items() if seen > 1]


def searched_ids(output: str) -> set[str]:
    """Paper ids in `search --format jsonl` output."""
    return {json.loads(line)["id"] for line in output.splitlines() if line.strip()}


def search_everything_args() -> list[str]:
    return ["search", COMMON_WORD, "--limit", "100000", "--format", "jsonl"]


def cli(*args: str) -> Any:
    """`paperidx ARGS` in this process (fast), on the library `PAPERIDX_HOME` names."""
    from .conftest import invoke

    return invoke(*args)


def ingest_in_process(path: Path) -> None:
    done = cli("ingest", str(path))
    assert done.exit_code == 0, done.output


def assert_store_and_index_agree(home: Path, expected: set[str]) -> None:
    """The store holds exactly `expected`, once each, and so does the index."""
    stored = store_ids(home)
    assert not duplicates(stored)
    assert set(stored) == expected, (
        f"missing {len(expected - set(stored))}, unexpected {len(set(stored) - expected)}"
    )
    indexed = index_ids(home)
    assert not duplicates(indexed), f"{len(duplicates(indexed))} papers indexed twice"
    assert set(indexed) == expected
