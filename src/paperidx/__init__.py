"""paperidx: a local, offline search engine for research-paper digests.

The package root stays import-light (the CLI's start-up time depends on it); the public
API is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.6"

__all__ = ["Library", "Paper", "PaperidxError", "__version__"]

if TYPE_CHECKING:
    from paperidx.errors import PaperidxError
    from paperidx.library import Library
    from paperidx.models import Paper

_LAZY = {
    "Library": "paperidx.library",
    "Paper": "paperidx.models",
    "PaperidxError": "paperidx.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'paperidx' has no attribute {name!r}")
