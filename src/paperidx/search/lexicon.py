"""What the field knows before the user's library says anything: shipped acronyms and words.

Mined offline from ~80,000 computer-science abstracts (arXiv cs and the Hugging Face Daily
Papers archive) by `tools/build_lexicon.py`; the data files are in `lexicon/` beside this
module. Three uses:

- Acronyms the library never spells out: `PEFT` -> "parameter efficient fine tuning",
  and the other way round, with how many papers define each pair.
- Whether a query word is a real word of the field (`knows`), so spelling correction leaves
  "turning", "photo" and "solvers" alone even when the user's small library lacks them.
- The Porter2 stems of those words (`stems`), which indexing looks up instead of stemming.

Pure Python and lazy: nothing is read until a query (or an index write) asks, and each file
only once per process (acronyms 50 KB, words 135 KB, stems 165 KB, gzip'd); acronyms and
words are searched in place, never parsed whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from paperidx.lazyre import lazy_compile

DATA = Path(__file__).with_name("lexicon")
ACRONYMS_FILE = "acronyms.tsv.gz"
WORDS_FILE = "words.tsv.gz"
STEMS_FILE = "stems.tsv.gz"
# Inflections tried when a word itself is not in the vocabulary ("tricking" -> "trick"):
# the vocabulary holds the words papers use, not every form of them.
_SUFFIXES = ("ing", "ed", "es", "s", "er", "ers", "ly")
_LETTERS_ONLY = lazy_compile(r"[a-z]+")
# A word typed in lower case is taken as an acronym when at least this share of the papers
# using it define it as one ("lora": most; "clip", "map": few).
LOWER_CASE_ACRONYM_SHARE = 0.1
MAX_FORMS = 3


class Form(NamedTuple):
    """One side of an acronym pair and the number of papers defining the pair."""

    text: str
    papers: int


class _Table:
    """A data file searched in place, never parsed whole: building dicts of its thousands
    of lines would cost more than every lookup a search makes (a `str.find` over the
    decompressed text takes microseconds)."""

    def __init__(self, text: str) -> None:
        self.text = "\n" + text  # every line, the first too, starts after a newline

    def rows(self, kind: str, key: str) -> list[list[str]]:
        """The fields after `kind <TAB> key` of each line holding them (lines are sorted, so
        they are next to each other)."""
        prefix = f"\n{kind}\t{key}\t"
        found = []
        start = self.text.find(prefix)
        while start >= 0:
            end = self.text.find("\n", start + 1)
            end = len(self.text) if end < 0 else end
            found.append(self.text[start + len(prefix) : end].split("\t"))
            start = end if self.text.startswith(prefix, end) else -1
        return found

    def frequency(self, word: str) -> int:
        """For the vocabulary (`count <TAB> word word ... ` lines): the count of `word`'s line."""
        where = self.text.find(f" {word} ")
        if where < 0:
            return 0
        line = self.text.rfind("\n", 0, where) + 1
        count = self.text[line : self.text.find("\t", line)]
        return int(count) if count.isdigit() else 0

    def header(self) -> int:
        key, _, value = self.text[1 : self.text.find("\n", 1)].partition("\t")
        return int(value) if key == "#papers" and value.isdigit() else 0


def singular(word: str) -> str:
    """A plain English plural's singular ("networks" -> "network"); other words unchanged.

    Shared with the builder, so long forms are looked up the way they were stored.
    """
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def long_form_key(text: str) -> str:
    """How a long form is looked up: lower case, words only, last word singular."""
    return _normalized_key(" ".join(re.findall(r"[^\W_]+", text.lower())))


def _normalized_key(text: str) -> str:
    # `text` is already lower case words with single spaces (as the lexicon stores them).
    head, _, last = text.rpartition(" ")
    return f"{head} {singular(last)}" if head else singular(last)


def _read(name: str, folder: Path) -> str | None:
    """A data file's text, or None when it is missing or damaged: a broken install must not
    break search, it only loses the shipped knowledge."""
    import gzip  # only a query that needs the lexicon pays for these
    import zlib

    try:
        return gzip.decompress((folder / name).read_bytes()).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None


@lru_cache(maxsize=4)
def _acronyms(folder: Path = DATA) -> _Table:
    """`s <TAB> acronym <TAB> as written <TAB> long form <TAB> papers` and
    `l <TAB> long form key <TAB> acronym as written <TAB> papers` lines."""
    return _Table(_read(ACRONYMS_FILE, folder) or "")


@lru_cache(maxsize=4)
def _words(folder: Path = DATA) -> _Table:
    return _Table(_read(WORDS_FILE, folder) or "")


@lru_cache(maxsize=4)
def stems(folder: Path = DATA) -> dict[str, str]:
    """The vocabulary's 16,000 most frequent words and their Porter2 stems (a line of words, a
    line of their stems), for indexing: loading them costs ~3.6 ms once; stemming a daily
    digest's ~2,800 distinct words would cost ~20 ms, and nine in ten are here. Empty when the
    file is missing or damaged (words get stemmed)."""
    words, _, stemmed = (_read(STEMS_FILE, folder) or "").rstrip("\n").partition("\n")
    keys, values = words.split(" "), stemmed.split(" ")
    if not words or len(keys) != len(values):
        return {}
    return dict(zip(keys, values, strict=True))


def _long_forms_of(key: str) -> list[Form]:
    return [Form(row[1], int(row[2])) for row in _acronyms().rows("s", key) if len(row) == 3]


def _short_forms_of(key: str) -> list[Form]:
    return [Form(row[0], int(row[1])) for row in _acronyms().rows("l", key) if len(row) == 2]


def acronym_key(word: str) -> str:
    """The lookup key of an acronym as typed: "GANs" -> "gan", "LLMs" -> "llm"."""
    key = word.lower()
    if len(key) > 2 and key.endswith("s") and not _long_forms_of(key):
        return key[:-1]
    return key


def _dominant(forms: list[Form]) -> list[str]:
    # The rule the library applies to its own pairs (`Store.alternatives`): a form defined in
    # under a third as many papers as the most common one would drag in unrelated papers.
    top = max((form.papers for form in forms), default=0)
    return [form.text for form in forms[:MAX_FORMS] if form.papers * 3 >= top]


def long_forms(acronym: str) -> list[str]:
    """The long forms the field gives an acronym, most used first ("GANs" ->
    ["generative adversarial network"]); [] for a word that is not a known acronym."""
    return _dominant(_long_forms_of(acronym_key(acronym)))


def acronyms_for(long_form: str) -> list[str]:
    """The acronyms of a typed-out long form ("Parameter-Efficient Fine-Tuning" -> ["PEFT"])."""
    return _dominant(_short_forms_of(long_form_key(long_form)))


def spelled(acronym: str) -> str:
    """How papers usually write an acronym ("lora" -> "LoRA"); as given when unknown."""
    rows = _acronyms().rows("s", acronym_key(acronym))
    return rows[0][0] if rows else acronym


def is_acronym(word: str) -> bool:
    """Whether a typed word means a known acronym: written with capitals ("PEFT", "GANs",
    "MoE"), or otherwise when papers use the word mostly as that acronym ("lora", "peft"),
    but not "map", "clip" or a sentence's first word ("It", "An"), which are words first."""
    forms = _long_forms_of(acronym_key(word))
    if not forms:
        return False
    if any(c.isupper() for c in word[1:]):
        return True  # a capital after the first letter: "PEFT", "GANs", "MoE"; not "It", "An"
    if len(word) < 3:
        return False  # "am", "it": short English words are rare in abstracts, not acronyms
    defined = sum(form.papers for form in forms)
    return defined >= LOWER_CASE_ACRONYM_SHARE * document_frequency(word)


def expansions(phrases: Iterable[str]) -> dict[str, list[str]]:
    """For each phrase that is a known acronym (see `is_acronym`) or long form: the other
    side's forms, lower case (the shape `Store.alternatives` gives for the library's own
    acronyms), keyed by the phrase in lower case."""
    found: dict[str, list[str]] = {}
    for phrase in phrases:
        text = phrase.strip()
        forms = long_forms(text) if " " not in text and is_acronym(text) else []
        forms = forms or [a.lower() for a in acronyms_for(text)]
        if forms:
            found[text.lower()] = forms
    return found


def document_frequency(word: str) -> int:
    """In how many of the lexicon's papers `word` occurs (0: never, or too rarely to list)."""
    lowered = word.lower()
    return _words().frequency(lowered) if _LETTERS_ONLY.fullmatch(lowered) else 0


def papers(folder: Path = DATA) -> int:
    """How many papers the lexicon was mined from."""
    return _words(folder).header()


def knows(word: str) -> bool:
    """Whether `word` is a real word of the field: in the vocabulary, an inflection of a word
    in it, or made of such parts ("x-ray", "text-to-image"). Words with digits ("3d",
    "gpt-4") are names, never misspellings, and count as known."""
    lowered = word.lower().strip("'\"")
    if not lowered or any(c.isdigit() for c in lowered):
        return bool(lowered)
    parts = _LETTERS_ONLY.findall(lowered)
    return bool(parts) and all(_knows_part(part) for part in parts)


_SHORT_VOWEL_END = lazy_compile(r"(?:^|[^aeiou])[aeiou][^aeiouwxy]$")


def _knows_part(part: str) -> bool:
    vocabulary = _words()
    if len(part) <= 2 or vocabulary.frequency(part):
        return True
    for suffix in _SUFFIXES:
        if not part.endswith(suffix) or len(part) - len(suffix) < 3:
            continue
        base = part[: -len(suffix)]
        if base[-1] == base[-2]:  # "running" -> "run"
            candidates: tuple[str, ...] = (base, base[:-1])
        elif suffix[0] in "ie" and _SHORT_VOWEL_END.search(base):
            # "splating" is not "splat" + ing (that is "splatting"), though "making" is
            # "make" + ing: a short-vowel ending only counts with its silent e.
            candidates = (base + "e",)
        else:
            candidates = (base, base + "e")  # "tricking" -> "trick", "hoped" -> "hope"
        if any(vocabulary.frequency(candidate) for candidate in candidates):
            return True
    return False
