"""XML feeds: RSS 2.0, RSS 1.0 (RDF) and Atom, with the dialects research sources speak.

One parser reads every feed; what differs between sources is found in the items themselves:

- arXiv's RSS (`rss.arxiv.org/rss/cs.CL`, and its Atom twin `rss.arxiv.org/atom/...`): the
  description is `arXiv:2411.13560v1 Announce Type: new  Abstract: ...`, authors are one
  comma-separated `dc:creator`, the channel's `pubDate` is the announcement day. Replacements
  (`replace`, `replace-cross`) are sightings too; their abstract is given in full.
- arXiv's RSS before 2024 (RSS 1.0): titles end in `. (arXiv:2107.03419v1 [hep-ex] UPDATED)`,
  abstracts are HTML paragraphs, `dc:creator` is HTML links to author searches.
- the arXiv API (`export.arxiv.org/api/query`, Atom): `<id>http://arxiv.org/abs/...v2</id>`,
  `<published>`, `<arxiv:doi>`; the feed's `<updated>` is the day of the query. An error
  response (an entry whose id is `.../api/errors#...`) refuses the whole file.
- bioRxiv / medRxiv (RSS 1.0): `dc:identifier` `doi:10.1101/...`, `dc:date`, and authors as
  `Surname, I., Surname, I.`.
- any other RSS or Atom feed with titles and descriptions (journal tables of contents):
  HTML descriptions are turned into text, DOIs come from `prism:doi`, `dc:identifier` or a
  DOI link, and items that name no paper (no abstract, no identifier, no author) are skipped.

Security: the XML is read by `defusedxml`, which refuses entity declarations (the "billion
laughs" expansion, external entities such as `file:///etc/passwd`) and never fetches
anything. A document type declaration without entities (RSS 0.91's) is harmless and read.
HTML named entities (`&nbsp;`), which sloppy feeds use undeclared, are read as characters.

Memory stays bounded: the feed is parsed as a stream of lines, only the current item is
held as a tree, an item or a nesting depth past sane limits is refused, and the whole input
is capped like every whole-document format (`common.MAX_DOCUMENT_CHARS`).
"""

from __future__ import annotations

import datetime as dt
import html.entities
import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paperidx.errors import InputError
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
from paperidx.parsing.common import (
    MAX_DOCUMENT_CHARS,
    find_arxiv_id,
    normalize_doi,
    parse_date,
    split_authors,
    strip_markup,
    tex_to_text,
)
from paperidx.text import collapse_whitespace, normalize_arxiv_id

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element, TreeBuilder

ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RSS09 = "http://my.netscape.com/rdf/simple/0.9/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"

# The elements of RSS itself carry no namespace (2.0) or RSS 1.0's / 0.9's.
_RSS_CORE = frozenset({"", RSS1, RSS09})
_DUBLIN_CORE = frozenset({DC, DCTERMS})

# Past these an input is not a feed anyone publishes; refusing keeps memory bounded.
MAX_DEPTH = 256
MAX_ITEM_ELEMENTS = 5_000
MAX_ITEM_CHARS = 2_000_000
# Very long lines (a feed on one line) are fed to the XML parser in slices of this size.
_SLICE = 1 << 20

# --- sniffing -------------------------------------------------------------------------------

_PROLOG = lazy_compile(
    r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*", re.DOTALL | re.IGNORECASE
)
_ROOT = lazy_compile(r"<(?:[A-Za-z_][\w.-]*:)?(rss|feed|RDF)(?=[\s/>])([^>]*)", re.DOTALL)


def sniff(head: str) -> float:
    """Sure when the document's first element is `<rss>`, an Atom `<feed>` or an RSS 1.0
    `<rdf:RDF>`; nothing else (an HTML page, other XML, text mentioning `<rss>`) is claimed."""
    text = head.lstrip("\ufeff")
    prolog = _PROLOG.match(text)
    root = _ROOT.match(text, prolog.end() if prolog else 0)
    if root is None:
        return 0.0
    name, attributes = root.group(1), root.group(2)
    if name == "rss":
        return 0.95
    if name == "feed":
        return 0.95 if ATOM in attributes else 0.0
    return 0.95 if (RSS1 in text or RSS09 in text) else 0.0


# --- reading the XML as a stream ------------------------------------------------------------

# Characters XML 1.0 forbids: sloppy feeds carry stray control codes; dropping them loses
# nothing a reader would see, and keeps one bad byte from refusing the whole feed.
_NOT_XML = lazy_compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HTML_ENTITIES = {name: chr(code) for name, code in html.entities.name2codepoint.items()}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _is_item(tag: str) -> bool:
    local, namespace = _local(tag), _namespace(tag)
    return (local == "item" and namespace in _RSS_CORE) or (
        local == "entry" and namespace in (ATOM, "")
    )


# Feed-level elements that date the feed (the digest day) or describe an API answer.
_FEED_FIELDS = frozenset({"pubDate", "lastBuildDate", "date", "updated", "totalResults"})


@dataclass(slots=True)
class _Item:
    """One feed item's element, with where it started."""

    line: int
    number: int
    element: Element | None  # None: the item was too large and was not kept


class _Collector:
    """The parser's target: keeps only the current item's tree and the feed's own dates."""

    def __init__(self, where: Callable[[], int]) -> None:
        self.where = where
        self.stack: list[str] = []
        self.root: str | None = None
        self.feed_fields: dict[str, str] = {}
        self.done: list[_Item] = []
        self.items_seen = 0
        self._item: _Item | None = None
        self._item_depth = 0
        self._builder: TreeBuilder | None = None
        self._elements = 0
        self._chars = 0
        self._field: str | None = None
        self._field_text: list[str] = []

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self.root is None:
            self.root = tag
            if _local(tag) not in ("rss", "feed", "RDF"):
                raise InputError(
                    f"XML document is <{_local(tag)}>, not a feed (<rss>, Atom <feed> or "
                    "RSS 1.0 <rdf:RDF>)"
                )
        parent = self.stack[-1] if self.stack else None
        self.stack.append(tag)
        if len(self.stack) > MAX_DEPTH:
            raise InputError(
                f"XML nested more than {MAX_DEPTH} elements deep at line {self.where()}; "
                "refused (no feed is built that way)"
            )
        if self._item is not None:
            self._item_start(tag, attrib)
        elif _is_item(tag):
            self.items_seen += 1
            self._item = _Item(self.where(), self.items_seen, None)
            self._item_depth = len(self.stack)
            from xml.etree.ElementTree import TreeBuilder  # only when a feed is read

            self._builder = TreeBuilder()
            self._elements = self._chars = 0
            self._item_start(tag, attrib)
        elif (
            parent is not None
            and _is_feed_level(parent, self.root)
            and (_local(tag) in _FEED_FIELDS and _local(tag) not in self.feed_fields)
        ):
            self._field, self._field_text = _local(tag), []

    def _item_start(self, tag: str, attrib: dict[str, str]) -> None:
        self._elements += 1
        if self._builder is not None and self._elements > MAX_ITEM_ELEMENTS:
            self._builder = None  # too large to be an item: dropped, reported when it ends
        if self._builder is not None:
            self._builder.start(tag, attrib)

    def end(self, tag: str) -> None:
        depth = len(self.stack)
        self.stack.pop()
        if self._item is not None:
            if self._builder is not None:
                self._builder.end(tag)
            if depth == self._item_depth:
                if self._builder is not None:
                    self._item.element = self._builder.close()
                self.done.append(self._item)
                self._item, self._builder = None, None
        elif self._field is not None:
            self.feed_fields[self._field] = "".join(self._field_text)
            self._field = None

    def data(self, text: str) -> None:
        if self._builder is not None:
            self._chars += len(text)
            if self._chars > MAX_ITEM_CHARS:
                self._builder = None
            else:
                self._builder.data(text)
        elif self._field is not None and sum(map(len, self._field_text)) < 1000:
            self._field_text.append(text)

    def close(self) -> None:
        return None


def _is_feed_level(parent: str, root: str | None) -> bool:
    """Children of `<channel>` (RSS) or of the Atom `<feed>` describe the feed itself."""
    return _local(parent) == "channel" or (parent == root and _local(parent) == "feed")


def _xml_events(lines: Iterable[str]) -> Iterator[tuple[_Collector, list[_Item]]]:
    """Feed the lines to a defused XML parser; after each line, the items it completed."""
    defused: Any = importlib.import_module("defusedxml.ElementTree")
    common: Any = importlib.import_module("defusedxml.common")
    holder: list[Any] = []
    collector = _Collector(lambda: int(holder[0].parser.CurrentLineNumber))
    parser = defused.DefusedXMLParser(
        target=collector, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    holder.append(parser)
    # Undeclared HTML entities (`&nbsp;`) are looked up in `parser.entity` once expat is told
    # an (unread) external DTD might define them; nothing is ever fetched.
    parser.parser.UseForeignDTD(True)
    parser.entity.update(_HTML_ENTITIES)
    size = 0
    try:
        for line in lines:
            size += len(line) + 1
            if size > MAX_DOCUMENT_CHARS:
                raise InputError(
                    f"too large for an XML feed ({size // 1_000_000}+ MB of text; "
                    f"paperidx reads up to {MAX_DOCUMENT_CHARS // 1_000_000} MB)"
                )
            text = _NOT_XML.sub("", line) + "\n"
            for start in range(0, len(text), _SLICE):
                parser.feed(text[start : start + _SLICE])
            if collector.done:
                yield collector, collector.done
                collector.done = []
        parser.close()
    except common.EntitiesForbidden as error:
        raise InputError(
            f"XML declares entities (<!ENTITY {error.name}>), refused for safety "
            "(entity expansion or external entities)"
        ) from None
    except common.DefusedXmlException as error:
        raise InputError(f"XML refused for safety: {type(error).__name__}") from None
    except SyntaxError as error:  # ParseError (from the copy of ElementTree defusedxml uses)
        raise InputError(_describe_xml_error(error, size)) from None
    except (ValueError, LookupError, UnicodeError, OverflowError) as error:
        raise InputError(f"unreadable XML: {error}") from None
    yield collector, collector.done


def _describe_xml_error(error: SyntaxError, size: int) -> str:
    position = getattr(error, "position", None)
    line = position[0] if position else "?"
    reason = str(error).split(":", 1)[0] if ": line" in str(error) else str(error)
    if reason in ("no element found", "unclosed token") and size:
        return f"XML feed ends before its elements are closed (truncated?) at line {line}"
    if reason == "syntax error" and line == 1:
        return "not XML: the feed does not start with an element (line 1)"
    return f"malformed XML at line {line}: {reason}"


# --- the parser -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    """What the feed says about all its items: its day, and the ids seen."""

    feed_day: dt.date | None = None
    fallback_day: dt.date | None = None
    used_item_dates: bool = False
    seen: dict[str, int] = field(default_factory=dict)


def parse(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    """Papers in one RSS / Atom / RDF feed; items that are not papers are `Skipped`."""
    context = _Context(fallback_day=date_in_name(options.source_name) or options.date)
    pending: list[_Item] = []
    dated = False
    collector: _Collector | None = None
    for collector, finished in _xml_events(lines):
        pending.extend(finished)
        if not dated and (pending or finished):
            context.feed_day = _feed_day(collector.feed_fields)
            # The feed's date comes before its items in every feed seen; when it does not,
            # the items wait for the end of the document, where it may still be.
            dated = context.feed_day is not None
        if dated:
            yield from _events(pending, context)
            pending = []
    if collector is None:
        return
    if not dated:
        context.feed_day = _feed_day(collector.feed_fields)
    yield from _events(pending, context)
    if collector.items_seen == 0:
        total = collector.feed_fields.get("totalResults", "").strip()
        if total == "0":
            yield Notice("the arXiv API query matched no papers (totalResults 0)")
        else:
            yield Notice("the feed has no items")


def _feed_day(fields: dict[str, str]) -> dt.date | None:
    for name in ("pubDate", "updated", "date", "lastBuildDate"):
        day = parse_date(fields.get(name))
        if day is not None:
            return day
    return None


def _events(items: list[_Item], context: _Context) -> Iterator[ParseEvent]:
    for item in items:
        if item.element is None:
            yield Skipped(item.line, f"item {item.number} is too large to be a paper; skipped")
            continue
        event = _item_event(item, item.element, context)
        if isinstance(event, RawRecord):
            key = _identity(event)
            first = context.seen.get(key)
            if first is not None:
                yield Skipped(item.line, f"item {item.number} repeats the paper at line {first}")
                continue
            context.seen[key] = item.line
            if event.date is None and event.published is not None:
                event.date = event.published
                if not context.used_item_dates:
                    context.used_item_dates = True
                    yield Notice(
                        "the feed gives no date of its own (and none was given or found in "
                        "the file name): each item's own date was used as the day it was seen"
                    )
        yield event


def _identity(record: RawRecord) -> str:
    if record.arxiv_id:
        return f"arxiv:{record.arxiv_id}"
    if record.doi:
        return f"doi:{record.doi}"
    return "title:" + "".join(ch for ch in record.title.casefold() if ch.isalnum())


# --- one item -------------------------------------------------------------------------------

_ANNOUNCE = lazy_compile(
    r"^\s*arXiv:\s*(\S+?)\s+Announce\s+Type:\s*([\w-]+)\s*(?:Abstract:)?\s*(.*)$",
    re.DOTALL | re.IGNORECASE,
)
# The RSS of arXiv before 2024: `Title. (arXiv:2107.03419v1 [hep-ex] UPDATED)`.
_OLD_ARXIV_TITLE = lazy_compile(
    r"\.?\s*\(arXiv:\s*(\S+?)\s*(?:\[[^\]]*\])?\s*(UPDATED|CROSS LISTED)?\)\s*$", re.IGNORECASE
)
_OAI_ARXIV = lazy_compile(r"^oai:arXiv\.org:", re.IGNORECASE)
_API_ERROR = lazy_compile(r"arxiv\.org/api/errors", re.IGNORECASE)
_HTML_HINT = lazy_compile(
    r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#x[0-9A-Fa-f]{1,6});"
)
_URL = lazy_compile(r"^https?://\S+$", re.IGNORECASE)
_DOI_URL = lazy_compile(r"^https?://(?:dx\.)?doi\.org/|/doi/(?:abs/|full/|pdf/|epdf/)?10\.", re.I)
_DOI_IDENTIFIER = lazy_compile(r"^\s*(?:doi:\s*|info:doi/|https?://(?:dx\.)?doi\.org/)?10\.", re.I)
_EMAIL_NAME = lazy_compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
_EMAIL = lazy_compile(r"^\s*\S+@\S+\s*$")
_INITIAL = r"[A-Z](?:[a-z]?\.)?"
_INITIALS = lazy_compile(rf"^{_INITIAL}(?:\s*-?\s*{_INITIAL})*$")
# Journal furniture around an abstract (Nature, APS).
_PUBLISHED_ONLINE = lazy_compile(
    r"^.{0,200}?Published online:\s*[^;]{0,40};\s*(?:doi:\s*\S+)?\s*", re.DOTALL
)
_AUTHORS_LINE = lazy_compile(
    r"^\s*(?:<p>)?\s*Authors?\s*\(s\)\s*:\s*(.*?)(?:<br\s*/?>|</p>)", re.I | re.S
)
_JOURNAL_TAIL = lazy_compile(r"\[[^\[\]]{1,100}\]\s*Published\s+[\w ,]{6,40}$")


def _item_event(item: _Item, element: Element, context: _Context) -> RawRecord | Skipped:
    atom = _namespace(element.tag) == ATOM or _local(element.tag) == "entry"
    entry_id = _text_of(element, "id", {ATOM, ""}) if atom else ""
    if _API_ERROR.search(entry_id):
        summary = _text_of(element, "summary", {ATOM, ""}) or entry_id
        raise InputError(f"arXiv API error: {collapse_whitespace(summary)}")

    raw_title = _title(element, atom)
    raw_abstract, announce = _abstract(element, atom)
    arxiv_id, announce_type = None, None
    if announce is not None:
        arxiv_id, announce_type = _arxiv_id(announce.group(1)), announce.group(2).lower()
    old_style = _OLD_ARXIV_TITLE.search(raw_title)
    if old_style is not None:
        raw_title = raw_title[: old_style.start()]
        arxiv_id = arxiv_id or _arxiv_id(old_style.group(1))
        announce_type = announce_type or _OLD_TYPES.get((old_style.group(2) or "").upper(), "new")
    links = _links(element, atom)
    arxiv_id = arxiv_id or _arxiv_id(entry_id) or _first_arxiv_id(links, element)
    from_arxiv = announce is not None or old_style is not None or _is_arxiv_entry(entry_id)

    authors = _authors(element, atom, from_arxiv)
    if announce is None and not atom:  # RSS markup, kept until now for its furniture
        if from_arxiv:
            raw_abstract = _html_text(raw_abstract)
        else:
            raw_abstract, byline = _journal_furniture(raw_abstract)
            authors = authors or byline
    # arXiv's titles are plain text with TeX (`<A>` is a title); elsewhere RSS text is HTML
    # by convention, where there is markup.
    plain = raw_title if atom else _html_text(raw_title)
    title = tex_to_text(raw_title) if from_arxiv else plain
    abstract = tex_to_text(raw_abstract) if from_arxiv else raw_abstract
    doi = _doi(element, links)

    if not title:
        return Skipped(item.line, f"item {item.number} has no title")
    if not (abstract or arxiv_id or doi or authors):
        return Skipped(
            item.line,
            f"item {item.number} ({title[:60]!r}) has no abstract, identifier or author: "
            "not a paper",
        )
    published = _published(element, atom)
    if announce_type in ("replace", "replace-cross"):
        published = None  # the date of the replacement, not of the paper
    return RawRecord(
        title=title,
        abstract=abstract,
        line=item.line,
        authors=authors,
        arxiv_id=arxiv_id,
        date=context.feed_day or context.fallback_day,
        links=links,
        doi=doi,
        published=published,
    )


_OLD_TYPES = {"UPDATED": "replace", "CROSS LISTED": "cross"}


def _children(element: Element, local: str, namespaces: Iterable[str]) -> list[Element]:
    wanted = set(namespaces)
    return [c for c in element if _local(c.tag) == local and _namespace(c.tag) in wanted]


def _text_of(element: Element, local: str, namespaces: Iterable[str]) -> str:
    for child in _children(element, local, namespaces):
        text = "".join(child.itertext())
        if text.strip():
            return text
    return ""


def _typed_text(element: Element) -> str:
    """An Atom text construct: `type="html"` holds markup as text, `xhtml` as elements."""
    kind = (element.get("type") or "text").lower()
    text = "".join(element.itertext())
    return strip_markup(text) if kind in ("html", "text/html") else collapse_whitespace(text)


def _html_text(text: str) -> str:
    """RSS text is HTML by convention, but often plain: only markup is treated as markup,
    so `d < 2 and e > 1` in a plain abstract survives."""
    return strip_markup(text) if _HTML_HINT.search(text) else collapse_whitespace(text)


def _title(element: Element, atom: bool) -> str:
    if atom:
        for child in _children(element, "title", {ATOM, ""}):
            text = _typed_text(child)
            if text:
                return text
    else:
        # As written: whether it is markup depends on who wrote it (see `_item`).
        text = collapse_whitespace(_text_of(element, "title", _RSS_CORE))
        if text:
            return text
    return collapse_whitespace(_text_of(element, "title", _DUBLIN_CORE))


def _abstract(element: Element, atom: bool) -> tuple[str, re.Match[str] | None]:
    """The abstract as text (arXiv's announcement prefix split off), and that prefix."""
    if atom:
        candidates = [
            *_children(element, "summary", {ATOM, ""}),
            *_children(element, "content", {ATOM, ""}),
        ]
        texts = [("".join(c.itertext()), c) for c in candidates]
    else:
        texts = [
            ("".join(c.itertext()), c)
            for local, namespaces in (
                ("description", _RSS_CORE),
                ("encoded", {CONTENT}),
                ("description", _DUBLIN_CORE),
                ("abstract", _DUBLIN_CORE),
            )
            for c in _children(element, local, namespaces)
        ]
    for raw, child in texts:
        if not raw.strip():
            continue
        announce = _ANNOUNCE.match(raw)
        if announce is not None:
            # arXiv's text is plain: `<think>` in an abstract is a word, not a tag.
            return collapse_whitespace(announce.group(3)), announce
        # RSS markup is returned as it is: journal furniture is found by its paragraphs.
        return (_typed_text(child) if atom else raw), None
    return "", None


def _journal_furniture(raw: str) -> tuple[str, list[str]]:
    """A journal description without its furniture, and the authors it names, if any."""
    authors: list[str] = []
    byline = _AUTHORS_LINE.match(raw)
    if byline is not None:
        authors = _names(byline.group(1))
        raw = raw[byline.end() :]
    text = _html_text(raw)
    text = _PUBLISHED_ONLINE.sub("", text, count=1) if "Published online:" in text[:300] else text
    text = _JOURNAL_TAIL.sub("", text).strip()
    return text, authors


def _is_arxiv_entry(entry_id: str) -> bool:
    return bool(_OAI_ARXIV.match(entry_id.strip())) or "arxiv.org/abs/" in entry_id.lower()


def _arxiv_id(text: str | None) -> str | None:
    if not text:
        return None
    value = _OAI_ARXIV.sub("arXiv:", text.strip())
    return find_arxiv_id(value) or normalize_arxiv_id(value.removeprefix("arXiv:"))


def _first_arxiv_id(links: list[str], element: Element) -> str | None:
    candidates = [*links, _text_of(element, "guid", _RSS_CORE), element.get(f"{{{RDF}}}about")]
    for candidate in candidates:
        if candidate and ("arxiv" in candidate.lower()):
            found = _arxiv_id(candidate)
            if found:
                return found
    return None


def _url(text: str | None) -> str | None:
    if not text:
        return None
    url = re.sub(r"\s+", "", text)
    return url if _URL.match(url) else None


def _links(element: Element, atom: bool) -> list[str]:
    found: list[str | None] = []
    if atom:
        found += [link.get("href") for link in _children(element, "link", {ATOM, ""})]
    else:
        found += [_text_of(element, "link", _RSS_CORE)]
        for guid in _children(element, "guid", _RSS_CORE):
            if (guid.get("isPermaLink") or "true").lower() != "false":
                found.append("".join(guid.itertext()))
        found.append(element.get(f"{{{RDF}}}about"))
    urls = [_url(value) for value in found]
    return list(dict.fromkeys(url for url in urls if url))


def _doi(element: Element, links: list[str]) -> str | None:
    for child in element:
        local, namespace = _local(child.tag).lower(), _namespace(child.tag)
        text = "".join(child.itertext())
        if local == "doi" and ("arxiv.org" in namespace or "prism" in namespace):
            doi = normalize_doi(text)
            if doi:
                return doi
    for child in element:
        if _local(child.tag) == "identifier" and _namespace(child.tag) in _DUBLIN_CORE:
            text = "".join(child.itertext())
            if _DOI_IDENTIFIER.match(text):
                doi = normalize_doi(text)
                if doi:
                    return doi
    for link in _children(element, "link", {ATOM, ""}):
        if (link.get("title") or "").lower() == "doi":
            doi = normalize_doi(link.get("href"))
            if doi:
                return doi
    guid = _text_of(element, "guid", _RSS_CORE).strip()
    for candidate in [*links, guid]:
        if _DOI_URL.search(candidate) or candidate.lower().startswith("doi:"):
            doi = normalize_doi(re.split(r"[?#]", candidate, maxsplit=1)[0])
            if doi:
                return doi
    return None


def _authors(element: Element, atom: bool, from_arxiv: bool) -> list[str]:
    names: list[str] = []
    if atom:
        for author in _children(element, "author", {ATOM, ""}):
            name = collapse_whitespace(_text_of(author, "name", {ATOM, ""}))
            if name:
                # The arXiv API gives one name per <author>; other feeds pack several.
                names += [name] if from_arxiv else _names(name)
    else:
        for author in _children(element, "author", _RSS_CORE):
            text = collapse_whitespace("".join(author.itertext()))
            with_name = _EMAIL_NAME.match(text)
            if with_name:
                names += _names(with_name.group(1))
            elif text and not _EMAIL.match(text):
                names += _names(text)
    for creator in _children(element, "creator", _DUBLIN_CORE):
        names += _names("".join(creator.itertext()))
    return list(dict.fromkeys(names))


def _names(text: str) -> list[str]:
    """Author names from one creator field: `A, B and C`, arXiv's old HTML links,
    or bioRxiv's `Surname, I., Surname, I.` pairs."""
    plain = _html_text(text)
    plain = re.sub(r":\s+", ", ", plain)  # `LHCb collaboration: R. Aaij, et al.`
    parts = [part.strip() for part in plain.strip().rstrip(",").split(",")]
    if (
        len(parts) >= 2
        and len(parts) % 2 == 0
        and all(_INITIALS.match(parts[i]) for i in range(1, len(parts), 2))
        and not any(_INITIALS.match(parts[i]) for i in range(0, len(parts), 2))
    ):
        return split_authors([f"{parts[i + 1]} {parts[i]}" for i in range(0, len(parts), 2)])
    return split_authors(plain)


def _published(element: Element, atom: bool) -> dt.date | None:
    candidates: list[str] = []
    if atom:
        candidates += [_text_of(element, "published", {ATOM, ""})]
    else:
        candidates += [_text_of(element, "pubDate", _RSS_CORE)]
    candidates += [_text_of(element, "date", _DUBLIN_CORE)]
    for child in element:
        if "prism" in _namespace(child.tag) and _local(child.tag) in (
            "publicationDate",
            "coverDate",
        ):
            candidates.append("".join(child.itertext()))
    if atom:
        candidates.append(_text_of(element, "updated", {ATOM, ""}))
    for candidate in candidates:
        day = parse_date(candidate)
        if day is not None:
            return day
    return None


FORMAT = InputFormat(
    name="feed",
    summary="RSS / Atom / RDF feeds: arXiv RSS and API answers, bioRxiv/medRxiv, journal TOCs",
    example="cs.CL.rss.xml",
    sniff=sniff,
    parse=parse,
)
