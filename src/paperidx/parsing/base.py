"""What every input parser produces, before validation.

Parsers are pure functions from decoded text to a stream of `RawRecord` (a paper as the
parser saw it) and `Skipped` (a block that is not a paper, with the reason). They never
validate: `paperidx.models` is the single place where a raw record becomes a `Paper` or is
rejected, so every format is held to the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from paperidx.lazyre import lazy_compile


@dataclass(slots=True)
class RawRecord:
    """One paper as found in the input; `line` is where it starts (1-based).

    `date` is the digest day the paper was seen (when the input says); `published` is the
    paper's own publication date (when the input gives it). `abstract` may be empty for a
    reference-manager record that has a title and an identifier or authors: it is still a
    paper, and a later sighting with an abstract fills it in. `line` is an item number for
    inputs without meaningful lines (an entry in a JSON array, say).
    """

    title: str
    abstract: str
    line: int
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    date: dt.date | None = None
    links: list[str] = field(default_factory=list)
    doi: str | None = None
    published: dt.date | None = None
    # Provenance an input carries about itself (an export being re-imported).
    carried_dates: list[dt.date] = field(default_factory=list)
    carried_sources: list[str] = field(default_factory=list)
    carried_id: str | None = None
    # The user's marks, tags and note an export carries (`"user": {...}`), unvalidated.
    carried_state: dict[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class Skipped:
    """A block of input that is not a paper; reported as `file:line: reason`."""

    line: int
    reason: str


@dataclass(slots=True, frozen=True)
class CarriedWatch:
    """A watch an export carries (a `{"watch": {...}}` line of paperidx's own JSON Lines)."""

    line: int
    name: str
    query: str
    exclude: str = ""


@dataclass(slots=True, frozen=True)
class Notice:
    """Something the user should know about the whole input (e.g. an assumed year)."""

    message: str


ParseEvent = RawRecord | Skipped | Notice | CarriedWatch


@dataclass(slots=True, frozen=True)
class ParseOptions:
    """What the user told us about the input that the input may not say itself."""

    date: dt.date | None = None
    year: int | None = None
    today: dt.date = field(default_factory=dt.date.today)
    # The input's file name (no directory), when it has one: archives name files by day.
    source_name: str | None = None


_DAY_IN_NAME = lazy_compile(r"(\d{4})-(\d{2})-(\d{2})")


def date_in_name(name: str | None) -> dt.date | None:
    """The day in a file name: archives name files by day (`2025-03-18.jsonl`)."""
    match = _DAY_IN_NAME.search(name) if name else None
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class Parser(Protocol):
    """A parser takes the input's lines (without line endings, numbered from 1)."""

    def __call__(self, lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]: ...


class Sniffer(Protocol):
    """How sure a format is that it can read an input, from its first few kilobytes of text.

    0.0 means "not mine"; 1.0 means "certainly mine" (a declared root element, a signature
    line). Detection picks the most confident format; the plain-text digest is the fallback.
    """

    def __call__(self, head: str) -> float: ...


@dataclass(frozen=True, slots=True)
class InputFormat:
    """One input format, as the registry in `paperidx.parsing` lists it.

    Every format module defines `FORMAT = InputFormat(...)`. The CLI's `--input-format`
    choices, the README's format table and the tests all read these declarations.
    """

    name: str  # what `--input-format` takes
    summary: str  # one line for the README and `--help`
    example: str  # a file name a user would recognise, for the README table
    sniff: Sniffer
    parse: Parser
