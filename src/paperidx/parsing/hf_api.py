"""Hugging Face Daily Papers API JSON (`huggingface.co/api/daily_papers` responses).

The normal file is a JSON array of *items*, one per featured paper::

    [ {"paper": {"id": "2405.15738", "title": ..., "summary": ..., "authors": [{"name": ...}],
                 "publishedAt": ..., "submittedOnDailyAt": ..., "githubRepo": ...,
                 "projectPage": ...},
       "title": ..., "publishedAt": ..., "numComments": ...}, ... ]

Quirks of the real archive that this module handles:

- The `paper` object is the truth. Item-level `title` and `publishedAt` drift from it
  (different titles in ~15% of items), so item-level fields are only a last resort.
- `paper.id` is the arXiv id; `paper.summary` is the abstract. Titles and abstracts keep
  arXiv's hard line breaks (`"... in\\n  Large Language Models"`): they are joined here.
- Some elements are *strings* holding a Python dict repr (`"{'paper': {... 'hidden': False}}"`);
  they are read with `ast.literal_eval` (and, failing that, as JSON text).
- Some files wrap the array in an object: `{"status", "date", "count", "data": [...]}`.
  Any list under `data`, `papers`, `items` or `results` (also nested) is accepted, as are
  a single item object and a bare list of paper objects (title/summary/id at top level).
- The digest date is the day the paper was featured: `paper.submittedOnDailyAt`, else the
  wrapper's `date`, the file name's date, or the date the user gave. `publishedAt` is the
  arXiv date, used only when nothing else is known, and then said so in a `Notice`.
- Link fields occasionally carry stray spaces or a hard line break inside the URL.

JSON needs the whole document, so this parser holds the input in memory.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    InputFormat,
    Notice,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
    date_in_name,
)
from paperidx.parsing.common import iso_day
from paperidx.parsing.json_positions import element_lines
from paperidx.parsing.jsonl import looks_like_json_lines
from paperidx.text import collapse_whitespace, find_urls, normalize_arxiv_id

LIST_KEYS = ("data", "papers", "items", "results")
LINK_KEYS = ("githubRepo", "projectPage")
# A wrapper nested deeper than this is not a wrapping anyone uses; stop looking.
_MAX_WRAPPER_DEPTH = 4

_URL = lazy_compile(r"^https?://\S+$")
# Keys only the Daily Papers API uses. `"paper_url"` (an HTML-scraped archive) must not match,
# nor `"summary"` alone: arXiv listings use it too, and the generic JSON reader takes those.
_HF_KEYS = lazy_compile(
    r"""["'](?:paper|submittedOnDailyAt|submittedOnDailyBy|publishedAt|upvotes|numComments|"""
    r"""discussionId)["']\s*:"""
)


def sniff(head: str) -> float:
    """Whether the first few KB of a file look like Daily Papers API JSON.

    JSON Lines (one object per line) is a different format even when its objects carry the
    same keys: this parser reads one JSON document, so it must not claim those files.
    """
    text = head.lstrip("\ufeff \t\r\n")
    if text[:1] not in ("[", "{") or looks_like_json_lines(text):
        return 0.0
    return 0.9 if _HF_KEYS.search(text) is not None else 0.0


def bare_arxiv_id(value: object) -> str | None:
    """`2405.15738`, `arXiv:2405.15738v2` or an arxiv.org / huggingface.co/papers URL -> the id.

    Anything else (an HF-internal id, a number, a typo) gives None rather than a value the
    validator would reject the whole paper for.
    """
    return normalize_arxiv_id(value) if isinstance(value, str) else None


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers in one Daily Papers API document; one `Skipped` per element that is not one."""
    text = "\n".join(lines)
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as error:
        yield Skipped(error.lineno, f"invalid JSON: {error.msg}")
        return
    except ValueError as error:  # e.g. an integer longer than Python's digit limit
        yield Skipped(1, f"invalid JSON: {error}")
        return
    except RecursionError:
        yield Skipped(1, "invalid JSON: nested too deeply to read")
        return

    found = _find_elements(document)
    if isinstance(found, str):
        yield Skipped(_first_content_line(text), found)
        return
    known_date = found.date or date_in_name(options.source_name) or options.date
    told_about_published = False
    for line, element in zip(_element_lines(text, found), found.elements, strict=True):
        event = _element_event(element, line, known_date)
        if isinstance(event, _FromPublished):
            if not told_about_published:
                told_about_published = True
                yield Notice(_PUBLISHED_NOTICE)
            event = event.record
        yield event


_PUBLISHED_NOTICE = (
    "no featured date (submittedOnDailyAt, a 'date' field, a date in the file name or a "
    "given date): used each paper's arXiv publication date (publishedAt) instead"
)


@dataclass(slots=True, frozen=True)
class _Elements:
    """Where the paper items are: the keys leading to them, and whether they form a list."""

    path: tuple[str, ...]
    elements: list[object]
    is_list: bool
    date: dt.date | None


@dataclass(slots=True, frozen=True)
class _FromPublished:
    """A record dated by `publishedAt` (the arXiv date), which the user must be told about."""

    record: RawRecord


def _find_elements(
    value: object, path: tuple[str, ...] = (), date: dt.date | None = None
) -> _Elements | str:
    """The items in the document, or why there are none."""
    if isinstance(value, list):
        return _Elements(path, value, True, date)
    if isinstance(value, str) and not path:
        parsed = _mapping_from_string(value)
        if parsed is not None:
            return _Elements(path, [parsed], False, date)
    if not isinstance(value, dict):
        return f"JSON document is {_kind(value)}, not a list of papers"
    if "paper" in value:
        return _Elements(path, [value], False, date)
    date = iso_day(value.get("date")) or date
    if len(path) < _MAX_WRAPPER_DEPTH:
        for key in LIST_KEYS:
            if isinstance(value.get(key), list | dict):
                found = _find_elements(value[key], (*path, key), date)
                if not isinstance(found, str):
                    return found
    if _looks_like_paper(value):
        return _Elements(path, [value], False, date)
    keys = ", ".join(repr(key) for key in LIST_KEYS)
    return f"JSON object holds no papers: no 'paper', no title/summary, and no list under {keys}"


def _looks_like_paper(value: dict[Any, Any]) -> bool:
    return any(key in value for key in ("title", "summary", "abstract"))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), f"a {type(value).__name__}")


def _first_content_line(text: str) -> int:
    stripped = text.lstrip()
    return text[: len(text) - len(stripped)].count("\n") + 1


# --- where each element starts ------------------------------------------------------------


def _element_lines(text: str, found: _Elements) -> list[int]:
    """The 1-based line where each element starts.

    `json.loads` gives no positions, so the document (already known to be valid) is walked
    again with `raw_decode`, which reports where each value ends.
    """
    return element_lines(text, found.path, found.is_list, len(found.elements))


# --- one element -> one record ------------------------------------------------------------


def _element_event(
    element: object, line: int, known_date: dt.date | None
) -> RawRecord | Skipped | _FromPublished:
    item = _mapping_from_string(element) if isinstance(element, str) else element
    if isinstance(element, str) and item is None:
        return Skipped(line, "string element is neither a Python dict repr nor a JSON object")
    if not isinstance(item, dict):
        return Skipped(line, f"array element is {_kind(element)}, not a paper object")
    paper = _paper_of(item)
    if paper is None:
        return Skipped(line, "object is not a paper: no 'paper', 'title' or 'summary' field")
    return _record(item, paper, line, known_date)


def _mapping_from_string(text: str) -> dict[Any, Any] | None:
    """A dict held in a string: a Python repr (`{'a': False}`) or JSON text (`{"a": false}`)."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def _paper_of(item: dict[Any, Any]) -> dict[Any, Any] | None:
    paper = item.get("paper")
    if isinstance(paper, str):
        paper = _mapping_from_string(paper)
    if isinstance(paper, dict):
        return paper
    return item if _looks_like_paper(item) else None


def _record(
    item: dict[Any, Any], paper: dict[Any, Any], line: int, known_date: dt.date | None
) -> RawRecord | _FromPublished:
    abstract = collapse_whitespace(
        _text(paper, "summary", "abstract") or _text(item, "summary", "abstract")
    )
    record = RawRecord(
        title=collapse_whitespace(_text(paper, "title") or _text(item, "title")),
        abstract=abstract,
        line=line,
        authors=_author_names(paper.get("authors")),
        arxiv_id=_arxiv_id_of(paper),
        date=iso_day(paper.get("submittedOnDailyAt")) or known_date,
        links=_links(paper, abstract),
    )
    if record.date is None:
        record.date = iso_day(paper.get("publishedAt")) or iso_day(item.get("publishedAt"))
        if record.date is not None:
            return _FromPublished(record)
    return record


def _text(mapping: dict[Any, Any], *keys: str) -> str:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _author_names(authors: object) -> list[str]:
    if isinstance(authors, str):
        return [collapse_whitespace(authors)] if authors.strip() else []
    if not isinstance(authors, list):
        return []
    names = []
    for author in authors:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            names.append(collapse_whitespace(name))
    return names


def _arxiv_id_of(paper: dict[Any, Any]) -> str | None:
    for key in ("id", "arxiv_id", "arxivId", "arxiv"):
        arxiv_id = bare_arxiv_id(paper.get(key))
        if arxiv_id:
            return arxiv_id
    return None


def _links(paper: dict[Any, Any], abstract: str) -> list[str]:
    links = []
    for key in LINK_KEYS:
        value = paper.get(key)
        if isinstance(value, str):
            # Seen in the archive: a leading space, and a hard line break inside the URL.
            url = re.sub(r"\s+", "", value)
            if _URL.match(url):
                links.append(url)
    return list(dict.fromkeys([*links, *find_urls(abstract)]))


FORMAT = InputFormat(
    name="hf-api",
    summary="Hugging Face Daily Papers API JSON (huggingface.co/api/daily_papers)",
    example="2024-05-28.json",
    sniff=sniff,
    parse=parse,
)
