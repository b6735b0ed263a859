"""Paper text is inert: rich markup and terminal escapes in titles, abstracts and author
names are shown literally -- never interpreted -- by search, show and list in every
format, on a terminal too; and the store keeps the original text exactly."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from paperidx import cli as cli_module
from paperidx.library import Library
from paperidx.models import paper_id
from paperidx.paths import LibraryPaths

from .reliability_support import cli, write_jsonl

MARKUP = "[bold red]Danger[/] [link=https://evil.example]click me[/link]"
ESCAPES = "\x1b[31mRED\x1b[0m \x1b]0;window title\x07 \x1b]8;;https://evil.example\x1b\\x"
TITLE = f"Inertwordx title {MARKUP} {ESCAPES} end"
ABSTRACT = (
    f"An inertwordx abstract with {MARKUP} and {ESCAPES}; also a CSI \x9b2J in C1, a bidi "
    "override \u202eevil\u202c and a clear screen \x1b[2J. It is long enough to be one."
)
AUTHOR = "[blink]Mallory[/blink] \x1b[5mBlinks"
HOSTILE_ID = paper_id(TITLE)
FORMATS = ["table", "tsv", "json", "jsonl", "csv"]
# Anything that would make a terminal act: ESC, BEL, C1 controls, bidi overrides.
RAW_CONTROL = re.compile(r"[\x07\x1b\x80-\x9f\u202a-\u202e\u2066-\u2069]")
# What rich itself writes on a terminal: plain SGR styles, nothing else.
SGR = re.compile(r"\x1b\[([0-9;]*)m")


@pytest.fixture
def hostile_library(tmp_path: Path, library_home: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    papers = [{"title": TITLE, "abstract": ABSTRACT, "authors": [AUTHOR], "date": "2024-05-07"}]
    # Enough papers for some to share an id's first hex digit (for the ambiguity error).
    papers += [
        {
            "title": f"\x1b]0;pwned\x07[red]Other[/red] paper {n}",
            "abstract": f"Another inertwordx abstract number {n}. It has two sentences.",
        }
        for n in range(20)
    ]
    write_jsonl(path, papers)
    ingested = cli("ingest", str(path))
    assert ingested.exit_code == 0, ingested.output


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render as for a colour terminal, where an escape would do harm."""
    monkeypatch.setattr(cli_module, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "400")


def commands() -> dict[str, list[str]]:
    return {
        "search": ["search", "inertwordx", "--limit", "50"],
        "show": ["show", HOSTILE_ID],
        "list": ["list"],
    }


def assert_inert(text: str) -> None:
    """No control character of the paper's reaches the output, except as visible text."""
    without_styles = SGR.sub("", text)
    assert not RAW_CONTROL.search(without_styles), repr(RAW_CONTROL.search(without_styles))
    for codes in SGR.findall(text):
        # rich's own styles only: the paper's red (31) and blink (5) never apply.
        assert not {"31", "5"} & set(codes.split(";")), codes


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", list(commands()))
def test_markup_and_escapes_are_shown_literally(
    hostile_library: None, terminal: None, command: str, fmt: str
) -> None:
    result = cli(*commands()[command], "--format", fmt)

    assert result.exit_code == 0, result.output
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    if fmt in ("json", "jsonl"):
        # JSON keeps the exact text: escaped by JSON, the same string once decoded.
        decoded = (
            [json.loads(line) for line in result.stdout.splitlines()]
            if fmt == "jsonl"
            else json.loads(result.stdout)
        )
        records = decoded if isinstance(decoded, list) else [decoded]
        mine = next(r for r in records if r["id"] == HOSTILE_ID)
        assert mine["title"] == TITLE
        if command == "show":
            assert mine["abstract"] == ABSTRACT
        assert mine["authors"] == [AUTHOR]
    else:
        # Markup is text: the brackets are there to read, not styles that were applied.
        flat = SGR.sub("", result.stdout)
        assert "[bold red]Danger[/]" in flat
        assert "[link=https://evil.example]click me[/link]" in flat
        assert "\\x1b[31mRED" in flat  # the escape, written out visibly
        assert "\\x07" in flat


def test_csv_cells_keep_the_markup_as_text(hostile_library: None) -> None:
    result = cli("list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    mine = next(row for row in rows if row["id"] == HOSTILE_ID)
    assert mine["title"].startswith(f"Inertwordx title {MARKUP} \\x1b[31mRED")


def test_the_store_keeps_the_original_text(hostile_library: None, library_home: Path) -> None:
    with Library(LibraryPaths(library_home)) as library:
        paper = library.show(HOSTILE_ID)
    assert paper.title == TITLE
    assert paper.abstract == ABSTRACT
    assert paper.authors == [AUTHOR]


def test_error_messages_quoting_paper_titles_are_inert(hostile_library: None) -> None:
    """An ambiguous id prefix lists the papers it matches, titles included."""
    shared = next(d for d in "0123456789abcdef" if cli("show", d).exit_code == 5)
    result = cli("show", shared)
    assert "matches" in result.stderr
    assert_inert(result.stderr)


def test_ingest_messages_are_inert(tmp_path: Path, library_home: Path) -> None:
    path = tmp_path / "hostile \x1b[31mname.txt"
    path.write_text("\x1b]0;pwned\x07 Short\n\nshort too\n", encoding="utf-8")
    result = cli("ingest", str(path), "--verbose")
    assert result.exit_code != 0
    assert_inert(result.stderr)
