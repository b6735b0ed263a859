"""BibTeX: one `@misc` entry per paper, ready for a LaTeX bibliography.

`@misc` because digests list preprints: `@article` would need a journal we do not know,
and styles warn about it. With an arXiv id the entry carries `eprint` and
`archivePrefix = {arXiv}` (what biblatex and arXiv's own export use), and its year and
month are the submission month the id encodes; otherwise they are the day the paper first
appeared in a digest.

Text is escaped so that no title or abstract can break the file: the ten TeX specials
become commands, and braces become `\\textbraceleft{}`/`\\textbraceright{}` rather than
`\\{`, because BibTeX counts every brace, escaped or not, when it finds where a field
ends. Non-ASCII letters stay UTF-8 (biber and modern LaTeX read them as they are). Words
whose capitals must survive a style's sentence-casing, like `LoRA` or `3D`, are braced.

Keys follow the common `lastname2024firstword` pattern and are made unique within one
export with letter suffixes (`doe2024lorab`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import count, product
from string import ascii_lowercase

from paperidx.results import StoredPaper
from paperidx.text import inert

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_SPECIAL = re.compile(r"[\\{}%&$#_^~]")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Words a citation key skips, as Google Scholar and most reference managers do.
_KEY_STOPWORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with"})
_NEW_ARXIV_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_ARXIV_ID = re.compile(r"/(\d{2})(\d{2})\d{3}$")


def export_bibtex(papers: Iterable[StoredPaper]) -> Iterator[str]:
    used: set[str] = set()
    for paper in papers:
        key = unique_key(citation_key(paper), used)
        used.add(key)
        yield entry(paper, key)


def entry(paper: StoredPaper, key: str) -> str:
    """One `@misc` entry, fields in the order people expect to read them."""
    fields: list[tuple[str, str]] = [("title", "{" + protected_title(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", "{" + " and ".join(map(_author, paper.authors)) + "}"))
    year, month = year_and_month(paper)
    if year is not None:
        fields.append(("year", "{" + str(year) + "}"))
    if month is not None:
        fields.append(("month", _MONTHS[month - 1]))  # a BibTeX macro, so no braces
    if paper.arxiv_id:
        fields.append(("eprint", "{" + escape(paper.arxiv_id) + "}"))
        fields.append(("archivePrefix", "{arXiv}"))
    if paper.doi:
        fields.append(("doi", "{" + escape(paper.doi) + "}"))
    url = paper.arxiv_url or (paper.links[0] if paper.links else None)
    if url:
        fields.append(("url", "{" + _url(url) + "}"))
    if paper.abstract:
        fields.append(("abstract", "{" + escape(paper.abstract) + "}"))
    body = ",\n".join(f"  {name} = {value}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n\n"


def escape(text: str) -> str:
    """Untrusted text as a BibTeX field's content: TeX specials and controls made literal."""
    escaped = _SPECIAL.sub(lambda match: _ESCAPES[match.group()], inert(text))
    # TeX prints `--` as an en dash and `''`/``` `` ``` as curly quotes: a pair in the text
    # stays two characters.
    for pair in ("--", "''", "``"):
        while pair in escaped:
            escaped = escaped.replace(pair, pair[0] + "{}" + pair[1])
    return escaped


def protected_title(title: str) -> str:
    """The escaped title, with words that have capitals after their first letter braced."""
    words = title.split(" ")
    return " ".join("{" + escape(w) + "}" if _has_inner_capital(w) else escape(w) for w in words)


def _has_inner_capital(word: str) -> bool:
    # "LoRA", "GPT-4", "3D", "NeRF" keep their case; "Gaussian" may be sentence-cased.
    return any(ch.isupper() for ch in word[1:])


def _author(name: str) -> str:
    """One name; names BibTeX would misread (an "and", many commas) become one unit."""
    escaped = escape(name)
    if re.search(r"\band\b", name, re.IGNORECASE) or name.count(",") > 1:
        return "{" + escaped + "}"
    return escaped


def _url(url: str) -> str:
    # URLs are printed verbatim by \url; only what would unbalance the field is encoded.
    return inert(url).replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def year_and_month(paper: StoredPaper) -> tuple[int | None, int | None]:
    """The arXiv submission month when the id encodes it, else the first digest day's."""
    if paper.arxiv_id:
        match = _NEW_ARXIV_ID.match(paper.arxiv_id) or _OLD_ARXIV_ID.search(paper.arxiv_id)
        if match and 1 <= int(match[2]) <= 12:
            yy = int(match[1])
            # Old-style ids began in 1991; two-digit years below that are this century.
            return (1900 + yy if yy >= 91 else 2000 + yy), int(match[2])
    if paper.date is not None:
        return paper.date.year, paper.date.month
    return None, None


def citation_key(paper: StoredPaper) -> str:
    """`lastname` + year + first significant title word, ASCII letters and digits only."""
    last = _ascii_word(_last_name(paper.authors[0])) if paper.authors else ""
    year, _ = year_and_month(paper)
    words = (_ascii_word(word) for word in paper.title.split())
    first = next((w for w in words if w and w not in _KEY_STOPWORDS), "")
    return f"{last or 'anon'}{year or ''}{first or 'paper'}"


def _last_name(name: str) -> str:
    if "," in name:
        return name.split(",", 1)[0]
    parts = name.split()
    return parts[-1] if parts else ""


def _ascii_word(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def unique_key(key: str, used: set[str]) -> str:
    """`key`, or `key` with the first letter suffix (b, c, ..., z, ba, ...) not yet used."""
    if key not in used:
        return key
    for suffix in _suffixes():
        if key + suffix not in used:
            return key + suffix
    raise AssertionError("unreachable: the suffixes never run out")


def _suffixes() -> Iterator[str]:
    for length in count(1):
        for letters in product(ascii_lowercase, repeat=length):
            suffix = "".join(letters)
            if suffix != "a":  # the first paper is the implicit "a"
                yield suffix
