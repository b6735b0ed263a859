"""The `paperidx` command: options in, library calls, renderers out.

Commands only map options to `paperidx.library.Library` calls and results to
`paperidx.render`. Errors are turned into one line on stderr and an exit code here, in
`_reporting_errors`, and nowhere else. Data goes to stdout, messages to stderr.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from paperidx import __version__
from paperidx.errors import ExitCode, PaperidxError
from paperidx.parsing import FORMAT_NAMES

if TYPE_CHECKING:
    from paperidx.library import Library
    from paperidx.render import OutputFormat
    from paperidx.results import StoredPaper

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


def _output_format(requested: str | None) -> OutputFormat:
    from paperidx.render import OUTPUT_FORMATS

    if requested is None:
        return "table" if stdout_is_terminal() else "tsv"
    if requested not in OUTPUT_FORMATS:
        raise typer.BadParameter(
            f"{requested!r} is not one of {', '.join(OUTPUT_FORMATS)}", param_hint="--format"
        )
    return requested


def _parse_day(value: str | None, *, end: bool = False, option: str) -> dt.date | None:
    """YYYY-MM-DD, YYYY-MM or YYYY; a month or year means its first (or last) day."""
    if value is None:
        return None
    text = value.strip()
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
            f"{value!r} is not a date (use YYYY-MM-DD, YYYY-MM or YYYY)", param_hint=option
        ) from None


# The registry's format names as a choice, so `--help` and completion list them.
InputFormatName = enum.Enum(  # type: ignore[misc]
    "InputFormatName", {name: name for name in FORMAT_NAMES}, type=str
)

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="table, tsv, json, jsonl or csv. Default: table on a terminal, tsv when piped.",
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


@app.command()
@_reporting_errors
def search(
    query: Annotated[list[str], typer.Argument(help="What to look for.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many results.")] = 10,
    since: SinceOption = None,
    until: UntilOption = None,
    sort: Annotated[
        str, typer.Option(help="relevance (best match first) or date (newest first).")
    ] = "relevance",
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

    Example: paperidx search "gaussian splatting" --limit 5
    """
    from paperidx.render import write_hits

    fmt = _output_format(output)
    if sort not in ("relevance", "date"):
        raise typer.BadParameter(f"{sort!r} is not relevance or date", param_hint="--sort")
    text = " ".join(query)
    with _library() as library:
        result = library.search(
            text,
            limit=limit,
            since=_parse_day(since, option="--since"),
            until=_parse_day(until, end=True, option="--until"),
            sort_by_date=sort == "date",
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

    Example: paperidx similar 3f2a --limit 5
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
    output: FormatOption = None,
) -> None:
    """List papers, newest first.

    Example: paperidx list --since 2024-05-01 --limit 20
    """
    from paperidx.render import write_papers

    fmt = _output_format(output)
    with _library() as library:
        papers = library.list_papers(
            limit=limit,
            since=_parse_day(since, option="--since"),
            until=_parse_day(until, end=True, option="--until"),
        )
    write_papers(papers, fmt, sys.stdout)


@app.command()
@_reporting_errors
def stats(output: FormatOption = None) -> None:
    """How many papers and digests the library holds, and where it lives.

    Example: paperidx stats --format json
    """
    from paperidx.render import write_stats

    fmt = _output_format(output)
    with _library() as library:
        result = library.stats()
    write_stats(result, fmt, sys.stdout)


def _complete_export_format(incomplete: str) -> list[str]:
    """Shell completion for `export --format`."""
    from paperidx.exporters import EXPORT_FORMATS

    return [name for name in EXPORT_FORMATS if name.startswith(incomplete)]


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
        str,
        typer.Option(
            "--format",
            "-f",
            help="jsonl (lossless: ingest reads it back), json, csv, bibtex or markdown.",
            autocompletion=_complete_export_format,
        ),
    ] = "jsonl",
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

    Example: paperidx export "gaussian splatting" --format bibtex --output splatting.bib
    """
    from paperidx.exporters import EXPORT_FORMATS, atomic_file, exporter_for

    if export_format not in EXPORT_FORMATS:
        raise typer.BadParameter(
            f"{export_format!r} is not one of {', '.join(EXPORT_FORMATS)}", param_hint="--format"
        )
    text = " ".join(query or []).strip()
    window = (_parse_day(since, option="--since"), _parse_day(until, end=True, option="--until"))
    counter = _Counter()
    with _library() as library:
        papers = counter.through(_papers_to_export(library, text, limit, *window))
        chunks = exporter_for(export_format)(papers)
        if output is None or str(output) == "-":
            sys.stdout.writelines(chunks)
            sys.stdout.flush()
        else:
            with atomic_file(output) as out:
                out.writelines(chunks)
    _export_summary(counter.count, output, text)


# Whoosh returns every match below this; no library comes near it.
_EVERY_MATCH = 10_000_000


def _papers_to_export(
    library: Library,
    text: str,
    limit: int | None,
    since: dt.date | None,
    until: dt.date | None,
) -> Iterator[StoredPaper]:
    """The whole library streamed from the store, or a search's hits in rank order."""
    if not text:
        return library.iter_papers(limit=limit, since=since, until=until)
    result = library.search(text, limit=limit or _EVERY_MATCH, since=since, until=until)
    for notice in result.notices:
        message(notice)
    return (hit.paper for hit in result.hits)


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

    fmt = _output_format(output)
    with _library() as library:
        findings = library.doctor(fix=fix)
    write_findings(findings, fmt, sys.stdout)
    problems = [f for f in findings if not f.ok]
    if problems:
        hint = "" if fix else " (run 'paperidx doctor --fix' to rebuild the search index)"
        message(f"paperidx: {len(problems)} problem(s) found{hint}")
        raise typer.Exit(int(ExitCode.LIBRARY))


def main() -> None:
    app(prog_name="paperidx")
