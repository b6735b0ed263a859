"""The validated `Paper` record, its content-derived id, and how two copies merge.

This is the only place where input becomes a record: every parser yields raw records and
`validate_raw` holds them all to the same rules, reporting every problem as
`field: message`. Ids are derived from the normalized title, so the same paper gets the
same id in every library, from any copy of a digest, and keeps it when it later gains an
arXiv id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from paperidx.parsing.base import RawRecord
from paperidx.text import collapse_whitespace, find_urls, normalize_arxiv_id, normalize_doi

ID_LENGTH = 10
MAX_TITLE_CHARS = 500
MAX_ABSTRACT_CHARS = 50_000
MAX_AUTHORS = 5_000


def title_key(title: str) -> str:
    """The part of a title that identifies a paper: letters and digits, case-folded."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def paper_id(title: str) -> str:
    return hashlib.blake2b(title_key(title).encode(), digest_size=8).hexdigest()[:ID_LENGTH]


def twin_id(title: str, arxiv_id: str) -> str:
    """The id of a paper whose title another arXiv paper already holds.

    Two different arXiv papers can share a title ("Attention Is All You Need" has been
    reused); the second keeps its own record under an id derived from both.
    """
    return paper_id(f"{title}\x00{arxiv_id}")


NonEmptyName = Annotated[str, Field(min_length=1, max_length=300)]


class Paper(BaseModel):
    """One paper in the library, merged from every digest it was seen in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]
    # Empty only for a record that names the paper otherwise (see `_identifiable`).
    abstract: Annotated[str, Field(max_length=MAX_ABSTRACT_CHARS)]
    authors: Annotated[list[NonEmptyName], Field(max_length=MAX_AUTHORS)] = []
    arxiv_id: str | None = None
    dates: list[dt.date] = []
    sources: list[str] = []
    links: list[str] = []
    doi: str | None = None
    published: dt.date | None = None

    @field_validator("title", "abstract", mode="before")
    @classmethod
    def _collapse(cls, value: Any) -> Any:
        return collapse_whitespace(value) if isinstance(value, str) else value

    @field_validator("title")
    @classmethod
    def _title_has_words(cls, value: str) -> str:
        if not title_key(value):
            raise ValueError("has no letters or digits")
        return value

    @field_validator("authors", mode="before")
    @classmethod
    def _clean_authors(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [collapse_whitespace(a) if isinstance(a, str) else a for a in value]
        return value

    @field_validator("arxiv_id", mode="before")
    @classmethod
    def _normalize_arxiv(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        normalized = normalize_arxiv_id(value)
        if normalized is None:
            raise ValueError(f"{value!r} is not an arXiv id")
        return normalized

    @field_validator("doi", mode="before")
    @classmethod
    def _normalize_doi(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        normalized = normalize_doi(value)
        if normalized is None:
            raise ValueError(f"{value!r} is not a DOI")
        return normalized

    @model_validator(mode="after")
    def _identifiable(self) -> Paper:
        # A reference-manager entry or an arXiv replacement notice has no abstract, but
        # is still a paper when something besides its title says which one. A title alone
        # (a heading, a stray line) is not.
        if not self.abstract and not (self.arxiv_id or self.doi or self.authors):
            raise ValueError("no abstract, and no arXiv id, DOI or authors to tell the paper by")
        return self

    @field_validator("links")
    @classmethod
    def _links_are_urls(cls, value: list[str]) -> list[str]:
        for link in value:
            if not re.match(r"^https?://\S+$", link):
                raise ValueError(f"{link!r} is not an http(s) URL")
        return list(dict.fromkeys(value))

    @field_validator("dates")
    @classmethod
    def _sorted_dates(cls, value: list[dt.date]) -> list[dt.date]:
        return sorted(set(value))

    @property
    def date(self) -> dt.date | None:
        """The first day the paper appeared in a digest."""
        return self.dates[0] if self.dates else None


class Rejected(Exception):
    """A raw record that is not a valid paper; `problems` are `field: message` strings."""

    def __init__(self, line: int, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.line = line
        self.problems = problems


def validate_raw(raw: RawRecord, source: str) -> Paper:
    """Turn a parser's raw record into a `Paper`, or raise `Rejected` with every problem."""
    abstract_links = find_urls(raw.abstract)
    data = {
        "id": paper_id(raw.title),
        "title": raw.title,
        "abstract": raw.abstract,
        "authors": raw.authors,
        "arxiv_id": raw.arxiv_id,
        "dates": [raw.date] if raw.date else [],
        "sources": [f"{source}:{raw.line}"],
        "links": [*raw.links, *abstract_links],
        "doi": raw.doi,
        "published": raw.published,
    }
    try:
        return Paper.model_validate(data)
    except ValidationError as error:
        raise Rejected(raw.line, _describe(error)) from None


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "record"
        problems.append(f"{field}: {detail['msg']}")
    return problems


def _union(*lists: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(item for items in lists for item in items))


def searched_alike(one: Paper, other: Paper) -> bool:
    """Whether the search index holds the same document for two copies of a paper: the same
    title, abstract, authors, arXiv id and first digest day (what `paperidx.search.index`
    indexes; tests/test_index_sync.py holds the two together). A copy that only adds sources,
    links, a DOI, a publication date or a later day changes the record, not the index."""
    return (
        one.title == other.title
        and one.abstract == other.abstract
        and one.authors == other.authors
        and one.arxiv_id == other.arxiv_id
        and one.dates[:1] == other.dates[:1]
    )


def merge(existing: Paper, incoming: Paper) -> Paper:
    """Combine two copies of one paper, keeping the richer fields and every date and source.

    The existing id always wins, so ids never change once given.
    """
    return existing.model_copy(
        update={
            # A full abstract replaces a snippet (a Scholar alert, a feed's teaser).
            "abstract": max(existing.abstract, incoming.abstract, key=len),
            "authors": max(existing.authors, incoming.authors, key=len),
            "arxiv_id": existing.arxiv_id or incoming.arxiv_id,
            "doi": existing.doi or incoming.doi,
            "published": existing.published or incoming.published,
            "dates": sorted(set(existing.dates) | set(incoming.dates)),
            "sources": _union(existing.sources, incoming.sources),
            "links": _union(existing.links, incoming.links),
        }
    )
