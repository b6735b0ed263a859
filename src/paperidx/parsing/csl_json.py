"""CSL-JSON: Zotero's and Better BibTeX's CSL JSON exports, citeproc input, and Crossref API
`works` responses (whose `message` is a CSL-like item, or holds a list of them in `items`).

A document is a JSON array of items, `{"items": [...]}`, or a Crossref envelope
`{"status": "ok", "message": {...}}`. Per item: `title` (a string, or Crossref's list of
strings; HTML such as `<i>` dropped), `author` (`{family, given}` with particles and
suffix, or `{literal}`), `issued` (`{"date-parts": [[2024, 11, 7]]}`, or `raw`; only a full
day is a publication day), `DOI`, `abstract` (JATS from Crossref is stripped), `URL`.
Zotero writes an arXiv preprint's id as `number: "arXiv:2306.13455"`; it may also be in the
`URL`, the arXiv DOI `10.48550/arXiv....`, a `note` or a `container-title`.

Items have no useful line in a JSON document, so a rejected item is reported by its
position: `item 3: ...`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import InputFormat, ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.parsing.common import (
    arxiv_id_from_doi,
    find_arxiv_id,
    join_document,
    make_date,
    normalize_doi,
    parse_date,
    split_authors,
    strip_markup,
)
from paperidx.parsing.jsonl import looks_like_json_lines
from paperidx.text import collapse_whitespace

_URL = lazy_compile(r"^https?://\S+$")
# Crossref abstracts often open with a heading that is not part of the text.
_ABSTRACT_HEADING = lazy_compile(
    r"^\s*<(?:jats:)?title>\s*(?:abstract|summary)\s*\.?\s*</(?:jats:)?title>", re.IGNORECASE
)
_ARXIV_FIELDS = ("number", "URL", "note", "archive_location", "container-title", "id",
                 "collection-title", "publisher", "source", "genre")  # fmt: skip
_DATE_FIELDS = ("issued", "published", "published-online", "published-print")
_NAME_PARTS = ("given", "dropping-particle", "non-dropping-particle", "family", "suffix")


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers in a CSL-JSON document; `Skipped(n, "item n: ...")` for each item that is not."""
    text = join_document(lines, "a CSL-JSON file")
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON at line {error.lineno}: {error.msg}") from None
    except (ValueError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise InputError(f"invalid JSON: {reason}") from None
    items = csl_items(document)
    if items is None:
        raise InputError("JSON holds no CSL items (an array of objects with 'type' and 'title')")
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        yield _event(item, number, options, seen)


def csl_items(document: object) -> list[object] | None:
    """The items of a CSL-JSON document, whichever of the known wrappings it uses."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    message = document.get("message")
    if isinstance(message, dict):  # Crossref: one work, or a work list under "items"
        inner = message.get("items")
        return inner if isinstance(inner, list) else [message]
    if isinstance(document.get("items"), list):
        items: list[object] = document["items"]
        return items
    return [document] if "title" in document else None


def _event(
    item: object, number: int, options: ParseOptions, seen: dict[str, int]
) -> RawRecord | Skipped:
    if not isinstance(item, Mapping):
        return Skipped(number, f"item {number}: {_kind(item)}, not a CSL object")
    title = collapse_whitespace(strip_markup(_text(item.get("title"))))
    if not title:
        return Skipped(number, f"item {number}: no title")
    authors = _authors(item.get("author"))
    doi = normalize_doi(_text(item.get("DOI")) or _text(item.get("doi")))
    arxiv_id = arxiv_id_from_doi(doi) or _arxiv_id(item)
    raw_abstract = _text(item.get("abstract"))
    abstract = strip_markup(_ABSTRACT_HEADING.sub("", raw_abstract))
    if not abstract and not (arxiv_id or doi or authors):
        return Skipped(number, f"item {number}: a title but no abstract, authors or identifier")
    keys = [f"arxiv:{arxiv_id}"] if arxiv_id else []
    keys += [f"doi:{doi}"] if doi else []
    for key in keys:
        if key in seen:
            return Skipped(number, f"item {number}: repeats the paper of item {seen[key]}")
    for key in keys:
        seen[key] = number
    return RawRecord(
        title=title,
        abstract=abstract,
        line=number,
        authors=authors,
        arxiv_id=arxiv_id,
        doi=doi,
        links=_links(item, doi),
        date=options.date,
        published=_published(item),
    )


def _text(value: object) -> str:
    """A string field; Crossref writes `title` and `container-title` as lists of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for element in value:
            if isinstance(element, str) and element.strip():
                return element
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _kind(value: object) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
             str: "a string", list: "an array"}  # fmt: skip
    return names.get(type(value), f"a {type(value).__name__}")


def _authors(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    names: list[str] = []
    for person in value:
        if isinstance(person, str):
            names.append(person)
        elif isinstance(person, Mapping):
            literal = _text(person.get("literal")) or _text(person.get("name"))
            if literal:
                names.append(literal)
            else:
                names.append(" ".join(_text(person.get(part)) for part in _NAME_PARTS))
    return split_authors([strip_markup(name) for name in names])


def _arxiv_id(item: Mapping[str, Any]) -> str | None:
    for name in _ARXIV_FIELDS:
        value = collapse_whitespace(_text(item.get(name)))
        if value and "arxiv" in value.lower():
            found = find_arxiv_id(value)
            if found:
                return found
    return None


def _links(item: Mapping[str, Any], doi: str | None) -> list[str]:
    links = []
    url = _text(item.get("URL")).strip()
    if _URL.match(url):
        links.append(url)
    if doi:
        links.append(f"https://doi.org/{doi}")
    return list(dict.fromkeys(links))


def _published(item: Mapping[str, Any]) -> dt.date | None:
    """The first of the item's dates that names a day (a range gives its start)."""
    for name in _DATE_FIELDS:
        value = item.get(name)
        if not isinstance(value, Mapping):
            continue
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list):
            day = _day(parts[0])
            if day is not None:
                return day
        raw = value.get("raw") or value.get("literal")
        if isinstance(raw, str):
            day = parse_date(raw)
            if day is not None:
                return day
    return None


def _day(parts: list[Any]) -> dt.date | None:
    numbers = []
    for part in parts[:3]:
        if isinstance(part, bool):
            return None
        if isinstance(part, int):
            numbers.append(part)
        elif isinstance(part, str) and part.strip().isdigit() and len(part.strip()) <= 4:
            numbers.append(int(part))
        else:
            return None
    if len(numbers) < 3 or not 1 <= numbers[0] <= 9999:
        return None
    return make_date(numbers[0], numbers[1], numbers[2]) if abs(numbers[1]) < 100 else None


# --- sniffing ----------------------------------------------------------------------------

_CSL_KEY = lazy_compile(r'"(type|title|author|issued|DOI|container-title|date-parts|family)"\s*:')


def sniff(head: str) -> float:
    """0.8 for a JSON document whose first objects carry CSL's keys; 0 otherwise.

    `type` and `title` together with `author`/`issued`/`DOI`/`container-title` are CSL's
    signature: paperidx's own JSON Lines export and the HF Daily Papers API use `authors`,
    `summary` and `publishedAt`, never `issued` or `container-title`.
    """
    text = head.lstrip("\ufeff \t\r\n")
    if text[:1] not in ("[", "{") or looks_like_json_lines(text):
        return 0.0
    keys = {match.group(1) for match in _CSL_KEY.finditer(text[:8192])}
    if '"message-type"' in text[:400] and "title" in keys:  # a Crossref API envelope
        return 0.8
    if {"type", "title"} <= keys and keys & {"author", "issued", "DOI", "container-title"}:
        return 0.8
    if "title" in keys and keys & {"issued", "date-parts", "container-title"} and "family" in keys:
        return 0.7
    return 0.0


FORMAT = InputFormat(
    name="csl-json",
    summary="CSL-JSON (Zotero / Better CSL JSON, citeproc, Crossref API works responses)",
    example="library.json",
    sniff=sniff,
    parse=parse,
)
