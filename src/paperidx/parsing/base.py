"""What every input parser produces, before validation.

Parsers are pure functions from decoded text to a stream of `RawRecord` (a paper as the
parser saw it) and `Skipped` (a block that is not a paper, with the reason). They never
validate: `paperidx.models` is the single place where a raw record becomes a `Paper` or is
rejected, so every format is held to the same rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(slots=True)
class RawRecord:
    """One paper as found in the input; `line` is where it starts (1-based)."""

    title: str
    abstract: str
    line: int
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    date: dt.date | None = None
    links: list[str] = field(default_factory=list)
    # Provenance an input carries about itself (an export being re-imported).
    carried_dates: list[dt.date] = field(default_factory=list)
    carried_sources: list[str] = field(default_factory=list)
    carried_id: str | None = None


@dataclass(slots=True, frozen=True)
class Skipped:
    """A block of input that is not a paper; reported as `file:line: reason`."""

    line: int
    reason: str


@dataclass(slots=True, frozen=True)
class Notice:
    """Something the user should know about the whole input (e.g. an assumed year)."""

    message: str


ParseEvent = RawRecord | Skipped | Notice


@dataclass(slots=True, frozen=True)
class ParseOptions:
    """What the user told us about the input that the input may not say itself."""

    date: dt.date | None = None
    year: int | None = None
    today: dt.date = field(default_factory=dt.date.today)
    # The input's file name (no directory), when it has one: archives name files by day.
    source_name: str | None = None


_DAY_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


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
