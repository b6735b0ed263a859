"""CSV for spreadsheets: a header, then one row per paper.

The columns are those of `paperidx list --format csv`, so a script can read either. Lists
(authors, dates, sources, links) are joined with "; ". Cells go through
`paperidx.text.inert`: a newline or terminal escape in an abstract becomes visible
characters, and one paper is always exactly one line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from paperidx.results import StoredPaper
from paperidx.text import inert

COLUMNS = ("id", "title", "abstract", "authors", "arxiv_id", "dates", "sources", "links", "date")


def export_csv(papers: Iterable[StoredPaper]) -> Iterator[str]:
    yield _row(COLUMNS)
    for paper in papers:
        record = paper.to_dict()
        record["date"] = paper.date.isoformat() if paper.date else None
        yield _row([_cell(record[column]) for column in COLUMNS])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(inert(str(item)) for item in value)
    return inert(str(value))


def _row(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()
