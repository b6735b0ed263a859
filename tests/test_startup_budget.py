"""Start-up budgets, checked where they are decided: which heavy modules a command imports.

`show`, `list` and `stats` import no whoosh, pydantic or rich (piped output needs none of
them); `search` imports no pydantic (records come back from SQLite already validated);
none of them loads an input parser or a dependency only ingest needs (defusedxml). Each
command runs in a fresh process, as a user runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import SAMPLE, invoke

_PROBE = """
import json, sys
import paperidx.cli
from paperidx.cli import main
def leave(code):  # reading commands end with os._exit: look at the modules first
    raise SystemExit(code)
paperidx.cli._exit_now = leave
sys.argv = ["paperidx", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = ("whoosh", "pydantic", "rich", "defusedxml", "paperidx.parsing.", "paperidx.reports",
         "paperidx.exporters")
light = ("paperidx.parsing.base",)  # the record types every command shares
named = ("paperidx", "whoosh.qparser")  # kept whole; other packages by their top name
print(json.dumps(sorted({m if m.startswith(named) else m.split(".")[0]
                         for m in sys.modules if m.startswith(heavy) and m not in light})),
      file=sys.stderr)
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    assert invoke("--home", str(folder), "ingest", str(SAMPLE), "--year", "2024").exit_code == 0
    assert invoke("--home", str(folder), "mark", "06fc707aba", "star").exit_code == 0
    return folder


def loaded(home: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "args",
    [("show", "06fc707aba"), ("show", "06fc707aba", "-f", "json"), ("list",), ("stats",)],
)
def test_reading_commands_import_no_whoosh_pydantic_or_rich(
    home: Path, args: tuple[str, ...]
) -> None:
    modules = loaded(home, *args)
    assert not {m for m in modules if not m.startswith(("paperidx.reports", "paperidx.export"))}


def test_search_imports_no_pydantic_no_parser_and_no_report_or_exporter(home: Path) -> None:
    # A search builds no ingest or doctor report, and its table or tab-separated lines
    # need no JSON or CSV writer: each of those modules' records costs start-up time. Plain
    # words need no query parser, Whoosh's (~2 ms) or the input formats'.
    modules = loaded(home, "search", "gaussian splatting")
    assert "whoosh" in modules  # it does search
    assert not {"pydantic", "rich", "defusedxml"} & modules
    assert not {m for m in modules if m.startswith(("paperidx.", "whoosh.qparser"))}
    assert "whoosh.qparser" in loaded(home, "search", '"gaussian splatting" OR nerf')


def test_ingesting_a_text_digest_loads_no_json_html_or_bibtex_reader(tmp_path: Path) -> None:
    # Detection asks only the formats whose clues the text shows (`parsing.Clue`).
    modules = loaded(tmp_path, "ingest", str(SAMPLE), "--year", "2024")
    prefix = "paperidx.parsing."
    readers = {m.removeprefix(prefix) for m in modules if m.startswith(prefix)}
    assert "digest" in readers  # it did read the sample
    assert not readers & {
        *("hf_api", "hf_html", "hf_page", "feed", "bibtex", "csl_json", "jsonl"),
        *("scholar_alert", "arxiv_page", "arxiv_email", "markdown_digest", "ris"),
    }


@pytest.mark.parametrize(
    ("argv", "built"),
    [
        (["search", "gaussian splatting"], {"search"}),
        (["--home", "search", "list", "-n", "3"], {"list"}),  # "search" is --home's value
        (["--traceback", "watch", "list"], {"watch"}),
        (["--", "show", "x"], {"show"}),
        (["serch", "x"], None),  # unknown: the whole app, for its suggestions
        (["--help"], None),
        ([], None),
    ],
)
def test_a_run_builds_only_the_command_it_names(argv: list[str], built: set[str] | None) -> None:
    # Typer makes click parameters of every command it is given, at every start.
    from typer.main import get_command

    from paperidx.cli import _only_the_invoked_command, app

    group = get_command(_only_the_invoked_command(app, argv))
    everything = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert set(group.commands) == (built or everything)  # type: ignore[attr-defined]
    assert len(everything) > 10


def test_the_console_entry_runs_a_command_with_main_options_first(home: Path) -> None:
    via_main = subprocess.run(
        [sys.executable, "-m", "paperidx", "--home", str(home), "search", "diffusion", "-n", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert via_main.returncode == 0, via_main.stderr
    assert via_main.stdout == invoke("--home", str(home), "search", "diffusion", "-n", "3").stdout
    typo = subprocess.run(
        [sys.executable, "-m", "paperidx", "--home", str(home), "serch", "x"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert typo.returncode == 2
    assert "Did you mean 'search'" in typo.stderr


def _run(home: Path, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paperidx", "--home", str(home), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("list", "--format", "json"), 0),
        (("search", "language models", "-n", "50"), 0),
        (("stats",), 0),
        (("show", "0000000000"), 4),  # not found
        (("search",), 2),  # usage
        (("watch", "list"), 0),
        (("similar", "06fc707aba", "-n", "3"), 0),
    ],
)
def test_commands_end_with_all_their_output_and_their_exit_code(
    home: Path, args: tuple[str, ...], code: int
) -> None:
    # Commands leave without the interpreter's teardown: nothing may be lost by it.
    done = _run(home, *args)
    assert done.returncode == code, done.stderr
    assert done.stdout == invoke("--home", str(home), *args).stdout
    assert "Traceback" not in done.stderr


def test_an_ingest_from_stdin_stores_everything_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    library, scratch = tmp_path / "library", tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "paperidx", "--home", str(library), "ingest", "-", "--year", "2024"],
        input=SAMPLE.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert done.returncode == 0, done.stderr
    assert "67 new" in done.stderr
    assert list(scratch.iterdir()) == []  # the copy of stdin went with the exit handlers
    listed = invoke("--home", str(library), "list", "--format", "jsonl").stdout
    assert len(listed.splitlines()) == 67


def test_a_reader_that_leaves_early_is_not_an_error(home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "paperidx", "--home", str(home), "list", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()  # `| head -c 10`
    assert process.wait(timeout=120) == 0
    assert process.stderr.read() == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("list",), ("stats",), ("search", "diffusion"), ("export",)])
def test_output_that_cannot_be_written_is_one_line_and_exit_1(
    home: Path, args: tuple[str, ...]
) -> None:
    with open("/dev/full", "w") as full:
        done = _run(home, *args, stdout=full)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "paperidx: error: cannot write the output: No space left on device"
    ]


_GC_PROBE = """
import gc, sys
class Watch:  # a finder that only looks: reports the collector's policy as typer loads
    def find_spec(self, name, path, target=None):
        if name == "typer":
            print(gc.get_threshold()[0], gc.isenabled(), file=sys.stderr)
sys.meta_path.insert(0, Watch())
sys.argv = ["paperidx", "--version"]
from paperidx.__main__ import main
main()
"""


def test_the_command_sets_the_collector_policy_before_its_imports() -> None:
    """The entry point raises the young generation's threshold before typer, Whoosh or
    pydantic load, so ~100,000 long-lived objects are not walked as they arrive; the
    collector stays on (a bulk ingest still collects)."""
    from paperidx.__main__ import YOUNG_GENERATION_THRESHOLD

    done = subprocess.run(
        [sys.executable, "-c", _GC_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("paperidx ")
    assert done.stderr.split() == [str(YOUNG_GENERATION_THRESHOLD), "True"]
    assert YOUNG_GENERATION_THRESHOLD >= 50_000  # what a daily ingest needs to collect nothing
