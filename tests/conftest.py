"""Every test runs against its own library folder, and paths to the shared real data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner, Result

from paperidx.cli import app

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "hf-daily-papers-sample.txt"
SHARED_DATA = REPO.parent / "shared" / "data"

# `python3 dev.py fast` runs the quick profile; `dev.py test` the full one, with new random
# examples every run; CI (`.ci/run`) the full one derandomized, so a landing is judged on the
# change and never on a newly drawn example (those are found by `dev.py test`).
settings.register_profile("dev", max_examples=15, deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_RUNNER = CliRunner()


def invoke(*args: str, input: str | bytes | None = None) -> Result:
    """`paperidx ARGS` in this process, on the library `PAPERIDX_HOME` (or `--home`) names.

    Exceptions are not caught: a bug shows as a failing test with its traceback, never as an
    exit code a test might accept.
    """
    return _RUNNER.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture(autouse=True)
def library_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "library"
    monkeypatch.setenv("PAPERIDX_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return home


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def cli() -> Callable[..., Result]:
    """The CLI runner, as a fixture: `cli("search", "lora").stdout`."""
    return invoke
