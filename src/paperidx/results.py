"""What read commands hand to the renderers: stored papers and search hits.

Plain dataclasses on purpose: `search`, `show` and `list` must start fast, so the read path
never imports pydantic (and what ingest, `stats` and `doctor` report is `paperidx.reports`,
records a search never builds). `StoredPaper.to_dict()` has the same shape as
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
    """A paper as the record store holds it (what search, show and export read)."""

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
    """One result of a search: the paper, its rank and score, and its snippet."""

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
    """The hits of one query, with the messages and explanation that go with them."""

    query: str
    hits: list[Hit]
    total: int
    # One-line messages for stderr: corrections, fallbacks, expansions.
    notices: list[str] = field(default_factory=list)
    # How the query was understood, for --explain.
    explanation: dict[str, Any] = field(default_factory=dict)
