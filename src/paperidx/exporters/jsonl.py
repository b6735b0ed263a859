"""JSON Lines and JSON: the lossless export, in exactly the shape `ingest` reads back.

Each record is `StoredPaper.to_dict()`: id, title, abstract, authors, arxiv_id, dates,
sources and links. `paperidx.parsing.jsonl` reads every one of those fields back, so
exporting and ingesting into an empty library gives the same records (same ids, dates,
sources), and ingesting into the same library changes nothing.

Text is written as UTF-8 by `paperidx.render.json_text`, which also escapes the C1 and
bidi control characters that JSON itself would pass through raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from paperidx.render import json_text
from paperidx.results import StoredPaper


def export_jsonl(papers: Iterable[StoredPaper]) -> Iterator[str]:
    """One JSON object per line."""
    for paper in papers:
        yield json_text(paper.to_dict()) + "\n"


def export_json(papers: Iterable[StoredPaper]) -> Iterator[str]:
    """One JSON array, written element by element so it streams like JSON Lines."""
    opened = False
    for paper in papers:
        yield ("[\n" if not opened else ",\n") + json_text(paper.to_dict())
        opened = True
    yield "\n]\n" if opened else "[]\n"
