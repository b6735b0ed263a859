"""RIS files (`TY  - JOUR` ... `ER  -`), as Zotero, EndNote, Mendeley, Web of Science and
arXiv-mail converters write them.

One record runs from a `TY` line to its `ER` line. Tags read: `TI`/`T1` (title, `ST` as a
last resort), `AU`/`A1` (`Last, First`), `AB`/`N2` (abstract), `DO` (DOI), `UR` and `L1`..`L4`
(links), `PY`/`DA`/`Y1` (`2024/11/07/`; a year alone is not a day), `JO`/`T2`/`JF` (where an
`arXiv preprint arXiv:...` id hides), `M3`, `AN` and `ID` (some exporters put the arXiv id
there). Keywords and notes are not part of a paper here. A line without a tag continues the
previous tag's value (exporters that hard-wrap abstracts).

A record that never reaches its `ER` (a truncated file, or a new `TY` first) is reported,
not guessed at; a file without one closed record is refused. Hand-written rather than
`rispy`, which silently drops an unclosed record and reports no line numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import InputFormat, ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.parsing.common import (
    arxiv_id_from_doi,
    find_arxiv_id,
    first_last,
    make_date,
    normalize_doi,
    parse_date,
    split_authors,
)
from paperidx.text import collapse_whitespace

_TAG = lazy_compile(r"^([A-Z][A-Z0-9])[ \t]{1,2}-(?:[ \t](.*))?$")
_AND = lazy_compile(r"\s+and\s+", re.IGNORECASE)
_URL = lazy_compile(r"^https?://\S+$")
# A record's text past this is not a paper's; stop collecting rather than fill memory.
MAX_RECORD_CHARS = 2_000_000

_TITLE_TAGS = ("TI", "T1", "CT", "ST")
_AUTHOR_TAGS = ("AU", "A1")
_ABSTRACT_TAGS = ("AB", "N2")
_DATE_TAGS = ("DA", "PY", "Y1")
_LINK_TAGS = ("UR", "L1", "L2", "L3", "L4")
_ARXIV_TAGS = ("UR", "L1", "L2", "M3", "AN", "ID", "JO", "T2", "JF", "JA", "N1", "DO")


@dataclass(slots=True)
class _Record:
    """One `TY` ... `ER` record's tags, as its lines arrive."""

    line: int
    tags: dict[str, list[str]] = field(default_factory=dict)
    size: int = 0
    last: str | None = None

    def add(self, tag: str, value: str) -> None:
        if self.size > MAX_RECORD_CHARS:
            return
        self.size += len(value)
        self.tags.setdefault(tag, []).append(value)
        self.last = tag

    def extend(self, text: str) -> None:
        if self.last is None or self.size > MAX_RECORD_CHARS:
            return
        self.size += len(text)
        values = self.tags[self.last]
        values[-1] = f"{values[-1]}\n{text}"

    def first(self, *tags: str) -> str:
        for tag in tags:
            for value in self.tags.get(tag, ()):
                if value.strip():
                    return collapse_whitespace(value)
        return ""


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers in an RIS file; a `Skipped` for each record that is not one or is not closed."""
    record: _Record | None = None
    closed = opened = 0
    seen: dict[str, int] = {}
    pending: list[ParseEvent] = []  # held until one record closes: a file with none is refused
    for number, raw in enumerate(lines, start=1):
        line = raw.replace("\x00", "").lstrip("\ufeff").rstrip()
        match = _TAG.match(line)
        if match is None:
            if record is not None and line.strip():
                record.extend(line.strip())
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if record is not None:
                reason = f"record not closed by ER (a new TY starts at line {number})"
                pending.append(Skipped(record.line, reason))
            record = _Record(number)
            opened += 1
            record.add(tag, value)
        elif tag == "ER":
            if record is None:
                continue
            closed += 1
            pending.append(_event(record, options, seen))
            record = None
        elif record is not None:
            record.add(tag, value)
        if closed:
            yield from pending
            pending.clear()
    if record is not None:
        pending.append(Skipped(record.line, "record not closed by ER"))
    if not closed:
        if opened:
            first = pending[0]
            where = f" (line {first.line})" if isinstance(first, Skipped) else ""
            raise InputError(f"no RIS record is closed by an ER line{where}")
        raise InputError("no RIS records: no 'TY  - ' line starts one")
    yield from pending


def _event(record: _Record, options: ParseOptions, seen: dict[str, int]) -> RawRecord | Skipped:
    kind = record.first("TY") or "?"
    title = record.first(*_TITLE_TAGS)
    if not title:
        return Skipped(record.line, f"{kind} record has no title (TI/T1)")
    authors = _authors(record)
    doi = normalize_doi(record.first("DO"))
    arxiv_id = arxiv_id_from_doi(doi) or _arxiv_id(record)
    abstract = record.first(*_ABSTRACT_TAGS)
    if not abstract and not (arxiv_id or doi or authors):
        reason = f"{kind} record has a title but no abstract, authors or identifier"
        return Skipped(record.line, reason)
    keys = [f"arxiv:{arxiv_id}"] if arxiv_id else []
    keys += [f"doi:{doi}"] if doi else []
    for key in keys:
        if key in seen:
            return Skipped(record.line, f"repeats the paper of the record at line {seen[key]}")
    for key in keys:
        seen[key] = record.line
    return RawRecord(
        title=title,
        abstract=abstract,
        line=record.line,
        authors=authors,
        arxiv_id=arxiv_id,
        doi=doi,
        links=_links(record, doi),
        date=options.date,
        published=_published(record),
    )


def _authors(record: _Record) -> list[str]:
    names: list[str] = []
    for tag in _AUTHOR_TAGS:
        for value in record.tags.get(tag, ()):
            # One exporter writes a whole BibTeX-style list into a single AU line.
            names.extend(first_last(part) for part in _AND.split(collapse_whitespace(value)))
    return split_authors(names)


def _arxiv_id(record: _Record) -> str | None:
    for tag in _ARXIV_TAGS:
        for value in record.tags.get(tag, ()):
            if "arxiv" in value.lower() or tag in ("M3", "AN", "ID"):
                found = find_arxiv_id(collapse_whitespace(value))
                if found and (tag != "ID" or "arxiv" in value.lower() or "." in found):
                    return found
    return None


def _links(record: _Record, doi: str | None) -> list[str]:
    links = []
    for tag in _LINK_TAGS:
        for value in record.tags.get(tag, ()):
            for piece in value.split():
                if _URL.match(piece):
                    links.append(piece)
    if doi:
        links.append(f"https://doi.org/{doi}")
    return list(dict.fromkeys(links))


def _published(record: _Record) -> dt.date | None:
    """`2024/11/07/` (RIS's year/month/day/other), or an ISO / written-out date; days only."""
    for tag in _DATE_TAGS:
        for value in record.tags.get(tag, ()):
            value = value.strip()
            parts = value.split("/")
            if len(parts) >= 3 and all(part.strip().isdigit() for part in parts[:3]):
                day = make_date(int(parts[0]), int(parts[1]), int(parts[2]))
            else:
                day = parse_date(value)
            if day is not None:
                return day
    return None


_SNIFF_TY = lazy_compile(r"^TY[ \t]{1,2}-[ \t]", re.MULTILINE)
_SNIFF_TAG = lazy_compile(r"^[A-Z][A-Z0-9][ \t]{1,2}-(?:[ \t]|$)", re.MULTILINE)


def sniff(head: str) -> float:
    """Sure when a `TY  - ` line opens the file (after at most a few stray lines)."""
    text = head.lstrip("\ufeff \t\r\n")
    match = _SNIFF_TY.search(text)
    if match is None or len(_SNIFF_TAG.findall(text)) < 3:
        return 0.0
    before = [line for line in text[: match.start()].splitlines() if line.strip()]
    return 0.9 if len(before) <= 3 else 0.3


FORMAT = InputFormat(
    name="ris",
    summary="RIS reference file (Zotero, EndNote, Mendeley, Web of Science exports)",
    example="library.ris",
    sniff=sniff,
    parse=parse,
)
