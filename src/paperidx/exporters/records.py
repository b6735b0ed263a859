"""JSON, JSON Lines and CSV for any records: the one writer of each, for every command.

`export`, `list`, `search`, `show`, `stats`, `doctor` and the rest print records through
these, so a paper has the same fields whichever command printed it (`StoredPaper.listing`)
and every CSV cell is made safe the same way. Each writer is a generator of text chunks, so
a whole library streams through without sitting in memory.

Text is untrusted. JSON keeps it exact (JSON escapes C0 controls itself; the C1 and bidi
controls are escaped here too, which leaves the decoded value unchanged). A CSV cell is one
line with controls made visible (`paperidx.text.inert`), lists joined with "; ", and a cell
that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return) gets a leading `'`, which spreadsheets show as text (OWASP's advice).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from paperidx.lazyre import lazy_compile
from paperidx.text import inert

_JSON_UNSAFE = lazy_compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Record = dict[str, Any]


def json_text(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_lines(records: Iterable[Record]) -> Iterator[str]:
    for record in records:
        yield json_text(record) + "\n"


def json_array(records: Iterable[Record]) -> Iterator[str]:
    """One JSON array, written element by element so it streams like JSON Lines."""
    opened = False
    for record in records:
        yield ("[\n" if not opened else ",\n") + json_text(record)
        opened = True
    yield "\n]\n" if opened else "[]\n"


def csv_rows(records: Iterable[Record], columns: Sequence[str] | None = None) -> Iterator[str]:
    """A header, then one line per record. Without `columns`, the first record's keys."""
    header: Sequence[str] | None = columns
    if header is not None:
        yield _row(header)
    for record in records:
        if header is None:
            header = list(record)
            yield _row(header)
        yield _row([csv_cell(record.get(column)) for column in header])
    if header is None:
        yield ""


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = "; ".join(inert(str(item)) for item in value)
    elif isinstance(value, dict):
        text = inert(json_text(value))
    else:
        text = inert(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def _row(cells: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def write_records(records: Iterable[Record], fmt: str) -> Iterator[str]:
    """`records` as `json`, `jsonl` or `csv`."""
    if fmt == "json":
        return json_array(records)
    if fmt == "jsonl":
        return json_lines(records)
    if fmt == "csv":
        return csv_rows(records)
    raise ValueError(f"{fmt!r} is not a record format")


RECORD_FORMATS = ("json", "jsonl", "csv")

__all__ = [
    "RECORD_FORMATS",
    "csv_cell",
    "csv_rows",
    "json_array",
    "json_lines",
    "json_text",
    "write_records",
]
