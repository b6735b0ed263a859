"""Input formats: the registry, detection by content, and the parser for each.

Each format is one module that declares `FORMAT = InputFormat(...)` (see `base.InputFormat`):
its name, a one-line summary, a content sniffer that says how sure it is, and its parser.
Detection asks every sniffer and takes the most confident answer; it looks at the text,
never at the file name, so a digest saved as `.txt` that holds JSON is still read as JSON.
The CLI's `--input-format` choices, the README's format table and the tests read this
registry, so a new format is one module plus one line here.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import TYPE_CHECKING, Any

from paperidx.errors import InputError

if TYPE_CHECKING:
    from paperidx.parsing.base import InputFormat, Parser

# The record types, re-exported on first use: every command imports this package for
# FORMAT_NAMES, and only ingest needs the dataclasses behind these names.
_FROM_BASE = ("InputFormat", "ParseEvent", "ParseOptions", "RawRecord", "Skipped")


def __getattr__(name: str) -> Any:
    if name in _FROM_BASE:
        from paperidx.parsing import base

        return getattr(base, name)
    raise AttributeError(f"module 'paperidx.parsing' has no attribute {name!r}")


__all__ = [
    "FORMAT_NAMES",
    "InputFormat",
    "ParseEvent",
    "ParseOptions",
    "RawRecord",
    "Skipped",
    "describe_content",
    "detect_format",
    "format_table",
    "formats",
    "input_format",
    "parser_for",
    "unreadable",
]

# Format name -> "module:attribute" of its `InputFormat`. Modules load on demand: read
# commands import this package (for its types) and must not pay for every format's patterns.
# Order breaks ties between equally confident sniffers (the more specific format first).
_REGISTRY: dict[str, str] = {
    # e-mail and feeds
    "arxiv-email": "paperidx.parsing.arxiv_email:FORMAT",
    "email": "paperidx.parsing.mail:FORMAT",
    "feed": "paperidx.parsing.feed:FORMAT",
    # saved web pages and alerts
    "arxiv-html": "paperidx.parsing.arxiv_page:FORMAT_HTML",
    "arxiv-text": "paperidx.parsing.arxiv_page:FORMAT_TEXT",
    "hf-html": "paperidx.parsing.hf_html:FORMAT",
    "hf-page": "paperidx.parsing.hf_page:FORMAT",
    "scholar-alert": "paperidx.parsing.scholar_alert:FORMAT",
    # JSON
    "hf-api": "paperidx.parsing.hf_api:FORMAT",
    "csl-json": "paperidx.parsing.csl_json:FORMAT",
    "jsonl": "paperidx.parsing.jsonl:JSONL_FORMAT",
    "json": "paperidx.parsing.jsonl:JSON_FORMAT",
    # reference managers and notes
    "bibtex": "paperidx.parsing.bibtex:FORMAT",
    "ris": "paperidx.parsing.ris:FORMAT",
    "markdown": "paperidx.parsing.markdown_digest:FORMAT",
    # new formats: add a line above this comment (the plain-text fallback stays last)
    "digest": "paperidx.parsing.digest:FORMAT",
}


class Clue:
    """What an input must show for a format's sniffer to be worth asking: its first
    non-blank character is one of `opens`, or its text (case-folded) holds one of `words`.

    Detection imports a format's module only to ask its sniffer, and importing every one
    costs ~12 ms (their dataclasses and the modules they use): a plain-text digest need not
    load the JSON, HTML and BibTeX readers (the 67-paper sample's ingest: 288 -> 279 ms,
    medians of 21 interleaved runs; what `tests/test_startup_budget.py` guards). Each clue is
    something its format's sniffer cannot do without (the comment beside it says which of
    the sniffer's tests needs it); tests/test_detection.py holds every clue to its sniffer
    on the sample files and on generated text. A format without a clue is always asked.
    """

    __slots__ = ("opens", "words")

    def __init__(self, *, opens: str = "", words: tuple[str, ...] = ()) -> None:
        self.opens = opens
        self.words = words

    def found_in(self, opening: str, folded: str) -> bool:
        """`opening`: the input's first non-blank character; `folded`: its text, case-folded."""
        return (opening != "" and opening in self.opens) or any(w in folded for w in self.words)


_MARKUP = Clue(opens="<")
_JSON = Clue(opens="[{")
_CLUES: dict[str, Clue] = {
    # `_SIGNATURE`, or `_SNIFF_ENTRY`'s id line (`arXiv:<id>`, `Paper: <id>`,
    # `Paper (*cross-listing*): <id>`)
    "arxiv-email": Clue(
        words=("arxiv:", "paper:", "cross-listing*):", "send any comments regarding submissions")
    ),
    "feed": _MARKUP,  # its root element opens the document (after a prolog)
    "arxiv-html": Clue(words=("<",)),  # `_HTML_START` anywhere in the first 4 KB
    # `_TEXT_HEADER`, `_BARE_ID`, or `_ABS_MARK` (`[Submitted on 3 ...`, `Cite as: arXiv:`)
    "arxiv-text": Clue(words=("arxiv:", "[submitted on ")),
    "hf-html": _MARKUP,  # `looks_like_html`
    "hf-page": Clue(words=("##",)),  # its cards' `## [Title]` headings (`_HEADING`)
    "scholar-alert": _MARKUP,  # `looks_like_html`
    "hf-api": _JSON,
    "csl-json": _JSON,
    "jsonl": Clue(opens="{"),
    "json": _JSON,
    "bibtex": Clue(words=("@",)),  # an entry: `@article{`
    # the `TY  - ` line (`_SNIFF_TY`: one or two blanks before the dash)
    "ris": Clue(words=tuple(f"ty{blanks}-" for blanks in (" ", "\t", "  ", " \t", "\t ", "\t\t"))),
    # headings, a table, or front matter: every path of its sniffer needs one
    "markdown": Clue(words=("#", "|", "---")),
}


FORMAT_NAMES: tuple[str, ...] = tuple(_REGISTRY)

# Below this, a sniffer's answer is a guess, not a claim: the input is refused instead.
MIN_CONFIDENCE = 0.05


def input_format(name: str) -> InputFormat:
    try:
        location = _REGISTRY[name]
    except KeyError:
        known = ", ".join(FORMAT_NAMES)
        raise InputError(f"unknown input format {name!r} (known: {known})") from None
    module_name, attribute = location.split(":")
    declared: InputFormat = getattr(importlib.import_module(module_name), attribute)
    return declared


def formats() -> list[InputFormat]:
    """Every registered format, in registry order (imports every parser module)."""
    return [input_format(name) for name in FORMAT_NAMES]


def format_table() -> str:
    """The README's table of input formats, from the registry (see `dev.py docs`)."""
    rows = ["| format | what it reads | for example |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {f.summary} | `{f.example}` |" for f in formats()]
    return "\n".join(rows)


def parser_for(name: str) -> Parser:
    return input_format(name).parse


def detect_format(head: str, name: str = "input") -> str:
    """The format of an input, judged from its first few kilobytes of text.

    Raises `InputError` (the one-line "not a digest paperidx can read" message) when no
    format claims it.
    """
    best, confidence = None, 0.0
    opening, folded = _clue_views(head)
    for format_name in FORMAT_NAMES:
        clue = _CLUES.get(format_name)
        if clue is not None and not clue.found_in(opening, folded):
            continue
        score = input_format(format_name).sniff(head)
        if score > confidence:
            best, confidence = format_name, score
    if best is None or confidence < MIN_CONFIDENCE:
        raise unreadable(name, head)
    return best


def _clue_views(head: str) -> tuple[str, str]:
    """The first non-blank character and the case-folded text that `Clue`s are looked for
    in. Both err towards finding a clue, never away from it: blanks are every kind of white
    space and byte-order marks (sniffers strip fewer); the text is seen as the arXiv
    e-mail's sniffer sees it (no-break spaces as spaces, carriage returns gone), and the
    Turkish dotted and dotless I, which a case-blind pattern takes for an i, are i's."""
    opening = next((c for c in head if not (c.isspace() or c == "\ufeff")), "")
    seen = head.replace("\u00a0", " ").replace("\r", "")
    return opening, seen.replace("\u0130", "i").replace("\u0131", "i").casefold()


def unreadable(name: str, head: str, detail: str = "") -> InputError:
    """The error for an input paperidx cannot read: what it looks like, and what it reads."""
    looks = describe_content(head)
    known = ", ".join(FORMAT_NAMES)
    suffix = f"; {detail}" if detail else ""
    return InputError(
        f"{name}: not a digest paperidx can read (looks like {looks}){suffix}; "
        f"known formats: {known}"
    )


def describe_content(head: str) -> str:
    """A few words on what an input looks like, for the message that refuses it."""
    html, xml, mail_header, bibtex = _content_patterns()
    text = head.lstrip("\ufeff \t\r\n")
    if not text:
        return "an empty file"
    if html.search(text[:4000]):
        return "HTML without papers"
    if xml.match(text):
        return "XML without papers"
    if text[:1] == "{" or re.match(r"\[\s*(?:[\[{\"\]\d-]|true|false|null|$)", text):
        return "JSON without papers"
    if len(mail_header.findall(text[:4000])) >= 3:
        return "an e-mail without papers"
    if bibtex.search(text[:4000]):
        return "BibTeX without entries"
    if text.startswith("---"):
        return "Markdown with front matter but no paper"
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= 2:
        return "a line or two of text"
    return "text without titles followed by abstracts"


@functools.cache
def _content_patterns() -> tuple[re.Pattern[str], ...]:
    # Compiled on first use: every command imports this package, few refuse a file.
    return (
        re.compile(r"<(?:!doctype\s+html|html|head|body|div|table|p)\b", re.IGNORECASE),
        re.compile(r"^\s*<(?:\?xml|[A-Za-z][\w:.-]*[\s>])"),
        re.compile(
            r"^(?:From |(?:Return-Path|Received|Message-ID|MIME-Version|Subject|From|To|Date):)",
            re.MULTILINE | re.IGNORECASE,
        ),
        re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE),
    )
