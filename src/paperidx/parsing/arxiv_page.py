"""Pages of arxiv.org saved from a browser: as HTML (`arxiv-html`) or copied as text (`arxiv-text`).

Two kinds of page:

- listings: `/list/cs.CL/new`, `/list/cs.CL/recent`, `/list/cs.CL/pastweek`, a monthly
  `/list/cs.LG/2024-11`. Each paper is a `<dt>` (its `arXiv:2411.04110` link, `[pdf, html,
  other]`, maybe `(cross-list from cs.AI)` or `(replaced)`) and a `<dd>` (title, authors,
  comments, journal-ref, subjects; the abstract only on /new pages, elsewhere a paper is its
  title, authors and id). Headings give the digest day: `Showing new listings for Thursday,
  7 November 2024` on /new pages, one `Thu, 7 Nov 2024 (showing first 25 of 163 entries )`
  per day on /recent pages, `New submissions for Thu, 7 Nov 24` on pre-2024 pages (whose
  markup also differs: `<span class="list-identifier">`, an `Authors:` label, headings
  outside the `<dl>`).
- abstract pages (`/abs/2411.13560`): Google Scholar `citation_*` meta tags and the visible
  title, authors, abstract, dateline (`[Submitted on 6 Nov 2024 ...]`) and metadata table.
  The paper's own date (`published`) is its first version's; the digest day is not on the
  page (the file name's day or the one the user gives).

A text copy (select all, copy; or a text browser's dump) keeps the same order of fields::

    [1]  arXiv:2411.04110 [pdf, html, other]
    Title: A Title, wrapped by a text browser
    Ada Lovelace, Alan Turing                (an `Authors:` label on older pages)
    Comments: 9 pages
    Subjects: Computation and Language (cs.CL)

    The abstract paragraph (on /new pages only).

A text browser hard-wraps every field; a wrapped line is told from the next field by its
length (the previous line was full), since the authors line has no label on current pages.
Page furniture (menus, "Total of 163 entries", paging links, the footer) is reported as
skipped, never a paper. A paper listed twice on one page comes out once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from paperidx.errors import InputError
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
    MAX_DOCUMENT_CHARS,
    MONTHS,
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

# A field longer than this is not a field (an unclosed tag swallowing the page); it is cut.
MAX_FIELD_CHARS = 100_000
# A listing page shows at most 2000 entries; a "page" with far more is not one.
MAX_ENTRIES = 20_000

_ID = r"\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7}"
_ARXIV_DOI = "10.48550/"  # the DOI arXiv mints for every preprint, not a journal's
_FURNITURE_REASON = "arXiv page furniture (menus, paging, links, footer): not a paper"

# --- shared: dates in headings, records -----------------------------------------------------

_SHORT_DAY = lazy_compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?(\d{1,2})\s+([a-z]{3,9})\.?,?\s+(\d{4}|\d{2})\b",
    re.IGNORECASE,
)
_SHOWING = lazy_compile(r"\(\s*(?:continued,\s*)?showing\b[^)]*\)", re.IGNORECASE)


def _day_in(text: str) -> dt.date | None:
    """The day a heading names: `Thu, 7 Nov 2024 (showing ...)`, `... for Thu, 7 Nov 24`."""
    cleaned = collapse_whitespace(_SHOWING.sub(" ", text))
    cleaned = re.sub(
        r"^.*?\b(?:listings for|submissions for|lists for|for|announced)\s+",
        "",
        cleaned,
        flags=re.IGNORECASE,
    )
    day = parse_date(cleaned)
    if day is not None:
        return day
    match = _SHORT_DAY.search(cleaned)
    if match is None:
        return None
    month = MONTHS.get(match[2].lower())
    if month is None:
        return None
    year = int(match[3])
    if year < 100:  # pre-2024 pages print two-digit years; arXiv began in 1991
        year += 1900 if year >= 91 else 2000
    return make_date(year, month, int(match[1]))


_SECTION = lazy_compile(
    r"^(?:new submissions|cross submissions|cross-lists|replacement submissions|replacements)"
    r"\b.*(?:\(\s*(?:continued,\s*)?showing|\bfor\b)",
    re.IGNORECASE,
)
_DATE_HEADING = lazy_compile(
    r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,\s+\d{1,2}\s+[a-z]{3,9}\s+\d{2,4}\s*(?:\(.*\))?$",
    re.IGNORECASE,
)
_NEW_LISTINGS = lazy_compile(r"^showing new listings for\b", re.IGNORECASE)


@dataclass(slots=True)
class _Entry:
    """One paper as the page shows it, filled in field by field."""

    line: int
    arxiv_id: str | None = None
    title: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    author_text: list[str] = field(default_factory=list)
    abstract: list[str] = field(default_factory=list)
    doi: str | None = None
    links: list[str] = field(default_factory=list)
    published: dt.date | None = None
    day: dt.date | None = None
    size: int = 0

    def add(self, part: list[str], text: str) -> None:
        if self.size < MAX_FIELD_CHARS:
            part.append(text)
            self.size += len(text)


def _finish(entry: _Entry, fallback: dt.date | None) -> RawRecord | Skipped:
    # Pieces are joined as written: a tag inside a word (`<i>x</i>-mixing`) adds no space;
    # the text parsers end every line they add with one.
    title = collapse_whitespace("".join(entry.title))
    if not entry.arxiv_id:
        return Skipped(entry.line, "listing entry without an arXiv id")
    if not title:
        return Skipped(entry.line, f"listing entry arXiv:{entry.arxiv_id} without a title")
    named = [name for name in (collapse_whitespace(a) for a in entry.authors) if name]
    authors = split_authors(named) if named else split_authors("".join(entry.author_text))
    links = [f"https://arxiv.org/abs/{entry.arxiv_id}", f"https://arxiv.org/pdf/{entry.arxiv_id}"]
    if entry.doi:
        links.append(f"https://doi.org/{entry.doi}")
    return RawRecord(
        title=title,
        abstract=collapse_whitespace("".join(entry.abstract)),
        line=entry.line,
        authors=authors,
        arxiv_id=entry.arxiv_id,
        doi=entry.doi,
        links=list(dict.fromkeys(links + entry.links)),
        date=entry.day or fallback,
        published=entry.published,
    )


class _Papers:
    """Records in page order, each arXiv id once (a cross-list seen twice fills gaps only)."""

    def __init__(self) -> None:
        self.records: dict[str, RawRecord] = {}
        self.skipped: list[Skipped] = []

    def add(self, event: RawRecord | Skipped) -> None:
        if isinstance(event, Skipped):
            self.skipped.append(event)
            return
        key = event.arxiv_id or ""
        kept = self.records.get(key)
        if kept is None:
            if len(self.records) >= MAX_ENTRIES:
                raise InputError(f"more than {MAX_ENTRIES} entries: not an arXiv page")
            self.records[key] = event
            return
        if not kept.abstract and event.abstract:
            kept.abstract = event.abstract
        kept.authors = kept.authors or event.authors
        kept.doi = kept.doi or event.doi
        reason = f"arXiv:{key} listed again on the page; kept once (line {kept.line})"
        self.skipped.append(Skipped(event.line, reason))

    def in_order(self) -> list[RawRecord | Skipped]:
        events: list[RawRecord | Skipped] = [*self.records.values(), *self.skipped]
        return sorted(events, key=lambda event: event.line)


def _fallback_day(options: ParseOptions) -> dt.date | None:
    return options.date or date_in_name(options.source_name)


# --- arxiv-html -------------------------------------------------------------------------

_VOID = frozenset(
    {
        "br",
        "hr",
        "img",
        "meta",
        "link",
        "input",
        "wbr",
        "source",
        "col",
        "area",
        "base",
        "embed",
        "param",
        "track",
    }
)
# Elements whose text is never shown (scripts) or is page furniture inside a field.
_HIDDEN_CLASSES = frozenset(
    {
        "descriptor",
        "visually-hidden",
        "button-and-tooltip",
        "left-corner",
        # MathJax's rendering in a page saved after it ran: the TeX is kept in its <script>.
        "MathJax",
        "MathJax_Preview",
        "MathJax_Display",
        "MathJax_SVG",
        "MathJax_CHTML",
        "MJX_Assistive_MathML",
        "mjx-chtml",
    }
)
_ABS_HREF = lazy_compile(rf"(?:^|arxiv\.org)/abs/({_ID})(?:v\d+)?/?$", re.IGNORECASE)
_MARKER = lazy_compile(r"\((cross-list from [^)]*|replaced)\)", re.IGNORECASE)
_SUBMITTED = lazy_compile(r"submitted on\s+(\d{1,2}\s+[a-z]{3,9}\.?\s+\d{4})", re.IGNORECASE)
_VERSION_ONE = lazy_compile(r"\[v1\]\s*([^()\[\]]*?\d{4})", re.IGNORECASE)


@dataclass(slots=True)
class _Open:
    """An element the parser is inside, and the role it gives its text."""

    tag: str
    role: str | None
    effective: str | None  # its own role, or the nearest enclosing element's


class _PageParser(HTMLParser):
    """Collects the entries of a listing page, or the one paper of an abstract page."""

    def __init__(self, fallback: dt.date | None) -> None:
        super().__init__(convert_charrefs=True)
        self.fallback = fallback
        self.papers = _Papers()
        self.stack: list[_Open] = []
        self.entry: _Entry | None = None
        self.entries = 0
        self.day: dt.date | None = None  # of the current section
        self.page_day: dt.date | None = None  # "Showing new listings for ..."
        self.buffer: list[str] = []  # text of the role being read (heading, dt, dateline)
        self.meta: dict[str, list[str]] = {}
        self.meta_line = 0
        self.paper = _Entry(line=0)  # an abstract page's visible fields
        self.canonical: str | None = None  # the arXiv id in <link rel="canonical">
        self.furniture_line = 0  # first line of a run of visible page text outside papers
        self.furniture_seen = False

    # -- element stack --

    def _role_for(self, tag: str, attrs: dict[str, str]) -> str | None:
        classes = set(attrs.get("class", "").split())
        if tag == "script" and attrs.get("type", "").startswith("math/tex"):
            return "math"
        if tag in ("script", "style", "noscript", "svg", "button", "template", "math"):
            return "hidden"
        if tag.startswith("mjx-"):
            return "hidden"
        if classes & _HIDDEN_CLASSES or attrs.get("role") == "tooltip" or "hidden" in attrs:
            return "hidden"
        if tag == "dt":
            return "dt"
        if tag == "h3" or (tag == "div" and "list-dateline" in classes):
            return "heading"
        if "list-title" in classes or (tag == "h1" and "title" in classes):
            return "title"
        if "list-authors" in classes or (tag == "div" and "authors" in classes):
            return "authors"
        if tag == "a" and attrs.get("href", "").lower().startswith("javascript:"):
            return "hidden"  # "et al. (37 additional authors not shown)": the list toggle
        if tag == "a" and self._current() == "authors":
            return "author"
        if tag == "blockquote" and "abstract" in classes:
            return "abstract"
        if tag == "p" and "mathjax" in classes and self.entry is not None:
            return "abstract"
        if tag == "div" and "dateline" in classes:
            return "dateline"
        if tag == "div" and "submission-history" in classes:
            return "history"
        if tag == "td" and "doi" in classes:
            return "doi"
        if tag == "td" and "arxivid" in classes:
            return "arxivid"
        if tag in ("div", "td") and classes & {
            "list-comments",
            "list-journal-ref",
            "list-subjects",
            "comments",
            "subjects",
            "jref",
            "arxividv",
            "arxivdoi",
            "label",
            "msc-classes",
            "acm-classes",
        }:
            return "field"
        return None

    def _target(self) -> _Entry:
        return self.entry if self.entry is not None else self.paper

    def _current(self) -> str | None:
        return self.stack[-1].effective if self.stack else None

    def _push(self, tag: str, role: str | None) -> None:
        self.stack.append(_Open(tag, role, role or self._current()))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        line = self.getpos()[0]
        if tag == "meta":
            self._meta(values, line)
            return
        if tag == "link" and values.get("rel", "").lower() == "canonical":
            found = _ABS_HREF.search(values.get("href", "").strip())
            self.canonical = normalize_arxiv_id(found[1]) if found else self.canonical
            return
        if tag == "br":
            self.handle_data(" ")
            return
        if tag in _VOID:
            return
        if self._current() == "hidden":
            self._push(tag, None)
            return
        role = self._role_for(tag, values)
        if tag == "dt":
            self._end_entry()
            self._flush_furniture()
            self.entries += 1
            self.entry = _Entry(line=line, day=self.day or self.page_day)
        elif tag == "dd" and self.entry is None:
            self.entry = _Entry(line=line, day=self.day or self.page_day)
        if role in ("heading", "title", "abstract", "dateline") or (role and self.entry):
            self._flush_furniture()
        if role in ("heading", "dt", "dateline", "history", "doi", "arxivid"):
            self.buffer = []
        if role == "title" and self.entry is None and not self.paper.line:
            self.paper.line = line
        if tag == "a":
            self._link(values.get("href", ""))
        if role == "author" and len(self._target().authors) < 10_000:
            self._target().authors.append("")
        self._push(tag, role)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, max(-1, len(self.stack) - 40), -1):
            if self.stack[depth].tag == tag:
                closed = self.stack[depth:]
                del self.stack[depth:]
                for item in reversed(closed):
                    self._close(item)
                return
        # A stray end tag (or one whose start was never seen) closes nothing.

    def _close(self, item: _Open) -> None:
        text = collapse_whitespace("".join(self.buffer))
        if item.role == "heading":
            self._heading(text)
        elif item.role == "dt" and self.entry is not None:
            pass  # markers (cross-list, replaced) need nothing: the paper is the same paper
        elif item.role == "dateline":
            match = _SUBMITTED.search(text)
            if match:
                self.paper.published = parse_date(match[1])
        elif item.role == "history":
            match = _VERSION_ONE.search(text)
            if match and self.paper.published is None:
                self.paper.published = parse_date(match[1])
        elif item.role == "doi":
            self.paper.doi = self.paper.doi or _journal_doi(text)
        elif item.role == "arxivid":
            self.paper.arxiv_id = self.paper.arxiv_id or find_arxiv_id(text)
        if item.tag == "dd":
            self._end_entry()
        if item.role in ("heading", "dt", "dateline", "history", "doi", "arxivid"):
            self.buffer = []

    # -- content --

    def handle_data(self, data: str) -> None:
        role = self._current()
        if role == "hidden":
            return
        if role == "math":
            # MathJax moved the TeX of `$x$` into a script: put it back where it was.
            role = self.stack[-2].effective if len(self.stack) > 1 else None
            data = f"${data.strip()}$"
        target = self.entry if self.entry is not None else self.paper
        if role == "title":
            target.add(target.title, data)
        elif role == "author":
            if target.authors and len(target.authors[-1]) < 1000:
                target.authors[-1] += data
        elif role == "authors":
            target.add(target.author_text, data)
        elif role == "abstract":
            target.add(target.abstract, data)
        elif role in ("heading", "dt", "dateline", "history", "doi", "arxivid"):
            if sum(map(len, self.buffer)) < MAX_FIELD_CHARS:
                self.buffer.append(data)
        elif role is None and self.entry is None and data.strip() and not self.furniture_line:
            self.furniture_line = self.getpos()[0]

    def _link(self, href: str) -> None:
        abs_match = _ABS_HREF.search(href.strip())
        if self._current() == "dt" and self.entry is not None and abs_match:
            self.entry.arxiv_id = self.entry.arxiv_id or normalize_arxiv_id(abs_match[1])
        elif (
            self.entry is not None
            and self._current() == "dt"
            and (href.startswith("https://arxiv.org/html/") and len(self.entry.links) < 5)
        ):
            self.entry.links.append(href)

    def _meta(self, values: dict[str, str], line: int) -> None:
        name = values.get("name", "").lower()
        if name.startswith("citation_") and len(self.meta) < 50:
            self.meta.setdefault(name, []).append(values.get("content", "")[:MAX_FIELD_CHARS])
            self.meta_line = self.meta_line or line

    def _heading(self, text: str) -> None:
        line = self.getpos()[0]
        if not text:
            return
        day = _day_in(text)
        if _NEW_LISTINGS.match(text):
            self.page_day = day or self.page_day
        elif day is not None:
            self.day = day
        self.papers.add(Skipped(line, f"section heading: {text[:80]!r}"))

    def _flush_furniture(self) -> None:
        if self.furniture_line:
            self.papers.add(Skipped(self.furniture_line, _FURNITURE_REASON))
            self.furniture_line = 0

    def _end_entry(self) -> None:
        if self.entry is None:
            return
        entry, self.entry = self.entry, None
        self.papers.add(_finish(entry, self.fallback))

    # -- the end --

    def finish(self) -> None:
        self.close()
        while self.stack:
            self._close(self.stack.pop())
        self._end_entry()
        if not self.papers.records and (self.meta or self.paper.title):
            self._abstract_page()
        self._flush_furniture()

    def _abstract_page(self) -> None:
        meta = self.meta
        paper = self.paper
        first = meta.get("citation_arxiv_id", [""])[0]
        paper.arxiv_id = (normalize_arxiv_id(first) if first else None) or (
            paper.arxiv_id or self.canonical
        )
        if not paper.title and meta.get("citation_title"):
            paper.title = [tex_to_text(meta["citation_title"][0])]
        if not paper.authors and not "".join(paper.author_text).strip():
            paper.authors = [_first_last(name) for name in meta.get("citation_author", [])]
        if not "".join(paper.abstract).strip() and meta.get("citation_abstract"):
            paper.abstract = [tex_to_text(meta["citation_abstract"][0])]
        paper.doi = normalize_doi(meta.get("citation_doi", [""])[0]) or paper.doi
        if paper.doi and paper.doi.startswith(_ARXIV_DOI):
            paper.doi = None
        paper.published = parse_date(meta.get("citation_date", [""])[0]) or paper.published
        paper.line = self.meta_line or paper.line or 1
        record = _finish(paper, self.fallback)
        if isinstance(record, Skipped):
            record = Skipped(record.line, "arXiv abstract page without an arXiv id or a title")
        self.papers.add(record)


def _first_last(name: str) -> str:
    """`Massé, Alexandre Blondin` (citation_author) -> `Alexandre Blondin Massé`."""
    last, comma, first = name.partition(",")
    return collapse_whitespace(f"{first} {last}" if comma and first.strip() else name)


def _journal_doi(text: str) -> str | None:
    for match in re.finditer(r"10\.\d{4,9}/\S+", text):
        doi = normalize_doi(match.group())
        if doi and not doi.startswith(_ARXIV_DOI):
            return doi
    return None


def _feed(parser: _PageParser, chunk: str | None) -> None:
    """Feed a chunk (None: the end); the standard parser's rare internal assertion on
    pathological markup is reported as an unreadable page, not a crash."""
    try:
        if chunk is None:
            parser.finish()
        else:
            parser.feed(chunk)
    except AssertionError as error:
        raise InputError(f"HTML the parser cannot read ({error or 'malformed markup'})") from None


def parse_html(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Listing entries (or an abstract page's paper) from a saved arxiv.org page."""
    parser = _PageParser(_fallback_day(options))
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > MAX_DOCUMENT_CHARS:
            raise InputError(
                f"too large for an arXiv page ({size // 1_000_000}+ MB of text; paperidx reads up "
                f"to {MAX_DOCUMENT_CHARS // 1_000_000} MB)"
            )
        _feed(parser, line.replace("\0", " ") + "\n")
    _feed(parser, None)
    if not parser.papers.records:
        yield Skipped(1, "no arXiv listing entry or abstract in this page")
    yield from parser.papers.in_order()


_HTML_START = lazy_compile(r"<(?:!doctype\s+html|html|head|body|dl|div|meta)\b", re.IGNORECASE)
_LISTING_MARKUP = lazy_compile(
    r"<dl\s+id=['\"]articles['\"]|class=['\"]list-(?:title|identifier|authors)\b", re.IGNORECASE
)
_SITE_MARKS = lazy_compile(
    r"static\.arxiv\.org|content=\"arxiv\.org\"|rel=\"canonical\"\s+href=\"https?://arxiv\.org/"
    r"|arxiv e-print repository",
    re.IGNORECASE,
)


def sniff_html(head: str) -> float:
    if not _HTML_START.search(head[:4000]):
        return 0.0
    site = bool(_SITE_MARKS.search(head))
    if _LISTING_MARKUP.search(head) or (site and "citation_arxiv_id" in head):
        return 0.9
    if site:
        return 0.85
    return 0.7 if "citation_arxiv_id" in head else 0.0


# --- arxiv-text ---------------------------------------------------------------------------

_HEADER = lazy_compile(
    rf"^(?:\[\s*\d+\s*\]\s*)?arXiv:\s*({_ID})(?:v\d+)?\s*"
    r"(?:\((?:cross-list from [^)]*|replaced)\)\s*)?"
    r"(?:\[\s*pdf\b[^\]]*\]?\s*)?(?:\((?:cross-list from [^)]*|replaced)\)\s*)?$",
    re.IGNORECASE,
)
_ITEM_NUMBER = lazy_compile(r"^\[\s*\d+\s*\]$")
_MARKER_LINE = lazy_compile(
    r"^(?:\((?:cross-list from [^)]*|replaced)\)|\[\s*pdf\b[^\]]*\])"
    r"(?:\s*\[\s*pdf\b[^\]]*\])?$"
    r"|^(?:(?:pdf|ps|html|other)\s*,?\s*)+\]$",  # the end of a wrapped `[pdf, html, other]`
    re.IGNORECASE,
)
_LABEL = lazy_compile(
    r"^\s*(Title|Authors?|Comments|Journal-ref|Journal reference|Subjects|MSC classes|ACM classes"
    r"|Report-no|Report number|Related DOI|DOI|Abstract|Cite as)\s*:\s*(.*)$"
)
_FURNITURE = lazy_compile(
    r"^(?:total of \d+ entries|showing up to \d+ entries|\[\s*(?:total|showing)\b|fewer\b.*\|"
    r"|we gratefully acknowledge|skip to main content|help \| advanced search"
    r"|search arxiv|press enter to search|quick links|major funding support"
    r"|web accessibility assistance|arxiv operational status|get status notifications"
    r"|which authors of this paper are endorsers|disable mathjax|see (?:today's|recent)\b"
    r"|authors and titles for\b|click here to contact arxiv|subscribe to arxiv mailings"
    r"|contact arxiv|about\s*·\s*help|operational status|our major funders|member institutions"
    r"|and all contributors|cornell university|arxiv logo|\u2022|•)",
    re.IGNORECASE,
)
_FURNITURE_WORDS = frozenset(
    {
        "fewer",
        "more",
        "all",
        "|",
        "·",
        "about",
        "help",
        "contact",
        "subscribe",
        "copyright",
        "privacy",
        "privacy policy",
        "accessibility",
        "donate",
        "login",
        "log in",
        "search",
        "submit",
        "new submissions",
        "cross-lists",
        "replacements",
        "view pdf",
        "html (experimental)",
        "other formats",
        "tex source",
        "access paper:",
    }
)
_ABS_MARK = lazy_compile(
    r"^\s*(?:\[submitted on \d|cite as:\s*(?:\[\d+\])?arxiv:)", re.IGNORECASE | re.MULTILINE
)
_DEFINITION = lazy_compile(r"^\s*:\s+")  # a Markdown rendering's definition-list marker


_LINK_REFERENCE = lazy_compile(r"\[\d+\](?=[^\s\[\]])")  # lynx's `[13]arXiv:...`, `[[14]pdf`


def _clean(line: str, references: bool) -> str:
    line = _DEFINITION.sub("", line.replace("\0", " ").replace("\u00a0", " ")).rstrip()
    return _LINK_REFERENCE.sub("", line) if references else line


def _is_furniture(text: str) -> bool:
    return bool(_FURNITURE.match(text)) or text.lower() in _FURNITURE_WORDS


def _is_heading(text: str) -> bool:
    return bool(_SECTION.match(text) or _DATE_HEADING.match(text) or _NEW_LISTINGS.match(text))


def _wrap_width(page: list[str]) -> int | None:
    """The column a text browser wrapped the page at, or None when lines were not wrapped."""
    lengths = [len(line) for line in page if line.strip()]
    if not lengths:
        return None
    width = max(lengths)
    if width > 100 or sum(1 for n in lengths if n >= width - 8) < 3:
        return None
    return width


def _blank_separated(page: list[str]) -> bool:
    """Whether a blank line separates a listing's fields (lynx does; w3m and a copy do not).

    Judged by what ends the run of lines that starts at each `Title:` (its value and, on
    pages without blank lines, the authors): a blank line, or the next labelled field.
    """
    votes = 0
    for index, line in enumerate(page):
        label = _LABEL.match(line.strip())
        if label is None or label[1] != "Title":
            continue
        position = index + 1
        if not label[2].strip():  # the value is on a line of its own, maybe after blanks
            while position < len(page) and not page[position].strip():
                position += 1
            position += 1
        end = min(len(page), position + 30)
        while position < end and page[position].strip() and not _LABEL.match(page[position]):
            position += 1
        if position < len(page):
            votes += 1 if not page[position].strip() else -1
    return votes > 0


def _continues(previous: str, line: str, width: int | None) -> bool:
    """Whether `line` is the rest of `previous`, hard-wrapped: the word would not have fit."""
    if width is None or not previous.strip():
        return False
    first = line.split()[0] if line.split() else ""
    return len(previous) + 1 + len(first) > width


_PARTICLES = frozenset(
    {
        "de",
        "da",
        "di",
        "del",
        "della",
        "der",
        "den",
        "van",
        "von",
        "la",
        "le",
        "du",
        "dos",
        "das",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "e",
        "ter",
        "zu",
        "st.",
    }
)


def _looks_like_names(text: str) -> bool:
    """`Ada Lovelace, Alan M. Turing` reads as names; a title's wrapped tail does not."""
    parts = [part.strip() for part in re.split(r",|\band\b", text) if part.strip()]
    if not parts or any(ch.isdigit() or ch in ":;?!()[]" for ch in text):
        return False
    for part in parts:
        words = part.split()
        if not 1 <= len(words) <= 6:
            return False
        if any(not (w[0].isupper() or w.lower() in _PARTICLES) for w in words):
            return False
    return True


@dataclass(slots=True)
class _TextEntry:
    """One entry of a text listing, and where its lines are going."""

    entry: _Entry
    field: str | None = None  # the field the last line went to
    empty_label: bool = False  # a label whose value is on the next line
    authors_label: bool = False  # the page labels authors ("Authors:"): older markup
    previous: str = ""  # the last line taken, as written (for the wrap test)
    abstract_done: bool = False


class _TextListing:
    """A text copy of a listing page: entries between `arXiv:` lines, headings set the day."""

    def __init__(self, page: list[str], fallback: dt.date | None) -> None:
        self.page = page
        self.fallback = fallback
        self.width = _wrap_width(page)
        self.blank_separated = _blank_separated(page)
        self.papers = _Papers()
        self.day: dt.date | None = None
        self.page_day: dt.date | None = None
        self.current: _TextEntry | None = None
        self.furniture_line = 0
        self.entries = 0

    def run(self) -> None:
        blank = True
        for index, raw in enumerate(self.page):
            text = raw.strip()
            if not text:
                blank = True
                continue
            self._line(index + 1, raw, text, blank)
            blank = False
        self._end()
        self._flush()

    def _line(self, number: int, raw: str, text: str, blank: bool) -> None:
        header = _HEADER.match(text)
        if header:
            self._end()
            self._flush()
            self.entries += 1
            entry = _Entry(
                line=number, arxiv_id=normalize_arxiv_id(header[1]), day=self.day or self.page_day
            )
            self.current = _TextEntry(entry)
            return
        current = self.current
        if current is not None and not current.field and (_MARKER_LINE.match(text) or not text):
            return
        in_paragraph = current is not None and current.field == "abstract" and not blank
        if not in_paragraph and _ITEM_NUMBER.match(text):
            self._end()
            return
        if not in_paragraph and _is_heading(text):
            self._end()
            self._flush()
            day = _day_in(text)
            if _NEW_LISTINGS.match(text):
                self.page_day = day or self.page_day
            elif day is not None:
                self.day = day
            self.papers.add(Skipped(number, f"section heading: {text[:80]!r}"))
            return
        if current is None or current.abstract_done or (not in_paragraph and _is_furniture(text)):
            self._end()
            self.furniture_line = self.furniture_line or number
            return
        self._field(current, number - 1, raw, text, blank)

    def _field(self, state: _TextEntry, index: int, raw: str, text: str, blank: bool) -> None:
        label = _LABEL.match(text)
        if label and state.field != "abstract":
            name = label[1].lower()
            state.field = {"author": "authors", "journal reference": "journal-ref"}.get(name, name)
            state.authors_label = state.authors_label or state.field == "authors"
            state.empty_label = not label[2].strip()
            if label[2].strip():
                self._take(state, label[2])
            state.previous = raw
            return
        if state.field is None:
            # Text before any label: a copy that lost the "Title:" label starts with the title.
            state.field = "title"
        elif state.empty_label:
            state.empty_label = False
        elif state.field == "abstract":
            if blank:
                state.abstract_done = True
                self.furniture_line = self.furniture_line or index + 1
                return
        elif self.blank_separated:
            # lynx and the like put a blank line between fields: a line right after one
            # goes on with it, the first line after a blank starts the next part.
            if blank:
                authors_next = state.field == "title" and not state.authors_label
                state.field = "authors" if authors_next else "abstract"
        elif (
            state.field == "title"
            and not state.authors_label
            and self._starts_authors(state, index, raw, text, blank)
        ):
            state.field = "authors"
        elif _continues(state.previous, raw, self.width) and not blank:
            pass  # a hard-wrapped field goes on
        elif blank or state.field == "subjects" or self.width is None:
            # After the last field comes the abstract (on /new pages), after a blank line.
            state.field = "abstract"
        self._take(state, text)
        state.previous = raw

    def _starts_authors(
        self, state: _TextEntry, index: int, raw: str, text: str, blank: bool
    ) -> bool:
        """Whether an unlabelled line after the title is the (unlabelled) authors line.

        A hard-wrapped title goes on when its next word would not have fitted; but the
        authors line is always there, before the next labelled field, and reads as names.
        """
        if blank or not _continues(state.previous, raw, self.width):
            return True
        if _looks_like_names(text) and text.count(",") >= 1:
            return True
        following = self._next_text(index)
        return following is None or bool(_LABEL.match(following) or _HEADER.match(following))

    def _next_text(self, index: int) -> str | None:
        for line in self.page[index + 1 : index + 50]:
            if line.strip():
                return line.strip()
        return None

    def _take(self, state: _TextEntry, text: str) -> None:
        entry = state.entry
        text += " "
        if state.field == "title":
            entry.add(entry.title, text)
        elif state.field == "authors":
            entry.add(entry.author_text, text)
        elif state.field == "abstract":
            entry.add(entry.abstract, text)
        elif state.field in ("doi", "related doi", "journal-ref"):
            entry.doi = entry.doi or _journal_doi(text)

    def _end(self) -> None:
        if self.current is not None:
            state, self.current = self.current, None
            self.papers.add(_finish(state.entry, self.fallback))

    def _flush(self) -> None:
        if self.furniture_line:
            self.papers.add(Skipped(self.furniture_line, _FURNITURE_REASON))
            self.furniture_line = 0


_CITE_AS = lazy_compile(rf"^cite as:\s*arxiv:\s*({_ID})", re.IGNORECASE)
_BREADCRUMB = lazy_compile(
    rf"(?:^|>\s*)arxiv:\s*({_ID})(?:v\d+)?(?:\s*\([a-z\-.]+\))?\s*$", re.IGNORECASE
)
_ABS_STOP = lazy_compile(
    r"^(?:view (?:a )?pdf|html \(experimental\)|download|comments\s*:|subjects\s*:|cite as\s*:"
    r"|journal[ -]ref(?:erence)?\s*:|related doi\s*:|msc classes|acm classes|report[ -]n)",
    re.IGNORECASE,
)


def _text_abstract_page(page: list[str], fallback: dt.date | None) -> list[ParseEvent]:
    """The one paper of a text copy of an /abs page."""
    entry = _Entry(line=0)
    events: list[ParseEvent] = []
    field_name: str | None = None
    first_text = 0
    after_abstract = False
    for index, raw in enumerate(page):
        text = raw.strip()
        number = index + 1
        if not text:
            if field_name in ("title", "authors", "abstract"):
                after_abstract = after_abstract or field_name == "abstract"
                field_name = None
            continue
        first_text = first_text or number
        label = _LABEL.match(text)
        cite = _CITE_AS.match(text)
        crumb = _BREADCRUMB.search(text)
        if cite:
            entry.arxiv_id = normalize_arxiv_id(cite[1])
        elif crumb and entry.arxiv_id is None:
            entry.arxiv_id = normalize_arxiv_id(crumb[1])
        submitted = _SUBMITTED.search(text)
        if submitted and entry.published is None:
            entry.published = parse_date(submitted[1])
        version = _VERSION_ONE.search(text)
        if version and entry.published is None:
            entry.published = parse_date(version[1])
        if after_abstract and entry.doi is None and "10." in text:
            entry.doi = _journal_doi(text)
        if label and label[1] in ("Title", "Authors", "Author", "Abstract"):
            field_name = label[1].lower().rstrip("s") + ("s" if label[1].startswith("Auth") else "")
            entry.line = entry.line or number
            text = label[2]
            if field_name == "abstract":
                after_abstract = True
        elif field_name and (_ABS_STOP.match(text) or label):
            field_name = None
            continue
        if field_name == "title":
            entry.add(entry.title, text + " ")
        elif field_name == "authors":
            entry.add(entry.author_text, text + " ")
        elif field_name == "abstract":
            entry.add(entry.abstract, text + " ")
    if first_text and first_text < (entry.line or len(page) + 1):
        events.append(Skipped(first_text, "page header and menus before the paper: not a paper"))
    entry.line = entry.line or 1
    record = _finish(entry, fallback)
    if isinstance(record, Skipped):
        record = Skipped(record.line, "arXiv abstract page without an arXiv id or a title")
    events.append(record)
    return events


def parse_text(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers from a text copy of an arxiv.org listing or abstract page."""
    document = join_document(lines, "an arXiv page copy", MAX_DOCUMENT_CHARS)
    # A text browser's numbered links (`[13]arXiv:2411.04110 [[14]pdf, ...]`) are undone
    # when the page has them; a copy's `[1]  arXiv:` item numbers are followed by a space.
    references = len(_LINK_REFERENCE.findall(document, 0, 200_000)) >= 3
    page = [_clean(line, references) for line in document.split("\n")]
    fallback = _fallback_day(options)
    if any(_HEADER.match(line.strip()) for line in page):
        listing = _TextListing(page, fallback)
        listing.run()
        yield from listing.papers.in_order()
        return
    if _ABS_MARK.search("\n".join(page[:2000])):
        yield from _text_abstract_page(page, fallback)
        return
    yield Skipped(1, "no 'arXiv:NNNN.NNNNN' listing entry or abstract page found")


_TEXT_HEADER = lazy_compile(
    rf"^\s*(?:\[\s*\d+\s*\]\s*)?(?:\[\d+\])?arXiv:\s*(?:{_ID})(?:v\d+)?\s*(?:\([^)]*\)\s*)?"
    r"\[(?:\[\d+\])?\s*pdf",
    re.IGNORECASE | re.MULTILINE,
)
_BARE_ID = lazy_compile(rf"^\s*arXiv:\s*(?:{_ID})(?:v\d+)?\s*$", re.IGNORECASE | re.MULTILINE)
_TITLE_LINE = lazy_compile(r"^\s*Title:", re.MULTILINE)
_EMAIL_SEPARATOR = lazy_compile(r"^\\\\\s*$", re.MULTILINE)


def sniff_text(head: str) -> float:
    if _HTML_START.search(head[:2000]) and "</" in head:
        return 0.0
    if _TEXT_HEADER.search(head) or _ABS_MARK.search(head):
        score = 0.85
    elif _BARE_ID.search(head) and _TITLE_LINE.search(head):
        listing_page = re.search(r"arxiv\.org/list/|showing new listings for", head, re.I)
        score = 0.85 if listing_page else 0.6
    else:
        return 0.0
    # The arXiv subscription e-mail has `arXiv:` and `Title:` lines too, between `\\` lines.
    return 0.3 if _EMAIL_SEPARATOR.search(head) else score


FORMAT_HTML = InputFormat(
    name="arxiv-html",
    summary="arxiv.org listing pages (/list/…/new, /recent, monthly) and /abs pages saved as HTML",
    example="arxiv-cs.CL-new.html",
    sniff=sniff_html,
    parse=parse_html,
)

FORMAT_TEXT = InputFormat(
    name="arxiv-text",
    summary="arxiv.org listing or /abs pages copied as text from a browser (or a text dump)",
    example="arxiv-cs.CL-new.txt",
    sniff=sniff_text,
    parse=parse_text,
)
