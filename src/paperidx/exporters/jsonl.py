"""JSON Lines and JSON: the lossless export, in exactly the shape `ingest` reads back.

Each record is `StoredPaper.listing()`, as every command prints it: id, title, abstract,
authors, arxiv_id, dates, sources, links, doi, published, date (the first of `dates`), and
`user` (marks, tags, note) when the user did anything with the paper. A whole-library
export ends with one `{"watch": {...}}` line per watch.
`paperidx.parsing.jsonl` reads every one of those back, so exporting and ingesting into an
empty library gives the same records and the same user state (same ids, dates, sources),
and ingesting into the same library changes nothing.

Text is written by `paperidx.exporters.records`, which also escapes the C1 and bidi
control characters that JSON itself would pass through raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from paperidx.exporters.records import json_array, json_lines, json_text
from paperidx.results import StoredPaper
from paperidx.state import Watch


def export_jsonl(papers: Iterable[StoredPaper]) -> Iterator[str]:
    """One JSON object per line."""
    return json_lines(paper.listing() for paper in papers)


def export_watches(watches: Iterable[Watch]) -> Iterator[str]:
    """One `{"watch": {...}}` line per watch, after the papers (see `parsing.jsonl`)."""
    for watch in watches:
        yield json_text({"watch": watch.to_dict()}) + "\n"


def export_json(papers: Iterable[StoredPaper]) -> Iterator[str]:
    """One JSON array, written element by element so it streams like JSON Lines."""
    return json_array(paper.listing() for paper in papers)
