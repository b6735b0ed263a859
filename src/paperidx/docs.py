"""The parts of the README generated from the code, so they cannot drift from it.

Each generated part sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->` in
README.md. `python3 dev.py docs` rewrites them; `tests/test_docs.py` fails when one is out
of date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _input_formats() -> str:
    from paperidx.parsing import format_table

    return format_table()


def _ranking() -> str:
    from paperidx.search import tuning as t

    return (
        'Porter2 stems, words with inner hyphens indexed whole and as parts ("gpt-4" → gpt,\n'
        f"4, gpt4); BM25 (k1={t.K1}, b={t.B}, Lucene's idf) over title+abstract plus "
        f"{t.TITLE_WEIGHT} \u00d7 BM25\non the title; the best {t.RERANK_DEPTH} re-ranked with a "
        f"bonus (weight {t.PROXIMITY_WEIGHT}) for query-term\npairs within {t.PROXIMITY_SPAN} "
        f"words of each other; acronym alternatives weigh {t.EXPANSION_BOOST} of a typed word;\n"
        f"spelling corrects by at most {t.MAX_EDIT_DISTANCE} edits (two only for words of "
        f"{t.LONG_WORD}+ letters). Every constant\nand why it has its value: "
        "`src/paperidx/search/tuning.py`."
    )


SECTIONS: dict[str, Callable[[], str]] = {"input-formats": _input_formats, "ranking": _ranking}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end: {re.escape(name)} -->)",
        re.DOTALL,
    )


def rendered(text: str) -> str:
    """`text` (the README) with every generated section brought up to date."""
    for name, make in SECTIONS.items():
        pattern = _pattern(name)
        found = pattern.search(text)
        if found is None:
            raise ValueError(f"README has no generated section {name!r}")
        body = f"{found.group(1)}{make()}\n{found.group(3)}"
        text = text[: found.start()] + body + text[found.end() :]
    return text


def update_readme(path: Path = README) -> None:
    text = path.read_text(encoding="utf-8")
    new = rendered(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
