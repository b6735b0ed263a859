"""Saved copies of the huggingface.co/papers page (markdown or text-browser captures).

Each paper is a *card*; the date shown after a card belongs to that card (the search view
dates each paper; the date above the first card is the page's own date)::

    [101](https://huggingface.co/login?next=...)          <- upvotes of the card below
    ### [Title](https://huggingface.co/papers/2606.00683)
    [Abstract, one line or wrapped with a trailing \\ per line](https://huggingface.co/...)
    [![logo](...)Organisation](https://huggingface.co/org)  or  [- 3 authors](...)
    ·
    May 29[6](https://huggingface.co/papers/2606.00683#community)   <- date, comment count

That is firecrawl markdown (with YAML front matter: `retrieved: 2026-10-02`). A text browser
renders the same card with reference-style links and the link text on its own lines::

    [
    65
    ][35]
    ### [Title][36]
    [

    Abstract, hard-wrapped at ~120 columns

    ][37]
    [
    * 671 authors
    ][38]
    ·
    Mar 8, 2024 [ 6][39]

under a `# Web source` header (`- Captured (UTC): 2026-06-29T16:31:22...`) and a code fence.
Reference-style targets resolve only when the `[N]: url` list is part of the capture.

Markdown escapes (`\\_`, `\\[`, `Engage\\  with` for an escaped line break) are undone in
inline-link text only: a text browser's output has no escapes. Dates usually lack a year;
it comes from what the user said, else the capture date, else today, and a date more than
two days after that reference day is placed in the year before. A `Notice` says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import InputFormat, Notice, ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.parsing.common import MONTHS, make_date
from paperidx.parsing.hf_api import bare_arxiv_id
from paperidx.text import collapse_whitespace, find_urls

# A date in a page's future by more than this is from the year before (time zones, lag).
FUTURE_SLACK = dt.timedelta(days=2)
# A link's text longer than this is not a link, it is an unclosed bracket.
_MAX_LINK_LINES = 200

_HEADING = lazy_compile(r"^\s{0,3}#{2,4}\s+\[")
_FENCE = lazy_compile(r"^\s*(```|~~~)")
_SEPARATOR = frozenset({"·", "•", "⋅"})
_REFERENCE = lazy_compile(r"^\s*\[(\d+)\]:\s*(\S+)")
_INLINE_TARGET = lazy_compile(r"\(\s*<?([^\s)>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_TARGET = lazy_compile(r"\[\s*(\d+)\s*\]")
_BLOCK_CLOSE = lazy_compile(r"^\s*\]")
_SHOWN_DATE = lazy_compile(
    r"^\s*(?:(?:published|submitted)\s+on\s+)?"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})"
    r"(?:,?\s+(\d{4}))?\s*(?=$|\[|·)",
    re.IGNORECASE,
)
_ISO_DATE = lazy_compile(r"(\d{4})-(\d{2})-(\d{2})")
_IMAGE = lazy_compile(r"!\[[^\]]*\]\([^)]*\)")
_LIST_MARKER = lazy_compile(r"(?:^|\s)[-*•·](?=\s|$)")
_AUTHOR_COUNT = lazy_compile(r"^\d+\s+authors?$", re.IGNORECASE)
_UPVOTES = lazy_compile(r"^(?:-|\d+(?:[.,]\d+)?k?)$", re.IGNORECASE)
_ESCAPED_BREAK = lazy_compile(r"\\\s+")
_ESCAPE = lazy_compile(r"\\([!-/:-@\[-`{-~])")
_CAPTURE_KEYS = lazy_compile(r"retriev|captur|scrap|fetch|saved", re.IGNORECASE)


def sniff(head: str) -> float:
    return 0.8 if _is_capture(head) else 0.0


def _is_capture(head: str) -> bool:
    """Whether the first few KB look like a capture of the huggingface.co/papers page."""
    headings = [line for line in head.splitlines() if _HEADING.match(line)]
    if not headings:
        return False
    if "huggingface" in head.lower() or "daily papers" in head.lower():
        return True
    # Without the page chrome, only a text browser's `### [Title][N]` is distinctive enough.
    return any(re.search(r"\]\[\d+\]\s*$", line) for line in headings)


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """The paper cards of one page capture, with the page chrome reported as skipped."""
    page = list(lines)
    header = _read_header(page)
    yield from header.skipped
    first_card = _next_heading(page, header.end)
    preamble = _read_preamble(page, header.end, first_card)
    yield from preamble.skipped
    context = _Context(
        references=_references(page),
        years=_YearResolver(options, header.capture_date),
        default_date=options.date or _date_in_url(header.url),
        page_date=None if _is_search(header.url) else preamble.page_date,
    )
    index = first_card
    while index < len(page):
        index = yield from _read_card(page, index, context)
    notice = context.years.notice()
    if notice:
        yield notice


# --- dates --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _ShownDate:
    """A date as the page shows it, usually without a year (`May 30`)."""

    month: int
    day: int
    year: int | None


def _shown_date(line: str) -> _ShownDate | None:
    match = _SHOWN_DATE.match(line)
    if match:
        year = int(match[3]) if match[3] else None
        return _ShownDate(MONTHS[match[1].lower()], int(match[2]), year)
    iso = _ISO_DATE.fullmatch(line.strip())
    if iso:
        return _ShownDate(int(iso[2]), int(iso[3]), int(iso[1]))
    return None


class _YearResolver:
    """Gives year-less dates a year and remembers what it had to assume, for the notice."""

    def __init__(self, options: ParseOptions, capture_date: dt.date | None) -> None:
        self.latest: dt.date | None
        self.assumed_from: str | None = None
        if options.year is not None:
            self.year, self.latest = options.year, None
        elif options.date is not None:
            self.year, self.latest = options.date.year, options.date
        elif capture_date is not None:
            self.year, self.latest = capture_date.year, capture_date
            self.assumed_from = f"the capture date, {capture_date.isoformat()}"
        else:
            self.year, self.latest = options.today.year, options.today
            self.assumed_from = f"today's date, {options.today.isoformat()}"
        self.years_used: set[int] = set()

    def resolve(self, shown: _ShownDate) -> dt.date | None:
        if shown.year is not None:
            return make_date(shown.year, shown.month, shown.day)
        # A year the user gave is taken as is; an inferred one may be a year too late.
        years = (self.year,) if self.latest is None else (self.year, self.year - 1)
        for year in years:
            candidate = make_date(year, shown.month, shown.day)
            if candidate is None:
                continue  # Feb 29 outside a leap year
            if self.latest is None or candidate <= self.latest + FUTURE_SLACK:
                self.years_used.add(year)
                return candidate
        return None

    def notice(self) -> Notice | None:
        if self.assumed_from is None or not self.years_used:
            return None
        message = (
            f"dates shown without a year were taken to be in {self.year}, going by "
            f"{self.assumed_from}"
        )
        if self.year - 1 in self.years_used:
            message += f"; those later than that were taken to be in {self.year - 1}"
        return Notice(message + " (give the year explicitly to override)")


def _date_in_url(url: str | None) -> dt.date | None:
    """`https://huggingface.co/papers/date/2025-01-10` is the daily page of that day."""
    match = re.search(r"/papers/date/(\d{4})-(\d{2})-(\d{2})", url or "")
    return make_date(int(match[1]), int(match[2]), int(match[3])) if match else None


def _is_search(url: str | None) -> bool:
    return bool(url and re.search(r"[?&]q=", url))


# --- capture header and page chrome -------------------------------------------------------


@dataclass(slots=True)
class _Header:
    """The capture's own metadata: where it ends, its date and address."""

    end: int = 0  # index of the first line after the capture's own metadata
    capture_date: dt.date | None = None
    url: str | None = None
    skipped: list[Skipped] = field(default_factory=list)


def _read_header(page: list[str]) -> _Header:
    """YAML front matter (firecrawl) and/or a `# Web source` block (text-browser captures)."""
    header = _Header()
    index = _skip_blank(page, 0)
    if index < len(page) and page[index].strip() == "---":
        closing = _front_matter_end(page, index)
        if closing is not None:
            _take_metadata(header, (_split_key(line) for line in page[index + 1 : closing]))
            header.skipped.append(Skipped(index + 1, "YAML front matter (capture metadata)"))
            index = _skip_blank(page, closing + 1)
    if index < len(page) and page[index].strip().lower() == "# web source":
        start = index
        index += 1
        while index < len(page) and (not page[index].strip() or page[index].startswith("- ")):
            index += 1
        _take_metadata(header, (_split_key(line[2:]) for line in page[start + 1 : index]))
        header.skipped.append(Skipped(start + 1, "'# Web source' capture header"))
    header.end = index
    return header


def _front_matter_end(page: list[str], start: int) -> int | None:
    for index in range(start + 1, min(len(page), start + 100)):
        if page[index].strip() in ("---", "..."):
            return index
    return None


def _split_key(line: str) -> tuple[str, str]:
    key, _, value = line.partition(":")
    return key.strip().lower(), value.strip()


def _take_metadata(header: _Header, pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        if key == "url" and header.url is None:
            header.url = value
        elif _CAPTURE_KEYS.search(key) and header.capture_date is None:
            match = _ISO_DATE.search(value)
            if match:
                header.capture_date = make_date(int(match[1]), int(match[2]), int(match[3]))


@dataclass(slots=True)
class _Preamble:
    """What comes before the first card: the page's date, and what was skipped."""

    page_date: _ShownDate | None = None
    skipped: list[Skipped] = field(default_factory=list)


def _read_preamble(page: list[str], start: int, end: int) -> _Preamble:
    """Navigation and titles before the first card: one skip, and the page's own date."""
    preamble = _Preamble()
    chrome_end = _upvotes_start(page, start, end) if end < len(page) else end
    content = [i for i in range(start, chrome_end) if page[i].strip() and not _FENCE.match(page[i])]
    for index in content:
        preamble.page_date = preamble.page_date or _shown_date(page[index])
    if content and end < len(page):
        reason = "page header and navigation before the first paper"
        preamble.skipped.append(Skipped(content[0] + 1, reason))
    elif content:
        reason = "no paper found: no '### [Title](link)' heading in the page"
        preamble.skipped.append(Skipped(content[0] + 1, reason))
    return preamble


def _upvotes_start(page: list[str], start: int, heading: int) -> int:
    """Where the first card's upvote link (`[12](…)`, or `[` `12` `][3]`) starts, if it is one."""
    above = heading - 1
    while above >= start and not page[above].strip():
        above -= 1
    if above < start:
        return heading
    line = page[above].strip()
    if line.startswith("[") and _UPVOTES.match(line[1 : line.find("]")].strip()):
        return above
    opening = above - 2
    if _BLOCK_CLOSE.match(line) and opening >= start and page[opening].strip() == "[":
        return opening if _UPVOTES.match(page[opening + 1].strip()) else heading
    return heading


def _references(page: list[str]) -> dict[str, str]:
    """`[N]: url` definitions, which a full text-browser capture lists at its end."""
    return {m[1]: m[2] for m in map(_REFERENCE.match, page) if m}


def _next_heading(page: list[str], start: int) -> int:
    for index in range(start, len(page)):
        if _HEADING.match(page[index]):
            return index
    return len(page)


def _skip_blank(page: list[str], index: int) -> int:
    while index < len(page) and not page[index].strip():
        index += 1
    return index


# --- links --------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Link:
    """A link, maybe spanning lines: `[text](url)`, `[text][N]`, or a bare `[text]`."""

    lines: list[str]  # the text between the brackets, line by line
    url: str | None
    reference: str | None
    end: int  # index of the line the link ends on

    @property
    def is_markdown(self) -> bool:
        # Inline links come from markdown, whose text carries escapes; a text browser's
        # reference-style output has none, so its backslashes are literal.
        return self.reference is None

    def clean_text(self) -> str:
        if not self.is_markdown:
            return collapse_whitespace(" ".join(self.lines))
        # A trailing backslash is a markdown hard break: firecrawl ends wrapped lines with one
        # (escaped: `\\`), and writes a wrapped title as `Engage\  with`.
        joined = " ".join(line.rstrip().rstrip("\\") for line in self.lines)
        return collapse_whitespace(_ESCAPE.sub(r"\1", _ESCAPED_BREAK.sub(" ", joined)))


def _scan_link(page: list[str], index: int, column: int) -> _Link | None:
    """The link whose `[` is at `page[index][column]`, or None when it never closes."""
    if page[index][column:].strip() == "[":
        return _scan_block_link(page, index)
    return _scan_inline_link(page, index, column)


def _scan_block_link(page: list[str], index: int) -> _Link | None:
    """A text browser puts a link's block content between a lone `[` and a `][N]` line."""
    for end in range(index + 1, min(len(page), index + _MAX_LINK_LINES)):
        line = page[end]
        if _HEADING.match(line):
            return None
        if _BLOCK_CLOSE.match(line):
            rest = line.lstrip()[1:]
            return _finish_link(page[index + 1 : end], rest, end)
    return None


def _scan_inline_link(page: list[str], index: int, column: int) -> _Link | None:
    """Brackets are matched by depth (images nest inside links); `\\` escapes one character."""
    depth, parts = 0, []
    row, start = index, column + 1
    while row < len(page) and row - index < _MAX_LINK_LINES:
        line = page[row]
        if row > index and _HEADING.match(line):
            return None
        position = column if row == index else 0
        while position < len(line):
            char = line[position]
            if char == "\\":
                position += 2
                continue
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    parts.append(line[start:position])
                    return _finish_link(parts, line[position + 1 :], row)
            position += 1
        parts.append(line[start:])
        row, start = row + 1, 0
    return None


def _finish_link(text_lines: list[str], after: str, end: int) -> _Link:
    inline = _INLINE_TARGET.match(after)
    if inline:
        return _Link(text_lines, inline[1], None, end)
    reference = _REFERENCE_TARGET.match(after)
    if reference:
        return _Link(text_lines, None, reference[1], end)
    return _Link(text_lines, None, None, end)


# --- cards --------------------------------------------------------------------------------

_CardPart = Literal["upvotes", "authors", "organisation", "text"]


@dataclass(slots=True)
class _Context:
    """What every card of the page is read with."""

    references: dict[str, str]
    years: _YearResolver
    default_date: dt.date | None  # for cards without a date of their own
    page_date: _ShownDate | None  # the daily page's own date, when it is not a search view


def _part_of_card(link: _Link) -> _CardPart:
    text = "\n".join(link.lines)
    bare = collapse_whitespace(_IMAGE.sub(" ", text).replace("\\", " "))
    if _UPVOTES.match(bare):  # before list markers go: `-` is "no upvotes yet"
        return "upvotes"
    if _AUTHOR_COUNT.match(collapse_whitespace(_LIST_MARKER.sub(" ", bare))):
        return "authors"
    if text.lstrip().startswith("![") and len(bare) <= 120 and len(link.lines) == 1:
        return "organisation"
    return "text"


def _link_url(link: _Link, context: _Context) -> str | None:
    if link.reference is not None:
        return context.references.get(link.reference)
    return link.url


class _NoiseCollector:
    """Runs of unrecognised lines inside a card, one `Skipped` per run (blank lines join)."""

    def __init__(self) -> None:
        self.skipped: list[Skipped] = []
        self._open = False

    def add(self, index: int, text: str) -> None:
        if not self._open:
            preview = collapse_whitespace(text)[:60]
            self.skipped.append(Skipped(index + 1, f"not part of a paper card: {preview!r}"))
            self._open = True

    def close(self) -> None:
        self._open = False


@dataclass(slots=True)
class _Card:
    """One card's record, and what was seen of it so far."""

    record: RawRecord
    shown_date: _ShownDate | None = None
    has_abstract: bool = False
    noise: _NoiseCollector = field(default_factory=_NoiseCollector)


def _read_card(page: list[str], index: int, context: _Context) -> Generator[ParseEvent, None, int]:
    """Yield one card's record (then its stray text); return the index after the card.

    Used as `index = yield from _read_card(...)`.
    """
    heading = _HEADING.match(page[index])
    title_link = _scan_link(page, index, heading.end() - 1) if heading else None
    if title_link is None:
        yield Skipped(index + 1, "paper heading whose link never closes")
        return _next_heading(page, index + 1)
    record = RawRecord(title=title_link.clean_text(), abstract="", line=index + 1)
    record.arxiv_id = bare_arxiv_id(_link_url(title_link, context))
    card = _Card(record)
    position = title_link.end + 1
    while position < len(page) and not _HEADING.match(page[position]):
        position = _read_card_line(page, position, card, context)
    # The date follows the card it belongs to, so it is known only now.
    record.date = _card_date(card.shown_date, context)
    record.links = find_urls(record.abstract)
    yield record
    yield from card.noise.skipped
    return position


def _read_card_line(page: list[str], position: int, card: _Card, context: _Context) -> int:
    """Take what starts at `page[position]` into the card; return the next line to read."""
    line = page[position]
    stripped = line.strip()
    if not stripped or _FENCE.match(line) or stripped in _SEPARATOR:
        return position + 1
    if _REFERENCE.match(line):  # a full text-browser capture's link list, after the last card
        card.noise.add(position, line)
        return position + 1
    link = _scan_link(page, position, line.index("[")) if stripped.startswith("[") else None
    if link is not None:
        part = _part_of_card(link)
        if part == "text" and card.has_abstract:
            card.noise.add(position, line)
        else:
            card.noise.close()
        if part == "text" and not card.has_abstract:
            card.has_abstract = True
            card.record.abstract = link.clean_text()
            card.record.arxiv_id = card.record.arxiv_id or bare_arxiv_id(_link_url(link, context))
        return link.end + 1
    shown = _shown_date(line)
    if shown is None:
        card.noise.add(position, line)
    else:
        card.shown_date = card.shown_date or shown
        card.noise.close()
    return position + 1


def _card_date(shown: _ShownDate | None, context: _Context) -> dt.date | None:
    if shown is not None:
        return context.years.resolve(shown)
    if context.default_date is not None:
        return context.default_date
    if context.page_date is not None:
        return context.years.resolve(context.page_date)
    return None


FORMAT = InputFormat(
    name="hf-page",
    summary="captures of the huggingface.co/papers page as Markdown or text-browser dumps",
    example="hf-papers-capture.md",
    sniff=sniff,
    parse=parse,
)
