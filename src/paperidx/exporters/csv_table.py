"""CSV for spreadsheets: a header, then one row per paper.

The columns are the fields of `StoredPaper.listing()`, the record every command prints, so
`list --format csv`, `search --format csv` and `export --format csv` share them. Cells are
written by `paperidx.exporters.records.csv_cell`: one line each, lists joined with "; ",
controls made visible, formulas defused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from paperidx.exporters.records import csv_rows
from paperidx.results import StoredPaper

COLUMNS = (
    "id",
    "title",
    "abstract",
    "authors",
    "arxiv_id",
    "dates",
    "sources",
    "links",
    "doi",
    "published",
    "user",
    "date",
)


def export_csv(papers: Iterable[StoredPaper]) -> Iterator[str]:
    return csv_rows((paper.listing() for paper in papers), COLUMNS)
