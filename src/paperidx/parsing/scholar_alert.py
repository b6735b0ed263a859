"""Google Scholar alert e-mails: the HTML body (the e-mail reader hands it over decoded).

Each result is a title heading, a green byline and a snippet::

    <h3 ...><span ...>[PDF]</span> <a href="https://scholar.google.com/scholar_url?url=
        https://arxiv.org/pdf/1912.02015&amp;hl=en&amp;sa=X&amp;..." class="gse_alrt_title"
        >Title</a></h3>
    <div style="color:#006621;line-height:18px">Z Chen, S Kommrusch, M Monperrus&nbsp;-
        arXiv preprint arXiv:1912.02015, 2019</div>
    <div class="gse_alrt_sni">First lines of the abstract <br>with line breaks …</div>
    <div style="width:auto"><table>...Save / Twitter / Facebook icons...</table></div>

then the footer: "This message was sent by Google Scholar because...", "Cancel alert",
"List alerts". Quirks handled here:

- The link goes through Scholar's redirector; the real target is its `url=` parameter
  (the link kept, and the arXiv id or DOI read from it). A `[CITATION]` result links to a
  Scholar citation page instead, and has no snippet: it is kept with its authors.
- The byline is `authors - venue, year`; Scholar cuts long author lists with `…`
  (`M Ulan…`), cuts venues the same way, and may leave out the venue (`A Karmakar - 2019`)
  or the dash (`M Abdi, H Rocha, S Demeyer`). Only the authors are kept; a venue that
  names an arXiv id (`arXiv preprint arXiv:1912.02015`) gives the id.
- The snippet is a few lines of the abstract, cut with `…`: it is the abstract for now,
  and a later sighting with the whole abstract replaces it.
- Titles may be in any script; query words are in `<b>`.

The alert says nothing about its own day: that is the e-mail's Date header, which the
e-mail reader passes on as the given date (or the file name's date).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    InputFormat,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
    date_in_name,
)
from paperidx.parsing.common import find_arxiv_id, normalize_doi
from paperidx.parsing.hf_html import EventParser, TextBuffer, attribute, looks_like_html, run_html
from paperidx.text import collapse_whitespace

_MARKERS = ("gse_alrt", "scholaralrt")
_BYLINE_COLOUR = lazy_compile(r"color\s*:\s*#?006621", re.IGNORECASE)
_DASH = lazy_compile(r"\s+-\s+")
_ELLIPSIS = lazy_compile(r"\s*(?:…|\.\.\.)\s*$")
_DOI_PATH = lazy_compile(
    r"^/(?:doi/(?:abs/|full/|pdf/|epdf/|epub/|book/)?|(?:article|chapter|book)/)(10\.\d{4,9}/.+)$",
    re.IGNORECASE,
)
_DOI_SUFFIX = lazy_compile(r"(?:/(?:full|abstract|pdf|epdf|html|meta)|\.pdf)$", re.IGNORECASE)
_FOOTER_LINKS = ("scholar_alerts?", "/scholar_alerts")
# Scholar wraps snippets with <br>: a space between words, nothing between CJK characters.
_BREAK = "\ue000"
_CJK = "\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef"
_CJK_BREAK = lazy_compile(f"(?<=[{_CJK}])\\s*{_BREAK}\\s*(?=[{_CJK}])")


def sniff(head: str) -> float:
    """An HTML body carrying Scholar's alert markup (`gse_alrt_*` classes, `oi=scholaralrt`
    links). A raw .eml holding one starts with mail headers and is the e-mail reader's."""
    if not looks_like_html(head):
        return 0.0
    return 0.9 if any(marker in head for marker in _MARKERS) else 0.0


@dataclass(slots=True)
class _Result:
    """One result of the alert, as its markup arrives."""

    line: int
    href: str = ""
    title: TextBuffer = field(default_factory=TextBuffer)
    byline: str | None = None
    snippet: str | None = None


class _Alert(EventParser):
    def __init__(self, options: ParseOptions) -> None:
        super().__init__()
        self.day = date_in_name(options.source_name) or options.date
        self.seen: set[str] = set()
        self.heading: TextBuffer | None = None
        self.heading_line = 0
        self.result: _Result | None = None  # the result being read
        self.open_result: _Result | None = None  # the heading being read, if a result
        self.in_title_link = False
        self.block: TextBuffer | None = None  # a byline or snippet being read
        self.block_kind = ""
        self.block_depth = 0
        self.footer: TextBuffer | None = None
        self.footer_line = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h3":
            self._close_heading()
            self._end_result()
            self.heading, self.heading_line = TextBuffer(), self.getpos()[0]
        elif tag == "a":
            self._start_link(attrs)
        elif tag == "br":
            self._add(_BREAK)
        elif tag == "p" and self.heading is None:
            self._end_result()
            self.footer, self.footer_line = TextBuffer(), self.getpos()[0]
        elif tag in ("div", "font", "span") and self.block is not None:
            self.block_depth += 1
        elif tag in ("div", "font") and self.result is not None and self.heading is None:
            self._start_block(tag, attrs)

    def _start_link(self, attrs: list[tuple[str, str | None]]) -> None:
        href = attribute(attrs, "href").strip()
        if self.heading is not None and self.open_result is None:
            if "gse_alrt_title" in attribute(attrs, "class") or "scholar_url?" in href:
                self.open_result = _Result(self.heading_line, href)
                self.in_title_link = True
        elif any(marker in href for marker in _FOOTER_LINKS):
            self._end_result()  # "Cancel alert", "List alerts": the footer has begun

    def _start_block(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        result = self.result
        if result is None:
            return
        classes = attribute(attrs, "class")
        if "gse_alrt_sni" in classes and result.snippet is None:
            kind = "snippet"
        elif (
            result.byline is None
            and result.snippet is None
            # The first block after the title: green in Scholar's template, a plain <div>
            # once a mail client or a forward has dropped the style, <font color> in old ones.
            and (
                tag == "div"
                or _BYLINE_COLOUR.search(attribute(attrs, "style"))
                or attribute(attrs, "color")
            )
        ):
            kind = "byline"
        else:
            return
        self.block, self.block_kind, self.block_depth = TextBuffer(), kind, 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self.in_title_link = False
        elif tag == "h3":
            self._close_heading()
        elif tag in ("div", "font", "span") and self.block is not None:
            if self.block_depth > 0:
                self.block_depth -= 1
            else:
                self._end_block()
        elif tag == "p" and self.footer is not None:
            self._end_footer()

    def handle_data(self, data: str) -> None:
        if self.heading is not None:
            self.heading.add(data)
            if self.open_result is not None and self.in_title_link:
                self.open_result.title.add(data)
        self._add(data)
        if self.footer is not None:
            self.footer.add(data)

    def _add(self, text: str) -> None:
        if self.block is not None:
            self.block.add(text)

    def _close_heading(self) -> None:
        heading, self.heading = self.heading, None
        result, self.open_result = self.open_result, None
        self.in_title_link = False
        if heading is None:
            return
        if result is not None:
            self.result = result
        elif heading.text():
            what = heading.text()[:80]
            self.events.append(Skipped(self.heading_line, f"heading, not a result: {what}"))

    def _end_block(self) -> None:
        block, self.block = self.block, None
        if block is None or self.result is None:
            return
        text = block.text()
        if _BREAK in text:
            text = " ".join(_CJK_BREAK.sub("", text).replace(_BREAK, " ").split())
        if self.block_kind == "snippet":
            self.result.snippet = text
        elif text:
            self.result.byline = text

    def _end_footer(self) -> None:
        footer, self.footer = self.footer, None
        if footer is not None and footer.text():
            self.events.append(Skipped(self.footer_line, f"alert footer: {footer.text()[:80]}"))

    def _end_result(self) -> None:
        self._end_block()
        result, self.result = self.result, None
        if result is None:
            return
        title = result.title.text()
        if not title:
            self.events.append(Skipped(result.line, "result without a title"))
            return
        target = scholar_target(result.href)
        byline = result.byline or ""
        authors, venue = split_byline(byline)
        arxiv_id = find_arxiv_id(target) if "arxiv.org/" in target else None
        arxiv_id = arxiv_id or _arxiv_in_venue(venue)
        doi = doi_in_url(target)
        key = arxiv_id or doi or title.casefold()
        if key in self.seen:
            return
        self.seen.add(key)
        links = [target] if target.startswith(("http://", "https://")) else []
        if arxiv_id:
            links.append(f"https://arxiv.org/abs/{arxiv_id}")
        self.events.append(
            RawRecord(
                title=title,
                abstract=result.snippet or "",
                line=result.line,
                authors=authors,
                arxiv_id=arxiv_id,
                doi=doi,
                date=self.day,
                links=list(dict.fromkeys(links)),
            )
        )

    def finish(self) -> None:
        self._close_heading()
        self._end_result()
        self._end_footer()


def scholar_target(href: str) -> str:
    """The page a Scholar link leads to: the `url=` of its redirector, else the link."""
    parts = urlsplit(href)
    if parts.path.endswith("/scholar_url") or parts.path.endswith("/scholar_share"):
        target = (parse_qs(parts.query).get("url") or [""])[0].strip()
        if target.startswith(("http://", "https://")):
            return target
    return href


def split_byline(byline: str) -> tuple[list[str], str]:
    """`Z Chen, S Kommrusch - arXiv preprint arXiv:1912.02015, 2019` -> authors, venue."""
    pieces = _DASH.split(collapse_whitespace(byline), maxsplit=1)
    names_part, venue = pieces[0], pieces[1] if len(pieces) > 1 else ""
    if re.fullmatch(r"(?:…\s*)?\d{4}", names_part):  # only a year: no authors named
        return [], names_part
    names = []
    for piece in names_part.split(","):
        name = _ELLIPSIS.sub("", piece).strip(" …")
        if name and any(ch.isalpha() for ch in name):
            names.append(name)
    return names, venue


def _arxiv_in_venue(venue: str) -> str | None:
    return find_arxiv_id(venue) if "arxiv:" in venue.lower() else None


def doi_in_url(url: str) -> str | None:
    """A DOI from a doi.org link or a publisher's `/doi/...`, `/article/10...` path."""
    parts = urlsplit(url)
    host = parts.netloc.lower()
    path = unquote(parts.path)
    if host in ("doi.org", "dx.doi.org", "www.doi.org"):
        return normalize_doi(path.lstrip("/"))
    match = _DOI_PATH.match(path)
    if match is None:
        return None
    return normalize_doi(_DOI_SUFFIX.sub("", match.group(1)))


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """The results of one Scholar alert's HTML body."""
    yield from run_html(_Alert(options), lines, "a Google Scholar alert")


FORMAT = InputFormat(
    name="scholar-alert",
    summary="Google Scholar alert e-mails (the HTML body; .eml files via the e-mail reader)",
    example="scholar-alert.html",
    sniff=sniff,
    parse=parse,
)
