"""Turning the paths a user names into decoded lines, safely.

A digest is untrusted: it may be binary, gzip-compressed, UTF-16 with a BOM, invalid UTF-8,
a directory, unreadable, empty, or gigabytes long. Everything here streams (memory stays
bounded by the longest line) and every failure is an `InputError` naming the file and,
for bad bytes, the line.
"""

from __future__ import annotations

import atexit
import codecs
import glob
import gzip
import re
import shutil
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile

CHUNK = 1 << 16
SNIFF_BYTES = 8192
# What a directory argument ingests: the suffixes digests and exports are saved with.
DIGEST_SUFFIXES = (
    ".txt",
    ".md",
    ".markdown",
    ".json",
    ".jsonl",
    ".ndjson",
    ".gz",
    ".bib",
    ".ris",
    ".xml",
    ".rss",
    ".atom",
    ".rdf",
    ".html",
    ".htm",
    ".eml",
    ".mbox",
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BINARY_MAGIC = {
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"PK\x03\x04": "a zip archive",
    b"\x7fELF": "an executable",
    b"SQLite format 3": "a SQLite database",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
_NEWLINE = lazy_compile(r"\r\n|\r|\n")
_BYTE_NEWLINE = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Source:
    """One input file; `name` is how reports refer to it (`<stdin>` for standard input)."""

    name: str
    path: Path


def expand(arguments: list[str]) -> list[Source]:
    """Paths, directories (their digest files, recursively), globs and `-` for stdin."""
    sources: list[Source] = []
    for argument in arguments:
        if argument == "-":
            sources.append(Source("<stdin>", _spool_stdin()))
            continue
        path = Path(argument)
        if not path.exists() and glob.has_magic(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            if not matches:
                raise InputError(f"{argument}: no file matches this pattern")
            sources.extend(_expand_path(Path(m)) for m in matches if Path(m).is_file())
            continue
        if path.is_dir():
            sources.extend(_directory_digests(path))
            continue
        sources.append(_expand_path(path))
    return sources


def _expand_path(path: Path) -> Source:
    return Source(str(path), path)


def _directory_digests(directory: Path) -> list[Source]:
    try:
        files = sorted(
            p
            for p in directory.rglob("*")
            if p.is_file()
            and p.suffix.lower() in DIGEST_SUFFIXES
            and not any(part.startswith(".") for part in p.relative_to(directory).parts)
        )
    except OSError as error:
        raise InputError(f"{directory}: cannot list directory: {error.strerror}") from None
    if not files:
        suffixes = " ".join(DIGEST_SUFFIXES)
        raise InputError(f"{directory}: directory holds no digest files ({suffixes})")
    return [_expand_path(p) for p in files]


def _spool_stdin() -> Path:
    """stdin can be read only once, but is read twice (sniffed, then parsed): copy it."""
    try:
        with tempfile.NamedTemporaryFile(prefix="paperidx-stdin-", delete=False) as handle:
            atexit.register(Path(handle.name).unlink, missing_ok=True)
            shutil.copyfileobj(sys.stdin.buffer, handle, CHUNK)
    except OSError as error:  # e.g. a full temporary directory
        reason = error.strerror or str(error)
        raise InputError(f"<stdin>: cannot keep a copy of standard input: {reason}") from None
    return Path(handle.name)


def _open_binary(source: Source) -> BinaryIO:
    path = source.path
    try:
        if path.is_dir():
            raise InputError(f"{source.name}: is a directory")
        stream: BinaryIO = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except FileNotFoundError:
        raise InputError(f"{source.name}: no such file") from None
    except PermissionError:
        raise InputError(f"{source.name}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{source.name}: is a directory") from None
    except OSError as error:
        raise InputError(f"{source.name}: cannot open: {error.strerror or error}") from None
    if stream.read(2) == b"\x1f\x8b":
        stream.seek(0)
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    stream.seek(0)
    return stream


def _sniff_encoding(head: bytes, name: str, forced: str | None) -> tuple[str, int]:
    """The encoding to decode with and how many BOM bytes to skip."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return (forced or encoding), len(bom)
    if forced:
        return forced, 0
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"{name}: is {what}, not a text digest")
    if b"\x00" in head:
        return _utf16_without_bom(head, name), 0
    return "utf-8", 0


def _utf16_without_bom(head: bytes, name: str) -> str:
    # ASCII text in UTF-16 has a NUL in every other byte; anything else with NULs is binary.
    even, odd = head[0::2], head[1::2]
    if odd and odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even and even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    raise InputError(f"{name}: looks like a binary file (it contains NUL bytes), not a digest")


def read_lines(source: Source, encoding: str | None = None) -> Iterator[str]:
    """The decoded lines of `source`, without line endings (LF, CRLF and CR all count)."""
    try:
        with _open_binary(source) as stream:
            yield from _decode_lines(stream, source.name, encoding)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise InputError(f"{source.name}: cannot read: {_os_reason(error)}") from None


def _os_reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _decode_lines(stream: BinaryIO, name: str, forced: str | None) -> Iterator[str]:
    head = stream.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError(f"{name}: is empty")
    encoding, skip = _sniff_encoding(head, name, forced)
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
    except LookupError:
        raise InputError(f"{name}: unknown encoding {encoding!r}") from None
    # The line being read, in pieces: a very long line is gathered once, never re-scanned
    # (joining and splitting it again for every chunk took quadratic time).
    pieces: list[str] = []
    carried_cr = ""
    line_number = 0
    chunk = head[skip:]
    while True:
        final = not chunk
        try:
            text = carried_cr + decoder.decode(chunk, final=final)
        except UnicodeDecodeError as error:
            where = line_number + 1 + len(_BYTE_NEWLINE.findall(error.object[: error.start]))
            bad = error.object[error.start : error.start + 1].hex()
            hint = "" if forced else "; pass --encoding if the file is not UTF-8"
            raise InputError(f"{name}:{where}: invalid {encoding} (byte 0x{bad}){hint}") from None
        # A trailing CR may be the first half of a CRLF split across chunks.
        carried_cr = "\r" if not final and text.endswith("\r") else ""
        if carried_cr:
            text = text[:-1]
        lines = _NEWLINE.split(text)
        pieces.append(lines[0])
        if len(lines) > 1:
            line_number += 1
            yield "".join(pieces).replace("\x00", "")
            for line in lines[1:-1]:
                line_number += 1
                yield line.replace("\x00", "")
            pieces = [lines[-1]]
        if final:
            break
        chunk = stream.read(CHUNK)
    rest = "".join(pieces)
    if rest:
        yield rest.replace("\x00", "")


def read_head(source: Source, encoding: str | None = None, limit: int = SNIFF_BYTES) -> str:
    """The first few kilobytes of decoded text, for telling formats apart."""
    collected: list[str] = []
    size = 0
    for line in read_lines(source, encoding):
        collected.append(line)
        size += len(line) + 1
        if size >= limit:
            break
    return "\n".join(collected)
