#!/usr/bin/env python3
"""Set-up and everyday tasks, with nothing but Python 3.11+ on the machine.

    python3 dev.py demo     # make .venv, install paperidx, ingest the bundled sample, search
    python3 dev.py test     # make .venv, install paperidx with test tools, run the tests
    python3 dev.py fast     # the quick loop: no slow tests, fewer hypothesis examples
    python3 dev.py lint     # ruff (lint and format) and mypy --strict, code and tests
    python3 dev.py bench    # benchmarks/quality.py and benchmarks/perf.py
    python3 dev.py docs     # regenerate the README's generated sections

The virtual environment is created once and reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
SAMPLE = ROOT / "data" / "hf-daily-papers-sample.txt"
DEMO_HOME = ROOT / ".demo-library"


def ensure_venv(extras: str = "") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under any python3
        sys.exit(f"paperidx needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    stamp = VENV / f".installed{extras}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    print(f"installing paperidx{f'[{extras}]' if extras else ''} into .venv", file=sys.stderr)
    run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            target,
        ]
    )
    stamp.write_text(wanted)


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(command, cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def demo() -> None:
    ensure_venv()
    env = {**os.environ, "PAPERIDX_HOME": os.environ.get("PAPERIDX_HOME", str(DEMO_HOME))}
    print(f"library: {env['PAPERIDX_HOME']}", file=sys.stderr)
    paperidx = str(BIN / "paperidx")
    run([paperidx, "ingest", str(SAMPLE)], env)
    run([paperidx, "search", "gaussian splatting", "--limit", "5"], env)


def test() -> None:
    ensure_venv("dev")
    run([str(PYTHON), "-m", "pytest", *sys.argv[2:]])


def fast() -> None:
    ensure_venv("dev")
    env = {**os.environ, "HYPOTHESIS_PROFILE": "dev"}
    run([str(PYTHON), "-m", "pytest", "-q", "-m", "not slow", *sys.argv[2:]], env)


def lint() -> None:
    ensure_venv("dev")
    run([str(BIN / "ruff"), "check", "src", "tests", "benchmarks", "tools", "dev.py"])
    run([str(BIN / "ruff"), "format", "--check", "src", "tests", "benchmarks", "tools", "dev.py"])
    run([str(BIN / "mypy")])
    run([str(BIN / "mypy"), "--strict", "tests"])


def bench() -> None:
    ensure_venv("dev")
    run([str(PYTHON), "benchmarks/quality.py"])
    run([str(PYTHON), "benchmarks/perf.py"])


def docs() -> None:
    """Rewrite the generated parts of the README (tests/test_docs.py checks they are current)."""
    ensure_venv()
    run([str(PYTHON), "-c", "from paperidx.docs import update_readme; update_readme()"])


TASKS = {"demo": demo, "test": test, "fast": fast, "lint": lint, "bench": bench, "docs": docs}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        sys.exit(__doc__)
    TASKS[sys.argv[1]]()
