"""JSON arrays and JSON Lines: problems are reported at the line the item starts on."""

from __future__ import annotations

import json

from paperidx.parsing.base import ParseOptions, RawRecord, Skipped
from paperidx.parsing.jsonl import parse_json_array


def test_array_elements_are_reported_at_their_real_lines() -> None:
    items = [
        {"title": "First Paper", "abstract": "One."},
        {"note": "not a paper"},
        {
            "title": "Third Paper",
            "abstract": "Three.",
            "doi": "10.1/x.y",
            "published": "2024-11-07",
        },
    ]
    text = json.dumps(items, indent=2)
    events = list(parse_json_array(text.split("\n"), ParseOptions()))
    starts = [n for n, line in enumerate(text.split("\n"), start=1) if line == "  {"]
    assert [e.line for e in events if isinstance(e, RawRecord | Skipped)] == starts
    assert isinstance(events[1], Skipped) and events[1].reason.startswith("element 2:")
    third = events[2]
    assert isinstance(third, RawRecord) and third.doi == "10.1/x.y"
    assert third.published is not None and third.published.isoformat() == "2024-11-07"
