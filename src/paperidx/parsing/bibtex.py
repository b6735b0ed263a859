"""BibTeX / BibLaTeX libraries: Zotero, Better BibTeX, JabRef, papis, DBLP and INSPIRE exports.

Every entry type is a paper candidate (`@article`, `@misc`, `@inproceedings`, `@online`...);
`@string` macros are expanded (with `#` concatenation and the predefined month names),
`@comment` and `@preamble` blocks (JabRef's `jabref-meta` settings among them) are ignored,
and text between entries is a comment, as BibTeX itself treats it.

Where the paper's arXiv id hides depends on the exporter: `eprint` (+ `archivePrefix` or
`eprinttype`), `journal = {arXiv preprint arXiv:...}`, Zotero's `note = {arXiv:... [cs]}` or
`number = {arXiv:...}`, the arXiv DOI `10.48550/arXiv....`, DBLP's `volume = {abs/...}`, or
an arxiv.org URL. TeX in titles, names and abstracts becomes text (`common.tex_to_text`).

An entry that cannot be read (unbalanced braces, a missing comma) is reported with its line
and reading resumes at the next `@` that starts a line; a file where no entry can be read is
refused. The parser is hand-written: bibtexparser 1.x took 14 s for 10k entries and silently
dropped broken ones, pybtex refuses the whole file over one unbalanced brace.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    InputFormat,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
)
from paperidx.parsing.common import (
    MONTHS,
    arxiv_id_from_doi,
    find_arxiv_id,
    join_document,
    make_date,
    normalize_arxiv_id,
    normalize_doi,
    parse_date,
    split_authors,
    tex_to_text,
)
from paperidx.text import collapse_whitespace

# A macro or a `#` concatenation may not grow a value past this: `@string{b = a # a}` chains
# double at each step, and a hostile file could otherwise ask for gigabytes.
MAX_VALUE_CHARS = 1_000_000

_ENTRY_START = lazy_compile(r"@[ \t]*([A-Za-z][\w-]*)[ \t\r\n]*([{(])")
# An entry start at the beginning of a line: where reading resumes after a broken entry,
# and where a braced value that never closes is known to have run into the next entry.
_LINE_ENTRY_START = lazy_compile(r"\n[ \t]*@[ \t]*[A-Za-z][\w-]*[ \t]*[{(]")
_BRACE_SCAN = lazy_compile(r"[{}]|\n[ \t]*@[ \t]*[A-Za-z][\w-]*[ \t]*[{(]")
_QUOTE_SCAN = lazy_compile(r'\\"|[{}"]|\n[ \t]*@[ \t]*[A-Za-z][\w-]*[ \t]*[{(]')
_SPACE = lazy_compile(r"\s*")
_KEY = lazy_compile(r"[^,\s{}()]*")
_FIELD_NAME = lazy_compile(r"([A-Za-z_][\w\-:.+/]*)\s*=\s*")
_BARE_VALUE = lazy_compile(r"[^\s,#{}()\"=]+")
# A value line that starts with `%` is a comment (biber and papis read it so); `\%` is not.
_COMMENT_LINE = lazy_compile(r"\n[ \t]*%[^\n]*")
_AND = lazy_compile(r"\s+and\s+", re.IGNORECASE)
_SUFFIX = lazy_compile(r"^(?:jr|sr|jun|sen|[IVX]+)\.?$", re.IGNORECASE)
_URL = lazy_compile(r"^https?://\S+$")

_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_PREDEFINED = {name[:3].lower(): name for name in _MONTH_NAMES}
_IGNORED_TYPES = frozenset({"comment", "preamble"})
_URL_FIELDS = ("url", "pdf", "bdsk-url-1", "bdsk-url-2", "howpublished")
# Fields that hold an arXiv id in some exporter's habits (see the module docstring).
_ARXIV_TEXT_FIELDS = ("journal", "journaltitle", "note", "number", "eid", "pages", "howpublished",
                      "url", "pdf", "volume", "booktitle", "publisher", "eprint")  # fmt: skip


class _EntryError(Exception):
    """Why one entry cannot be read; `position` is where reading stopped."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


@dataclass(slots=True)
class _Entry:
    """One `@kind{key, ...}` entry's fields."""

    kind: str
    key: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)


class _Reader:
    """One pass over the document: entries, macros, and the places it could not read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.macros: dict[str, str] = dict(_PREDEFINED)
        self._newlines = [match.start() for match in re.finditer("\n", text)]

    def line_of(self, position: int) -> int:
        return bisect.bisect_left(self._newlines, position) + 1

    def blocks(self) -> Iterator[_Entry | Skipped]:
        text, position = self.text, 0
        while True:
            match = _ENTRY_START.search(text, position)
            if match is None:
                return
            kind = match.group(1).lower()
            start = match.start()
            closing = "}" if match.group(2) == "{" else ")"
            if kind in _IGNORED_TYPES:
                position = self._skip_ignored(match.end() - 1)
                continue
            try:
                if kind == "string":
                    position = self._read_string(match.end(), closing)
                    continue
                entry, position = self._read_entry(kind, start, match.end(), closing)
            except _EntryError as error:
                yield Skipped(self.line_of(start), f"@{kind} entry not read: {error.reason}")
                position = self._resume_after(start, error.position)
                continue
            yield entry

    def _resume_after(self, start: int, stopped: int) -> int:
        found = _LINE_ENTRY_START.search(self.text, max(start + 1, stopped - 1))
        return found.start() + 1 if found else len(self.text)

    def _skip_ignored(self, opening: int) -> int:
        """Past a `@comment{...}` / `@preamble{...}`; to the line's end if it never closes."""
        if self.text[opening] == "{":
            end = self._braced_end(opening)
            if end is not None:
                return end
        else:
            close = self.text.find(")", opening)
            if close >= 0:
                return close + 1
        newline = self.text.find("\n", opening)
        return len(self.text) if newline < 0 else newline

    def _braced_end(self, opening: int) -> int | None:
        """The index past the group opening at `opening`; None if it runs into the next entry."""
        depth = 0
        for match in _BRACE_SCAN.finditer(self.text, opening):
            token = match.group()
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth == 0:
                    return match.end()
            else:
                return None
        return None

    def _read_string(self, position: int, closing: str) -> int:
        name_match = _FIELD_NAME.match(self.text, _skip(self.text, position))
        if name_match is None:
            raise _EntryError("@string without 'name = value'", position)
        value, position = self._value(name_match.end(), name_match.group(1))
        self.macros[name_match.group(1).lower()] = value
        position = _skip(self.text, position)
        if not self.text.startswith(closing, position):
            raise _EntryError(f"expected '{closing}' to close @string", position)
        return position + 1

    def _read_entry(self, kind: str, start: int, position: int, closing: str) -> tuple[_Entry, int]:
        text = self.text
        position = _skip(text, position)
        key_match = _KEY.match(text, position)
        key = key_match.group() if key_match else ""
        position = _skip(text, key_match.end() if key_match else position)
        entry = _Entry(kind, key, self.line_of(start))
        if text.startswith(closing, position):
            return entry, position + 1
        if not text.startswith(",", position):
            raise _EntryError(f"expected ',' after the key {key!r}", position)
        position += 1
        while True:
            position = _skip(text, position)
            if text.startswith(closing, position):
                return entry, position + 1
            name_match = _FIELD_NAME.match(text, position)
            if name_match is None:
                what = (
                    repr(text[position : position + 20]) if position < len(text) else "end of file"
                )
                raise _EntryError(f"expected a field name or '{closing}', found {what}", position)
            name = name_match.group(1).lower()
            value, position = self._value(name_match.end(), name)
            # BibTeX keeps the first of a repeated field; exporters never repeat one on purpose.
            entry.fields.setdefault(name, value)
            position = _skip(text, position)
            if text.startswith(",", position):
                position += 1
            elif not text.startswith(closing, position):
                raise _EntryError(
                    f"expected ',' or '{closing}' after field {name!r} (unbalanced braces?)",
                    position,
                )

    def _value(self, position: int, name: str) -> tuple[str, int]:
        """A field value: pieces joined by `#`, each braced, quoted, a number or a macro."""
        pieces: list[str] = []
        size = 0
        while True:
            position = _skip(self.text, position)
            piece, position = self._piece(position, name)
            size += len(piece)
            if size > MAX_VALUE_CHARS:
                raise _EntryError(
                    f"field {name!r} grows past {MAX_VALUE_CHARS:,} characters", position
                )
            pieces.append(piece)
            after = _skip(self.text, position)
            if not self.text.startswith("#", after):
                return "".join(pieces), position
            position = after + 1

    def _piece(self, position: int, name: str) -> tuple[str, int]:
        text = self.text
        if text.startswith("{", position):
            end = self._braced_end(position)
            if end is None:
                raise _EntryError(f"unbalanced braces in field {name!r}", position)
            return _drop_comment_lines(text[position + 1 : end - 1]), end
        if text.startswith('"', position):
            return self._quoted(position, name)
        bare = _BARE_VALUE.match(text, position)
        if bare is None:
            raise _EntryError(f"field {name!r} has no value", position)
        word = bare.group()
        if word.isdigit():
            return word, bare.end()
        return self.macros.get(word.lower(), ""), bare.end()

    def _quoted(self, opening: int, name: str) -> tuple[str, int]:
        depth = 0
        for match in _QUOTE_SCAN.finditer(self.text, opening + 1):
            token = match.group()
            if token == "{":
                depth += 1
            elif token == "}":
                depth -= 1
                if depth < 0:
                    break
            elif token == '"':
                if depth == 0:
                    return _drop_comment_lines(self.text[opening + 1 : match.start()]), match.end()
            elif token != '\\"':
                break
        raise _EntryError(f"unterminated quoted value in field {name!r}", opening)


def _tex(value: str) -> str:
    """`common.tex_to_text`, plus the brace commands paperidx's own export writes."""
    if "\\textbrace" in value:
        value = value.replace("\\textbraceleft", "\\{").replace("\\textbraceright", "\\}")
    return tex_to_text(value)


def _skip(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position


def _drop_comment_lines(value: str) -> str:
    return _COMMENT_LINE.sub("\n", value) if "%" in value else value


# --- entry -> record -------------------------------------------------------------------


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers in a BibTeX file; a `Skipped` for each entry that is not one or cannot be read."""
    text = join_document(lines, "a BibTeX file").replace("\x00", "")
    reader = _Reader(text)
    pending: list[ParseEvent] = []
    read_any = False
    seen: dict[str, int] = {}
    for block in reader.blocks():
        event: ParseEvent = block if isinstance(block, Skipped) else _record(block, options, seen)
        if not isinstance(block, Skipped):
            read_any = True
        if read_any:
            yield from pending
            pending.clear()
            yield event
        else:
            pending.append(event)
    if pending:
        first = pending[0]
        where = f"line {first.line}: {first.reason}" if isinstance(first, Skipped) else "?"
        raise InputError(f"no BibTeX entry could be read ({where})")


def _record(entry: _Entry, options: ParseOptions, seen: dict[str, int]) -> RawRecord | Skipped:
    fields = entry.fields
    label = f"@{entry.kind}{{{entry.key}}}" if entry.key else f"@{entry.kind}"
    title = _tex(fields.get("title", ""))
    if not title:
        return Skipped(entry.line, f"{label} has no title")
    authors = bibtex_names(fields.get("author", ""))
    arxiv_id = arxiv_id_of(fields)
    doi = _doi_of(fields)
    abstract = _tex(fields.get("abstract", ""))
    if not abstract and not (arxiv_id or doi or authors):
        return Skipped(entry.line, f"{label} has a title but no abstract, authors or identifier")
    keys = [f"arxiv:{arxiv_id}"] if arxiv_id else []
    keys += [f"doi:{doi}"] if doi else []
    for key in keys:
        if key in seen:
            return Skipped(
                entry.line, f"{label} repeats the paper of the entry at line {seen[key]}"
            )
    for key in keys:
        seen[key] = entry.line
    return RawRecord(
        title=title,
        abstract=abstract,
        line=entry.line,
        authors=authors,
        arxiv_id=arxiv_id,
        doi=doi,
        links=_links(fields, doi),
        date=options.date,
        published=published_of(fields),
    )


def bibtex_names(value: str) -> list[str]:
    """`Last, First and von Last, Jr, First and First Last and others` -> "First Last" names."""
    if not value.strip():
        return []
    names = []
    for raw in _split_top_level(collapse_whitespace(value), _AND):
        parts = [part.strip() for part in _split_top_level(raw, re.compile(r","))]
        parts = [part for part in parts if part] or [""]
        if len(parts) == 1:
            ordered = parts
        elif len(parts) == 2:
            ordered = [parts[1], parts[0]]
        elif _SUFFIX.match(_tex(parts[2])):  # "Sherry, John F., Jr." (JabRef writes it)
            ordered = [parts[1], parts[0], parts[2]]
        else:  # BibTeX's own "von Last, Jr, First"
            ordered = [", ".join(parts[2:]), parts[0], parts[1]]
        names.append(_tex(" ".join(part for part in ordered if part)))
    return split_authors(names)


def _split_top_level(value: str, separator: re.Pattern[str]) -> list[str]:
    """`value` split at `separator` matches outside braces (`{Barnes and Noble}` is one name)."""
    pieces, start, depth, position = [], 0, 0, 0
    while position < len(value):
        ch = value[position]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            match = separator.match(value, position)
            if match and match.end() > position:
                pieces.append(value[start:position])
                start = position = match.end()
                continue
        position += 1
    pieces.append(value[start:])
    return pieces


def arxiv_id_of(fields: dict[str, str]) -> str | None:
    """The entry's arXiv id, wherever its exporter put it."""
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    eprint = _tex(fields.get("eprint", "")).strip()
    if eprint and prefix in ("", "arxiv"):
        found = find_arxiv_id(eprint)
        if found:
            return found
    found = arxiv_id_from_doi(fields.get("doi"))
    if found:
        return found
    journal = _tex(fields.get("journal", "")).strip().lower()
    volume = fields.get("volume", "").strip()
    if journal == "corr" and volume.lower().startswith("abs/"):  # DBLP's arXiv entries
        found = normalize_arxiv_id(volume[4:])
        if found:
            return found
    for name in _ARXIV_TEXT_FIELDS:
        value = fields.get(name)
        if value and name != "eprint" and "arxiv" in value.lower():
            found = find_arxiv_id(_tex(value))
            if found:
                return found
    return None


def _doi_of(fields: dict[str, str]) -> str | None:
    doi = normalize_doi(_tex(fields.get("doi", "")))
    if doi:
        return doi
    url = fields.get("url", "")
    return normalize_doi(url) if "doi" in url.lower() else None


def _links(fields: dict[str, str], doi: str | None) -> list[str]:
    links = []
    for name in _URL_FIELDS:
        value = re.sub(r"\s+", "", _tex(fields.get(name, "")).replace("\\", ""))
        value = value.removeprefix("\\url")
        if _URL.match(value):
            links.append(value)
    if doi:
        links.append(f"https://doi.org/{doi}")
    return list(dict.fromkeys(links))


def published_of(fields: dict[str, str]) -> dt.date | None:
    """The entry's own date, only when it names a day (`date`, or `year` + `month` + `day`)."""
    day = parse_date(_tex(fields.get("date", "")))
    if day is not None:
        return day
    year, month, day_of_month = (
        _tex(fields.get(name, "")).strip() for name in ("year", "month", "day")
    )
    if not (year.isdigit() and day_of_month.isdigit() and month):
        return None
    number = int(month) if month.isdigit() else MONTHS.get(month.lower().rstrip("."))
    return make_date(int(year), number, int(day_of_month)) if number else None


# --- sniffing ----------------------------------------------------------------------------

_SNIFF_ENTRY = lazy_compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*[{(]", re.MULTILINE)
_SNIFF_FIELD = lazy_compile(r"^\s*[A-Za-z][\w-]*\s*=\s*[{\"\d]", re.MULTILINE)


def sniff(head: str) -> float:
    """Sure when entries (`@article{key,`) start lines and `name = {value}` fields follow."""
    text = head.lstrip("\ufeff \t\r\n")
    if text[:1] in ("[", "{", "<"):
        return 0.0
    starts = list(_SNIFF_ENTRY.finditer(text))
    if not starts:
        return 0.0
    kinds = {match.group(1).lower() for match in starts}
    # A page or e-mail that quotes a citation has other text first; a .bib file starts with
    # entries, or with a few comment lines (JabRef's "% Encoding: UTF-8").
    before = [line for line in text[: starts[0].start()].splitlines() if line.strip()]
    prose = [line for line in before if not line.lstrip().startswith("%")]
    quoted = "```" in text or len(prose) > 3  # a README or a page that quotes a citation
    if kinds - {"comment", "preamble", "string"} and _SNIFF_FIELD.search(text):
        return 0.3 if quoted else 0.9
    return 0.2 if quoted else 0.5


FORMAT = InputFormat(
    name="bibtex",
    summary="BibTeX / BibLaTeX library (Zotero, Better BibTeX, JabRef, papis, DBLP exports)",
    example="library.bib",
    sniff=sniff,
    parse=parse,
)
