"""arXiv subscription mailings: the daily "cs daily Subj-class mailing" digest as text.

The shape (one entry; new submissions, then cross-listings, then replacements)::

    \\\\
    arXiv:2303.00773 (*cross-listing*)
    Date: Wed, 1 Mar 2023 19:01:06 GMT   (617kb,D)

    Title: Revisiting the alignment of radio galaxies in the ELAIS-N1
      field
    Authors: Marco Simonte, Heinz Andernach, Marcus Brueggen, Philip Best, Erik
      Osinga
    Categories: astro-ph.GA astro-ph.CO
    Comments: 10 pages, 6 figures
    \\\\
      Aims. Previous studies reported an alignment of ...
    \\\\ ( https://arxiv.org/abs/2303.00773 ,  617kb)

Sections are separated by rule lines: `------` between entries, `%-%-%-` before the
cross-listings, `%%--%%--` before the replacements and `%%%---%%%---` before the footer.
A replacement (`replaced with revised version <date>`) has no abstract: it is still a
sighting of the paper, so it becomes a record with an empty abstract. Old mailings name
the paper `Paper: hep-th/9901001` (with `From:` and `Date:` lines) instead of `arXiv:`.

The mail's header paragraph ("Send any comments regarding submissions ...", the list of
subject classes, "received from  Wed  1 Mar 23 19:00:00 GMT  to  Thu  2 Mar 23 19:00:00
GMT") and its footer are reported as skipped blocks, never papers. The digest day is the
END of the "received from ... to ..." window; an entry's own `Date:` is its submission day
(`published`). Copies pasted out of web mail are accepted too: CRLF, non-breaking spaces,
trailing spaces, `>` quoting of a forwarded mail, a few mail header lines on top.

A paper listed twice in one mailing (new and cross-listed, or cross-listed and replaced)
comes out once, from the sighting with the abstract, other fields merged in. Records are
therefore held until the end of the input.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    InputFormat,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
    date_in_name,
)
from paperidx.parsing.common import (
    MAX_DOCUMENT_CHARS,
    MONTHS,
    make_date,
    normalize_arxiv_id,
    normalize_doi,
    parse_date,
    split_authors,
    tex_to_text,
)

# Real abstracts are at most a few dozen lines; past these an "entry" is something else
# (a broken mail that never closes it), and it is dropped rather than held in memory.
MAX_ENTRY_LINES = 400
MAX_ENTRY_CHARS = 100_000

_ID = r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z.\-]*/\d{7}(?:v\d+)?)"
_ID_LINE = lazy_compile(
    rf"^(?:arXiv:\s*{_ID}\s*(\(\*cross-listing\*\))?|Paper\s*(\(\*cross-listing\*\))?:\s*{_ID})"
    r"(?:\s.*)?$",
    re.IGNORECASE,
)
_SEPARATOR = "\\\\"
_TRAILER = lazy_compile(r"^\\\\\s*\(")
_URL = lazy_compile(r"https?://[^\s,()<>\"']+")
_FIELD = lazy_compile(r"^([A-Za-z][A-Za-z-]*(?:\s*\([^)]*\))?):\s?(.*)$")
_REPLACED = lazy_compile(r"^replaced with revised version\b", re.IGNORECASE)
_RULE_PLAIN = lazy_compile(r"^-{30,}$")
_RULE_CROSS = lazy_compile(r"^(?:%-){10,}%?$")
_RULE_REPLACED = lazy_compile(r"^(?:%%--){5,}(?:%%)?$")
_RULE_END = lazy_compile(r"^(?:%%%---){3,}$")
_QUOTE = lazy_compile(r"^[ \t]*(?:>[ \t]?)+")
_QUOTED_START = lazy_compile(r"^[ \t]*(?:>[ \t]?)+(?:\\\\|arXiv:|Paper[ :(])", re.IGNORECASE)
_RECEIVED = lazy_compile(
    r"received\s+from\s+.+?\s+to\s+(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\b",
    re.IGNORECASE,
)
_DAY_MON_YY = lazy_compile(r"(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{2}|\d{4})\b")
_SIGNATURE = lazy_compile(r"Send any comments regarding submissions directly to submitter", re.I)
_SNIFF_ENTRY = lazy_compile(
    rf"^(?:>[ \t]?)*[ \t]*(?:arXiv:{_ID}|Paper(?:\s*\(\*cross-listing\*\))?:\s*{_ID})[^\n]*\n"
    r"(?:[^\n]*\n){0,4}?(?:>[ \t]?)*[ \t]*(?:Title:|replaced with revised version)",
    re.IGNORECASE | re.MULTILINE,
)
_MARKUP_START = lazy_compile(r"^\ufeff?\s*<(?:!doctype|html|head|body|div|p|pre|table)\b", re.I)
_SNIFF_SEPARATOR = lazy_compile(r"^(?:>[ \t]?)*[ \t]*\\\\[ \t]*$", re.MULTILINE)

_FIELDS = {
    "date": "date",
    "title": "title",
    "authors": "authors",
    "author": "authors",
    "doi": "doi",
    "comments": "comments",
    "journal-ref": "journal",
    "report-no": "report",
}


@dataclass(slots=True)
class _Entry:
    """One listing of the mailing, as its lines arrive."""

    line: int
    arxiv_id: str | None
    fields: dict[str, str] = field(default_factory=dict)
    last_field: str | None = None
    replaced: bool = False
    abstract: list[str] = field(default_factory=list)
    trailer: str | None = None
    lines: int = 0
    chars: int = 0


def two_digit_year(year: str) -> int:
    """arXiv's mail headers write `23` for 2023; the archive began in 1991."""
    number = int(year)
    if len(year) == 4:
        return number
    return 1900 + number if number >= 90 else 2000 + number


def _day_month_year(day: str, month: str, year: str) -> dt.date | None:
    number = MONTHS.get(month.lower())
    if number is None:
        return None
    return make_date(two_digit_year(year), number, int(day))


def received_day(line: str) -> dt.date | None:
    """The announcement day from `received from  Tue  5 Nov 24 19:00:00 GMT  to  Wed  6 Nov
    24 19:00:00 GMT`: the end of the window."""
    match = _RECEIVED.search(line)
    return _day_month_year(*match.groups()) if match else None


def header_day(value: str) -> dt.date | None:
    """A mail `Date:` value, also with arXiv's two-digit year (`Fri,  9 Jun 23 00:44:20`)."""
    day = parse_date(value)
    if day is not None:
        return day
    match = _DAY_MON_YY.search(value)
    return _day_month_year(*match.groups()) if match else None


def _clean(raw: str, quoted: bool) -> str:
    line = raw.replace("\u00a0", " ").replace("\r", "").rstrip()
    if quoted:
        line = _QUOTE.sub("", line, count=1)
    return line


def _is_rule(line: str) -> str | None:
    """Which section a rule line opens, or None when the line is not a rule."""
    text = line.strip()
    if _RULE_PLAIN.match(text):
        return "same"
    if _RULE_CROSS.match(text):
        return "cross"
    if _RULE_REPLACED.match(text):
        return "replaced"
    if _RULE_END.match(text):
        return "end"
    return None


def _strip_parenthesised(text: str) -> str:
    """Affiliations, nested or not: `A (1), B (2) ((1) MIT, (2) CERN)` -> `A , B`."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out) if depth == 0 else text


def _joined(value: str) -> str:
    return " ".join(value.split())


class _Parser:
    def __init__(self, options: ParseOptions) -> None:
        self.options = options
        self.events: list[ParseEvent] = []
        self.records: dict[str, RawRecord] = {}
        self.order: list[str | RawRecord] = []
        self.received: dt.date | None = None
        self.mail_date: dt.date | None = None
        self.quoted = False
        self.state = "out"  # out | pending | head | abstract
        self.section = "new"
        self.entry: _Entry | None = None
        self.pending_line = 0
        self.block_start: int | None = None
        self.seen_entry = False
        self.chars = 0

    # -- furniture ------------------------------------------------------------------------

    def _furniture(self, number: int) -> None:
        if self.block_start is None:
            self.block_start = number

    def _close_furniture(self) -> None:
        if self.block_start is None:
            return
        if not self.seen_entry:
            reason = "arXiv mailing header, not a paper"
        elif self.section == "end":
            reason = "arXiv mailing footer, not a paper"
        else:
            reason = "text between arXiv entries, not a paper"
        self.events.append(Skipped(self.block_start, reason))
        self.block_start = None

    # -- lines ----------------------------------------------------------------------------

    def feed(self, number: int, raw: str) -> None:
        self.chars += len(raw) + 1
        if self.chars > MAX_DOCUMENT_CHARS:
            raise InputError(
                f"too large for an arXiv mailing ({self.chars // 1_000_000}+ MB of text; "
                f"paperidx reads up to {MAX_DOCUMENT_CHARS // 1_000_000} MB)"
            )
        if not self.quoted and _QUOTED_START.match(raw.replace("\u00a0", " ")):
            self.quoted = True
        line = _clean(raw, self.quoted)
        if self.state == "head":
            self._head(number, line)
        elif self.state == "abstract":
            self._abstract(number, line)
        elif self.state == "pending":
            self._pending(number, line)
        else:
            self._out(number, line)

    def _out(self, number: int, line: str) -> None:
        stripped = line.strip()
        if stripped == _SEPARATOR:
            self.state = "pending"
            self.pending_line = number
            return
        rule = _is_rule(stripped)
        if rule is not None:
            self._rule(rule)
            return
        if not stripped:
            return
        if _ID_LINE.match(stripped) and self.section != "end":
            # An entry whose opening `\\` was lost (a pasted excerpt): still an entry.
            self._start(number, stripped)
            return
        if self.received is None:
            self.received = received_day(stripped)
        if not self.seen_entry and self.mail_date is None:
            match = re.match(r"^Date:\s*(.+)$", stripped)
            if match:
                self.mail_date = header_day(match.group(1))
        self._furniture(number)

    def _rule(self, rule: str) -> None:
        if rule != "same" and self.section != "end":
            self.section = rule

    def _pending(self, number: int, line: str) -> None:
        stripped = line.strip()
        if not stripped:
            return
        if _ID_LINE.match(stripped) and self.section != "end":
            self._start(self.pending_line, stripped)
            return
        # A `\\` that opens no entry (a day marker such as `/* Fri, 3 Mar 2023 */`).
        self.state = "out"
        self._furniture(self.pending_line)
        self._out(number, line)

    def _start(self, number: int, id_line: str) -> None:
        self._close_furniture()
        match = _ID_LINE.match(id_line)
        assert match is not None
        raw_id = match.group(1) or match.group(4)
        self.entry = _Entry(line=number, arxiv_id=normalize_arxiv_id(raw_id) if raw_id else None)
        self.seen_entry = True
        self.state = "head"

    def _grow(self, line: str) -> bool:
        """Counts the entry's size; False when it is too big to be one entry."""
        entry = self.entry
        assert entry is not None
        entry.lines += 1
        entry.chars += len(line)
        if entry.lines > MAX_ENTRY_LINES or entry.chars > MAX_ENTRY_CHARS:
            self.events.append(
                Skipped(entry.line, "arXiv entry never ends (no closing `\\\\` line)")
            )
            self.entry = None
            self.state = "out"
            return False
        return True

    def _head(self, number: int, line: str) -> None:
        entry = self.entry
        assert entry is not None
        stripped = line.strip()
        if stripped == _SEPARATOR:
            self.state = "abstract"
            return
        if _TRAILER.match(stripped):
            entry.trailer = stripped
            self._finish()
            return
        rule = _is_rule(stripped)
        if rule is not None:
            self._finish()
            self._rule(rule)
            return
        if not self._grow(line):
            return
        if not stripped:
            entry.last_field = None
            return
        if line[:1] in (" ", "\t") and entry.last_field is not None:
            entry.fields[entry.last_field] += " " + stripped
            return
        if _REPLACED.match(stripped):
            entry.replaced = True
            entry.last_field = None
            return
        match = _FIELD.match(stripped)
        if match is None:
            entry.last_field = None
            return
        name = match.group(1).lower()
        key = _FIELDS.get(name, name)
        if key == "date" and "date" in entry.fields:
            key = "date (again)"
        entry.fields[key] = match.group(2).strip()
        entry.last_field = key

    def _abstract(self, number: int, line: str) -> None:
        entry = self.entry
        assert entry is not None
        stripped = line.strip()
        if _TRAILER.match(stripped):
            entry.trailer = stripped
            self._finish()
            return
        if stripped == _SEPARATOR:
            # Old listings close the abstract with a bare `\\`; it may also open the next
            # entry when the rule line between them was lost.
            self._finish()
            self.state = "pending"
            self.pending_line = number
            return
        rule = _is_rule(stripped)
        if rule is not None:
            self._finish()
            self._rule(rule)
            return
        if self._grow(line):
            entry.abstract.append(stripped)

    # -- records --------------------------------------------------------------------------

    def _finish(self) -> None:
        entry, self.entry = self.entry, None
        self.state = "out"
        if entry is None:
            return
        fields = entry.fields
        title = tex_to_text(_joined(fields.get("title", "")))
        if not title:
            self.events.append(Skipped(entry.line, "arXiv entry without a title"))
            return
        authors_text = tex_to_text(_joined(fields.get("authors", "")))
        abstract = tex_to_text(_joined(" ".join(entry.abstract)))
        links: list[str] = []
        if entry.trailer:
            links.extend(match.group(0) for match in _URL.finditer(entry.trailer))
        if not links and entry.arxiv_id:
            links.append(f"https://arxiv.org/abs/{entry.arxiv_id}")
        doi = normalize_doi(fields.get("doi"))
        if doi:
            links.append(f"https://doi.org/{doi}")
        links.extend(url.rstrip(".;:") for url in _URL.findall(fields.get("comments", "")))
        published = None if entry.replaced else parse_date(fields.get("date"))
        record = RawRecord(
            title=title,
            abstract=abstract,
            line=entry.line,
            authors=split_authors(_strip_parenthesised(authors_text)),
            arxiv_id=entry.arxiv_id,
            doi=doi,
            links=list(dict.fromkeys(links)),
            published=published,
        )
        self._keep(record)

    def _keep(self, record: RawRecord) -> None:
        key = record.arxiv_id
        if key is None:
            self.order.append(record)
            return
        existing = self.records.get(key)
        if existing is None:
            self.records[key] = record
            self.order.append(key)
            return
        self.records[key] = _merge(existing, record)

    def close(self) -> Iterator[ParseEvent]:
        if self.state in ("head", "abstract"):
            self._finish()
        elif self.state == "pending":
            self._furniture(self.pending_line)
        self._close_furniture()
        day = (
            self.received
            or self.mail_date
            or self.options.date
            or date_in_name(self.options.source_name)
        )
        records: list[RawRecord] = []
        for item in self.order:
            record = self.records[item] if isinstance(item, str) else item
            record.date = day
            records.append(record)
        # Events in input order: a skip reads best next to the records around it.
        merged: list[ParseEvent] = [*self.events, *records]
        merged.sort(key=lambda event: event.line if isinstance(event, RawRecord | Skipped) else 0)
        yield from merged


def _merge(first: RawRecord, second: RawRecord) -> RawRecord:
    """One record from two sightings: the one with the (longer) abstract leads."""
    base, other = (second, first) if len(second.abstract) > len(first.abstract) else (first, second)
    base.authors = base.authors or other.authors
    base.doi = base.doi or other.doi
    base.published = base.published or other.published
    base.links = list(dict.fromkeys([*base.links, *other.links]))
    return base


def parse_arxiv_email(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    parser = _Parser(options)
    for number, line in enumerate(lines, start=1):
        parser.feed(number, line)
    yield from parser.close()


def sniff(head: str) -> float:
    """Sure when the head holds arXiv's mailing banner, or an `arXiv:` id line followed
    within a few lines by `Title:` (or a replacement note) and a `\\\\` separator."""
    text = head.replace("\u00a0", " ").replace("\r", "")
    if _MARKUP_START.match(text):
        return 0.0  # an HTML copy: its entities and tags are for the HTML formats to undo
    if _SIGNATURE.search(text):
        return 0.9
    if _SNIFF_ENTRY.search(text) and _SNIFF_SEPARATOR.search(text):
        return 0.9
    return 0.0


FORMAT = InputFormat(
    name="arxiv-email",
    summary="arXiv subscription mailings (the daily Subj-class digest e-mail, as text)",
    example="cs-daily-mailing.txt",
    sniff=sniff,
    parse=parse_arxiv_email,
)
