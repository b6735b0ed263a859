"""Module-level patterns compiled on first use (`paperidx.lazyre`): they answer as compiled
patterns do, compile once, and only when used."""

from __future__ import annotations

import re

import pytest

from paperidx import lazyre


def test_a_lazy_pattern_answers_as_the_compiled_one(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    compile_ = re.compile

    def counted(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return compile_(pattern, flags)

    monkeypatch.setattr(re, "compile", counted)
    lazy = lazyre.lazy_compile(r"(\d+)-(\w+)", re.IGNORECASE)
    eager = compile_(r"(\d+)-(\w+)", re.IGNORECASE)
    assert compiled == []  # nothing until used
    text = "12-ab x 7-Q 3-"
    for name in lazyre._METHODS:
        if name in ("sub", "subn"):
            assert getattr(lazy, name)("<\\2>", text) == getattr(eager, name)("<\\2>", text)
        elif name == "finditer":
            assert [m.span() for m in lazy.finditer(text)] == [
                m.span() for m in eager.finditer(text)
            ]
        else:
            found, expected = getattr(lazy, name)(text), getattr(eager, name)(text)
            if isinstance(expected, re.Match):
                found, expected = (
                    (found.span(), found.groups()),
                    (expected.span(), expected.groups()),
                )
            assert found == expected, name
    assert (lazy.pattern, lazy.flags, lazy.groups) == (eager.pattern, eager.flags, eager.groups)
    assert compiled == [r"(\d+)-(\w+)"]  # once
