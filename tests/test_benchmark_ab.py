"""`benchmarks/ab.py` runs two installs' command in turns, each on its own copy of the library
when asked, beside the floor, and reports medians and the change."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from .benchmark_support import load_script

# A stand-in for paperidx: appends its name to a file in the library it is given.
FAKE = """#!{python}
import os, sys
with open(os.path.join(os.environ["PAPERIDX_HOME"], "runs"), "a") as runs:
    runs.write("{name} " + " ".join(sys.argv[1:]) + "\\n")
"""


@pytest.fixture(scope="module")
def ab() -> ModuleType:
    return load_script("ab")


def _install(folder: Path, name: str) -> Path:
    """A bin/ folder with a fake paperidx and the python the floor is measured with."""
    folder.mkdir()
    # A wrapper, not a symlink: a symlinked venv python outside its venv loses the venv.
    python = folder / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    executable = folder / "paperidx"
    executable.write_text(FAKE.format(python=sys.executable, name=name))
    executable.chmod(0o755)
    return executable


@pytest.mark.parametrize("copy", [False, True])
def test_both_installs_run_in_turns_and_the_library_is_copied_when_asked(
    ab: ModuleType, tmp_path: Path, copy: bool
) -> None:
    before, after = _install(tmp_path / "old", "old"), _install(tmp_path / "new", "new")
    library = tmp_path / "library"
    library.mkdir()
    timings = ab.measure(before, after, library, ["ingest", "x.txt"], repeats=2, copy=copy)
    assert {name: len(t.wall) for name, t in timings.items()} == {
        "before": 2,
        "after": 2,
        "floor": 2,
    }
    runs = library / "runs"
    if copy:
        assert not runs.exists()  # every run wrote to its own copy
    else:
        assert runs.read_text().splitlines() == ["old ingest x.txt", "new ingest x.txt"] * 3
    report = ab.report(timings)
    assert "| after |" in report and "after / before:" in report and "2 rounds" in report


def test_a_failing_run_stops_the_measurement(ab: ModuleType, tmp_path: Path) -> None:
    before, after = _install(tmp_path / "old", "old"), _install(tmp_path / "new", "new")
    with pytest.raises(SystemExit):
        ab.measure(before, after, tmp_path / "missing", ["search", "x"], repeats=1, copy=False)
