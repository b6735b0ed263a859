"""Markdown digests written by daily-arXiv bots, and per-paper Markdown notes.

Three shapes are read, all in one pass over the document:

* **Tables** (cv-arxiv-daily, arxiv-daily): ``|Publish Date|Title|Authors|PDF|Code|`` and one
  paper per row. Columns are found by their header, so other column orders work too. A row
  is a paper when it has a title and an arXiv id, a DOI or an abstract.
* **Entries**: a heading (``### [Title](http://arxiv.org/abs/...)``, ``## 1. Title``) or a
  bold link line (``**[Title](url)**``) followed by metadata (``**Authors:** A, B``,
  ``- **Published**: 2024-11-07``, ``*A, B*``), an abstract (after ``Abstract:``, in a
  ``<details>`` block, or under an ``Abstract`` sub-heading). An entry is a paper when it
  has an arXiv id or a DOI, or both authors and an abstract.
* **Notes** with YAML front matter (Obsidian/Zotero style): ``title``, ``authors``,
  ``arxiv``, ``doi``, ``date``; the note is one paper, its abstract under an ``Abstract``
  heading or in the front matter.

README furniture (project descriptions, tables of contents, badges, "back to top" links,
usage sections, code blocks) is reported as skipped and never becomes a paper. A heading or
line that says ``Updated on 2024.11.07`` (or ``Date: ...``, ``Last update: ...``) sets the
digest day of the papers below it.

The front matter is read by a small reader for the flat ``key: value`` and list subset that
paper notes use, not by a YAML library: notes are untrusted input, a full YAML loader brings
aliases (exponential "billion laughs" expansion) and tags for no gain, and anything it does
not understand is simply ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    InputFormat,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
    date_in_name,
)
from paperidx.parsing.common import (
    find_arxiv_id,
    join_document,
    normalize_doi,
    parse_date,
    split_authors,
    strip_markup,
)
from paperidx.text import collapse_whitespace, find_urls

# Front matter longer than this is not a note's metadata block.
_MAX_FRONT_MATTER_LINES = 300
# Titles longer than this are prose, not a heading that names a paper.
_MAX_TITLE_CHARS = 400
# An unlabelled paragraph this long (with a sentence end) can be an entry's abstract.
_MIN_PROSE_ABSTRACT = 120

_FENCE = lazy_compile(r"^\s{0,3}(```|~~~)")
_HEADING = lazy_compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_ROW = lazy_compile(r"^\s*\|.*\|\s*$")
_TABLE_SEPARATOR = lazy_compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LINK = lazy_compile(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMAGE = lazy_compile(r"!\[[^\]]*\]\([^)]*\)")
_BOLD_LINK_LINE = lazy_compile(
    r"^\s*(?:[-*+]\s+|\d{1,4}[.)]\s+)?(?:\*\*|__)\s*\[(.+)\]\(([^)\s]+)\)\s*(?:\*\*|__)\s*$"
)
_METADATA = lazy_compile(
    r"^\s*(?:[-*+]\s+)?(?:>\s*)?"
    r"(?:\*\*|__|\*|_)?\s*(?P<key>[^\W\d_][\w .;/&()'-]{0,40}?)\s*"
    r"(?:(?:\*\*|__|\*|_)\s*:|:\s*(?:\*\*|__|\*|_)|:)\s*(?P<value>.*)$"
)
_ITALIC_LINE = lazy_compile(r"^\s*(?:\*([^*]+)\*|_([^_]+)_)\s*$")
_SUMMARY_TAG = lazy_compile(r"<summary>\s*(.*?)\s*</summary>", re.IGNORECASE)
_HTML_TAG = lazy_compile(r"</?[A-Za-z][^>]*>")
_COMMENT = lazy_compile(r"<!--.*?-->", re.DOTALL)
_NUMBERING = lazy_compile(
    r"^(?:\[\s*\d{1,4}\s*\]|\(\s*\d{1,4}\s*\)|#?\d{1,4}[.):]|paper\s+\d{1,4}\s*[.:)-]?)\s*",
    re.IGNORECASE,
)
# Emoji and pictographs that bots put before headings and labels ("📄 Title", "👥 Authors").
_DECORATION = lazy_compile(
    "^[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3\\s:|*_-]+"
)
_DATE_PREFIX = lazy_compile(
    r"^(?:(?:last\s+)?updated?(?:\s+on)?|last\s+update|date|automated\s+deployment|"
    r"generated(?:\s+on)?|published(?:\s+on)?|papers?\s+(?:of|for|on)|daily\s+papers?"
    r"(?:\s+(?:of|for|on))?|arxiv\s+daily|digest(?:\s+for)?)\s*[:@\-\u2013\u2014]?\s*",
    re.IGNORECASE,
)
# A line that dates the whole digest even inside an entry (not a paper's own "Published").
_DAY_LINE = lazy_compile(
    r"^\s*(?:>\s*)?(?:last\s+updated?|updated\s+on|automated\s+deployment|generated\s+on)\b",
    re.IGNORECASE,
)
_DOTTED_DATE = lazy_compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})\b")
_ET_AL = lazy_compile(r"\s*(?:,\s*)?\bet\.?\s*al\.?\s*$", re.IGNORECASE)
_SENTENCE_END = lazy_compile(r"[.!?](?:\s|$)")

# Heading and label names that are parts of an entry, not a new paper.
_FIELDS: dict[str, str] = {}
for _name, _names in {
    "authors": ("authors", "author", "authors list", "by", "researchers", "creators"),
    "abstract": ("abstract", "original abstract", "abstract (original)", "paper abstract"),
    "summary": ("summary", "arxiv summary"),
    "links": (
        "links",
        "link",
        "url",
        "urls",
        "paper",
        "pdf",
        "arxiv",
        "arxiv link",
        "arxiv url",
        "arxiv-url",
        "source",
        "primary",
        "paper link",
        "abs",
        "html",
    ),
    "doi": ("doi",),
    "id": ("arxiv id", "arxiv-id", "arxiv_id", "id", "paper id", "eprint"),
    "published": (
        "published",
        "publish date",
        "published date",
        "publication date",
        "submitted",
        "submission date",
        "date",
        "updated",
        "year",
    ),
    "title": ("title", "paper title"),
    "ignore": (
        "categories",
        "category",
        "main category",
        "primary category",
        "tags",
        "tl;dr",
        "tldr",
        "motivation",
        "method",
        "methods",
        "result",
        "results",
        "conclusion",
        "comment",
        "comments",
        "code",
        "venue",
        "journal",
        "keywords",
        "classification",
        "key topics",
        "methodologies",
        "figure",
        "paper statistics",
        "details",
        "metadata",
        "notes",
        "key points",
        "affiliations",
        "affiliation",
        "project page",
        "github",
        "translation",
        "score",
        "relevance",
        "subjects",
        "domain",
        "primary domain",
        "complexity",
        "word count",
        "sentences",
        "overview",
        "key findings",
        "takeaways",
        "key takeaways",
        "related documents",
        "references",
        "citation",
        "bibtex",
        "status",
        "read",
        "rating",
        "priority",
    ),
}.items():
    for _alias in _names:
        _FIELDS[_alias] = _name
del _name, _names, _alias

# Headings that are README furniture, whatever follows them.
_FURNITURE_TITLES = frozenset(
    {
        "table of contents",
        "contents",
        "toc",
        "usage",
        "usage instructions",
        "installation",
        "how to use",
        "getting started",
        "about",
        "overview",
        "introduction",
        "license",
        "contributing",
        "acknowledgements",
        "acknowledgments",
        "features",
        "configuration",
        "faq",
        "contact",
        "star history",
        "back to top",
        "changelog",
        "todo",
        "readme",
        "abstract",
        "references",
        "related work",
        "citation",
        "notes",
        "index",
    }
)

_TITLE_COLUMNS = ("title", "paper", "paper title", "name", "papers")
_AUTHOR_COLUMNS = ("authors", "author", "first author")
_DATE_COLUMNS = (
    "publish date",
    "date",
    "published",
    "submitted",
    "update date",
    "pub date",
    "published date",
    "publication date",
)
_ABSTRACT_COLUMNS = ("abstract", "summary")


# --- the front matter -----------------------------------------------------------------


def read_front_matter(lines: list[str]) -> tuple[dict[str, str | list[str]], int]:
    """The flat key/value subset of a YAML front matter block, and the body's first index.

    `key: value`, quoted values, `key: [a, b]`, block lists (`- a`) and folded/literal
    block scalars (`key: >`) are read; nested mappings, anchors, aliases and tags are not
    expanded (their text is kept or ignored). Returns ({}, 0) when there is no block.
    """
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        return {}, 0
    end = None
    for index in range(1, min(len(lines), _MAX_FRONT_MATTER_LINES)):
        if lines[index].strip() in ("---", "..."):
            end = index
            break
    if end is None:
        return {}, 0
    data: dict[str, str | list[str]] = {}
    key: str | None = None
    block: list[str] | None = None
    for raw in lines[1:end]:
        if not raw.strip() or raw.lstrip().startswith("#"):
            if block is not None:
                block.append("")
            continue
        indented = raw[:1] in (" ", "\t")
        item = re.match(r"^\s*-\s+(.*)$", raw)
        if key is not None and item and (indented or raw.startswith("-")) and block is None:
            current = data.get(key)
            values = current if isinstance(current, list) else []
            values.append(_scalar(item[1]))
            data[key] = values
            continue
        if key is not None and block is not None and indented:
            block.append(raw.strip())
            data[key] = " ".join(part for part in block if part)
            continue
        match = re.match(r"^([A-Za-z_][\w .-]{0,60}?)\s*:(?:\s+(.*))?$", raw)
        if match is None:
            if key is not None and indented and isinstance(data.get(key), str):
                data[key] = f"{data[key]} {raw.strip()}".strip()  # a wrapped plain scalar
            continue
        key = match[1].strip().lower()
        value = (match[2] or "").strip()
        block = None
        if value in ("|", ">", "|-", ">-", "|+", ">+"):
            block = []
            data[key] = ""
        elif value.startswith("[") and value.endswith("]"):
            data[key] = [_scalar(v) for v in _split_flow(value[1:-1]) if _scalar(v)]
        else:
            data[key] = _scalar(value)
    return data, end + 1


def _split_flow(text: str) -> list[str]:
    """`a, "b, c", d` -> three items (commas inside quotes stay)."""
    items: list[str] = []
    current: list[str] = []
    quote = ""
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            current.append(ch)
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return items


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].replace('\\"', '"') if value[0] == '"' else value[1:-1]
    if value.startswith(("&", "*", "!")):  # an anchor, alias or tag: not expanded
        return ""
    return re.sub(r"\s+#.*$", "", value)  # a trailing comment


# --- text helpers -----------------------------------------------------------------------


def _plain(text: str) -> str:
    """Inline Markdown/HTML to text: links keep their text, emphasis and tags go."""
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(lambda m: m[1], text)
    text = re.sub(r"\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2", text)  # [[wiki|links]]
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return strip_markup(text)


def _field_name(text: str) -> str:
    cleaned = _DECORATION.sub("", _plain(text)).strip().rstrip(":").strip().lower()
    return collapse_whitespace(cleaned)


def _clean_title(text: str) -> str:
    text = _DECORATION.sub("", _plain(text))
    return _NUMBERING.sub("", text).strip(" -\u2013\u2014:|")


def _digest_day(text: str) -> dt.date | None:
    """The day in a line such as `Updated on 2024.11.07` or `📅 Date: 2025-12-01`."""
    value = _DECORATION.sub("", _plain(text)).strip()
    stripped = _DATE_PREFIX.sub("", value, count=1)
    # Without a date word, only a line that is a date and nothing else counts.
    if (
        stripped == value
        and not re.match(r"^\d{4}[-./]\d", value)
        and re.search(r"[A-Za-z]{3,}", value)
        and not re.match(r"^[A-Za-z]{3,9}\.?\s+\d", value)
    ):
        return None
    dotted = _DOTTED_DATE.match(stripped)
    if dotted:
        try:
            return dt.date(int(dotted[1]), int(dotted[2]), int(dotted[3]))
        except ValueError:
            return None
    return parse_date(stripped)


def _authors(text: str) -> list[str]:
    text = _ET_AL.sub("", _plain(text))
    if not text or text.lower() in ("unknown", "n/a", "none", "null", "-"):
        return []
    return [name for name in split_authors(text) if not name[:1].isdigit()]


def _links(text: str) -> list[str]:
    urls = [m[2] for m in _LINK.finditer(text) if m[2].startswith(("http://", "https://"))]
    urls += find_urls(_LINK.sub(" ", text))
    return [u for u in dict.fromkeys(urls) if "img.shields.io" not in u]


def _arxiv_in(text: str) -> str | None:
    """An arXiv id the text links to or names (`arXiv:2411.13560`), not a bare number."""
    for url in _links(text):
        found = find_arxiv_id(url) if "arxiv.org" in url or "huggingface.co" in url else None
        if found and found != url:
            return found
    match = re.search(r"arxiv[:\s]+(\d{4}\.\d{4,5})(?:v\d+)?", text, re.IGNORECASE)
    return match[1] if match else None


def _is_prose(text: str) -> bool:
    return len(text) >= _MIN_PROSE_ABSTRACT and bool(_SENTENCE_END.search(text))


# --- entries ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    """A paper candidate: a heading or bold link line and what follows it."""

    line: int
    title: str
    level: int
    date: dt.date | None
    links: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    abstract: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    prose: list[list[str]] = field(default_factory=list)
    arxiv_id: str | None = None
    doi: str | None = None
    published: dt.date | None = None
    # Where following lines go: a labelled field (abstract, authors...) or free prose.
    section: str = "prose"
    section_level: int = 7
    paragraph_open: bool = False
    in_details: bool = False
    # Every arXiv id the entry mentions: more than one means a section listing papers.
    other_ids: set[str] = field(default_factory=set)

    def add_links(self, text: str) -> None:
        for url in _links(text):
            if url not in self.links:
                self.links.append(url)
        found = _arxiv_in(text)
        for url in _links(text):
            other = find_arxiv_id(url) if "arxiv.org/" in url else None
            if other is not None and other != url and len(self.other_ids) < 4:
                self.other_ids.add(other)
        if self.arxiv_id is None:
            self.arxiv_id = found
        if self.doi is None:
            doi_urls = [u for u in _links(text) if "doi.org/" in u]
            self.doi = normalize_doi(doi_urls[0]) if doi_urls else None


def _append_paragraph(target: list[str], text: str, new_paragraph: bool) -> None:
    if new_paragraph or not target:
        target.append(text)
    else:
        target[-1] = f"{target[-1]} {text}"


class _Reader:
    """Walks the document once, producing papers and skips in document order."""

    def __init__(self, options: ParseOptions, day: dt.date | None) -> None:
        self.options = options
        self.day = day
        self.events: list[ParseEvent] = []
        self.entry: _Entry | None = None
        self.seen: dict[str, RawRecord] = {}

    # The digest day: set by "Updated on ..." lines, else the user's, else the file name's.
    def set_day(self, day: dt.date) -> None:
        self.day = day

    def skip(self, line: int, reason: str) -> None:
        self.events.append(Skipped(line, reason))

    def close_entry(self) -> None:
        entry, self.entry = self.entry, None
        if entry is None:
            return
        record = _entry_record(entry)
        if isinstance(record, RawRecord):
            self.emit(record)
        else:
            self.skip(entry.line, record)

    def emit(self, record: RawRecord) -> None:
        key = record.arxiv_id or record.doi or re.sub(r"\W+", " ", record.title.casefold())
        earlier = self.seen.get(key)
        if earlier is None:
            self.seen[key] = record
            self.events.append(record)
            return
        # The same paper listed again (another topic section): fill in what was missing.
        if not earlier.abstract and record.abstract:
            earlier.abstract = record.abstract
        if not earlier.authors and record.authors:
            earlier.authors = record.authors
        earlier.links += [u for u in record.links if u not in earlier.links]


def _entry_record(entry: _Entry) -> RawRecord | str:
    """The paper an entry describes, or why it is not one."""
    title = entry.title
    preview = repr(title[:60] + ("…" if len(title) > 60 else ""))
    if not title or _field_name(title) in _FURNITURE_TITLES:
        return f"heading, not a paper: {preview}"
    if len(title) > _MAX_TITLE_CHARS:
        return f"paragraph too long for a title: {preview}"
    abstract = " ".join(entry.abstract) or " ".join(entry.summary)
    if not abstract:
        prose = [" ".join(p.split()) for p in (" ".join(x) for x in entry.prose)]
        candidates = [p for p in prose if _is_prose(p)]
        abstract = max(candidates, key=len) if candidates else ""
    abstract = collapse_whitespace(abstract)
    if len(entry.other_ids) > 1:
        return f"section naming several arXiv papers, not one paper: {preview}"
    if not (entry.arxiv_id or entry.doi or (entry.authors and abstract)):
        return f"heading without an arXiv id, DOI or authors and abstract: {preview}"
    return RawRecord(
        title=title,
        abstract=abstract,
        line=entry.line,
        authors=entry.authors,
        arxiv_id=entry.arxiv_id,
        doi=entry.doi,
        links=entry.links,
        date=entry.date,
        published=entry.published,
    )


def _entry_line(entry: _Entry, raw: str, number: int) -> None:
    """One line of an entry's body: a metadata label, part of a field, or prose."""
    line = raw.strip()
    if not line:
        entry.paragraph_open = False
        if entry.section in ("abstract_inline",):
            entry.section = "prose"
        return
    if entry.section == "skip":  # a sub-section that says nothing about the paper itself
        return
    summary_tag = _SUMMARY_TAG.search(line)
    if re.match(r"^<details\b", line, re.IGNORECASE):
        entry.in_details = True
    if summary_tag:
        name = _FIELDS.get(_field_name(summary_tag[1]), "")
        entry.section = "abstract" if name in ("abstract", "summary") else "prose"
        entry.paragraph_open = False
        line = _SUMMARY_TAG.sub("", line).strip()
    if re.search(r"</details>", line, re.IGNORECASE):
        entry.in_details = False
        before = re.sub(r"</details>.*$", "", line, flags=re.IGNORECASE).strip()
        if before:
            _entry_line(entry, before, number)
        entry.section = "prose"
        entry.paragraph_open = False
        return
    line = _HTML_TAG.sub(" ", line).strip()
    if not line or re.fullmatch(r"[-*_=]{3,}", line):
        entry.paragraph_open = False
        if line and entry.section != "prose":
            entry.section = "prose"
        return
    entry.add_links(line)
    metadata = _METADATA.match(line)
    name = _FIELDS.get(_field_name(metadata["key"]), "") if metadata else ""
    if metadata and name:
        _labelled(entry, name, metadata["value"])
        return
    italic = _ITALIC_LINE.match(line)
    if italic and not entry.authors and not entry.abstract and entry.section == "prose":
        names = _authors(italic[1] or italic[2] or "")
        if names and all(len(n) <= 60 for n in names):
            entry.authors = names
            return
    text = _plain(re.sub(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", "", line)).strip()
    if not text:
        return
    if entry.section == "authors":
        entry.authors += [a for a in _authors(text) if a not in entry.authors]
    elif entry.section in ("abstract", "abstract_inline"):
        _append_paragraph(entry.abstract, text, not entry.paragraph_open)
    elif entry.section == "summary":
        _append_paragraph(entry.summary, text, not entry.paragraph_open)
    elif entry.section == "prose":
        if entry.paragraph_open and entry.prose:
            entry.prose[-1].append(text)
        else:
            entry.prose.append([text])
    entry.paragraph_open = True


def _labelled(entry: _Entry, name: str, raw_value: str) -> None:
    value = _plain(raw_value).strip()
    entry.paragraph_open = bool(value)
    if name == "authors":
        entry.section = "authors" if not value else "prose"
        entry.authors += [a for a in _authors(raw_value) if a not in entry.authors]
    elif name == "abstract":
        entry.section = "abstract_inline" if value else "abstract"
        if value:
            entry.abstract.append(value)
    elif name == "summary":
        entry.section = "summary"
        if value:
            entry.summary.append(value)
    elif name == "published":
        entry.section = "prose"
        entry.published = entry.published or _digest_day(value)
    elif name == "doi":
        entry.section = "prose"
        entry.doi = entry.doi or normalize_doi(raw_value)
    elif name == "id":
        entry.section = "prose"
        entry.arxiv_id = entry.arxiv_id or find_arxiv_id(value)
    elif name == "title":
        entry.section = "prose"
    else:
        entry.section = "links" if name == "links" and not value else "ignore"
        entry.paragraph_open = False


def _heading_title(text: str) -> tuple[str, list[str]]:
    """A heading's title and link targets: the text of its first real link, else its text."""
    links = [(m[1], m[2]) for m in _LINK.finditer(text)]
    for label, url in links:
        label_text = _clean_title(label)
        if len(label_text) > 3 and not label_text.isdigit() and not url.startswith("#"):
            return label_text, [url]
    without_anchors = _LINK.sub(lambda m: "" if m[2].startswith("#") else m[1], text)
    return _clean_title(without_anchors), [u for _, u in links]


# --- tables -----------------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    body = row.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.strip() for c in re.split(r"(?<!\\)\|", body)]


def _column(headers: list[str], names: tuple[str, ...]) -> int | None:
    for index, header in enumerate(headers):
        if header in names:
            return index
    return None


def _table(reader: _Reader, lines: list[str], start: int) -> int:
    """Read the table whose header row is lines[start]; returns the index after it."""
    headers = [_field_name(c) for c in _cells(lines[start])]
    title_col = _column(headers, _TITLE_COLUMNS)
    author_col = _column(headers, _AUTHOR_COLUMNS)
    date_col = _column(headers, _DATE_COLUMNS)
    abstract_col = _column(headers, _ABSTRACT_COLUMNS)
    index = start + 2
    first_row = index
    while index < len(lines) and _TABLE_ROW.match(lines[index]):
        index += 1
    if title_col is None:
        reader.skip(start + 1, f"table without a title column: {lines[start].strip()[:60]!r}")
        return index
    for number in range(first_row, index):
        row = lines[number]
        cells = _cells(row)
        if len(cells) <= title_col:
            reader.skip(number + 1, "table row without a title cell")
            continue
        title, _ = _heading_title(cells[title_col])
        abstract = ""
        if abstract_col is not None and abstract_col < len(cells):
            abstract = collapse_whitespace(
                _plain(
                    _HTML_TAG.sub(
                        " ",
                        re.sub(
                            r"<summary>.*?</summary>", " ", cells[abstract_col], flags=re.IGNORECASE
                        ),
                    )
                )
            )
        links = _links(row)
        arxiv_id = _arxiv_in(row)
        doi_urls = [u for u in links if "doi.org/" in u]
        doi = normalize_doi(doi_urls[0]) if doi_urls else None
        if not title or not (arxiv_id or doi or abstract):
            preview = repr(_plain(row)[:60])
            reader.skip(
                number + 1, f"table row without a title and an arXiv id, DOI or abstract: {preview}"
            )
            continue
        authors = (
            _authors(cells[author_col])
            if author_col is not None and author_col < len(cells)
            else []
        )
        published = None
        if date_col is not None and date_col < len(cells):
            published = _digest_day(cells[date_col])
        reader.emit(
            RawRecord(
                title=title,
                abstract=abstract,
                line=number + 1,
                authors=authors,
                arxiv_id=arxiv_id,
                doi=doi,
                links=links,
                date=reader.day,
                published=published,
            )
        )
    return index


# --- the document -----------------------------------------------------------------------


def _note_record(
    meta: dict[str, str | list[str]], body: list[str], offset: int, day: dt.date | None
) -> RawRecord | None:
    """A per-paper note: the front matter names the paper, the body holds its abstract."""

    def text(*keys: str) -> str:
        for key in keys:
            value = meta.get(key)
            if isinstance(value, list):
                value = ", ".join(value)
            if value:
                return value
        return ""

    paper_keys = (
        "authors",
        "author",
        "arxiv",
        "arxiv_id",
        "arxiv-id",
        "arxiv id",
        "eprint",
        "doi",
        "abstract",
        "arxiv-url",
        "arxiv_url",
        "paper id",
        "paper_id",
    )
    if not any(meta.get(key) for key in paper_keys):
        return None
    entry = _Entry(line=1, title="", level=0, date=day)
    for raw in body:
        heading = _HEADING.match(raw)
        if heading:
            name = _FIELDS.get(_field_name(heading[2]), "")
            if not entry.title and len(heading[1]) == 1 and not name:
                entry.title = _heading_title(heading[2])[0]
            entry.section = {
                "abstract": "abstract",
                "authors": "authors",
                "links": "links",
                "summary": "summary",
            }.get(name, "ignore" if name else "other")
            entry.paragraph_open = False
            continue
        if entry.section in ("other",):
            entry.add_links(raw)
            continue
        if entry.section == "ignore":
            metadata = _METADATA.match(raw.strip())
            name = _FIELDS.get(_field_name(metadata["key"]), "") if metadata else ""
            if name in ("authors", "published", "doi", "id") and metadata:
                _labelled(entry, name, metadata["value"])
                entry.section = "ignore"
            entry.add_links(raw)
            continue
        _entry_line(entry, raw, 0)
    value_abstract = text("abstract")
    title = _plain(text("title")) or entry.title
    authors_value = meta.get("authors") or meta.get("author")
    if isinstance(authors_value, list):
        authors = split_authors([_plain(a) for a in authors_value])
    else:
        authors = _authors(authors_value or "")
    url_text = " ".join(text(k) for k in ("url", "arxiv-url", "arxiv_url", "link", "pdf", "source"))
    arxiv_id = (
        find_arxiv_id(
            text("arxiv", "arxiv_id", "arxiv-id", "arxiv id", "eprint", "paper id", "paper_id")
        )
        or find_arxiv_id(url_text)
        or entry.arxiv_id
    )
    links = [u for u in find_urls(url_text) if u.startswith(("http://", "https://"))]
    links += [u for u in entry.links if u not in links]
    published = parse_date(
        text(
            "published",
            "published-date",
            "published_date",
            "publication date",
            "publication_date",
            "publish_date",
        )
    )
    noted = parse_date(text("date", "added-date", "added_date", "created"))
    abstract = collapse_whitespace(_plain(value_abstract)) or collapse_whitespace(
        " ".join(entry.abstract)
    )
    return RawRecord(
        title=collapse_whitespace(title),
        abstract=abstract,
        line=offset or 1,
        authors=authors or entry.authors,
        arxiv_id=arxiv_id,
        doi=normalize_doi(text("doi")) or entry.doi,
        links=links,
        date=noted or day,
        published=published or entry.published,
    )


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers in a Markdown digest or note, with README furniture reported as skipped."""
    document = _COMMENT.sub(
        lambda m: "\n" * m[0].count("\n"), join_document(lines, "a Markdown digest")
    )
    page = document.split("\n")
    day = options.date or date_in_name(options.source_name)
    meta, body_start = read_front_matter(page)
    if meta:
        meta_day = (
            parse_date(str(meta.get("date") or ""))
            if not isinstance(meta.get("date"), list)
            else None
        )
        note = _note_record(meta, page[body_start:], 1, options.date or meta_day or day)
        if note is not None:
            if note.title:
                yield note
            else:
                yield Skipped(1, "note front matter without a title")
            return
        day = options.date or meta_day or day
        yield Skipped(1, "front matter of the page, not a paper")
    reader = _Reader(options, day)
    _walk(reader, page, body_start)
    yield from reader.events


_LIST_ITEM = lazy_compile(r"^\s*(?:[-*+]|\d{1,4}[.)])\s+(?P<body>.+)$")
_BOLD_SEGMENT = lazy_compile(r"(\*\*|__)(?P<text>.+?)\1(?P<after>\s*:?)")
_LIST_LABEL = lazy_compile(r"\b(?:paper|pdf|code|arxiv|link|url)\s*:", re.IGNORECASE)


def _list_paper(raw: str, number: int, day: dt.date | None) -> RawRecord | None:
    """A one-line list item naming a paper: `- 2022-11-30, **Title**, A et.al., Paper: [..](arxiv)`.

    The title is a bold segment that is not a label (`**Link**:`), or the text of the arXiv
    link; the authors are what stands between the title and the first `Paper:`-like label.
    """
    item = _LIST_ITEM.match(raw)
    if item is None:
        return None
    body = item["body"]
    arxiv_id = _arxiv_in(body)
    if arxiv_id is None:
        return None
    title, rest = "", ""
    for bold in _BOLD_SEGMENT.finditer(body):
        if bold["after"].strip() == ":" or bold["text"].rstrip().endswith(":"):
            return None  # a labelled metadata line of an entry
        text = _clean_title(bold["text"])
        if len(text) >= 8 and " " in text and not find_arxiv_id(text):
            title, rest = text, body[bold.end() :]
            break
    if not title:
        for link in _LINK.finditer(body):
            text = _clean_title(link[1])
            if (
                find_arxiv_id(link[2]) == arxiv_id
                and len(text) >= 8
                and " " in text
                and (find_arxiv_id(text) is None)
            ):
                title, rest = text, body[link.end() :]
                break
    if not title:
        return None
    label = _LIST_LABEL.search(rest)
    names = rest[: label.start()] if label else _LINK.sub("", rest)
    names = names.strip(" ,;-\u2013\u2014")
    authors = _authors(names) if names and len(names) < 2000 else []
    published = _digest_day(body[: body.find(title)].strip(" ,|-*_[")) if title in body else None
    return RawRecord(
        title=title,
        abstract="",
        line=number,
        authors=authors,
        arxiv_id=arxiv_id,
        links=_links(body),
        date=day,
        published=published,
    )


def _walk(reader: _Reader, page: list[str], start: int) -> None:
    index = start
    user_date = reader.options.date is not None
    while index < len(page):
        raw = page[index]
        number = index + 1
        if _FENCE.match(raw):
            reader.close_entry()
            fence = _FENCE.match(raw)
            assert fence is not None
            end = index + 1
            while end < len(page) and not page[end].lstrip().startswith(fence[1]):
                end += 1
            reader.skip(number, "code block, not a paper")
            index = end + 1
            continue
        if (
            _TABLE_ROW.match(raw)
            and index + 1 < len(page)
            and _TABLE_SEPARATOR.match(page[index + 1])
            and "|" in page[index + 1]
        ):
            reader.close_entry()
            index = _table(reader, page, index)
            continue
        heading = _HEADING.match(raw)
        if heading:
            level, text = len(heading[1]), heading[2]
            name = _FIELDS.get(_field_name(text), "")
            entry = reader.entry
            if entry is not None and name and name != "title" and level > entry.level:
                entry.section = {
                    "abstract": "abstract",
                    "authors": "authors",
                    "summary": "summary",
                    "links": "links",
                }.get(name, "skip")
                entry.section_level = level
                entry.paragraph_open = False
                index += 1
                continue
            reader.close_entry()
            day = _digest_day(text)
            if day is not None:
                if not user_date:
                    reader.set_day(day)
                reader.skip(number, f"date heading: {_plain(text)[:40]!r}")
                index += 1
                continue
            title, links = _heading_title(text)
            reader.entry = _Entry(line=number, title=title, level=level, date=reader.day)
            reader.entry.add_links(" ".join(f"({u})" for u in links) + " " + text)
            index += 1
            continue
        listed = None if _BOLD_LINK_LINE.match(raw) else _list_paper(raw, number, reader.day)
        if listed is not None:
            reader.close_entry()
            reader.emit(listed)
            index += 1
            continue
        bold_link = _BOLD_LINK_LINE.match(raw)
        if bold_link:
            reader.close_entry()
            reader.entry = _Entry(
                line=number, title=_clean_title(bold_link[1]), level=7, date=reader.day
            )
            reader.entry.add_links(f"[x]({bold_link[2]})")
            index += 1
            continue
        if reader.entry is not None and _DAY_LINE.match(_plain(raw)):
            _loose_line(reader, raw, number, user_date)
        elif reader.entry is not None:
            _entry_line(reader.entry, raw, number)
        elif raw.strip():
            _loose_line(reader, raw, number, user_date)
        index += 1
    reader.close_entry()


def _loose_line(reader: _Reader, raw: str, number: int, user_date: bool) -> None:
    """A line outside any entry: a digest-day line, or furniture."""
    line = _HTML_TAG.sub(" ", raw).strip().lstrip("> ").strip()
    day = _digest_day(line) if line and len(line) < 120 else None
    if day is not None:
        if not user_date:
            reader.set_day(day)
        reader.skip(number, f"date line: {line[:40]!r}")
        return
    if line and not re.fullmatch(r"\[[^\]]+\]:\s*\S+.*", line):  # reference definitions
        last = reader.events[-1] if reader.events else None
        if isinstance(last, Skipped) and last.reason.startswith("page furniture"):
            return  # one report per run of furniture
        reader.skip(number, f"page furniture, not a paper: {line[:60]!r}")


# --- detection --------------------------------------------------------------------------

_SNIFF_NOT_MARKDOWN = lazy_compile(
    r"\s*(?:<\?xml|<!doctype|<html|<rss|<feed|<rdf|\[\s*[\[{\"\]]|\[\s*$)", re.IGNORECASE
)
_SNIFF_HEADING = lazy_compile(r"^\s{0,3}#{1,6}\s+\S", re.MULTILINE)
_SNIFF_ARXIV = lazy_compile(r"arxiv\.org/(?:abs|pdf)/|\barxiv:\s*\d{4}\.\d{4,5}", re.IGNORECASE)
_SNIFF_TABLE = lazy_compile(
    r"^\s*\|[^\n]*\btitle\b[^\n]*\|\s*\n\s*\|?\s*:?-{2,}", re.IGNORECASE | re.MULTILINE
)
_SNIFF_LABEL = lazy_compile(
    r"^\s*(?:[-*]\s+)?(?:\*\*|\*|__)?\s*(?:[^\w\s]{1,3}\s*)?"
    r"(?:authors?|abstract|published)\s*(?:\*\*|\*|__)?\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_SNIFF_UPDATED = lazy_compile(
    r"^\s{0,3}(?:#{1,6}|>)\s+updated\s+on\b", re.IGNORECASE | re.MULTILINE
)
_SNIFF_LIST_PAPER = lazy_compile(
    r"^\s*[-*]\s+.*\*\*[^*\n]{8,}\*\*.*arxiv\.org/(?:abs|pdf)/", re.IGNORECASE | re.MULTILINE
)
_SNIFF_FRONT_KEYS = lazy_compile(r"^(?:title|authors?|arxiv[\w -]*|doi|abstract)\s*:", re.I | re.M)


def sniff(head: str) -> float:
    """0.7 for a Markdown digest or paper note; never the HF page captures (hf-page's)."""
    text = head.lstrip("\ufeff \t\r\n")
    if not text or text[0] in "{@" or _SNIFF_NOT_MARKDOWN.match(text):
        return 0.0
    if text.startswith("---"):
        block = text.split("\n---", 1)[0] if "\n---" in text[3:] else ""
        keys = {m[0].split(":")[0].strip().lower() for m in _SNIFF_FRONT_KEYS.finditer(block)}
        if "title" in keys and len(keys) >= 2:
            return 0.7
    arxiv = bool(_SNIFF_ARXIV.search(text))
    headings = len(_SNIFF_HEADING.findall(text))
    if _SNIFF_TABLE.search(text) and arxiv:
        return 0.7
    if headings and len(_SNIFF_LIST_PAPER.findall(text)) >= 2:
        return 0.7
    if headings and arxiv and (_SNIFF_LABEL.search(text) or _SNIFF_UPDATED.search(text)):
        return 0.7
    # A saved arXiv listing page (arxiv.org/list/...) mentions arXiv too: its own format's.
    if headings and arxiv and not re.search(r"arxiv\.org/list/", text, re.IGNORECASE):
        return 0.4
    if headings and _SNIFF_LABEL.search(text) and re.search(r"doi\.org/|\bdoi\s*:", text, re.I):
        return 0.4
    return 0.0


FORMAT = InputFormat(
    name="markdown",
    summary="Markdown digests from daily-arXiv bots (paper tables, headings with "
    "**Authors:**/abstract) and per-paper notes with YAML front matter",
    example="README.md",
    sniff=sniff,
    parse=parse,
)
