"""huggingface.co/papers pages saved from a browser as HTML ("Save page as", complete or not).

Two kinds of page:

- the DAILY page (`/papers`, `/papers?date=2024-05-28`, `/papers/date/2024-05-28`): many
  paper cards, each `<article>` with `<h3><a href="/papers/2609.31620">Title</a></h3>`, an
  upvote count, "Submitted by", an organisation and a comment count;
- the SINGLE-PAPER page (`/papers/2411.13560`): title, authors, abstract, arXiv link.

The pages are Svelte apps rendered on the server. The data behind the markup is also in the
page, as HTML-escaped JSON in `data-props` attributes::

    <div class="SVELTE_HYDRATER contents" data-target="DailyPapers"
         data-props="{&quot;dateString&quot;:&quot;2026-09-28&quot;,
                      &quot;dailyPapers&quot;:[{&quot;paper&quot;:{&quot;id&quot;:...}}]}">

(`data-target="PaperContent"` with a `paper` object on a single-paper page, next to its
`comments`.) That JSON has the abstract and the authors, which the daily cards do not show,
so it is preferred; the visible cards are the fallback for a copy without it (a reader-mode
or scraped copy), giving a title and an arXiv id. Only the `dailyPapers` list and the page's
own `paper` count: header, navigation, upvotes, "Submitted by", comments, trending and
similar-paper lists never become papers.

The digest day is the page's: a date in the saved URL (`<!-- saved from url=... -->`, the
canonical link or `og:url`: `?date=` or `/papers/date/`), else the `dateString` of the daily
data, else the day the paper was featured (`submittedOnDailyAt`), the file name's date or
the date the user gave. `published` is the paper's `publishedAt`.

The page is read as a stream (`html.parser`, fed in growing chunks) so memory stays bounded
by the largest single tag, not by the page: a saved page can be tens of megabytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from paperidx.parsing.common import iso_day, normalize_arxiv_id, parse_date
from paperidx.text import collapse_whitespace

# -- streaming HTML, shared with the Scholar alert reader ---------------------------------

# Feed at least this much text at a time; more when a tag is still open (see `run_html`).
FEED_CHARS = 1 << 16
# A single tag, comment or script this long is not a page anyone saved: refuse the file
# rather than hold it (html.parser keeps an unfinished construct in memory whole).
MAX_PENDING_CHARS = 16_000_000
# Text kept for one field (a title, a snippet): anything longer is cut, never accumulated.
MAX_FIELD_CHARS = 100_000

_MALFORMED = (AssertionError, ValueError, IndexError, RecursionError)


class EventParser(HTMLParser):
    """An `HTMLParser` that queues parse events for `run_html` to hand out as it goes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[ParseEvent] = []

    def finish(self) -> None:
        """Called after the last chunk: emit whatever waits for the end of the document."""


def run_html(parser: EventParser, lines: Iterable[str], what: str) -> Iterator[ParseEvent]:
    """Feed `lines` to `parser` and yield its events as they appear.

    html.parser re-scans an unfinished tag from its start on every `feed`, so feeding a huge
    tag line by line is quadratic. Waiting until the new text is as long as what is already
    pending makes the total work linear (the chunk sizes grow geometrically) while a normal
    page is still fed 64 KB at a time.
    """
    pending: list[str] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line) + 1
        if size >= FEED_CHARS and size >= len(parser.rawdata):
            _feed(parser, pending, what)
            pending, size = [], 0
            yield from _drain(parser)
    _feed(parser, pending, what)
    try:
        parser.close()
    except _MALFORMED as error:
        raise InputError(f"malformed HTML, not readable as {what} ({error})") from None
    parser.finish()
    yield from _drain(parser)


def _feed(parser: EventParser, pending: list[str], what: str) -> None:
    if not pending:
        return
    try:
        if len(pending) == 1:  # one long line (a minified page): feed it without a copy
            parser.feed(pending[0])
            parser.feed("\n")
        else:
            pending.append("")  # every line ends with its newline: positions stay exact
            parser.feed("\n".join(pending))
    except _MALFORMED as error:
        raise InputError(f"malformed HTML, not readable as {what} ({error})") from None
    if len(parser.rawdata) > MAX_PENDING_CHARS:
        raise InputError(
            f"an HTML tag, comment or script longer than {MAX_PENDING_CHARS // 1_000_000} MB: "
            f"not readable as {what}"
        )


def _drain(parser: EventParser) -> Iterator[ParseEvent]:
    events, parser.events = parser.events, []
    yield from events


@dataclass(slots=True)
class TextBuffer:
    """Text collected for one field, capped at `MAX_FIELD_CHARS`."""

    parts: list[str] = field(default_factory=list)
    size: int = 0

    def add(self, text: str) -> None:
        room = MAX_FIELD_CHARS - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)

    def text(self) -> str:
        # str.split() is the fast way to collapse whitespace in long snippets.
        return " ".join("".join(self.parts).split())


def attribute(attrs: list[tuple[str, str | None]], name: str) -> str:
    for key, value in attrs:
        if key == name and value is not None:
            return value
    return ""


# -- sniffing -------------------------------------------------------------------------------

_HTML_START = lazy_compile(r"<(?:!doctype\s+html|html|head|meta|body|!--)", re.IGNORECASE)
_HEAD_TAG = lazy_compile(r"<(?:link|meta)\b[^>]*>", re.IGNORECASE)
_SAVED_FROM = lazy_compile(r"<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->", re.IGNORECASE)
_HF_PAPERS_URL = lazy_compile(r"https?://(?:www\.)?(?:huggingface\.co|hf\.co)/papers\b", re.I)
_PAGE_URL_TAG = lazy_compile(r"""canonical|og:url""", re.IGNORECASE)
_HF_TARGET = lazy_compile(r"""data-target=["'](?:DailyPapers|PaperContent)["']""")


def looks_like_html(head: str) -> bool:
    text = head.lstrip("\ufeff \t\r\n")
    return text.startswith("<") and _HTML_START.search(text[:4000]) is not None


def sniff(head: str) -> float:
    """Confident only for a page whose own address is on huggingface.co/papers (its
    canonical link, `og:url` or the browser's "saved from" note) or whose paper data is in
    sight; links to HF papers from any other page do not count."""
    if not looks_like_html(head):
        return 0.0
    saved = _SAVED_FROM.search(head)
    if saved and _HF_PAPERS_URL.match(saved.group(1)):
        return 0.85
    for tag in _HEAD_TAG.finditer(head):
        if _PAGE_URL_TAG.search(tag.group()) and _HF_PAPERS_URL.search(tag.group()):
            return 0.85
    return 0.85 if _HF_TARGET.search(head) else 0.0


# -- the page -------------------------------------------------------------------------------

_PAPER_HREF = lazy_compile(
    r"^(?:https?://(?:www\.)?(?:huggingface\.co|hf\.co))?/papers/"
    r"(\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7})(?:v\d+)?/?$",
    re.IGNORECASE,
)
_DAY_PATH = lazy_compile(r"/papers/date/(\d{4}-\d{2}-\d{2})\b")
# Cards kept for the markup fallback: a daily page has at most a few hundred.
_MAX_CARDS = 10_000
_LINK_KEYS = ("githubRepo", "projectPage")


@dataclass(slots=True)
class _Card:
    """One paper card of the page, as its markup arrives."""

    line: int
    href_id: str | None = None
    title: TextBuffer = field(default_factory=TextBuffer)


class _HFPage(EventParser):
    def __init__(self, options: ParseOptions) -> None:
        super().__init__()
        self.options = options
        self.url_day: dt.date | None = None
        self.data_day: dt.date | None = None
        self.page_paper_id: str | None = None  # the single-paper page's own id
        self.seen_ids: set[str] = set()
        self.seen_titles: set[str] = set()
        self.structured = 0
        self.cards: list[_Card] = []
        self.card: _Card | None = None
        self.in_card_link = False
        self.h1: TextBuffer | None = None
        self.h1_text = ""
        self.h1_line = 0
        self.h2: TextBuffer | None = None
        self.abstract_next = False
        self.abstract: TextBuffer | None = None
        self.abstract_text = ""

    # -- the page's address and day

    def handle_comment(self, data: str) -> None:
        match = re.match(r"\s*saved from url=\(\d+\)\s*(\S+)", data, re.IGNORECASE)
        if match:
            self._note_url(match.group(1))

    def _note_url(self, url: str) -> None:
        if not _HF_PAPERS_URL.match(url):
            return
        parts = urlsplit(url)
        day_text = (parse_qs(parts.query).get("date") or [""])[0]
        path_day = _DAY_PATH.search(parts.path)
        day = parse_date(day_text) or (parse_date(path_day.group(1)) if path_day else None)
        if day is not None and self.url_day is None:
            self.url_day = day
        own = _PAPER_HREF.match(parts.path)
        if own and self.page_paper_id is None:
            self.page_paper_id = own.group(1).lower()

    # -- tags

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link" and "canonical" in attribute(attrs, "rel").lower():
            self._note_url(attribute(attrs, "href"))
        elif tag == "meta" and attribute(attrs, "property").lower() == "og:url":
            self._note_url(attribute(attrs, "content"))
        props = attribute(attrs, "data-props")
        if props:
            self._read_props(props, attribute(attrs, "data-target"), self.getpos()[0])
        if tag == "h3":
            self._end_card()
            self.card = _Card(self.getpos()[0])
        elif tag == "a" and self.card is not None:
            match = _PAPER_HREF.match(attribute(attrs, "href").strip())
            if match and self.card.href_id is None:
                self.card.href_id = match.group(1).lower()
                self.in_card_link = True
        elif tag == "h1" and not self.h1_text:
            self.h1, self.h1_line = TextBuffer(), self.getpos()[0]
        elif tag == "h2":
            self.h2 = TextBuffer()
        elif tag == "p" and self.abstract_next:
            self.abstract_next = False
            self.abstract = TextBuffer()

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.in_card_link = False
        elif tag in ("h3", "article"):
            self._end_card()
        elif tag == "h1" and self.h1 is not None:
            self.h1_text, self.h1 = self.h1.text(), None
        elif tag == "h2" and self.h2 is not None:
            self.abstract_next = self.h2.text().lower() == "abstract"
            self.h2 = None
        elif tag == "p" and self.abstract is not None:
            if not self.abstract_text:
                self.abstract_text = self.abstract.text()
            self.abstract = None

    def handle_data(self, data: str) -> None:
        if self.card is not None and self.in_card_link:
            self.card.title.add(data)
        for buffer in (self.h1, self.h2, self.abstract):
            if buffer is not None:
                buffer.add(data)

    def _end_card(self) -> None:
        card, self.card, self.in_card_link = self.card, None, False
        if card is not None and card.href_id and len(self.cards) < _MAX_CARDS:
            self.cards.append(card)

    # -- the embedded data

    def _read_props(self, props: str, target: str, line: int) -> None:
        if '"dailyPapers"' not in props and '"paper"' not in props:
            return  # header, banner, theme...: not paper data, not worth decoding
        try:
            data: object = json.loads(props)
        except (ValueError, RecursionError):
            self.events.append(Skipped(line, "page data (data-props) is not valid JSON"))
            return
        if not isinstance(data, dict):
            return
        self.data_day = self.data_day or parse_date(_text(data.get("dateString")))
        daily = data.get("dailyPapers")
        if isinstance(daily, list):
            for number, item in enumerate(daily, 1):
                self._add_item(item, line, number)
        paper = data.get("paper")
        # Only the page's own paper: other components may carry a related paper.
        if isinstance(paper, dict) and (
            target == "PaperContent"
            or (self.page_paper_id is not None and _arxiv_id(paper.get("id")) == self.page_paper_id)
        ):
            self._add_item({"paper": paper}, line, 1, single=True)

    def _add_item(self, item: object, line: int, number: int, single: bool = False) -> None:
        paper = item.get("paper") if isinstance(item, dict) else None
        if isinstance(item, dict) and not isinstance(paper, dict):
            paper = item
        if not isinstance(paper, dict) or not isinstance(item, dict):
            self.events.append(Skipped(line, f"daily papers entry {number} is not an object"))
            return
        title = collapse_whitespace(_text(paper.get("title")) or _text(item.get("title")))
        if not title:
            self.events.append(Skipped(line, f"daily papers entry {number} has no title"))
            return
        arxiv_id = _arxiv_id(paper.get("id"))
        if not self._is_new(arxiv_id, title):
            return
        summary = _text(paper.get("summary")) or _text(item.get("summary"))
        featured = iso_day(paper.get("submittedOnDailyAt"))
        self.structured += 1
        self.events.append(
            RawRecord(
                title=title,
                abstract=collapse_whitespace(summary),
                line=line,
                authors=_author_names(paper.get("authors")),
                arxiv_id=arxiv_id,
                date=self._day(featured, single),
                links=_links(arxiv_id, paper),
                published=iso_day(paper.get("publishedAt")),
            )
        )

    def _is_new(self, arxiv_id: str | None, title: str) -> bool:
        key = title.casefold()
        if (arxiv_id and arxiv_id in self.seen_ids) or key in self.seen_titles:
            return False
        if arxiv_id:
            self.seen_ids.add(arxiv_id)
        self.seen_titles.add(key)
        return True

    def _day(self, featured: dt.date | None, single: bool) -> dt.date | None:
        told = date_in_name(self.options.source_name) or self.options.date
        if single:  # a paper's own page has no day of its own
            return self.url_day or told or featured
        return self.url_day or self.data_day or featured or told

    # -- the end: the markup, when the page carried no data

    def finish(self) -> None:
        self._end_card()
        if self.structured:
            return
        if self.page_paper_id is not None:
            # A paper's own page: its title and abstract; the cards are related papers.
            if self.h1_text and self._is_new(self.page_paper_id, self.h1_text):
                self.events.append(
                    self._markup_record(
                        self.h1_text, self.abstract_text, self.h1_line, self.page_paper_id
                    )
                )
            return
        for card in self.cards:
            title = card.title.text()
            if not title:
                self.events.append(Skipped(card.line, "paper card without a title"))
            elif card.href_id and self._is_new(card.href_id, title):
                self.events.append(self._markup_record(title, "", card.line, card.href_id))

    def _markup_record(self, title: str, abstract: str, line: int, arxiv_id: str) -> RawRecord:
        single = self.page_paper_id is not None
        return RawRecord(
            title=title,
            abstract=abstract,
            line=line,
            arxiv_id=arxiv_id,
            date=self._day(None, single),
            links=_links(arxiv_id, {}),
        )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _arxiv_id(value: object) -> str | None:
    return normalize_arxiv_id(value) if isinstance(value, str) else None


def _author_names(authors: object) -> list[str]:
    if not isinstance(authors, list):
        return []
    names = []
    for author in authors:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            names.append(collapse_whitespace(name))
    return list(dict.fromkeys(names))


def _links(arxiv_id: str | None, paper: dict[str, Any]) -> list[str]:
    links = []
    if arxiv_id:
        links += [f"https://huggingface.co/papers/{arxiv_id}", f"https://arxiv.org/abs/{arxiv_id}"]
    for key in _LINK_KEYS:
        url = re.sub(r"\s+", "", _text(paper.get(key)))
        if re.match(r"^https?://\S+$", url):
            links.append(url)
    return list(dict.fromkeys(links))


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """The papers of one saved huggingface.co/papers page."""
    yield from run_html(_HFPage(options), lines, "a Hugging Face papers page")


FORMAT = InputFormat(
    name="hf-html",
    summary="huggingface.co/papers pages saved from a browser as HTML (daily or single paper)",
    example="Daily Papers - Hugging Face.html",
    sniff=sniff,
    parse=parse,
)
