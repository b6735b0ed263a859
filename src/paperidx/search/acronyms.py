"""Acronyms a library defines for itself: "Low-Rank Adaptation (LoRA)" -> LoRA.

Mined from abstracts at ingest so that a query for "MoE" also finds papers that only write
"Mixture-of-Experts", and the other way round. A pair counts only when the short form's
letters can be matched, in order, to the initials (or word starts) of the words just
before the parenthesis, which keeps "(see Table 1)" and "(ours)" out.

Pure text, no Whoosh. The store keeps the pairs; `search.expansion` uses them at query
time, looking long forms up in the same `normalize_long_form` spelling they were stored in.
"""

from __future__ import annotations

import re

from paperidx.lazyre import lazy_compile

_PARENTHESIZED = lazy_compile(r"\(\s*([A-Za-z0-9][A-Za-z0-9\-]{1,11}?)s?\s*\)")
_WORD = lazy_compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*")
MAX_LONG_WORDS = 8
# Words a long form may hold without giving the acronym a letter: "Reinforcement Learning
# from Human Feedback (RLHF)", "Mixture-of-Experts (MoE)".
_FUNCTION_WORDS = frozenset(
    {"of", "and", "for", "the", "a", "an", "in", "on", "to", "with", "from", "via", "by"}
)


def find_acronyms(text: str) -> list[tuple[str, str]]:
    """(short, long) pairs defined in `text`, e.g. ("lora", "low-rank adaptation")."""
    pairs: list[tuple[str, str]] = []
    for match in _PARENTHESIZED.finditer(text):
        short = match.group(1)
        letters = [c for c in short if c.isalpha()]
        if len(letters) < 2 or not any(c.isupper() for c in short):
            continue
        before = _WORD.findall(text[max(0, match.start() - 120) : match.start()])
        long_form = _long_form(short, before[-MAX_LONG_WORDS:])
        if long_form:
            pairs.append((short.lower(), normalize_long_form(long_form)))
    return list(dict.fromkeys(pairs))


def normalize_long_form(text: str) -> str:
    """How long forms are stored and looked up: "Mixture-of-Experts" -> "mixture of experts"."""
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def _long_form(short: str, words: list[str]) -> str | None:
    """The shortest tail of `words` whose word starts spell the short form's letters."""
    target = "".join(c for c in short if c.isalnum()).lower()
    for start in range(len(words) - 1, -1, -1):
        candidate = words[start:]
        if len(candidate) < 2 and "-" not in candidate[0]:
            continue
        if _spells(target, candidate):
            if candidate[0].lower() in {"the", "a", "an", "of", "and", "for", "with"}:
                return None
            return " ".join(candidate)
    return None


def _spells(target: str, words: list[str]) -> bool:
    # Split hyphenated words so "Mixture-of-Experts" offers M, o, E.
    parts = [p for w in words for p in re.split(r"[-']", w) if p]
    if not parts or not target or parts[0][0].lower() != target[0]:
        return False
    return _match(target, [p.lower() for p in parts])


def _match(target: str, parts: list[str]) -> bool:
    """Every part contributes at least its first letter, in order; letters may come from inside
    a part (like "Gaussian Splatting" -> GS, "3D Gaussian Splatting" -> 3DGS)."""
    if not parts:
        return not target
    if not target:
        return all(p in _FUNCTION_WORDS for p in parts)
    head, rest = parts[0], parts[1:]
    if head in _FUNCTION_WORDS and _match(target, rest):
        return True
    if not head or head[0] != target[0]:
        return False
    # Take 1..n letters from this part (a prefix-subsequence), then continue.
    for taken in range(1, len(target) + 1):
        if not _is_subsequence(target[1:taken], head[1:]):
            break
        if _match(target[taken:], rest):
            return True
    return False


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)
