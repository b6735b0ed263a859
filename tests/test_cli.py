"""The CLI as a user meets it: ingest, search, show, list, stats, errors (via CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperidx import cli
from paperidx.cli import app
from paperidx.errors import ExitCode

from .conftest import SAMPLE, invoke

run = invoke


@pytest.fixture
def sample_library() -> None:
    result = run("ingest", str(SAMPLE), "--year", "2024")
    assert result.exit_code == 0, result.output


def tsv_rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line]


def test_ingest_sample_reports_67_new_then_67_already_present() -> None:
    first = run("ingest", str(SAMPLE))
    assert first.exit_code == 0
    assert "67 parsed, 67 new, 0 already present, 0 rejected" in first.stderr
    assert "assumed" in first.stderr and first.stdout == ""
    second = run("ingest", str(SAMPLE))
    assert "67 parsed, 0 new, 67 already present" in second.stderr
    stats = json.loads(run("stats", "--format", "json").stdout)
    assert stats["papers"] == 67 and stats["digests"] == 1


def test_search_puts_gaussian_splatting_papers_on_top(sample_library: None) -> None:
    rows = tsv_rows(run("search", "gaussian splatting", "--limit", "5").stdout)
    assert len(rows) == 5
    assert all(len(row) == 5 for row in rows)  # id, date, score, title, snippet
    assert all("Gaussian" in row[3] for row in rows[:4])
    scores = [float(row[2]) for row in rows]
    assert scores == sorted(scores, reverse=True)


def test_search_json_shape(sample_library: None) -> None:
    hits = json.loads(run("search", "lora", "--format", "json").stdout)
    assert hits and hits[0]["rank"] == 1
    assert {"rank", "id", "title", "score", "date", "arxiv_id", "snippet"} <= set(hits[0])
    assert hits[0]["date"] == "2024-05-07"
    assert any("LoRA" in hit["title"] for hit in hits[:3])


def test_show_returns_exact_title_and_full_abstract(sample_library: None) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    title, abstract = lines[130], lines[132]
    assert title == "Deblurring 3D Gaussian Splatting"
    hit = json.loads(run("search", title, "--format", "json").stdout)[0]
    shown = json.loads(run("show", hit["id"], "--format", "json").stdout)
    assert shown["title"] == title and shown["abstract"] == abstract
    assert shown["dates"] == ["2024-05-07"]
    assert shown["sources"] == [f"{SAMPLE}:131"]


def test_show_accepts_a_unique_prefix_and_rejects_unknown(sample_library: None) -> None:
    first = tsv_rows(run("list", "--limit", "1").stdout)[0]
    by_prefix = run("show", first[0][:6], "--format", "json")
    assert json.loads(by_prefix.stdout)["id"] == first[0]
    missing = run("show", "zzzz")
    assert missing.exit_code == ExitCode.NOT_FOUND
    assert missing.stderr.count("\n") == 1 and "no paper with id 'zzzz'" in missing.stderr


def test_ambiguous_prefix_lists_candidates(sample_library: None) -> None:
    ids = [row[0] for row in tsv_rows(run("list").stdout)]
    # With 67 ids spread over 16 hex digits, some first digit is shared.
    shared = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) > 1)
    result = run("show", shared)
    assert result.exit_code == ExitCode.AMBIGUOUS
    assert "matches" in result.stderr
    assert sum(i in result.stderr for i in ids if i.startswith(shared)) >= 2


def test_crlf_copy_in_a_fresh_library_yields_the_same_ids(tmp_path: Path) -> None:
    run("ingest", str(SAMPLE))
    ids = sorted(row[0] for row in tsv_rows(run("list").stdout))
    crlf = tmp_path / "copy.txt"
    crlf.write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    run("--home", str(tmp_path / "other"), "ingest", str(crlf))
    other = sorted(
        row[0] for row in tsv_rows(run("--home", str(tmp_path / "other"), "list").stdout)
    )
    assert ids == other and len(ids) == 67


def test_list_since_until_newest_first(tmp_path: Path) -> None:
    digest = tmp_path / "two-days.txt"
    digest.write_text(
        "2024-05-01\n\nOld Paper\n\nOld abstract. It is old.\n\n"
        "2024-06-01\n\nNew Paper\n\nNew abstract. It is new.\n",
        encoding="utf-8",
    )
    run("ingest", str(digest))
    assert [r[3] for r in tsv_rows(run("list").stdout)] == ["New Paper", "Old Paper"]
    assert [r[3] for r in tsv_rows(run("list", "--since", "2024-05-15").stdout)] == ["New Paper"]
    assert [r[3] for r in tsv_rows(run("list", "--until", "2024-05").stdout)] == ["Old Paper"]
    bad = run("list", "--since", "yesterday")
    assert bad.exit_code == ExitCode.USAGE


def test_stdin_ingest() -> None:
    result = run("ingest", "-", input=SAMPLE.read_bytes())
    assert result.exit_code == 0 and "67 new" in result.stderr


def test_table_on_a_terminal(sample_library: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "stdout_is_terminal", lambda: True)
    out = run("search", "gaussian splatting", "--limit", "3").stdout
    assert "title" in out and "Gaussian" in out and "\t" not in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "PNG"),
        (b"abc\x00\x01\x02\x00\xff\xfe\x00", "binary"),
        (b"just one line of text\n", "not a digest paperidx can read (looks like a line or two"),
        (b"<!doctype html><html><body><p>My blog</p></body></html>", "(looks like HTML without"),
        (b'{"name": "a config file", "debug": true}', "(looks like JSON without papers)"),
    ],
)
def test_bad_inputs_fail_cleanly_and_keep_the_library(
    tmp_path: Path, sample_library: None, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "bad.txt"
    if content is not None:
        path.write_bytes(content)
    result = run("ingest", str(path))
    assert result.exit_code == ExitCode.INPUT
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr
    if "not a digest" in expected:
        assert "known formats: " in result.stderr and "bibtex" in result.stderr
    assert json.loads(run("stats", "--format", "json").stdout)["papers"] == 67


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    result = run("ingest", str(tmp_path))
    assert result.exit_code == ExitCode.INPUT
    assert "holds no digest files" in result.stderr


def test_directory_ingests_its_digests(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "notes.png").write_bytes(b"\x89PNG")
    result = run("ingest", str(tmp_path))
    assert result.exit_code == 0 and "67 new" in result.stderr


def test_invalid_utf8_says_where(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(SAMPLE.read_bytes().replace("DεpS".encode(), "DépS".encode("latin-1")))
    result = run("ingest", str(path))
    assert result.exit_code == ExitCode.INPUT
    assert ":119: invalid utf-8" in result.stderr and "--encoding" in result.stderr
    assert run("ingest", str(path), "--encoding", "latin-1").exit_code == 0


def test_search_before_any_ingest_is_a_clear_error() -> None:
    result = run("search", "anything")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "run 'paperidx ingest' first" in result.stderr


def test_partial_failure_stores_the_good_file(tmp_path: Path) -> None:
    result = run("ingest", str(SAMPLE), str(tmp_path / "missing.txt"))
    assert result.exit_code == ExitCode.INPUT
    assert "67 new" in result.stderr and "missing.txt: no such file" in result.stderr
    assert json.loads(run("stats", "--format", "json").stdout)["papers"] == 67


def test_version() -> None:
    assert run("--version").stdout.startswith("paperidx ")


def test_ingest_with_a_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)
    result = run("ingest", str(SAMPLE))
    assert result.exit_code == 0
    assert "67 parsed, 67 new" in result.stderr and result.stdout == ""
    assert run("reindex").exit_code == 0


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (SAMPLE.parents[1] / "README.md").read_text(encoding="utf-8")
    names = [c.name or c.callback.__name__ for c in app.registered_commands if c.callback]
    assert len(names) >= 9
    for name in names:
        assert f"paperidx {name}" in readme, name
