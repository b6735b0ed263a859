"""Markdown: a readable reading list, one section per paper.

    ## Title
    `3f2a9c01de` · 2024-05-07 · [arXiv:2405.15738](https://arxiv.org/abs/2405.15738)
    *Ada Lovelace, Alan Turing*
    The abstract.

Paper text is untrusted and a Markdown viewer is a renderer, so text is escaped: every
character Markdown or inline HTML gives a meaning to is backslash-escaped (CommonMark
allows that for any ASCII punctuation, and it reads back as the same text), a line that
would start a list or heading is defused, and control characters go through
`paperidx.text.inert`. `$` is left alone so viewers with math support show TeX math.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from paperidx.results import StoredPaper
from paperidx.text import inert

# `!` needs no escape: an image needs `[`, which is escaped.
_INLINE = re.compile(r"([\\`*_\[\]<>#|&~])")
# At the start of a line these would make a list item, heading, quote or rule.
_BLOCK_START = re.compile(r"^(\d+)([.)])|^([-+=])")


def export_markdown(papers: Iterable[StoredPaper]) -> Iterator[str]:
    for paper in papers:
        yield section(paper)


def section(paper: StoredPaper) -> str:
    lines = [f"## {escape(paper.title)}", "", _facts(paper)]
    if paper.authors:
        lines += ["", "*" + escape(", ".join(paper.authors)) + "*"]
    lines += ["", paragraph(paper.abstract)]
    if paper.links:
        lines += ["", "Links: " + " ".join(f"<{_url(link)}>" for link in paper.links)]
    return "\n".join(lines) + "\n\n"


def _facts(paper: StoredPaper) -> str:
    facts = [f"`{paper.id}`"]
    if paper.date is not None:
        facts.append(paper.date.isoformat())
    if paper.arxiv_id and paper.arxiv_url:
        # Stored arXiv ids are normalized (digits, letters, '.', '/', '-'): nothing to escape.
        facts.append(f"[arXiv:{paper.arxiv_id}]({paper.arxiv_url})")
    return " · ".join(facts)


def escape(text: str) -> str:
    """Untrusted text inside a Markdown line, shown exactly as it is."""
    return _INLINE.sub(r"\\\1", inert(text))


def paragraph(text: str) -> str:
    """Untrusted text as a whole paragraph: also never a list item, heading or rule."""
    escaped = escape(text)
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)


def _url(url: str) -> str:
    # Inside <...> an autolink ends at '>' or a space; encode what would end it early.
    return inert(url).replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
