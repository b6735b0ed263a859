"""Turning results into output: a rich table on a terminal, plain lines when piped, and
JSON, JSON Lines or CSV for scripts.

Renderers are pure: results in, text out to the given stream. Paper text is untrusted, so
it never reaches the terminal as markup or control codes: rich only ever gets `Text`
objects (never markup strings), and every plain format escapes control characters with
`paperidx.text.inert`. JSON keeps the exact text (JSON escapes C0 controls itself; the
C1 and bidi controls are escaped here too, which leaves the decoded value unchanged).

rich is imported only for the table format, so piped output starts faster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TextIO

from paperidx.results import Hit, SearchResult, StoredPaper
from paperidx.text import inert

if TYPE_CHECKING:
    from rich.console import Console

    from paperidx.reports import Finding, IngestReport, LibraryStats
    from paperidx.state import Watch

OutputFormat = Literal["table", "tsv", "json", "jsonl", "csv", "bibtex", "markdown"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    "table",
    "tsv",
    "json",
    "jsonl",
    "csv",
    "bibtex",
    "markdown",
)
# Formats that hold papers, not any record: `stats` and `doctor` cannot be BibTeX.
PAPER_ONLY_FORMATS = ("bibtex", "markdown")


# -- plain building blocks ----------------------------------------------------------------


def _tsv_field(value: object) -> str:
    if value is None:
        return ""
    return inert(str(value)).replace("\t", " ")


def _write_tsv(out: TextIO, rows: Iterable[Sequence[object]]) -> None:
    for row in rows:
        out.write("\t".join(_tsv_field(v) for v in row) + "\n")


def _write_records(out: TextIO, records: Iterable[dict[str, Any]], fmt: OutputFormat) -> None:
    """json, jsonl and csv: the one writer of each (`paperidx.exporters.records`)."""
    from paperidx.exporters.records import write_records

    out.writelines(write_records(records, fmt))


def _write_papers_as(out: TextIO, papers: Iterable[StoredPaper], fmt: OutputFormat) -> None:
    """Papers in an export format (the same writer `paperidx export` uses)."""
    from paperidx.exporters import exporter_for

    out.writelines(exporter_for(fmt)(papers))


def _console(out: TextIO) -> Console:
    from rich.console import Console

    # NO_COLOR and TERM=dumb are honoured by rich itself.
    return Console(file=out, highlight=False, markup=False, emoji=False, soft_wrap=False)


def _text(value: str, style: str = "") -> Any:
    from rich.text import Text

    return Text(inert(value), style=style)


def _date(paper: StoredPaper) -> str:
    return paper.date.isoformat() if paper.date else ""


# -- search -------------------------------------------------------------------------------


def write_hits(result: SearchResult, fmt: OutputFormat, out: TextIO) -> None:
    if fmt == "tsv":
        _write_tsv(
            out,
            (
                (h.paper.id, _date(h.paper), f"{h.score:.3f}", h.paper.title, h.snippet)
                for h in result.hits
            ),
        )
    elif fmt == "table":
        _hits_table(result, out)
    elif fmt in PAPER_ONLY_FORMATS:
        _write_papers_as(out, (h.paper for h in result.hits), fmt)
    else:
        _write_records(out, (h.to_dict() for h in result.hits), fmt)


def _snippet_text(hit: Hit) -> Any:
    text = _text(hit.snippet, style="dim")
    for start, end in hit.highlights:
        text.stylize("bold yellow", start, end)
    return text


def _hits_table(result: SearchResult, out: TextIO) -> None:
    from rich.table import Table

    if not result.hits:
        return
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("title / snippet", ratio=1)
    for hit in result.hits:
        cell = _text(hit.paper.title, style="bold")
        if hit.snippet:
            cell.append("\n")
            cell.append_text(_snippet_text(hit))
        table.add_row(str(hit.rank), hit.paper.id, _date(hit.paper), f"{hit.score:.2f}", cell)
    _console(out).print(table)


# -- list ---------------------------------------------------------------------------------


def write_papers(papers: list[StoredPaper], fmt: OutputFormat, out: TextIO) -> None:
    if fmt == "tsv":
        _write_tsv(out, ((p.id, _date(p), p.arxiv_id, p.title) for p in papers))
    elif fmt == "table":
        _papers_table(papers, out)
    elif fmt in PAPER_ONLY_FORMATS:
        _write_papers_as(out, papers, fmt)
    else:
        _write_records(out, (p.listing() for p in papers), fmt)


def _papers_table(papers: list[StoredPaper], out: TextIO) -> None:
    from rich.table import Table

    if not papers:
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("arXiv", no_wrap=True)
    table.add_column("title", ratio=1)
    for paper in papers:
        table.add_row(paper.id, _date(paper), paper.arxiv_id or "", _text(paper.title))
    _console(out).print(table)


# -- show ---------------------------------------------------------------------------------


def write_paper(paper: StoredPaper, fmt: OutputFormat, out: TextIO) -> None:
    # csv and json load only for the formats that write them (not for `search`).
    from paperidx.exporters.records import csv_cell, json_text

    if fmt == "table":
        _paper_view(paper, out)
    elif fmt == "tsv":
        _write_tsv(out, ((key, csv_cell(value)) for key, value in paper.listing().items()))
    elif fmt == "json":
        out.write(json_text(paper.listing()) + "\n")
    elif fmt in PAPER_ONLY_FORMATS:
        _write_papers_as(out, [paper], fmt)
    else:
        _write_records(out, [paper.listing()], fmt)


def _paper_view(paper: StoredPaper, out: TextIO) -> None:
    from rich.text import Text

    console = _console(out)
    console.print(_text(paper.title, style="bold"))
    facts = Text()
    facts.append(paper.id, style="cyan")
    dates = ", ".join(d.isoformat() for d in paper.dates)
    if dates:
        facts.append(f"  ·  {dates}")
    if paper.arxiv_url:
        facts.append("  ·  ")
        facts.append_text(_text(paper.arxiv_url, style="blue"))
    if paper.doi:
        facts.append("  ·  ")
        facts.append_text(_text(f"doi:{paper.doi}", style="blue"))
    if paper.published:
        facts.append(f"  ·  published {paper.published.isoformat()}")
    console.print(facts)
    if paper.authors:
        console.print(_text(", ".join(paper.authors), style="italic"))
    if paper.state is not None and not paper.state.empty:
        marks = [
            m for m, on in (("★ starred", paper.state.starred), ("read", paper.state.read)) if on
        ]
        if paper.state.tags:
            marks.append("tags: " + ", ".join(paper.state.tags))
        console.print(_text("  ·  ".join(marks), style="green"))
    console.print()
    console.print(_text(paper.abstract or "(no abstract yet: a later digest with one fills it in)"))
    if paper.state is not None and paper.state.note:
        console.print()
        console.print(_text("note: " + paper.state.note, style="yellow"))
    if paper.links:
        console.print()
        for link in paper.links:
            console.print(_text(f"link: {link}", style="blue"))
    console.print()
    for source in paper.sources:
        console.print(_text(f"from: {source}", style="dim"))


# -- watches and what they found ----------------------------------------------------------


def write_watches(watches: list[Watch], fmt: OutputFormat, out: TextIO) -> None:
    records = [w.to_dict() | {"unseen": w.unseen} for w in watches]
    if fmt == "tsv":
        _write_tsv(out, ((w.name, w.query, w.exclude, str(w.unseen)) for w in watches))
    elif fmt == "table":
        from rich.table import Table

        if not watches:
            return
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("watch", "query", "exclude", "unseen"):
            table.add_column(column)
        for w in watches:
            table.add_row(_text(w.name), _text(w.query), _text(w.exclude), str(w.unseen))
        _console(out).print(table)
    else:
        _write_records(out, records, fmt)


def write_new(found: dict[str, list[StoredPaper]], fmt: OutputFormat, out: TextIO) -> None:
    """Papers watches matched, grouped by watch (a `watch` column in the plain formats)."""
    if fmt == "table":
        console = _console(out)
        for watch, papers in found.items():
            console.print(_text(f"{watch} ({len(papers)} new)", style="bold"))
            _papers_table(papers, out)
            console.print()
    elif fmt == "tsv":
        _write_tsv(
            out,
            ((w, p.id, _date(p), p.arxiv_id, p.title) for w, ps in found.items() for p in ps),
        )
    elif fmt in PAPER_ONLY_FORMATS:
        _write_papers_as(out, (p for ps in found.values() for p in ps), fmt)
    else:
        records = ({"watch": w} | p.listing() for w, ps in found.items() for p in ps)
        _write_records(out, records, fmt)


# -- stats --------------------------------------------------------------------------------


def write_stats(stats: LibraryStats, fmt: OutputFormat, out: TextIO) -> None:
    record = stats.to_dict()
    if fmt == "table":
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        shown = record | {"size_bytes": _human_size(stats.size_bytes)}
        for key, value in shown.items():
            table.add_row(key.replace("_", " "), _text("" if value is None else str(value)))
        _console(out).print(table)
    elif fmt == "tsv":
        _write_tsv(out, record.items())
    elif fmt == "json":
        from paperidx.exporters.records import json_text

        out.write(json_text(record) + "\n")
    else:
        _write_records(out, [record], fmt)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


# -- doctor -------------------------------------------------------------------------------


def write_findings(findings: list[Finding], fmt: OutputFormat, out: TextIO) -> None:
    """What `paperidx doctor` checked: one row per check, problems marked."""
    if fmt == "table":
        from rich.table import Table

        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1)
        for finding in findings:
            mark = _text("ok", style="green") if finding.ok else _text("PROBLEM", style="bold red")
            table.add_row(mark, _text(finding.check), _text(finding.detail))
        _console(out).print(table)
    elif fmt == "tsv":
        _write_tsv(out, (("ok" if f.ok else "PROBLEM", f.check, f.detail) for f in findings))
    else:
        _write_records(out, [f.to_dict() for f in findings], fmt)


# -- ingest report (messages, for stderr) -------------------------------------------------


def ingest_messages(report: IngestReport, *, verbose: bool) -> list[str]:
    """One line per problem, then a summary line per file and in total."""
    lines: list[str] = []
    for file in report.files:
        lines.extend(inert(n) for n in file.notices)
        if verbose or file.error is None:
            lines.extend(inert(s) for s in file.skipped)
            if file.skipped_unlisted:
                lines.append(f"… and {file.skipped_unlisted} more skipped in {inert(file.source)}")
        lines.extend(f"rejected {inert(r)}" for r in file.rejected)
        if file.rejected_unlisted:
            lines.append(f"… and {file.rejected_unlisted} more problems in {inert(file.source)}")
        if file.error is not None:
            lines.append(f"error: {inert(file.error)}")
        else:
            lines.append(
                f"{inert(file.source)} ({file.format}): {file.parsed} parsed, {file.new} new, "
                f"{file.merged} already present, {file.rejected_records} "
                f"rejected, {file.skipped_count} skipped"
            )
    if len(report.files) > 1:
        lines.append(
            f"total: {report.parsed} parsed, {report.new} new, {report.merged} already present, "
            f"{report.rejected} rejected, {len(report.failed)} files failed"
        )
    restored = sum(f.restored for f in report.files)
    if restored:
        kept = sum(f.notes_kept for f in report.files)
        extra = f" ({kept} notes of this library's own kept over the export's)" if kept else ""
        lines.append(f"restored marks, tags and notes of {restored} papers{extra}")
    if report.watches:
        found = ", ".join(f"{inert(name)} {count} new" for name, count in report.watches.items())
        lines.append(f"watches: {found}")
    return lines


# -- progress (stderr, terminal only) -----------------------------------------------------


@contextmanager
def progress_bar() -> Iterator[
    tuple[Callable[[str, int, int | None], None], Callable[[str], None]]
]:
    """A transient progress bar on stderr: (tracker, message printer that keeps the bar)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True, highlight=False, markup=False)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def track(what: str, done: int, total: int | None) -> None:
            label = inert(what)
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        def say(text: str) -> None:
            console.print(_text(text))

        yield track, say
