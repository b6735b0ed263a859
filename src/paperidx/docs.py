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


SECTIONS: dict[str, Callable[[], str]] = {"input-formats": _input_formats}


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
