"""What every parser needs, written once: dates, authors, identifiers, markup and TeX.

Parsers differ in the shape of their input, not in what a date or an arXiv id looks like.
Everything here is a pure function of a string, tolerant of what real digests contain
(non-breaking spaces, versions on arXiv ids, `https://doi.org/` prefixes, LaTeX accents).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from collections.abc import Iterable

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile
from paperidx.text import collapse_whitespace, normalize_arxiv_id, normalize_doi

__all__ = [
    "MAX_DOCUMENT_CHARS",
    "MONTHS",
    "find_arxiv_id",
    "iso_day",
    "join_document",
    "make_date",
    "normalize_arxiv_id",
    "normalize_doi",
    "parse_date",
    "resolve_year",
    "split_authors",
    "strip_markup",
    "tex_to_text",
]

# Whole-document formats (XML, HTML, BibTeX, e-mail) are read into memory; past this the
# input is refused rather than risking the machine's memory on a hostile file.
MAX_DOCUMENT_CHARS = 40_000_000

MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january", "janv"),
            ("feb", "february", "febr"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"

_ISO_DATE = lazy_compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s].*)?$")
_ISO_START = lazy_compile(r"(\d{4})-(\d{2})-(\d{2})")
_COMPACT_DATE = lazy_compile(r"^(\d{4})(\d{2})(\d{2})$")
_DAY_MONTH_YEAR = lazy_compile(
    rf"^{_WEEKDAY}(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b.*$", re.IGNORECASE
)
_MONTH_DAY_YEAR = lazy_compile(
    rf"^{_WEEKDAY}({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b.*$", re.IGNORECASE
)

_ARXIV_IN_TEXT = lazy_compile(
    r"(?:arxiv[:\s]*(?:abs/)?|arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/)"
    r"\s*(\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7})(?:v\d+)?",
    re.IGNORECASE,
)

_TAG = lazy_compile(r"<[^>]*>")
_BREAK_TAG = lazy_compile(
    r"<\s*(?:[\w-]+:)?br\b[^>]*>|</\s*(?:[\w-]+:)?(?:p|div|li|h\d|tr|title|sec)\s*>", re.IGNORECASE
)

_AUTHOR_SPLIT = lazy_compile(r"\s*;\s*|\s*,\s*(?:and\s+|&\s*)?|\s+and\s+|\s+&\s+", re.IGNORECASE)
# Affiliation markers after a name: "(1)", "(1, 2)", "1,2", "*", "†".
_AFFILIATION = lazy_compile(r"\s*(?:\(\s*[\d,\s]+\)|\d+(?:,\d+)*|[*†‡§¶]+)$")
_AUTHOR_NOISE = frozenset({"et al", "et al.", "others", "and others", "..."})


def make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str | None) -> dt.date | None:
    """A calendar day written the ways digests write it, or None.

    ISO (`2024-11-07`, `2024-11-07T02:49:53Z`), RFC 2822 (`Thu, 7 Nov 2024 02:49:53 GMT`),
    `7 Nov 2024`, `Nov 7, 2024`, `November 7th 2024`, `2024/11/07`, `20241107`.
    A date without a day (`2024-11`, `Nov 2024`) is not a day, so it is None.
    """
    if not text:
        return None
    value = collapse_whitespace(text.replace("\u00a0", " "))
    for pattern, order in (
        (_ISO_DATE, "ymd"),
        (_COMPACT_DATE, "ymd"),
        (_DAY_MONTH_YEAR, "dmy"),
        (_MONTH_DAY_YEAR, "mdy"),
    ):
        match = pattern.match(value)
        if match is None:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month = parts["m"]
        number = MONTHS.get(month.lower().rstrip(".")) if not month.isdigit() else int(month)
        if number is None:
            return None
        return make_date(int(parts["y"]), number, int(parts["d"]))
    return None


def iso_day(value: object) -> dt.date | None:
    """The day an ISO 8601 value starts with (`2024-05-27T07:54:25.329Z`), as APIs and page
    data write timestamps; None for anything else (not a string, not a real day)."""
    match = _ISO_START.match(value.strip()) if isinstance(value, str) else None
    return make_date(int(match[1]), int(match[2]), int(match[3])) if match else None


def resolve_year(month: int, day: int, today: dt.date, slack_days: int = 2) -> dt.date | None:
    """A year-less `month day` as the most recent such day, not more than `slack_days` ahead.

    A digest read in early January that says "Dec 30" means last year's December.
    """
    candidate = make_date(today.year, month, day)
    if candidate is None:  # Feb 29 in a non-leap year: the last leap year's
        for year in range(today.year - 1, today.year - 8, -1):
            candidate = make_date(year, month, day)
            if candidate is not None:
                return candidate
        return None
    if candidate - today > dt.timedelta(days=slack_days):
        return make_date(today.year - 1, month, day)
    return candidate


def find_arxiv_id(text: str | None) -> str | None:
    """The first arXiv id a piece of text mentions (`arXiv:2411.13560v2`, an arxiv.org or
    huggingface.co/papers URL), versions stripped; a bare id on its own counts too."""
    if not text:
        return None
    match = _ARXIV_IN_TEXT.search(text)
    if match:
        return match.group(1).lower()
    return normalize_arxiv_id(text)


def strip_markup(text: str | None) -> str:
    """HTML or JATS markup to plain text: tags dropped, entities decoded, whitespace joined.

    `<jats:p>A</jats:p><jats:p>B</jats:p>` -> `A B`.
    """
    if not text:
        return ""
    spaced = _BREAK_TAG.sub(" ", text)
    return collapse_whitespace(html.unescape(_TAG.sub("", spaced)).replace("\u00a0", " "))


def split_authors(text: str | Iterable[str] | None) -> list[str]:
    """`A. Author, B. Author and C. Author` -> three names; also `;` and `&` separated.

    Affiliation markers (`(1)`, `1,2`, `*`) and "et al." are dropped; a list of names is
    cleaned the same way.
    """
    if not text:
        return []
    if isinstance(text, str):
        # Parenthesised affiliations: "(MIT)", "(1, 2)", "(1) MIT".
        cleaned = re.sub(r"\([^()]*\)", " ", text)
        cleaned = collapse_whitespace(cleaned.replace("\u00a0", " "))
        pieces: Iterable[str] = _AUTHOR_SPLIT.split(cleaned)
    else:
        pieces = text
    names: list[str] = []
    for piece in pieces:
        name = collapse_whitespace(_AFFILIATION.sub("", collapse_whitespace(piece)))
        name = name.strip(" ,;")
        if name and name.lower() not in _AUTHOR_NOISE and any(c.isalpha() for c in name):
            names.append(name)
    return list(dict.fromkeys(names))


def join_document(lines: Iterable[str], what: str, limit: int = MAX_DOCUMENT_CHARS) -> str:
    """The whole input as one string, for formats read as a document (XML, HTML, BibTeX).

    Refuses inputs larger than `limit` characters with a one-line `InputError`.
    """
    pieces: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > limit:
            raise InputError(
                f"too large for {what} ({size // 1_000_000}+ MB of text; "
                f"paperidx reads up to {limit // 1_000_000} MB)"
            )
        pieces.append(line)
    return "\n".join(pieces)


# -- TeX -------------------------------------------------------------------------------

_TEX_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_TEX_SYMBOLS = {
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "o": "ø",
    "O": "Ø",
    "l": "ł",
    "L": "Ł",
    "i": "\u0131",
    "j": "ȷ",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "textendash": "\u2013",
    "textemdash": "—",
    "textquoteright": "\u2019",
    "textquoteleft": "\u2018",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "textbackslash": "\\",
    "textasciitilde": "~",
    "textasciicircum": "^",
    "textunderscore": "_",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "dag": "†",
    "ddag": "‡",
    "S": "§",
    "P": "¶",
    "copyright": "©",
    "pounds": "£",
    "euro": "€",
    "ldots": "…",
    "dots": "…",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "BibTeX": "BibTeX",
    "&": "&",
    "%": "%",
    "$": "$",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "-": "",  # a discretionary hyphen
    "/": "",
    "\\": " ",  # a forced line break
}
# Commands whose braced argument is not text a reader sees in the title or abstract.
# Every other command is dropped and its argument kept (`\\emph{x}`, `{\\bf x}` -> `x`).
_TEX_DROP_ARGUMENT = frozenset(
    {
        "cite",
        "citep",
        "citet",
        "ref",
        "eqref",
        "label",
        "thanks",
        "footnote",
        "vspace",
        "hspace",
        "includegraphics",
        "href",
    }  # \\href{url}{text}: the url goes, the text stays
)
# A control word eats the spaces after it, as TeX does (`\o x` prints `øx`); a control
# symbol (`\%`) does not.
_TEX_COMMAND = lazy_compile(r"\\(?:([A-Za-z]+)\s*|(.))", re.DOTALL)
# The characters `tex_to_text` acts on; everything between them is copied as it is.
_TEX_SPECIAL = lazy_compile(r"[$\\{}~\-`']")
_TEX_ACCENT_ARGUMENT = lazy_compile(r"\s*(?:\{\\?([A-Za-z]?)\}|\\([ij])\b|([A-Za-z]))")


def tex_to_text(value: str | None) -> str:
    """LaTeX as found in BibTeX and arXiv metadata, as the text it prints.

    Accents become Unicode (`{\\"o}` -> `ö`, `\\'{e}` -> `é`), text commands keep their
    argument (`\\emph{x}` -> `x`), protective braces go (`{LoRA}` -> `LoRA`), `--` is an en
    dash, `~` a space. Math (`$\\alpha$`) is kept as written, less the dollar signs' braces:
    it is what a reader would search for.
    """
    if not value:
        return ""
    out: list[str] = []
    i, n = 0, len(value)
    in_math = False
    while i < n:
        # Plain text up to the next character that may mean something is copied whole: a
        # loop over every character cost ~1 ms an abstract (an arXiv mail of 200: 0.2 s).
        special = _TEX_SPECIAL.search(value, i)
        if special is None:
            out.append(value[i:])
            break
        if special.start() > i:
            out.append(value[i : special.start()])
            i = special.start()
        ch = value[i]
        if ch == "$":
            in_math = not in_math
            out.append(ch)
            i += 1
        elif ch == "\\":
            match = _TEX_COMMAND.match(value, i)
            if match is None:  # a lone backslash at the end
                i += 1
                continue
            name = match.group(1) or match.group(2)
            i = match.end()
            if in_math:
                spacer = " " if name.isalpha() and i < n and value[i].isalpha() else ""
                out.append("\\" + name + spacer)
                continue
            if name in _TEX_ACCENTS and (len(name) == 1 or i < n):
                argument = _TEX_ACCENT_ARGUMENT.match(value, i)
                if argument:
                    base = argument.group(1) or argument.group(2) or argument.group(3) or ""
                    base = {"i": "i", "j": "j"}.get(base, base)
                    out.append(unicodedata.normalize("NFC", base + _TEX_ACCENTS[name]))
                    i = argument.end()
                    continue
            if name in _TEX_SYMBOLS:
                out.append(_TEX_SYMBOLS[name])
                # `\o{}` / `\ss{}`: an empty group after a symbol is only a separator.
                if value.startswith("{}", i):
                    i += 2
            elif name in _TEX_DROP_ARGUMENT and i < n and value[i] == "{":
                i = _skip_group(value, i)
        elif ch in "{}":
            if in_math:  # `$f_\mathrm{NL}$` keeps its grouping
                out.append(ch)
            i += 1
        elif ch == "~" and not in_math:
            out.append(" ")
            i += 1
        elif ch == "-" and value.startswith("---", i) and not in_math:
            out.append("—")
            i += 3
        elif ch == "-" and value.startswith("--", i) and not in_math:
            out.append("\u2013")
            i += 2
        elif value.startswith("``", i) or value.startswith("''", i):
            out.append("“" if value[i] == "`" else "”")
            i += 2
        else:
            out.append(ch)
            i += 1
    return collapse_whitespace("".join(out))


def _skip_group(value: str, start: int) -> int:
    """The index just past the braced group opening at `start`."""
    depth = 0
    for index in range(start, len(value)):
        if value[index] == "{":
            depth += 1
        elif value[index] == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(value)


# -- reference-manager helpers (appended for the bibtex, ris and csl-json parsers) --------

_ARXIV_DOI = lazy_compile(r"10\.48550/arxiv\.(\d{4}\.\d{4,5}|[a-z][a-z.\-]*/\d{7})", re.IGNORECASE)
_NAME_SUFFIX = lazy_compile(r"^(?:jr|sr|jun|sen|[IVX]+)\.?$", re.IGNORECASE)


def arxiv_id_from_doi(value: str | None) -> str | None:
    """The arXiv id in arXiv's own DataCite DOI (`10.48550/arXiv.2305.01582`), else None."""
    match = _ARXIV_DOI.search(value) if value else None
    return match.group(1).lower() if match else None


def first_last(name: str) -> str:
    """`Last, First` -> `First Last`; `Last, First, Jr.` -> `First Last Jr.`; else unchanged.

    Reference managers (RIS `AU`, BibTeX `author`) write names family-first.
    """
    parts = [part.strip() for part in name.split(",")]
    parts = [part for part in parts if part]
    if len(parts) == 2:
        parts = [parts[1], parts[0]]
    elif len(parts) >= 3 and _NAME_SUFFIX.match(parts[2]):
        parts = [parts[1], parts[0], *parts[2:]]
    elif len(parts) >= 3:  # BibTeX's "von Last, Jr, First"
        parts = [", ".join(parts[2:]), parts[0], parts[1]]
    return collapse_whitespace(" ".join(parts))
