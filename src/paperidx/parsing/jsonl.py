"""JSON Lines (one paper object per line) and JSON arrays of flat paper objects.

This is paperidx's own interchange format (what `export --format jsonl` writes) and the
shape of raw arXiv listings, so field names from both are accepted:
`title`; `abstract` or `summary`; `authors` (names, or objects with `name`);
`arxiv_id`, or `id` when it is an arXiv id; `date` or `dates`; `links`; `sources`; `doi`;
`published`.
Records without any date take the day in the file's name, as raw arXiv listings are named
by their day (`2025-03-18.jsonl`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from paperidx.parsing.base import (
    CarriedWatch,
    InputFormat,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
    date_in_name,
)
from paperidx.parsing.common import parse_date
from paperidx.parsing.json_positions import element_lines
from paperidx.text import normalize_arxiv_id

_ARXIV_KEYS = ("arxiv_id", "arxiv", "arxivId", "eprint")
# The shape of `paperidx.models.paper_id` (not imported: parsers stay free of pydantic).
_PAPERIDX_ID = re.compile(r"^[0-9a-f]{10}$")


def parse_jsonl(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as error:
            yield Skipped(number, f"not a JSON object: {_json_reason(error)}")
            continue
        if isinstance(value, Mapping) and "watch" in value and "title" not in value:
            yield _watch(value["watch"], number)
            continue
        yield record_from_mapping(value, number, options)


def _watch(value: Any, line: int) -> CarriedWatch | Skipped:
    """A watch paperidx's own export carries: `{"watch": {"name", "query", "exclude"}}`."""
    if not isinstance(value, Mapping):
        return Skipped(line, "'watch' is not an object")
    name, query, exclude = (value.get(key) for key in ("name", "query", "exclude"))
    if not isinstance(name, str) or not isinstance(query, str) or not query.strip():
        return Skipped(line, "a watch needs a 'name' and a 'query'")
    return CarriedWatch(line, name, query, exclude if isinstance(exclude, str) else "")


def parse_json_array(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    text = "\n".join(lines)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        line = getattr(error, "lineno", 1)
        yield Skipped(line, f"invalid JSON: {_json_reason(error)}")
        return
    is_list = isinstance(value, list)
    items = value if is_list else [value]
    lines_of = element_lines(text, (), is_list, len(items))
    for position, (item, line) in enumerate(zip(items, lines_of, strict=True), start=1):
        event = record_from_mapping(item, line, options)
        if isinstance(event, Skipped):
            event = Skipped(line, f"element {position}: {event.reason}")
        yield event


def _json_reason(error: BaseException) -> str:
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    return "nested too deeply" if isinstance(error, RecursionError) else str(error)


def record_from_mapping(value: Any, line: int, options: ParseOptions) -> RawRecord | Skipped:
    """A raw record from one JSON object, accepting the field names of known producers."""
    if not isinstance(value, Mapping):
        return Skipped(line, f"expected a JSON object, found {type(value).__name__}")
    title = _text(value.get("title"))
    abstract = _text(value.get("abstract", value.get("summary")))
    if not title and not abstract:
        return Skipped(line, "object has neither 'title' nor 'abstract'")
    dates = _dates(value)
    return RawRecord(
        title=title,
        abstract=abstract,
        line=line,
        authors=_authors(value.get("authors")),
        arxiv_id=_arxiv_id(value),
        date=dates[0] if dates else _undated_day(value, options),
        links=[link for link in _strings(value.get("links")) if link],
        doi=_text(value.get("doi", value.get("DOI"))) or None,
        published=parse_date(_text(value.get("published"))),
        carried_dates=dates[1:],
        carried_sources=_strings(value.get("sources")),
        carried_id=_paperidx_id(value),
        carried_state=value["user"] if isinstance(value.get("user"), dict) else None,
    )


def _undated_day(value: Mapping[str, Any], options: ParseOptions) -> dt.date | None:
    """The day for a record without one: the file's day (raw arXiv listings), else --date.

    A record that has a `dates` field, even an empty one, is our own export: it says the
    paper has no date, and the name of the file it was exported to must not invent one.
    """
    if "dates" in value or "date" in value:
        return options.date
    return date_in_name(options.source_name) or options.date


def _paperidx_id(value: Mapping[str, Any]) -> str | None:
    """Our own exports' `id`, handed on so a re-import can keep it (see `Library`)."""
    candidate = value.get("id")
    if isinstance(candidate, str) and _PAPERIDX_ID.match(candidate):
        return candidate
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _authors(value: Any) -> list[str]:
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        if isinstance(item, Mapping):
            item = item.get("name")
        if isinstance(item, str) and item.strip():
            names.append(item)
    return names


def _arxiv_id(value: Mapping[str, Any]) -> str | None:
    for key in _ARXIV_KEYS:
        candidate = value.get(key)
        if isinstance(candidate, str) and candidate.strip():
            return candidate
    # Raw arXiv listings call it `id`; our own exports use `id` for the paperidx id.
    candidate = value.get("id")
    if isinstance(candidate, str) and normalize_arxiv_id(candidate):
        return candidate
    return None


def _dates(value: Mapping[str, Any]) -> list[dt.date]:
    raw = _strings(value.get("dates")) or _strings(value.get("date"))
    parsed = []
    for text in raw:
        try:
            parsed.append(dt.date.fromisoformat(text[:10]))
        except ValueError:
            continue
    return sorted(set(parsed))


def looks_like_json_lines(text: str) -> bool:
    """Whether `text` (a file's head) is JSON Lines: a whole JSON value on its first line,
    and another object or array after it. Formats that read one JSON document must not
    claim such files."""
    first_line, newline, rest = text.partition("\n")
    if not newline or not rest.lstrip().startswith(("{", "[")):
        return False
    try:
        json.loads(first_line)
    except (ValueError, RecursionError):
        return False  # a pretty-printed document: its first line is not a whole value
    return True


def sniff_jsonl(head: str) -> float:
    text = head.lstrip("\ufeff \t\r\n")
    first = text.split("\n", 1)[0]
    if not first.startswith("{"):
        return 0.0
    try:
        return 0.6 if isinstance(json.loads(first), dict) else 0.0
    except (ValueError, RecursionError):
        return 0.0


def sniff_json(head: str) -> float:
    text = head.lstrip("\ufeff \t\r\n")
    if text.startswith("{"):
        return 0.5
    # A plain digest whose first title is "[Re] Reproducibility of ..." is not a JSON array.
    return 0.5 if re.match(r"\[\s*(?:[\[{\]\"]|$)", text) else 0.0


JSONL_FORMAT = InputFormat(
    name="jsonl",
    summary="JSON Lines, one paper object per line (paperidx's own export, raw arXiv listings)",
    example="library.jsonl",
    sniff=sniff_jsonl,
    parse=parse_jsonl,
)
JSON_FORMAT = InputFormat(
    name="json",
    summary="a JSON array of paper objects (title, abstract, authors, arxiv_id, ...)",
    example="papers.json",
    sniff=sniff_json,
    parse=parse_json_array,
)
