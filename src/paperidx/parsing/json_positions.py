"""Where each element of a JSON document starts, for reports that name real lines.

`json.loads` gives no positions, so a document already known to be valid is walked again
with `raw_decode`, which reports where each value ends.
"""

from __future__ import annotations

import json
import re

_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def element_lines(text: str, path: tuple[str, ...], is_list: bool, count: int) -> list[int]:
    """The 1-based line where each of `count` elements starts: the items of the array under
    `path` (keys from the top-level object), or the one value there when not `is_list`."""
    try:
        start = _value_offset(text, path)
        offsets = _array_offsets(text, start) if is_list else [start]
    except (ValueError, IndexError, RecursionError):
        offsets = []
    if len(offsets) != count:
        # Cannot happen for a document json.loads accepted; degrade to the document start.
        return [1] * count
    return _line_numbers(text, offsets)


def _skip_space(text: str, position: int) -> int:
    match = _JSON_SPACE.match(text, position)
    return match.end() if match else position


def _value_offset(text: str, path: tuple[str, ...]) -> int:
    position = _skip_space(text, 0)
    for key in path:
        position = _member_offset(text, position, key)
    return position


def _member_offset(text: str, position: int, key: str) -> int:
    """Offset of the value under `key` in the object at `position` (the last one, as json does)."""
    found = -1
    position = _skip_space(text, position + 1)
    while text[position] != "}":
        name, position = _DECODER.raw_decode(text, position)
        position = _skip_space(text, _skip_space(text, position) + 1)  # past the ':'
        if name == key:
            found = position
        _, position = _DECODER.raw_decode(text, position)
        position = _skip_space(text, position)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    if found < 0:
        raise ValueError(f"no key {key!r}")
    return found


def _array_offsets(text: str, position: int) -> list[int]:
    offsets = []
    position = _skip_space(text, position + 1)
    while text[position] != "]":
        offsets.append(position)
        _, position = _DECODER.raw_decode(text, position)
        position = _skip_space(text, position)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    return offsets


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    # Offsets ascend, so count newlines only between consecutive ones.
    line, previous, lines = 1, 0, []
    for offset in offsets:
        line += text.count("\n", previous, offset)
        previous = offset
        lines.append(line)
    return lines
