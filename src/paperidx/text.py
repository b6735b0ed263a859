"""Small pure text helpers shared by parsers, records and renderers."""

from __future__ import annotations

import re

from paperidx.lazyre import lazy_compile

_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z.\-]*/\d{7}"
_ARXIV_ID = lazy_compile(
    rf"^(?:arxiv:\s*|https?://(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/)?"
    rf"({_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?(?:\.pdf)?/?$",
    re.IGNORECASE,
)


_DOI = lazy_compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_TRAILING = ".,;:)]}>"
_WHITESPACE = lazy_compile(r"\s+")
_URL = lazy_compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\""
# Terminal control: C0 (except tab), DEL, C1, and the bidirectional overrides that can make
# text display differently from what it is.
_UNSAFE = lazy_compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def collapse_whitespace(text: str) -> str:
    """Join hard-wrapped lines: every run of whitespace becomes one space."""
    return _WHITESPACE.sub(" ", text).strip()


def _strip_url_tail(url: str) -> str:
    url = url.rstrip(_URL_TRAILING)
    # A closing bracket belongs to the URL only when the URL opened one.
    for opening, closing in ("()", "[]", "{}"):
        while url.endswith(closing) and url.count(closing) > url.count(opening):
            url = url[:-1].rstrip(_URL_TRAILING)
    return url


def find_urls(text: str) -> list[str]:
    """URLs mentioned in running text, without the sentence punctuation that follows them."""
    urls = (_strip_url_tail(match.group()) for match in _URL.finditer(text))
    return list(dict.fromkeys(url for url in urls if len(url) > len("https://")))


def inert(text: str) -> str:
    """Make untrusted text safe to print: control characters become visible escapes.

    `\\x1b[31m` is shown as the characters `\\x1b[31m`, never sent to the terminal as an
    escape sequence. Newlines are escaped too: one record, one line.
    """
    return _UNSAFE.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def normalize_arxiv_id(value: str) -> str | None:
    """`arXiv:2405.15738v2`, an arxiv.org or huggingface.co/papers URL -> `2405.15738`."""
    match = _ARXIV_ID.match(value.strip())
    return match.group(1).lower() if match else None


def normalize_doi(value: str | None) -> str | None:
    """`https://doi.org/10.1145/ABC`, `doi:10.1145/abc`, `DOI 10.1145/abc.` -> `10.1145/abc`.

    DOIs are case-insensitive, so they are kept lower-cased: one paper, one key.
    """
    import html  # its entity table is not small: only a DOI needs it

    if not value:
        return None
    match = _DOI.search(html.unescape(value))
    if match is None:
        return None
    doi = match.group(1).rstrip(_DOI_TRAILING)
    # A closing bracket belongs to the DOI only when the DOI opened one (10.1002/(SICI)…).
    for opening, closing in ("()", "[]"):
        while doi.endswith(closing) and doi.count(closing) > doi.count(opening):
            doi = doi[:-1]
    return doi.lower() if len(doi) > len("10.1/") else None
