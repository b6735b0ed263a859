"""The README's generated sections match the code (regenerate with `python3 dev.py docs`)."""

from __future__ import annotations

from paperidx.docs import README, rendered
from paperidx.parsing import FORMAT_NAMES, formats


def test_generated_readme_sections_are_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert rendered(text) == text, "README is out of date: run `python3 dev.py docs`"


def test_every_registered_format_declares_itself_under_its_registry_name() -> None:
    declared = formats()
    assert [f.name for f in declared] == list(FORMAT_NAMES)
    for found in declared:
        assert found.summary and found.example and "|" not in found.summary
