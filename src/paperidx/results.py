"""What read commands hand to the renderers: stored papers, search hits, reports.

Plain dataclasses on purpose: `search`, `show` and `list` must start fast, so the read path
never imports pydantic. `StoredPaper.to_dict()` has the same shape as
`Paper.model_dump(mode="json")` (tests/test_results.py holds them together).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paperidx.state import PaperState


@dataclass(frozen=True, slots=True)
class StoredPaper:
    id: str
    title: str
    abstract: str
    authors: list[str]
    arxiv_id: str | None
    dates: list[dt.date]
    sources: list[str]
    links: list[str]
    doi: str | None = None
    # The paper's own publication date, when a source gave it (`dates` are digest days).
    published: dt.date | None = None
    # The user's marks, tags and note, when the caller asked for them (None: not loaded).
    state: PaperState | None = None

    @property
    def date(self) -> dt.date | None:
        return self.dates[0] if self.dates else None

    @property
    def searchable_text(self) -> str:
        """What plain queries match: title and abstract; for a paper known without its
        abstract (a BibTeX entry, an arXiv replacement), title and authors."""
        return f"{self.title}\n{self.abstract or ', '.join(self.authors)}"

    @property
    def arxiv_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "authors": list(self.authors),
            "arxiv_id": self.arxiv_id,
            "dates": [d.isoformat() for d in self.dates],
            "sources": list(self.sources),
            "links": list(self.links),
            "doi": self.doi,
            "published": self.published.isoformat() if self.published else None,
        } | ({"user": self.state.to_dict()} if self.state and not self.state.empty else {})

    def listing(self) -> dict[str, Any]:
        """The record every command prints and exports: `to_dict()` and the first `date`."""
        return self.to_dict() | {"date": self.date.isoformat() if self.date else None}


@dataclass(frozen=True, slots=True)
class Hit:
    rank: int
    paper: StoredPaper
    score: float
    snippet: str = ""
    # Character spans of matched words inside `snippet`, for highlighting on a terminal.
    highlights: tuple[tuple[int, int], ...] = ()
    # For a recommendation: the id of the starred paper it resembles most.
    because: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Rank, score and snippet (and `because` for a recommendation), then the paper's
        own record: a hit has every field `list` and `export` print."""
        found = {"rank": self.rank, "score": round(self.score, 4), "snippet": self.snippet}
        if self.because:
            found["because"] = self.because
        return found | self.paper.listing()


@dataclass(slots=True)
class SearchResult:
    query: str
    hits: list[Hit]
    total: int
    # One-line messages for stderr: corrections, fallbacks, expansions.
    notices: list[str] = field(default_factory=list)
    # How the query was understood, for --explain.
    explanation: dict[str, Any] = field(default_factory=dict)


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
