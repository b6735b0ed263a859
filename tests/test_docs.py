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


def test_every_commands_help_example_is_in_the_readme() -> None:
    """`--help` and the README show the same examples (the docstring is the source)."""
    import re

    from paperidx.cli import app, watch_app

    readme = README.read_text(encoding="utf-8")
    examples = [
        example.strip()
        for group in (app, watch_app)
        for command in group.registered_commands
        for example in re.findall(r"Example: (.+)", command.callback.__doc__ or "")
    ]
    assert len(examples) >= 15
    missing = [example for example in examples if example not in readme]
    assert not missing, f"README lacks: {missing}"


def test_the_format_choices_are_the_writers_formats() -> None:
    """`--format` lists exactly what the renderers and exporters write (one vocabulary)."""
    from paperidx.cli import ExportChoice, OutputChoice
    from paperidx.exporters import EXPORT_FORMATS
    from paperidx.render import OUTPUT_FORMATS

    assert [c.value for c in OutputChoice] == list(OUTPUT_FORMATS)
    assert [c.value for c in ExportChoice] == list(EXPORT_FORMATS)
