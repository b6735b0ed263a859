"""Export formats: one module per format, each a generator from papers to text.

The papis lesson: a format is easiest to read, test and fix when it lives alone, so each
output format is one small module exposing `export(papers) -> Iterator[str]`, mirroring
the input parsers in `paperidx.parsing`. Exporters never see files or the library: papers
in (consumed once, in order), text out, so the whole library streams through in batches
and never sits in memory. Paper text is untrusted; each format escapes it for its own
syntax, and control characters never reach the output raw.

`atomic_file` is how `export --output` writes: a half-written export never replaces a
good one, whatever goes wrong.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

from paperidx.errors import OutputError
from paperidx.results import StoredPaper

Exporter = Callable[[Iterable[StoredPaper]], Iterator[str]]

EXPORT_FORMATS: tuple[str, ...] = ("jsonl", "json", "csv", "bibtex", "markdown")


def exporter_for(name: str) -> Exporter:
    """The exporter for a format name in `EXPORT_FORMATS` (modules load on demand)."""
    if name == "jsonl":
        from paperidx.exporters.jsonl import export_jsonl

        return export_jsonl
    if name == "json":
        from paperidx.exporters.jsonl import export_json

        return export_json
    if name == "csv":
        from paperidx.exporters.csv_table import export_csv

        return export_csv
    if name == "bibtex":
        from paperidx.exporters.bibtex import export_bibtex

        return export_bibtex
    if name == "markdown":
        from paperidx.exporters.markdown import export_markdown

        return export_markdown
    raise ValueError(f"unknown export format {name!r}")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file that appears at `path` only once it is completely written.

    The text goes to a temporary file in the same folder (so the final rename stays on one
    file system and is atomic), which replaces `path` at the end. On any failure the
    temporary file is removed and an existing `path` is left as it was.
    """
    fd, temporary = _temporary_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        _remove(temporary)
        raise


def _temporary_beside(path: Path) -> tuple[int, str]:
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    import tempfile  # only `export --output` writes files: keep printing commands light

    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def _mode_for(path: Path) -> int:
    """Keep a replaced file's permissions; give a new one the usual umask-based ones.

    mkstemp makes files only the owner can read, which would surprise anyone sharing
    an exported bibliography.
    """
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)


__all__ = ["EXPORT_FORMATS", "Exporter", "atomic_file", "exporter_for"]
