"""Acronym expansion: "MoE" also finds "mixture of experts", and the other way round.

The pairs come from the library itself (`search.acronyms` mines them at ingest; the store
looks them up: the `Expansions` callable) and from the field (`search.lexicon`, mined from
~80,000 abstracts and shipped): `PEFT` is understood even in a library that never writes
"Parameter-Efficient Fine-Tuning (PEFT)". Where both know a phrase, the library's own
forms are used: it knows what its papers mean. A plural acronym is looked up as its
singular ("GANs" -> GAN), and where stemming leaves the two apart ("LLMs" and "LLM": Porter2
keeps a vowel-less word's "s") the other number is added too.

A query word that is a known acronym gets its long forms beside it, and a long form typed
out gets its acronyms, always weighing less than the words typed, so papers using the
user's own words still come first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from whoosh import query

from paperidx.search import fields
from paperidx.search.acronyms import normalize_long_form
from paperidx.search.analysis import analyse, stem
from paperidx.search.plan import plain_query_words
from paperidx.search.tuning import EXPANSION_BOOST

# Phrases (acronyms or long forms) -> the other side's forms, for those the library knows.
Expansions = Callable[[list[str]], dict[str, list[str]]]


def _phrase(long_form: str) -> Any:
    words = analyse(long_form)
    if not words:
        return None
    if len(words) == 1:
        return query.Term(fields.TEXT, words[0])
    return query.Phrase(fields.TEXT, words)


def expand(q: Any, alternatives: dict[str, list[str]]) -> Any:
    """Add each acronym's long forms beside the term, and typed-out long forms' acronyms.

    Alternatives weigh less than the words typed, so papers using the user's own words
    still come first.
    """
    by_stem: dict[str, list[Any]] = {}
    additions: list[Any] = []
    for phrase, forms in alternatives.items():
        extra = [p.with_boost(EXPANSION_BOOST) for p in map(_phrase, forms) if p is not None]
        if not extra:
            continue
        phrase_stem = stem(phrase)
        if phrase_stem is not None:
            by_stem.setdefault(phrase_stem, []).extend(extra)
        else:
            additions.extend(extra)

    def visit(node: Any) -> Any:
        if isinstance(node, query.Term) and node.fieldname == fields.TEXT:
            extra = by_stem.get(str(node.text))
            return query.Or([node, *extra]) if extra else node
        return node if node.is_leaf() else node.apply(visit)

    expanded = visit(q) if by_stem else q
    if additions:
        expanded = _with_optional(expanded, additions)
    return expanded


def _with_optional(q: Any, extra: list[Any]) -> Any:
    """Add OR-ed alternatives to a query, keeping its exclusions (`NOT x`) in force."""
    if isinstance(q, query.AndNot):
        return query.AndNot(_with_optional(q.a, extra), q.b)
    return query.Or([q, *extra])


def _grams(text: str) -> list[str]:
    words = normalize_long_form(text).split()
    return [" ".join(words[i : i + n]) for n in range(2, 7) for i in range(len(words) - n + 1)]


def long_form_hits(text: str, lookup: Expansions) -> dict[str, list[str]]:
    """Long forms typed out in the query ("mixture of experts") -> their acronyms."""
    grams = _grams(text)
    return lookup(grams) if grams else {}


LIBRARY = "library"
LEXICON = "lexicon"


@dataclass(frozen=True, slots=True)
class Alternatives:
    """Each phrase's other forms (lower case), and where they came from."""

    forms: dict[str, list[str]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # phrase -> LIBRARY or LEXICON


def _acronym_like(word: str) -> bool:
    """Whether a typed word may be an acronym's plural or singular ("GANs", "llms"), not an
    English word that happens to end in s ("has") or be short ("is")."""
    from paperidx.search import lexicon

    return any(c.isupper() for c in word[1:]) or lexicon.is_acronym(word)


def _singular_lookups(words: list[str], known: dict[str, list[str]]) -> dict[str, str]:
    # "GANs" -> "GAN": the acronym miner stores acronyms in the singular.
    return {
        w.lower(): w[:-1]
        for w in words
        if len(w) > 2 and w[-1] in "sS" and w.lower() not in known and _acronym_like(w)
    }


def _with_other_number(words: list[str], found: Alternatives) -> None:
    """Add "llm" beside a typed "LLMs" (and "llms" beside "LLM") where the stems differ."""
    for word in words:
        key = word.lower()
        if key not in found.forms or len(key) < 3 or not _acronym_like(word):
            continue
        other = key[:-1] if key.endswith("s") else key + "s"
        if stem(other) not in (None, stem(key)) and other not in found.forms[key]:
            found.forms[key] = [other, *found.forms[key]]


def alternatives(text: str, library: Expansions | None) -> Alternatives:
    """Acronyms and long forms in `text` -> their other forms, the library's first."""
    words = plain_query_words(text)
    found = Alternatives()
    if library is not None:
        # A stop word is no acronym, whatever a paper wrote: "is" is not IS (ischemic stroke).
        # (+0.002 nDCG@10 on SciFact, whose claims are full of them; no change elsewhere.)
        own = {
            phrase: forms
            for phrase, forms in (library(words) | long_form_hits(text, library)).items()
            if " " in phrase or "-" in phrase or stem(phrase) is not None
        }
        plurals = _singular_lookups(words, own)
        if plurals:
            singles = library(list(plurals.values()))
            own |= {w: singles[s.lower()] for w, s in plurals.items() if s.lower() in singles}
        found.forms.update(own)
        found.sources.update(dict.fromkeys(own, LIBRARY))
    if words:
        from paperidx.search import lexicon  # read only when a query has words to look up

        for phrase, forms in lexicon.expansions([*words, *_grams(text)]).items():
            if phrase not in found.forms:  # the library wins
                found.forms[phrase] = forms
                found.sources[phrase] = LEXICON
    _drop_inner_long_forms(found)
    for phrase, forms in found.forms.items():
        found.forms[phrase] = _distinct(forms)
    _with_other_number(words, found)
    return found


def _distinct(forms: list[str]) -> list[str]:
    """One form per analysis: "neural radiance fields" and "neural radiance field" search
    the same terms, and counting both would weigh the long form twice."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for form in forms:
        key = tuple(analyse(form))
        if key not in seen:
            seen.add(key)
            kept.append(form)
    return kept


def _drop_inner_long_forms(found: Alternatives) -> None:
    """ "large language models" is LLM, not also "language models" -> LM: a long form the
    lexicon finds inside a longer one typed out is not expanded (the library's own pairs
    are left as they were)."""
    grams = [phrase for phrase in found.forms if " " in phrase]
    for phrase in grams:
        if found.sources.get(phrase) == LEXICON and any(
            phrase != other and f" {phrase} " in f" {other} " for other in grams
        ):
            del found.forms[phrase]
            del found.sources[phrase]


def term_weights(alternatives: dict[str, list[str]]) -> dict[str, float]:
    """Extra query terms for the plain-query scorer: each alternative form's words share
    the form's weight, so a three-word long form counts as much as a one-word acronym."""
    weights: dict[str, float] = {}
    for forms in alternatives.values():
        for form in forms:
            terms = analyse(form)
            share = EXPANSION_BOOST / len(terms) if terms else 0.0
            # Long forms are stored without hyphens, but the index also holds each hyphenated
            # word joined ("fine-tuning" -> "finetun"), which is how many papers write it
            # ("parameter-efficient finetuning"): the joined pairs count too. Pairs no paper
            # writes joined have no postings and add nothing.
            parts = form.split()
            terms += [term for a, b in itertools.pairwise(parts) for term in analyse(a + b)]
            for term in terms:
                weights[term] = weights.get(term, 0.0) + share
    return weights


def describe(
    alternatives: dict[str, list[str]], sources: dict[str, str] | None = None
) -> list[str]:
    """The expansions as `--explain` shows them: "moe → mixture of experts (library)"."""
    sources = sources or {}
    return [
        f"{phrase} → {' | '.join(forms)}" + (f" ({sources[phrase]})" if phrase in sources else "")
        for phrase, forms in alternatives.items()
        if forms
    ]
