"""Hostile and broken input: one clear line on stderr, a non-zero exit, never a traceback,
and nothing already stored lost. Inputs that are merely unusual (UTF-16 with a BOM,
gzip, CR line ends) ingest fine. Memory stays bounded on huge inputs. Any query string
is safe through the CLI.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperidx.errors import ExitCode
from paperidx.models import paper_id
from paperidx.reading import Source, read_lines

from .conftest import invoke
from .reliability_support import (
    assert_store_and_index_agree,
    cli,
    generated_papers,
    ingest_in_process,
    search_everything_args,
    searched_ids,
    write_jsonl,
)

A_PAPER = (
    "Robust Parsing of Hostile Digests\n\n"
    "We study inputs that try to break a parser. The results hold for every input tried.\n"
)


@pytest.fixture
def library(tmp_path: Path, library_home: Path) -> set[str]:
    path = tmp_path / "existing.jsonl"
    ids = write_jsonl(path, generated_papers("existing", 20))
    ingest_in_process(path)
    return ids


def ingest(path: Path | str, *options: str) -> Any:
    result = cli("ingest", str(path), *options)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def assert_refused_in_one_line(result: Any, *expected: str) -> None:
    """Exit 3 (input) and exactly one line on stderr, naming what is wrong."""
    assert result.exit_code == ExitCode.INPUT, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0], lines[0]
    assert result.stdout == ""


def half_a_gzip() -> bytes:
    text = "".join(f"Paper {n}\n\nAbstract {n}: {os.urandom(30).hex()}.\n\n" for n in range(300))
    whole = gzip.compress(text.encode())
    return whole[: len(whole) // 2]


def random_bytes_with_nul(size: int) -> bytes:
    data = bytearray(os.urandom(size))
    data[size // 2] = 0
    return bytes(data)


# name -> (file content, words the one error line must hold)
REFUSED: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "binary.bin": (random_bytes_with_nul(5000), ("binary.bin", "binary file")),
    "nul.txt": (b"Title\x00\n\nAbstract\x00 text. More.\n", ("nul.txt", "NUL bytes")),
    "image.txt": (b"\x89PNG\r\n\x1a\n" + os.urandom(200), ("image.txt", "a PNG image")),
    "paper.txt": (b"%PDF-1.7\n" + os.urandom(200), ("paper.txt", "a PDF")),
    "archive.txt": (b"PK\x03\x04" + os.urandom(200), ("archive.txt", "a zip archive")),
    "database.txt": (b"SQLite format 3\x00" + bytes(200), ("database.txt", "SQLite")),
    "empty.txt": (b"", ("empty.txt", "is empty")),
    "blank.txt": (b"  \n\t\r\n\n", ("blank.txt", "is empty")),
    "latin1.txt": (
        "Caf\u00e9 title\n\nR\u00e9sum\u00e9. Two sentences.\n".encode("latin-1"),
        ("latin1.txt:1:", "invalid utf-8 (byte 0xe9)", "--encoding"),
    ),
    "broken.gz": (
        b"\x1f\x8b\x08\x00" + b"not deflate data at all" * 3,
        ("broken.gz", "cannot read"),
    ),
    "cut.gz": (half_a_gzip(), ("cut.gz", "cannot read", "end-of-stream")),
    "prose.txt": (
        b"Just one line of prose with no paper in it.\n",
        ("prose.txt", "not a digest paperidx can read"),
    ),
    "bad.jsonl": (b'{"title": 1}\n{not json}\n', ("bad.jsonl", "no")),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_broken_file_is_refused_in_one_line_and_loses_nothing(
    name: str, library: set[str], tmp_path: Path, library_home: Path
) -> None:
    content, expected = REFUSED[name]
    path = tmp_path / name
    path.write_bytes(content)

    assert_refused_in_one_line(ingest(path), *expected)
    assert_store_and_index_agree(library_home, library)


def test_a_broken_file_among_good_ones_fails_alone(
    library: set[str], tmp_path: Path, library_home: Path
) -> None:
    good = tmp_path / "good.txt"
    good.write_text(A_PAPER, encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(random_bytes_with_nul(300))

    result = ingest(bad, str(good))  # `ingest bad good`

    assert result.exit_code == ExitCode.INPUT
    assert "error: " in result.stderr and "bad.txt" in result.stderr
    assert "1 new" in result.stderr
    found = cli("search", "hostile", "--format", "json")
    assert [hit["title"] for hit in json.loads(found.stdout)] == [
        "Robust Parsing of Hostile Digests"
    ]


@pytest.mark.parametrize(
    ("line_ending", "bad_line"),
    [("\n", 3), ("\n", 4321), ("\r\n", 4321), ("\r", 4321), ("\n", 9000)],
)
def test_invalid_utf8_is_reported_with_its_line_number(
    line_ending: str, bad_line: int, tmp_path: Path
) -> None:
    lines = [f"line {n} of a long digest with some words" for n in range(1, 10_001)]
    encoded = [line.encode() for line in lines]
    encoded[bad_line - 1] = b"bad \xff\xfe byte"
    path = tmp_path / "bad-utf8.txt"
    path.write_bytes(line_ending.encode().join(encoded))

    assert_refused_in_one_line(ingest(path), f"bad-utf8.txt:{bad_line}: invalid utf-8 (byte 0xff)")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"])
def test_unicode_with_a_bom_ingests(encoding: str, tmp_path: Path) -> None:
    boms = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
    }
    title = "Caf\u00e9 \u03b1\u03b2\u03b3: Robust Parsing of \U0001d4d7ostile Digests"
    text = f"{title}\n\nWe study inputs that try to break a parser. It works on all of them.\n"
    path = tmp_path / f"digest-{encoding}.txt"
    path.write_bytes(boms.get(encoding, b"") + text.encode(encoding))

    result = ingest(path)

    assert result.exit_code == 0, result.output
    assert "1 new" in result.stderr
    shown = json.loads(cli("search", "parsing", "--format", "json").stdout)
    assert [hit["title"] for hit in shown] == [title]


def test_utf16_without_a_bom_ingests(tmp_path: Path) -> None:
    path = tmp_path / "no-bom.txt"
    path.write_bytes(A_PAPER.encode("utf-16-le"))
    assert ingest(path).exit_code == 0


def test_gzip_and_old_mac_line_ends_ingest(tmp_path: Path) -> None:
    zipped = tmp_path / "digest.txt.gz"
    zipped.write_bytes(gzip.compress(A_PAPER.encode()))
    cr_only = tmp_path / "mac.txt"
    cr_only.write_bytes(
        b"Another Paper About Carriage Returns\r\rIt has CR line ends only. Really, it does.\r"
    )
    result = ingest(zipped, str(cr_only))
    assert result.exit_code == 0, result.output
    assert "total: 2 parsed, 2 new" in result.stderr


def test_nul_bytes_after_the_first_kilobytes_are_dropped(tmp_path: Path) -> None:
    padding = "".join(
        f"Padding Paper {n}\n\nThis abstract {n} pads the file. It has two sentences.\n\n"
        for n in range(200)
    )
    path = tmp_path / "late-nul.txt"
    path.write_bytes(padding.encode() + b"Late N\x00UL Title\n\nAn abs\x00tract. Two sentences.\n")
    assert ingest(path).exit_code == 0
    titles = [p["title"] for p in json.loads(cli("list", "--format", "json").stdout)]
    assert "Late NUL Title" in titles


def test_a_two_megabyte_line_is_rejected_briefly_and_the_rest_ingests(
    tmp_path: Path,
) -> None:
    huge = "word " * 420_000  # ~2 MB on one line
    digest = tmp_path / "long-line.txt"
    digest.write_text(
        f"{A_PAPER}\nA Title Before A Monster\n\n{huge}\n\n"
        "Final Paper Title\n\nThe last abstract. It comes after the monster line.\n",
        encoding="utf-8",
    )
    jsonl = tmp_path / "long-line.jsonl"
    jsonl.write_text(
        json.dumps({"title": "Monster", "abstract": huge})
        + "\n"
        + json.dumps({"title": "Small JSON Paper", "abstract": "Fine. Really."})
        + "\n",
        encoding="utf-8",
    )

    result = ingest(digest, str(jsonl))

    assert result.exit_code == 0, result.stderr[:2000]
    assert "total: 5 parsed, 3 new, 0 already present, 2 rejected" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 400  # no 2 MB echo


def test_directories_and_missing_files(
    tmp_path: Path, library: set[str], library_home: Path
) -> None:
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    assert_refused_in_one_line(ingest(empty), "empty-dir", "holds no digest files")
    assert_refused_in_one_line(ingest(tmp_path / "nope.txt"), "nope.txt", "no such file")
    assert_refused_in_one_line(ingest(str(tmp_path / "no-match-*.txt")), "no file matches")
    with_digests = tmp_path / "digests"
    (with_digests / "nested").mkdir(parents=True)
    (with_digests / "nested" / "one.txt").write_text(A_PAPER, encoding="utf-8")
    (with_digests / "image.png").write_bytes(b"\x89PNG")  # not a digest suffix: ignored
    assert ingest(with_digests).exit_code == 0
    assert_store_and_index_agree(
        library_home, library | {paper_id("Robust Parsing of Hostile Digests")}
    )


def test_devices_are_refused_without_reading_forever(tmp_path: Path) -> None:
    started = time.monotonic()
    assert_refused_in_one_line(ingest("/dev/zero"), "/dev/zero", "binary")
    assert time.monotonic() - started < 10


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(A_PAPER, encoding="utf-8")
    path.chmod(0)
    try:
        assert_refused_in_one_line(ingest(path), "secret.txt", "permission denied")
    finally:
        path.chmod(0o600)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the mode")
def test_a_read_only_library_folder_is_refused_in_one_line(
    library: set[str], library_home: Path, tmp_path: Path
) -> None:
    more = tmp_path / "more.txt"
    more.write_text(A_PAPER, encoding="utf-8")
    os.chmod(library_home, 0o555)
    for name in os.listdir(library_home):
        if (library_home / name).is_file():
            os.chmod(library_home / name, 0o444)
    try:
        result = cli("ingest", str(more))
        assert result.exit_code == ExitCode.LIBRARY, result.output
        assert len(result.stderr.strip().splitlines()) == 1
        assert "read-only" in result.stderr or "cannot" in result.stderr
    finally:
        os.chmod(library_home, 0o755)
        for name in os.listdir(library_home):
            if (library_home / name).is_file():
                os.chmod(library_home / name, 0o644)
    assert_store_and_index_agree(library_home, library)


def test_binary_on_standard_input_is_refused(library: set[str]) -> None:

    result = invoke("ingest", "-", input=random_bytes_with_nul(4000))
    assert_refused_in_one_line(result, "<stdin>", "binary")


# -- memory and time stay bounded on huge inputs ----------------------------------------


def test_a_very_long_line_is_read_in_linear_time(tmp_path: Path) -> None:
    """Reading used to rejoin and rescan the unfinished line for every 64 KB read."""
    path = tmp_path / "one-line.txt"
    path.write_bytes(b"x" * 30_000_000 + b"\nnext line\n")
    started = time.monotonic()
    lengths = [len(line) for line in read_lines(Source(path.name, path))]
    assert lengths == [30_000_000, 9]
    assert time.monotonic() - started < 10


_PEAK_MEMORY = """
import resource, sys
from paperidx.library import Library
from paperidx.paths import LibraryPaths
from pathlib import Path
with Library(LibraryPaths(Path(sys.argv[1]))) as library:
    report = library.ingest([sys.argv[2]])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
print(report.files[0].error or "ok")
"""


def peak_megabytes_ingesting(home: Path, path: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_MEMORY, str(home), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    peak, outcome = done.stdout.split("\n", 1)
    return int(peak), outcome.strip()


@pytest.mark.slow
def test_memory_stays_bounded_on_huge_inputs(tmp_path: Path, library_home: Path) -> None:
    """10 MB without a blank line, and 10 MB of page furniture: neither is held in memory
    (they took 14 and 5 times their size before)."""
    small = tmp_path / "small.txt"
    small.write_text(A_PAPER, encoding="utf-8")
    one_paragraph = tmp_path / "one-paragraph.txt"
    with one_paragraph.open("w", encoding="utf-8") as out:
        out.write("A Title\n\n")
        for _ in range(250_000):
            out.write("lorem ipsum dolor sit amet consectetur\n")
    furniture = tmp_path / "furniture.txt"
    with furniture.open("w", encoding="utf-8") as out:
        for n in range(500_000):
            out.write(f"Short line {n}\n\n" if n % 2 else "Subscribe\n")

    baseline, _ = peak_megabytes_ingesting(library_home, small)
    peak, outcome = peak_megabytes_ingesting(library_home, one_paragraph)
    assert peak - baseline < 30, f"{peak - baseline} MB more for a 10 MB file"
    assert "no valid papers" in outcome
    peak, outcome = peak_megabytes_ingesting(library_home, furniture)
    assert peak - baseline < 30, f"{peak - baseline} MB more for a 10 MB file"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=st.binary(max_size=3000))
def test_any_bytes_are_ingested_or_refused_cleanly(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fuzzed.txt"
    path.write_bytes(content)
    result = ingest(path)
    assert result.exit_code in (ExitCode.OK, ExitCode.INPUT), result.output


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(st.text(max_size=80), max_size=40),
    chunk=st.integers(min_value=1, max_value=64),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_reading_splits_lines_the_same_at_any_chunk_size(
    lines: list[str], chunk: int, ending: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import paperidx.reading as reading

    cleaned = [re.sub(r"[\r\n\x00]", "", line) for line in lines]
    text = "start line\n" + ending.join(cleaned) + ending
    path = tmp_path_factory.mktemp("chunks") / "digest.txt"
    path.write_bytes(text.encode("utf-8"))
    # LF, CRLF and CR end lines; nothing else does; the text after the last one, if any,
    # is the last line.
    expected = re.split(r"\r\n|\r|\n", text)
    if expected[-1] == "":
        expected.pop()
    original = reading.CHUNK, reading.SNIFF_BYTES
    # Tiny reads put chunk ends everywhere: inside CRLF pairs and multi-byte characters.
    reading.CHUNK, reading.SNIFF_BYTES = chunk, 16
    try:
        assert list(read_lines(Source("digest.txt", path))) == expected
    finally:
        reading.CHUNK, reading.SNIFF_BYTES = original


# -- any query string is safe ------------------------------------------------------------

HOSTILE_QUERIES = [
    "", " ", "\t\n\r", '"', '""', '"unterminated', "(", ")", "((((", "))))", "()",
    "AND", "OR", "NOT", "AND OR NOT", "a AND", "NOT NOT NOT", "a AND AND b", "OR a OR",
    "*", "?", "**", "*a*", "?*?*", "a*" * 200, "title:", ":", "::", "title:(", "title:)",
    "nosuchfield:x", "id:*", "abstract:*x*", "date:", "date:[", "date:[2024 TO",
    "date:[a TO b]", "date:>=", "date:<2024-13-45", "date:0000-00-00", "date:9999999999",
    "[", "]", "{", "}", "[a TO]", "{* TO *}", "[TO]", "~", "a~", "a~99", "a~~~", "~~~~",
    "^", "a^", "a^99999999999999999999", "a^-1", "a^^^^", "\\", "\\\\", "a\\", "\\*",
    "/", "//", "/.*/", "%s%n", "{0}", "'", "''", "`", "<script>alert(1)</script>",
    "\x00", "a\x00b", "\x1b[31mred", "\x1b]0;title\x07", "\u202eevil", "\ufeff",
    "\U0001f642" * 50, "\u03b5" * 1000, "x" * 200, " ".join(["word"] * 5000),
    "a OR " * 2000 + "a", "(" * 500 + "a" + ")" * 500, '"' * 501, "-", "--", "-a",
    "+", "+a -b", "a -", "NEAR", "a NEAR b", 'title:"x', "text:[x TO y]", "authors:*",
    "$", "@#$%^&*()", "null", "None", "NaN", "1e999", "0x1F", "-1", "9" * 500,
    "\ud800", "a\udfffb", "reliabilityprobe " * 300,
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_hostile_query_strings_are_safe(library: set[str], fmt: str) -> None:
    failures: list[str] = []
    for query in HOSTILE_QUERIES:
        result = cli("search", "--format", fmt, "--", query)
        trouble = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            trouble = f"raised {type(result.exception).__name__}: {result.exception}"
        elif result.exit_code != 0:
            trouble = f"exit {result.exit_code}: {result.stderr.strip()[:200]}"
        elif "Traceback" in result.output:
            trouble = "printed a traceback"
        elif fmt == "json":
            try:
                json.loads(result.stdout)
            except ValueError as error:
                trouble = f"invalid JSON output: {error}"
        if trouble:
            failures.append(f"{query[:40]!r}: {trouble}")
    assert not failures, "\n".join(failures)


_ONE_LONG_WORD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))
from typer.testing import CliRunner
from paperidx.cli import app
result = CliRunner().invoke(app, ["search", "--format", "json", "--", "x" * 100_000])
print(result.exit_code, type(result.exception).__name__ if result.exception else "")
"""


def test_a_query_of_one_very_long_word_is_safe(library: set[str]) -> None:
    # Spelling correction once took time and memory growing with a word's length (1,000
    # characters: 9 s; 10,000: all the memory there was). Run in a child process with a
    # memory cap, so that a regression fails this test instead of taking the machine.
    done = subprocess.run(
        [sys.executable, "-c", _ONE_LONG_WORD],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["0"], done.stdout + done.stderr[-500:]


def test_a_query_for_everything_still_finds_everything(library: set[str]) -> None:
    found = cli(*search_everything_args())
    assert searched_ids(found.stdout) == library
