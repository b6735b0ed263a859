"""Input formats: detection by content, and the parser for each.

Each format is one module exposing a parser (see `base.Parser`); this module only decides
which one reads a given input. Detection looks at the text, never at the file name, so a
digest saved as `.txt` that holds JSON is still read as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from paperidx.errors import InputError
from paperidx.parsing.base import ParseEvent, ParseOptions, Parser, RawRecord, Skipped

__all__ = [
    "FORMATS",
    "ParseEvent",
    "ParseOptions",
    "RawRecord",
    "Skipped",
    "detect_format",
    "parser_for",
]


# Parsers load on demand: read commands import this package (for its types) and must not
# pay for compiling every format's patterns.
def _digest() -> Parser:
    from paperidx.parsing.digest import parse_digest

    return parse_digest


def _jsonl() -> Parser:
    from paperidx.parsing.jsonl import parse_jsonl

    return parse_jsonl


def _json_array() -> Parser:
    from paperidx.parsing.jsonl import parse_json_array

    return parse_json_array


def _hf_api() -> Parser:
    from paperidx.parsing import hf_api

    return hf_api.parse


def _hf_page() -> Parser:
    from paperidx.parsing import hf_page

    return hf_page.parse


# Format name -> a function returning its parser (the heavier parsers load on demand).
FORMATS: dict[str, Callable[[], Parser]] = {
    "digest": _digest,
    "jsonl": _jsonl,
    "json": _json_array,
    "hf-api": _hf_api,
    "hf-page": _hf_page,
}


def parser_for(name: str) -> Parser:
    try:
        return FORMATS[name]()
    except KeyError:
        known = ", ".join(FORMATS)
        raise InputError(f"unknown input format {name!r} (known: {known})") from None


def detect_format(head: str) -> str:
    """The format of an input, judged from its first few kilobytes of text."""
    from paperidx.parsing import hf_api, hf_page

    stripped = head.lstrip()
    if hf_api.sniff(head):
        return "hf-api"
    if stripped.startswith("{") and _first_line_is_object(stripped):
        return "jsonl"
    if stripped.startswith(("[", "{")):
        return "json"
    if hf_page.sniff(head):
        return "hf-page"
    return "digest"


def _first_line_is_object(text: str) -> bool:
    first = text.split("\n", 1)[0]
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False
