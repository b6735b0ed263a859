"""Where the library lives: one folder holding the record store and the search index.

Precedence: an explicit `--home`, then `PAPERIDX_HOME`, then the platform's user data
directory (e.g. `~/.local/share/paperidx`). platformdirs is imported only when needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "PAPERIDX_HOME"


@dataclass(frozen=True, slots=True)
class LibraryPaths:
    """Where a library keeps each of its files, under its home folder."""

    home: Path

    @property
    def store(self) -> Path:
        return self.home / "papers.sqlite3"

    @property
    def index(self) -> Path:
        return self.home / "index"

    @property
    def lock(self) -> Path:
        return self.home / "write.lock"


def default_home() -> Path:
    from platformdirs import user_data_path

    return user_data_path("paperidx", appauthor=False)


def resolve_home(explicit: Path | None = None) -> LibraryPaths:
    if explicit is not None:
        return LibraryPaths(explicit.expanduser())
    from_env = os.environ.get(HOME_ENV)
    if from_env:
        return LibraryPaths(Path(from_env).expanduser())
    return LibraryPaths(default_home())
