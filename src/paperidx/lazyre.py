"""Regular expressions compiled on first use, not at import.

Detecting an input's format imports every format module to ask its sniffer; compiling all
their patterns there (~170 of them, ~45 ms) was paid by every ingest, although one file
uses one parser. A module-level pattern is written `_X = lazy_compile(r"...")` and used like
any compiled pattern; it is compiled the first time it is used.
"""

from __future__ import annotations

import re
from typing import Any, cast

# The methods a pattern is used through: once compiled, each is a slot of the stand-in
# holding the compiled pattern's bound method, so a call costs what it costs on a compiled
# pattern (through `__getattr__`, ~0.5 µs more: ~20 ms of parsing a 200-paper arXiv mail).
_METHODS = ("findall", "finditer", "fullmatch", "match", "search", "split", "sub", "subn")


class _LazyPattern:
    __slots__ = ("_compiled", "_flags", "_pattern", *_METHODS)

    def __init__(self, pattern: str, flags: int) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        # Only called for what is not set yet: any attribute before the first use, then
        # those not in `_METHODS` (`pattern`, `groups`, ...).
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern, self._flags)
            for method in _METHODS:
                setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)


def lazy_compile(pattern: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:
    """`re.compile`, deferred to the first use of the pattern."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, int(flags)))
