"""The `paperidx` command: options in, library calls, renderers out.

Commands only map options to `paperidx.library.Library` calls and results to
`paperidx.render`. Errors are turned into one line on stderr here, in `_reporting_errors`,
with the exit code their family carries (`paperidx.errors.ExitCode`); a bad command line is
click's own usage error (exit 2). Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import atexit
import datetime as dt
import enum
import functools
import gc
import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

from paperidx import __version__
from paperidx.errors import ExitCode, PaperidxError
from paperidx.lazyre import lazy_compile
from paperidx.parsing import FORMAT_NAMES
from paperidx.state import MARK_ACTIONS

if TYPE_CHECKING:
    from paperidx.library import Library
    from paperidx.render import OutputFormat
    from paperidx.results import StoredPaper

_RELATIVE_DAY = lazy_compile(r"^(\d{1,5})([dDwW])$")
P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="paperidx",
    help="A local, offline search engine for research-paper digests.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state: dict[str, Any] = {"home": None, "traceback": False}


# -- shared plumbing ----------------------------------------------------------------------


def stdout_is_terminal() -> bool:
    """One place that decides 'terminal or pipe'; tests patch it."""
    return sys.stdout.isatty()


def message(text: str) -> None:
    """A line for the user on stderr (never data)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _reporting_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn paperidx errors into one line on stderr and the family's exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except PaperidxError as error:
            if _state["traceback"]:
                raise
            from paperidx.text import inert

            # Messages may quote input: file names, ids, paper titles (an ambiguous id).
            message(f"paperidx: error: {inert(str(error))}")
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            message("paperidx: interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # `paperidx list | head`: the reader left; that is not an error.
            _silence_stdout()
            raise typer.Exit(int(ExitCode.OK)) from None
        except OSError as error:
            # The library turns its own file errors into PaperidxError; what is left is
            # mostly the output failing (`paperidx list > /dev/full`), which names no file.
            if _state["traceback"]:
                raise
            _silence_stdout()
            from paperidx.text import inert

            what = f"{error.filename}" if error.filename else "cannot write the output"
            message(f"paperidx: error: {inert(what)}: {error.strerror or error}")
            raise typer.Exit(int(ExitCode.ERROR)) from None

    return wrapper


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


@contextmanager
def _library(*, progress: bool = False) -> Iterator[Library]:
    """The library; with `progress`, long work shows a progress bar on a terminal's stderr."""
    from paperidx.library import Library

    if not (progress and stderr_is_terminal()):
        library = Library.open(_state["home"], on_message=message)
        try:
            yield library
        finally:
            library.close()
        return
    from paperidx.render import progress_bar

    with progress_bar() as (track, say):
        library = Library.open(_state["home"], on_message=say, on_progress=track)
        try:
            yield library
        finally:
            library.close()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _output_format(requested: OutputChoice | None, *, papers: bool = True) -> OutputFormat:
    """The format to print in: as asked, else a table on a terminal and TSV when piped.
    `papers=False` for output that is not papers (stats, doctor, watches): no BibTeX."""
    if requested is None:
        return "table" if stdout_is_terminal() else "tsv"
    fmt: OutputFormat = requested.value  # the same names as render.OUTPUT_FORMATS
    if not papers and fmt in ("bibtex", "markdown"):
        raise typer.BadParameter(
            f"{fmt} holds papers; this command prints table, tsv, json, jsonl or csv",
            param_hint="--format",
        )
    return fmt


def _parse_day(value: str | None, *, end: bool = False, option: str) -> dt.date | None:
    """YYYY-MM-DD, YYYY-MM or YYYY (a month or year means its first or last day), or a
    span back from today: `7d`, `2w`."""
    if value is None:
        return None
    text = value.strip()
    relative = _RELATIVE_DAY.match(text)
    if relative:
        days = int(relative[1]) * (7 if relative[2].lower() == "w" else 1)
        return dt.date.today() - dt.timedelta(days=days)
    try:
        if len(text) == 4:
            year = int(text)
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        if len(text) == 7:
            first = dt.date.fromisoformat(f"{text}-01")
            if not end:
                return first
            following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return following - dt.timedelta(days=1)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (use YYYY-MM-DD, YYYY-MM, YYYY, or 7d / 2w ago)",
            param_hint=option,
        ) from None


# The registry's format names as a choice, so `--help` and completion list them.
InputFormatName = enum.Enum(  # type: ignore[misc]
    "InputFormatName", {name: name for name in FORMAT_NAMES}, type=str
)

MarkAction = enum.Enum(  # type: ignore[misc]
    "MarkAction", {name: name for name in MARK_ACTIONS}, type=str
)


# `--format` choices, one vocabulary for every command (`paperidx.render.OUTPUT_FORMATS`).
class OutputChoice(enum.StrEnum):
    table = "table"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    bibtex = "bibtex"
    markdown = "markdown"


class SortChoice(enum.StrEnum):
    relevance = "relevance"
    date = "date"


class ExportChoice(enum.StrEnum):
    jsonl = "jsonl"
    json = "json"
    csv = "csv"
    bibtex = "bibtex"
    markdown = "markdown"


FormatOption = Annotated[
    OutputChoice | None,
    typer.Option(
        "--format",
        "-f",
        help="Default: a table on a terminal, tab-separated lines when piped.",
        show_default=False,
    ),
]
SinceOption = Annotated[
    str | None, typer.Option(help="Only papers from this day on (YYYY-MM-DD, YYYY-MM, YYYY).")
]
UntilOption = Annotated[
    str | None, typer.Option(help="Only papers up to this day (YYYY-MM-DD, YYYY-MM, YYYY).")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"paperidx {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[
        Path | None,
        typer.Option(
            envvar="PAPERIDX_HOME",
            help="The library folder. Default: $PAPERIDX_HOME, else the user data dir.",
            show_default=False,
        ),
    ] = None,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the Python traceback on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Turn every paper digest you read into a searchable library, offline."""
    _state["home"] = home
    _state["traceback"] = traceback


# -- commands -----------------------------------------------------------------------------


@app.command()
@_reporting_errors
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(help="Digest files, directories or globs; - reads standard input."),
    ],
    input_format: Annotated[
        InputFormatName | None,
        typer.Option(
            "--input-format",
            "-i",
            help="Read the inputs as this format. Default: detected from each file's content.",
            show_default=False,
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(help="Digest date for papers before any date line (YYYY-MM-DD)."),
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="Year for date lines that have none, like 'May 7'.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding when not UTF-8 (e.g. latin-1).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also list skipped blocks of failed files.")
    ] = False,
) -> None:
    """Add the papers in digests to the library; re-ingesting is safe.

    Example: paperidx ingest data/hf-daily-papers-sample.txt
    """
    from paperidx.library import IngestOptions
    from paperidx.parsing.base import ParseOptions
    from paperidx.render import ingest_messages

    day = _parse_day(date, option="--date")
    options = IngestOptions(
        format=input_format.value if input_format else None,
        encoding=encoding,
        parse=ParseOptions(date=day, year=year),
    )
    with _library(progress=True) as library:
        report = library.ingest(paths, options)
    for line in ingest_messages(report, verbose=verbose):
        message(line)
    if report.failed:
        raise typer.Exit(int(ExitCode.INPUT))


class FetchSource(enum.StrEnum):
    hf = "hf"
    arxiv = "arxiv"


@app.command()
@_reporting_errors
def fetch(
    source: Annotated[FetchSource, typer.Argument(help="hf (Hugging Face Daily Papers) or arxiv.")],
    categories: Annotated[
        list[str] | None,
        typer.Argument(
            help="arxiv: the categories whose announcements to fetch, e.g. cs.CL cs.LG.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="hf: the first day to fetch (YYYY-MM-DD). Default: today (UTC)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="hf: the last day to fetch (YYYY-MM-DD). Default: today (UTC)."),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query",
            "-q",
            help="arxiv: an arXiv API search instead of the announcements, "
            "e.g. 'ti:\"gaussian splatting\"'.",
            show_default=False,
        ),
    ] = None,
    max_results: Annotated[
        int,
        typer.Option("--max", min=1, max=30_000, help="arxiv --query: at most this many papers."),
    ] = 100,
) -> None:
    """Download digests (HF Daily Papers, arXiv announcements or an arXiv search), keep them
    under the library's digests/ folder and ingest them.

    Example: paperidx fetch arxiv cs.CL cs.LG
    """
    from paperidx import fetching
    from paperidx.render import ingest_messages
    from paperidx.text import inert

    run: Callable[[Library], fetching.FetchOutcome]
    if source is FetchSource.hf:
        if categories or query is not None:
            raise typer.BadParameter(
                "categories and --query are for 'fetch arxiv'", param_hint="SOURCE"
            )
        days = _fetch_days(since, until)
        run = functools.partial(fetching.fetch_hf, days=days)
    else:
        if since is not None or until is not None:
            raise typer.BadParameter(
                "--since/--until are for 'fetch hf'", param_hint="--since/--until"
            )
        if bool(categories) == (query is not None):
            raise typer.BadParameter(
                "give arXiv categories (cs.CL cs.LG) or --query, one of the two",
                param_hint="CATEGORIES",
            )
        if query is not None:
            run = functools.partial(fetching.fetch_arxiv_query, query=query, limit=max_results)
        else:
            wanted = categories or []
            bad = [c for c in wanted if not fetching.valid_category(c)]
            if bad:
                raise typer.BadParameter(
                    f"{bad[0]!r} is not an arXiv category (like cs.CL)", param_hint="CATEGORIES"
                )
            run = functools.partial(fetching.fetch_arxiv_rss, categories=wanted)
    with _library(progress=True) as library:
        outcome = run(library)
    for line in outcome.refused:
        message(f"error: {inert(line)}")
    if outcome.report is not None:
        for line in ingest_messages(outcome.report, verbose=False):
            message(line)
    elif outcome.error is None and not outcome.refused:
        message("no papers fetched")
    if outcome.error is not None:
        raise outcome.error
    if outcome.refused or (outcome.report is not None and outcome.report.failed):
        raise typer.Exit(int(ExitCode.INPUT))


def _fetch_days(since: str | None, until: str | None) -> list[dt.date]:
    """The days `fetch hf` asks for: today (UTC) by default, else since..until inclusive."""
    from paperidx import fetching

    today = fetching.utc_today()
    first = _parse_day(since, option="--since")
    last = _parse_day(until, end=True, option="--until")
    last = last or today
    first = first or last
    if last > today:
        raise typer.BadParameter(
            f"{last.isoformat()} is after today ({today.isoformat()} UTC)", param_hint="--until"
        )
    if first > last:
        raise typer.BadParameter("--since is after --until", param_hint="--since")
    days = fetching.days_between(first, last)
    if len(days) > fetching.MAX_DAYS:
        raise typer.BadParameter(
            f"{len(days)} days asked for; at most {fetching.MAX_DAYS} per command",
            param_hint="--since/--until",
        )
    return days


@app.command()
@_reporting_errors
def search(
    query: Annotated[list[str], typer.Argument(help="What to look for.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many results.")] = 10,
    since: SinceOption = None,
    until: UntilOption = None,
    sort: Annotated[
        SortChoice, typer.Option(help="relevance (best match first) or date (newest first).")
    ] = SortChoice.relevance,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Say on stderr how the query was understood before the results."
        ),
    ] = False,
    output: FormatOption = None,
) -> None:
    """Search the library; best matches first.

    Query language: "exact phrase", AND, OR, NOT or -word, title: abstract: author: id:,
    prefix*, word~ (fuzzy), date:2024-05 or date:>=2024-05-01.

    Example: paperidx search "gaussian splatting" -n 5
    """
    from paperidx.render import write_hits

    fmt = _output_format(output)
    text = " ".join(query)
    with _library() as library:
        result = library.search(
            text,
            limit=limit,
            since=_parse_day(since, option="--since"),
            until=_parse_day(until, end=True, option="--until"),
            sort_by_date=sort.value == "date",
        )
    if explain:
        _explain(result.explanation)
    for notice in result.notices:
        message(notice)
    write_hits(result, fmt, sys.stdout)
    if not result.hits:
        message(f"no papers match {text!r}")


def _explain(explanation: dict[str, Any]) -> None:
    from paperidx.text import inert

    for key, value in explanation.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} → {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "; ".join(str(v) for v in value)
        message(inert(f"{key.replace('_', ' ')}: {value}"))


@app.command()
@_reporting_errors
def similar(
    paper: Annotated[str, typer.Argument(help="An id, a unique id prefix, or an arXiv id.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many papers.")] = 10,
    output: FormatOption = None,
) -> None:
    """Papers most like this one (by title and abstract), offline.

    Example: paperidx similar 3f2a -n 5
    """
    from paperidx.render import write_hits

    fmt = _output_format(output)
    with _library() as library:
        result = library.similar(paper, limit=limit)
    write_hits(result, fmt, sys.stdout)
    if not result.hits:
        message("no similar papers in the library")


@app.command()
@_reporting_errors
def show(
    paper: Annotated[str, typer.Argument(help="An id, a unique id prefix, or an arXiv id.")],
    output: FormatOption = None,
) -> None:
    """Show one paper in full.

    Example: paperidx show 3f2a
    """
    from paperidx.render import write_paper

    fmt = _output_format(output)
    with _library() as library:
        found = library.show(paper)
    write_paper(found, fmt, sys.stdout)


@app.command(name="list")
@_reporting_errors
def list_papers(
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most N.")] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    read: Annotated[
        bool | None,
        typer.Option("--read/--unread", help="Only papers marked read / not marked read."),
    ] = None,
    starred: Annotated[
        bool | None, typer.Option("--starred/--unstarred", help="Only starred / unstarred.")
    ] = None,
    tags: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only papers with this tag.")
    ] = None,
    output: FormatOption = None,
) -> None:
    """List papers, newest first.

    Example: paperidx list --unread --since 7d
    """
    from paperidx.render import write_papers
    from paperidx.state import StateFilter

    fmt = _output_format(output)
    with _library() as library:
        papers = library.list_papers(
            limit=limit,
            since=_parse_day(since, option="--since"),
            until=_parse_day(until, end=True, option="--until"),
            wanted=StateFilter(read=read, starred=starred, tags=list(tags or [])),
        )
    write_papers(papers, fmt, sys.stdout)


@app.command()
@_reporting_errors
def stats(output: FormatOption = None) -> None:
    """How many papers and digests the library holds, and where it lives.

    Example: paperidx stats -f json
    """
    from paperidx.render import write_stats

    fmt = _output_format(output, papers=False)
    with _library() as library:
        result = library.stats()
    write_stats(result, fmt, sys.stdout)


@app.command()
@_reporting_errors
def export(
    query: Annotated[
        list[str] | None,
        typer.Argument(
            help="Export only the papers this search finds. Default: the whole library.",
            show_default=False,
        ),
    ] = None,
    export_format: Annotated[
        ExportChoice,
        typer.Option(
            "--format",
            "-f",
            help="jsonl is lossless: ingest reads it back, marks, tags, notes and watches too.",
        ),
    ] = ExportChoice.jsonl,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", min=1, help="At most N papers. Default: all.", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to this file, replaced only once complete. Default: standard output.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write papers out: the whole library (newest first) or a search's results (best first).

    Example: paperidx export "gaussian splatting" -f bibtex -o splatting.bib
    """
    from paperidx.exporters import atomic_file, exporter_for

    fmt = export_format.value
    text = " ".join(query or []).strip()
    window = (_parse_day(since, option="--since"), _parse_day(until, end=True, option="--until"))
    counter = _Counter()
    with _library() as library:
        selected, notices = library.select_papers(
            text, limit=limit, since=window[0], until=window[1]
        )
        for notice in notices:
            message(notice)
        chunks = exporter_for(fmt)(counter.through(selected))
        if fmt == "jsonl" and not text:
            # The lossless export carries the watches too: they are the user's, like marks.
            from paperidx.exporters.jsonl import export_watches

            chunks = itertools.chain(chunks, export_watches(library.watches()))
        if output is None or str(output) == "-":
            sys.stdout.writelines(chunks)
            sys.stdout.flush()
        else:
            with atomic_file(output) as out:
                out.writelines(chunks)
    _export_summary(counter.count, output, text)


class _Counter:
    """Counts papers as they stream past, for the summary line."""

    def __init__(self) -> None:
        self.count = 0

    def through(self, papers: Iterator[StoredPaper]) -> Iterator[StoredPaper]:
        for paper in papers:
            self.count += 1
            yield paper


def _export_summary(count: int, output: Path | None, text: str) -> None:
    from paperidx.text import inert

    if output is not None and str(output) != "-":
        message(f"exported {count} papers to {inert(str(output))}")
    elif count == 0:
        message(f"no papers match {text!r}" if text else "no papers to export")


@app.command()
@_reporting_errors
def reindex() -> None:
    """Rebuild the search index from the record store.

    Example: paperidx reindex
    """
    with _library(progress=True) as library:
        count = library.reindex()
    message(f"reindexed {count} papers")


@app.command()
@_reporting_errors
def doctor(
    fix: Annotated[
        bool, typer.Option("--fix", help="Rebuild the search index if it fails a check.")
    ] = False,
    output: FormatOption = None,
) -> None:
    """Check the record store and the search index; exit 6 when something is wrong.

    Example: paperidx doctor --fix
    """
    from paperidx.render import write_findings

    fmt = _output_format(output, papers=False)
    with _library() as library:
        findings = library.doctor(fix=fix)
    write_findings(findings, fmt, sys.stdout)
    problems = [f for f in findings if not f.ok]
    if problems:
        hint = "" if fix else " (run 'paperidx doctor --fix' to rebuild the search index)"
        message(f"paperidx: {len(problems)} problem(s) found{hint}")
        raise typer.Exit(int(ExitCode.LIBRARY))


# -- the daily loop: triage and watches ----------------------------------------------------


@app.command()
@_reporting_errors
def mark(
    papers: Annotated[list[str], typer.Argument(help="Ids, id prefixes or arXiv ids.")],
    action: Annotated[MarkAction, typer.Argument(help="What to mark them.")],
) -> None:
    """Mark papers read, unread, starred or unstarred.

    Example: paperidx mark 3f2a 9c01 star
    """
    with _library() as library:
        marked = library.mark(papers, action.value)
    message(f"marked {len(marked)} paper{'s' if len(marked) != 1 else ''} {action.value}")


@app.command(context_settings={"ignore_unknown_options": True})
@_reporting_errors
def tag(
    paper: Annotated[str, typer.Argument(help="An id, a unique id prefix, or an arXiv id.")],
    changes: Annotated[list[str], typer.Argument(help="+name adds a tag, -name removes one.")],
) -> None:
    """Add or remove tags.

    Example: paperidx tag 3f2a +reading-group -todo
    """
    with _library() as library:
        tagged = library.tag(paper, changes)
    tags = ", ".join(tagged.state.tags) if tagged.state and tagged.state.tags else "none"
    message(f"{tagged.id} tags: {tags}")


@app.command()
@_reporting_errors
def note(
    paper: Annotated[str, typer.Argument(help="An id, a unique id prefix, or an arXiv id.")],
    text: Annotated[
        str | None, typer.Argument(help="The note. Without it, $EDITOR opens the current one.")
    ] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the note.")] = False,
) -> None:
    """Write (replace) a paper's note, or edit it in $EDITOR.

    Example: paperidx note 3f2a "compare with 3DGS-MCMC"
    """
    with _library() as library:
        if delete:
            library.note(paper, None)
            message("note deleted")
            return
        if text is None:
            current = library.show(paper)
            text = _edit_in_editor(current.state.note if current.state else "")
        noted = library.note(paper, text)
    message(f"note saved for {noted.id}")


def _edit_in_editor(current: str) -> str:
    """The text after the user edits `current` in $VISUAL, else $EDITOR, else vi."""
    import shlex
    import subprocess
    import tempfile

    from paperidx.errors import UsageError

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor and not sys.stdin.isatty():
        raise UsageError("no note text given, and no terminal for an editor (set $EDITOR)")
    with tempfile.TemporaryDirectory(prefix="paperidx-note-") as folder:
        path = Path(folder) / "note.md"
        path.write_text(current, encoding="utf-8")
        before = path.stat().st_mtime_ns
        try:
            completed = subprocess.run([*shlex.split(editor or "vi"), str(path)], check=False)
        except OSError as error:
            raise UsageError(f"cannot start the editor {editor!r}: {error.strerror}") from None
        if completed.returncode != 0:
            raise UsageError(f"the editor exited with {completed.returncode}: nothing changed")
        if path.stat().st_mtime_ns == before:
            raise UsageError("the note was not saved: nothing changed")
        return path.read_text(encoding="utf-8").rstrip("\n")


@app.command(name="open")
@_reporting_errors
def open_paper(
    paper: Annotated[str, typer.Argument(help="An id, a unique id prefix, or an arXiv id.")],
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the URL instead of opening a browser.")
    ] = False,
) -> None:
    """Open the paper's page (arXiv, else its DOI or first link) in a browser.

    Prints the URL instead when asked, when stdout is not a terminal, or when no browser
    can be started.

    Example: paperidx open 3f2a
    """
    from paperidx.errors import NotFoundError
    from paperidx.text import inert

    with _library() as library:
        found = library.show(paper)
    url = found.arxiv_url or (f"https://doi.org/{found.doi}" if found.doi else None)
    url = url or (found.links[0] if found.links else None)
    if url is None:
        raise NotFoundError(f"paper {found.id} has no arXiv id, DOI or link to open")
    if print_only or not stdout_is_terminal() or not _open_in_browser(url):
        sys.stdout.write(inert(url) + "\n")


def _open_in_browser(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


watch_app = typer.Typer(
    help="Standing searches: papers that match are collected at every ingest and fetch.",
    no_args_is_help=True,
)
app.add_typer(watch_app, name="watch")


@watch_app.command("add")
@_reporting_errors
def watch_add(
    name: Annotated[str, typer.Argument(help="A short name: letters, digits, . - _")],
    query: Annotated[str, typer.Argument(help="What to watch for, in the query language.")],
    exclude: Annotated[
        str, typer.Option("--exclude", help="Leave out papers that match this.")
    ] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Change the watch if it exists.")
    ] = False,
) -> None:
    """Watch for papers matching a query (plain words must all appear).

    Example: paperidx watch add splatting '"gaussian splatting" OR 3dgs' --exclude survey
    """
    with _library() as library:
        added = library.add_watch(name, query, exclude, replace=replace)
    message(f"watching {added.name}: {added.query}")


@watch_app.command("list")
@_reporting_errors
def watch_list(output: FormatOption = None) -> None:
    """The watches, with how many papers each found that you have not seen."""
    from paperidx.render import write_watches

    fmt = _output_format(output, papers=False)
    with _library() as library:
        watches = library.watches()
    write_watches(watches, fmt, sys.stdout)
    if not watches:
        message("no watches yet: paperidx watch add NAME QUERY")


@watch_app.command("rm")
@_reporting_errors
def watch_remove(name: Annotated[str, typer.Argument(help="The watch to remove.")]) -> None:
    """Remove a watch (papers it found stay in the library)."""
    with _library() as library:
        library.remove_watch(name)
    message(f"removed watch {name}")


@app.command()
@_reporting_errors
def new(
    watch: Annotated[str | None, typer.Argument(help="Only this watch.")] = None,
    peek: Annotated[
        bool, typer.Option("--peek", help="Show them without marking them seen.")
    ] = False,
    output: FormatOption = None,
) -> None:
    """Papers your watches found since you last looked, grouped by watch.

    Example: paperidx new splatting --peek
    """
    from paperidx.render import write_new

    fmt = _output_format(output)
    with _library() as library:
        found = library.new_papers(watch, peek=peek)
    write_new(found, fmt, sys.stdout)
    if not found:
        message("nothing new from your watches")


@app.command()
@_reporting_errors
def recommend(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many papers.")] = 20,
    output: FormatOption = None,
) -> None:
    """Unread papers most like the ones you starred, each with the star it resembles.

    Example: paperidx recommend -n 20
    """
    from paperidx.render import write_hits

    fmt = _output_format(output)
    with _library() as library:
        result = library.recommend(limit=limit)
    write_hits(result, fmt, sys.stdout)
    if not result.hits:
        message("nothing to recommend: every paper like your starred ones is read")


def main() -> None:
    # What is loaded by now (typer, click, Whoosh's index and query modules) lives as long
    # as the process: set it aside from the cyclic garbage collector, whose full collection
    # would otherwise walk it all again (one costs ~25 ms in a daily ingest, as much as its
    # five watches; a full collection is then left with what the command itself made).
    gc.freeze()
    try:
        _only_the_invoked_command(app, sys.argv[1:])(prog_name="paperidx")
    except SystemExit as done:
        _exit_now(done.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    """End the process without the interpreter's teardown.

    Freeing every module and object at exit costs ~30 ms after a search and ~100 ms after
    an ingest (pydantic, the parsers, Whoosh's writer), as much as a search itself. By the
    time a command returns its work is done: store transactions committed and connections
    closed, index commits made, locks released, files written through `with`. What the
    interpreter would still do is run exit handlers (done here) and flush the standard
    streams (done here). A command that left a thread running exits the ordinary way.
    Exit codes follow `sys.exit`: None is 0, an int is itself, anything else is printed
    and is 1.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        message(str(code))
        status = 1
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left: as for `paperidx list | head`, not an error
        _silence_stdout()
    except (OSError, ValueError) as error:  # e.g. a full disk under `> results.tsv`
        message(f"paperidx: error: cannot write the output: {error}")
        status = status or int(ExitCode.ERROR)
    with suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(status)


# Options of the app itself that take a value (the token after them is not a command name).
_MAIN_OPTIONS_WITH_VALUE = frozenset({"--home"})


def _invoked_command(argv: list[str]) -> str | None:
    """The command `argv` names, past the app's own options; None when it names none."""
    words = iter(argv)
    for word in words:
        if word in _MAIN_OPTIONS_WITH_VALUE:
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _only_the_invoked_command(whole: typer.Typer, argv: list[str]) -> typer.Typer:
    """`whole` with only the command `argv` runs.

    Typer turns every command's signature into click parameters at every start, ~10 ms for
    this app: a search pays for all twenty commands. A run needs the one it names; `paperidx`,
    `--help`, completion and unknown names still get the whole app (the listing, the "No such
    command" suggestions).
    """
    from copy import copy

    from typer.main import get_command_name

    name = _invoked_command(argv)
    commands = [
        info
        for info in whole.registered_commands
        if name == (info.name or get_command_name(info.callback.__name__ if info.callback else ""))
    ]
    groups = [info for info in whole.registered_groups if info.name == name]
    if not (commands or groups):
        return whole
    selected = copy(whole)
    selected.registered_commands = commands
    selected.registered_groups = groups
    return selected
