"""What ingest, `stats` and `doctor` report: per input, per run, the library, each check.

Apart from `paperidx.results` because a search builds none of these: every dataclass costs
~0.3 ms to create at import, and `search` is measured against the bare start-up floor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

MAX_LISTED_PROBLEMS = 1000


@dataclass(slots=True)
class FileReport:
    """What one ingested input contributed."""

    source: str
    format: str
    parsed: int = 0
    new: int = 0
    merged: int = 0
    # `file:line: field: message`, one per problem; a record can have several.
    rejected: list[str] = field(default_factory=list)
    rejected_records: int = 0
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    error: str | None = None
    # Ids of the papers this input added (not merged): what watches look at.
    new_ids: list[str] = field(default_factory=list)
    # An export's user state: papers it was restored for, and notes of the library's own
    # that differed from the export's and were kept.
    restored: int = 0
    notes_kept: int = 0
    # Problems past the first `MAX_LISTED_PROBLEMS` of a kind are only counted: a huge
    # broken input must not fill memory (nor the terminal) with messages.
    skipped_unlisted: int = 0
    rejected_unlisted: int = 0

    @property
    def skipped_count(self) -> int:
        return len(self.skipped) + self.skipped_unlisted

    def note_skipped(self, text: str) -> None:
        if len(self.skipped) < MAX_LISTED_PROBLEMS:
            self.skipped.append(text)
        else:
            self.skipped_unlisted += 1

    def note_rejected(self, text: str) -> None:
        if len(self.rejected) < MAX_LISTED_PROBLEMS:
            self.rejected.append(text)
        else:
            self.rejected_unlisted += 1


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: one report per input, and the watches' new matches."""

    files: list[FileReport] = field(default_factory=list)
    # Watch name -> papers of this ingest it matched (see `Library.ingest`).
    watches: dict[str, int] = field(default_factory=dict)

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)

    @property
    def merged(self) -> int:
        return sum(f.merged for f in self.files)

    @property
    def parsed(self) -> int:
        return sum(f.parsed for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected_records for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.error is not None]


@dataclass(frozen=True, slots=True)
class LibraryStats:
    """The numbers `paperidx stats` shows."""

    papers: int
    digests: int
    first_date: dt.date | None
    last_date: dt.date | None
    home: str
    size_bytes: int
    with_arxiv_id: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "papers": self.papers,
            "digests": self.digests,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
            "with_arxiv_id": self.with_arxiv_id,
            "home": self.home,
            "size_bytes": self.size_bytes,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One check `paperidx doctor` made: what it looked at, whether it passed, what it saw."""

    check: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}
