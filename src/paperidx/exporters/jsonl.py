"""JSON Lines and JSON: the lossless export, in exactly the shape `ingest` reads back.

Each record is `StoredPaper.to_dict()`: id, title, abstract, authors, arxiv_id, dates,
sources, links, doi, published, and `user` (marks, tags, note) when the user did anything
with the paper. A whole-library export ends with one `{"watch": {...}}` line per watch.
`paperidx.parsing.jsonl` reads every one of those back, so exporting and ingesting into an
empty library gives the same records and the same user state (same ids, dates, sources),
and ingesting into the same library changes nothing.

Text is written as UTF-8 by `paperidx.render.json_text`, which also escapes the C1 and
bidi control characters that JSON itself would pass through raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from paperidx.render import json_text
from paperidx.results import StoredPaper
from paperidx.state import Watch


def export_jsonl(papers: Iterable[StoredPaper]) -> Iterator[str]:
    """One JSON object per line."""
    for paper in papers:
        yield json_text(paper.to_dict()) + "\n"


def export_watches(watches: Iterable[Watch]) -> Iterator[str]:
    """One `{"watch": {...}}` line per watch, after the papers (see `parsing.jsonl`)."""
    for watch in watches:
        yield json_text({"watch": watch.to_dict()}) + "\n"


def export_json(papers: Iterable[StoredPaper]) -> Iterator[str]:
    """One JSON array, written element by element so it streams like JSON Lines."""
    opened = False
    for paper in papers:
        yield ("[\n" if not opened else ",\n") + json_text(paper.to_dict())
        opened = True
    yield "\n]\n" if opened else "[]\n"
