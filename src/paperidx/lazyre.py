"""Regular expressions compiled on first use, not at import.

Detecting an input's format imports every format module to ask its sniffer; compiling all
their patterns there (~170 of them, ~45 ms) was paid by every ingest, although one file
uses one parser. A module-level pattern is written `_X = lazy_compile(r"...")` and used like
any compiled pattern; it is compiled the first time it is used.
"""

from __future__ import annotations

import re
from typing import Any, cast


class _LazyPattern:
    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern, self._flags)
        return getattr(compiled, name)


def lazy_compile(pattern: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:
    """`re.compile`, deferred to the first use of the pattern."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, int(flags)))
