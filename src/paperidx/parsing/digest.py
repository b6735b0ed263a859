"""Plain-text digests: the Hugging Face Daily Papers page or e-mail, copied as text.

The shape: paragraphs separated by blank lines. A paper is a short title paragraph
directly followed by its abstract paragraph, which may be hard-wrapped over many lines.
Around them sits page furniture ("Subscribe", upvote counts, "Submitted by …") that must
never be glued into a paper, and date lines ("May 7", "2024-05-07") that set the digest
date of the papers after them.

Telling a title from an abstract is a judgement: a title is short (a few lines at most);
an abstract is long or has several sentences. When a short paragraph is followed by
another short one and then a long one, the first is furniture we did not recognise, so it
is skipped (and reported) rather than swallowing the real title as an abstract.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    InputFormat,
    Notice,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
)
from paperidx.parsing.common import MONTHS, make_date

MAX_TITLE_CHARS = 300
MAX_TITLE_LINES = 4
LONG_ABSTRACT_CHARS = 300
# A paragraph longer than this is too long for any abstract (validation rejects it), so the
# rest of it is not kept: a huge file without blank lines must not be held in memory.
MAX_PARAGRAPH_CHARS = 200_000
FUTURE_SLACK = dt.timedelta(days=2)

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
_PREFIX = r"(?:(?:published|submitted|featured)\s+on\s+|papers\s+(?:of|for)\s+)?"
_MONTH_DAY = lazy_compile(
    rf"^{_PREFIX}{_WEEKDAY}(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
    rf"(?:,?\s+(?P<year>\d{{4}}))?$",
    re.IGNORECASE,
)
_DAY_MONTH = lazy_compile(
    rf"^{_PREFIX}{_WEEKDAY}(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\.?(?:,?\s+(?P<year>\d{{4}}))?$",
    re.IGNORECASE,
)
_ISO = lazy_compile(
    rf"^{_PREFIX}(?P<year>\d{{4}})-(?P<month>\d{{2}})-(?P<day>\d{{2}})$", re.IGNORECASE
)

_NOISE = lazy_compile(
    r"""^(?:
        new | subscribe | daily\ papers | trending | upvotes?(?:\s*[\d,]+)? | follow
      | sign\ (?:in|up)
      | (?:click\ here\ to\ |to\ )?unsubscribe\b.{0,100}
      | (?:view|open)\ (?:this\ (?:e-?mail|message)\ )?in\ (?:your\ )?browser\.?
      | (?:manage|update)\ (?:your\ )?(?:subscription|preferences|e-?mail\ settings).{0,80}
      | get\ trending\ papers\ in\ your\ email\ inbox!?
      | by\s*ak\ and\ the\ research\ community
      | submitted\ by\ .{1,80}
      | (?:[·•*-]\s*)?\d[\d,]*\s+authors?
      | [\d.,]+\s*k? | [\d,]+\s*[▲△⬆↑]? | [▲△⬆↑]\s*[\d,]+
      | [-\u2013\u2014·•▲△*#|=_~.]+
      | (?:previous|next)(?:\ page)? | view\ all | see\ all | load\ more
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_SENTENCE_BREAK = lazy_compile(r"[.!?]\s+[A-Z(\"']")


@dataclass(slots=True)
class _Block:
    """A paragraph: consecutive non-blank lines, and the digest date in force for it."""

    line: int
    lines: list[str]
    date: dt.date | None
    # A date line stands between this paragraph and the one before: they are not a pair.
    after_date_line: bool

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def is_noise(line: str) -> bool:
    return bool(_NOISE.match(line))


def parse_date_line(line: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) when the line is a date and nothing else."""
    for pattern in (_MONTH_DAY, _DAY_MONTH, _ISO):
        match = pattern.match(line)
        if match:
            month_text = match["month"]
            month = int(month_text) if month_text.isdigit() else MONTHS[month_text.lower()]
            year = int(match["year"]) if match["year"] else None
            return year, month, int(match["day"])
    return None


class _DateResolver:
    """Turns (year?, month, day) into a date, assuming a year when the digest has none."""

    def __init__(self, options: ParseOptions) -> None:
        self.options = options
        self.assumed_years: set[int] = set()

    def resolve(self, year: int | None, month: int, day: int) -> dt.date | None:
        explicit = year is not None
        if year is None:
            year = self._default_year()
        date = make_date(year, month, day)
        if date is None:
            return None
        if not explicit and self.options.year is None and self.options.date is None:
            if date > self.options.today + FUTURE_SLACK:
                # "Dec 30" read on Jan 2 is last year's December; a Feb 29 (no leap year
                # before it) or a date in year 1 (none before it) stays as it is.
                date = make_date(year - 1, month, day) or date
            self.assumed_years.add(date.year)
        return date

    def _default_year(self) -> int:
        if self.options.year is not None:
            return self.options.year
        if self.options.date is not None:
            return self.options.date.year
        return self.options.today.year


def _title_like(block: _Block) -> bool:
    return len(block.lines) <= MAX_TITLE_LINES and len(block.text) <= MAX_TITLE_CHARS


def _abstract_like(block: _Block) -> bool:
    text = block.text
    return len(text) >= LONG_ABSTRACT_CHARS or bool(_SENTENCE_BREAK.search(text))


def _is_abstract_of(title: _Block, candidate: _Block, after: _Block | None) -> bool:
    if len(candidate.text) <= len(title.text):
        return False
    if _abstract_like(candidate):
        return True
    # Short paragraph, short paragraph, long paragraph: the middle one is the title.
    return not (after is not None and _title_like(candidate) and _abstract_like(after))


def parse_digest(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Parse a plain-text digest into raw papers, skipped blocks and notices."""
    dates = _DateResolver(options)
    window: deque[_Block] = deque()
    for item in _paragraphs(lines, dates):
        if isinstance(item, Skipped):
            yield item
            continue
        window.append(item)
        if len(window) >= 3:
            yield _take(window)
    while window:
        yield _take(window)
    if dates.assumed_years:
        years = ", ".join(str(y) for y in sorted(dates.assumed_years))
        yield Notice(f"the digest's dates have no year; assumed {years} (set --year or --date)")


def _take(window: deque[_Block]) -> RawRecord | Skipped:
    """Consume the first paragraph in the window: a paper (title + abstract) or a skip."""
    first = window.popleft()
    candidate = window[0] if window and not window[0].after_date_line else None
    after = window[1] if len(window) > 1 else None
    if candidate is not None and _title_like(first) and _is_abstract_of(first, candidate, after):
        window.popleft()
        return RawRecord(
            title=first.text, abstract=candidate.text, line=first.line, date=first.date
        )
    return Skipped(first.line, _why_not_a_paper(first, candidate))


def _why_not_a_paper(block: _Block, following: _Block | None) -> str:
    preview = block.text[:60] + ("…" if len(block.text) > 60 else "")
    if not _title_like(block):
        return f"paragraph with no title before it: {preview!r}"
    if following is None:
        return f"short paragraph with no abstract after it: {preview!r}"
    return f"short paragraph not followed by an abstract: {preview!r}"


def _paragraphs(lines: Iterable[str], dates: _DateResolver) -> Iterator[_Block | Skipped]:
    """Paragraphs, each with the date in force, and the page furniture that was skipped."""
    current_date = dates.options.date
    block: _Block | None = None
    block_chars = 0
    date_line_seen = False
    noise_start = 0
    # The first few lines of a run of furniture (to show) and how long the run is: a huge
    # file of nothing but furniture must not be held in memory.
    noise: list[str] = []
    noise_lines = 0

    def flush_noise() -> Iterator[Skipped]:
        nonlocal noise, noise_lines
        if noise_lines:
            shown = ", ".join(repr(n[:40]) for n in noise)
            more = f" and {noise_lines - len(noise)} more" if noise_lines > len(noise) else ""
            yield Skipped(noise_start, f"page furniture, not a paper: {shown}{more}")
            noise, noise_lines = [], 0

    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        date_parts = parse_date_line(line) if line else None
        if not line or date_parts is not None or is_noise(line):
            if block is not None:
                yield block
                block = None
            if date_parts is not None:
                yield from flush_noise()
                resolved = dates.resolve(*date_parts)
                if resolved is None:
                    yield Skipped(number, f"not a valid date: {line!r}")
                current_date = resolved
                date_line_seen = True
            elif line:
                if not noise_lines:
                    noise_start = number
                noise_lines += 1
                if len(noise) < 4:
                    noise.append(line)
            continue
        yield from flush_noise()
        if block is None:
            block = _Block(number, [line], current_date, date_line_seen)
            block_chars = len(line)
            date_line_seen = False
        elif block_chars <= MAX_PARAGRAPH_CHARS:
            block.lines.append(line)
            block_chars += len(line) + 1
    if block is not None:
        yield block
    yield from flush_noise()


_MARKUP_START = lazy_compile(r"^\s*(?:<|[\[{]\s*[\"{\[]|@[A-Za-z]+\s*[{(])")


def sniff(head: str) -> float:
    """The fallback for plain text: a low confidence that any more specific format beats.

    Markup, JSON and BibTeX are never plain digests, so those are left to their formats (or
    refused); a title beginning with `[` (`[Re] Reproducibility of ...`) is still text.
    """
    text = head.lstrip("\ufeff \t\r\n")
    if not text or _MARKUP_START.match(text):
        return 0.0
    return 0.1


FORMAT = InputFormat(
    name="digest",
    summary="plain-text digests: titles each followed by an abstract paragraph "
    "(the HF Daily Papers page or e-mail copied as text)",
    example="digest.txt",
    sniff=sniff,
    parse=parse_digest,
)
