"""The daily loop through the CLI: marks, tags, notes, watches, `new`, `recommend`, `open`,
and the user's state surviving reindex, re-ingest, merges and export round trips."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from paperidx.errors import ExitCode

from .conftest import SAMPLE, invoke

SAGS = "06fc707aba"  # "SAGS: Structure-Aware 3D Gaussian Splatting" in the sample
DEBLUR = "baca5c36d4"  # "Deblurring 3D Gaussian Splatting"
SLORA = "df40787f33"  # "S-LoRA: Serving Thousands of Concurrent LoRA Adapters"


def run(*args: str, input: str | None = None) -> Any:
    result = invoke(*args, input=input)
    assert "Traceback" not in result.output
    return result


def shown(paper: str) -> dict[str, Any]:
    result = run("show", paper, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def ids(*args: str) -> list[str]:
    out = run(*args, "--format", "json").stdout
    return [record["id"] for record in json.loads(out)]


@pytest.fixture
def sample(library_home: Path) -> Path:
    assert run("ingest", str(SAMPLE), "--year", "2024").exit_code == 0
    return library_home


def test_marks_tags_and_notes_show_up_in_show_list_and_search(sample: Path) -> None:
    assert run("mark", SAGS, DEBLUR, "star").exit_code == 0
    assert run("mark", SAGS, "read").exit_code == 0
    assert run("tag", SAGS, "+reading-group", "+todo").exit_code == 0
    assert run("tag", SAGS, "-todo").exit_code == 0
    assert run("note", SAGS, "compare with 3DGS-MCMC").exit_code == 0

    user = shown(SAGS)["user"]
    assert user == {
        "read": True,
        "starred": True,
        "tags": ["reading-group"],
        "note": "compare with 3DGS-MCMC",
    }
    assert "user" not in shown(SLORA)  # nothing done with it: nothing to carry
    assert set(ids("list", "--starred")) == {SAGS, DEBLUR}
    assert ids("list", "--starred", "--unread") == [DEBLUR]
    assert ids("list", "--tag", "reading-group") == [SAGS]
    assert SAGS not in ids("list", "--unread")
    assert ids("search", "splatting is:starred tag:reading-group") == [SAGS]
    assert set(ids("search", "is:starred")) == {SAGS, DEBLUR}
    assert DEBLUR in ids("search", "gaussian splatting is:unread")
    assert SAGS not in ids("search", "gaussian splatting is:unread")

    table = run("show", SAGS, "--format", "table").stdout
    assert "starred" in table and "reading-group" in table and "3DGS-MCMC" in table

    assert run("mark", SAGS, "unstar").exit_code == 0
    assert run("note", SAGS, "--delete").exit_code == 0
    assert shown(SAGS)["user"] == {
        "read": True,
        "starred": False,
        "tags": ["reading-group"],
        "note": "",
    }


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("mark", SAGS, "nosuchid", "star"), ExitCode.NOT_FOUND, "no paper with id 'nosuchid'"),
        (("mark", SAGS, "fav"), ExitCode.USAGE, "'fav'"),
        (("mark", "0", "star"), ExitCode.AMBIGUOUS, "matches"),
        (("note", SAGS, "   "), ExitCode.USAGE, "the note is empty"),
        (("tag", SAGS, "+bad tag!"), ExitCode.USAGE, "is not a tag"),
        (("tag", "nosuchid", "+x"), ExitCode.NOT_FOUND, "no paper"),
        (("watch", "add", "w", '"unbalanced'), ExitCode.USAGE, "unbalanced quote"),
        (("watch", "add", "w", "ok", "--exclude", "(x"), ExitCode.USAGE, "--exclude"),
        (("watch", "add", "bad name", "lora"), ExitCode.USAGE, "not a watch name"),
        (("watch", "rm", "nosuch"), ExitCode.NOT_FOUND, "no watch named"),
        (("new", "nosuch"), ExitCode.NOT_FOUND, "no watch named"),
        (("recommend",), ExitCode.USAGE, "no starred papers yet"),
    ],
)
def test_mistakes_are_one_line_with_their_exit_code_and_change_nothing(
    sample: Path, args: tuple[str, ...], code: int, words: str
) -> None:
    before = _user_tables(sample)
    result = run(*args)
    assert result.exit_code == code, result.output
    assert words in result.stderr
    if "paperidx: error:" in result.stderr:  # ours; a bad command line is click's usage text
        assert len(result.stderr.strip().splitlines()) == 1
    assert _user_tables(sample) == before


def test_a_duplicate_watch_needs_replace(sample: Path) -> None:
    assert run("watch", "add", "lora", "lora").exit_code == 0
    assert run("watch", "add", "lora", "peft").exit_code == ExitCode.USAGE
    assert run("watch", "add", "lora", "peft", "--replace").exit_code == 0
    listed = json.loads(run("watch", "list", "--format", "json").stdout)
    assert listed == [{"name": "lora", "query": "peft", "exclude": "", "unseen": 0}]


def test_watches_report_on_ingest_and_new_shows_each_paper_once(
    library_home: Path, tmp_path: Path
) -> None:
    run("watch", "add", "splatting", '"gaussian splatting" OR 3dgs', "--exclude", "deblurring")
    run("watch", "add", "moe", "mixture of experts")
    run("watch", "add", "never", "zzzunseenword")
    result = run("ingest", str(SAMPLE), "--year", "2024")
    last = result.stderr.strip().splitlines()[-1]
    assert last == "watches: moe 2 new, never 0 new, splatting 8 new"

    peeked = json.loads(run("new", "splatting", "--peek", "--format", "json").stdout)
    assert len(peeked) == 8 and {p["watch"] for p in peeked} == {"splatting"}
    assert DEBLUR not in {p["id"] for p in peeked}  # --exclude deblurring
    for paper in peeked:  # every match says the phrase or the acronym
        text = f"{paper['title']} {paper['abstract']}".lower()
        assert "gaussian splatting" in text or "3dgs" in text or "3d-gs" in text
    everything = json.loads(run("new", "--format", "json").stdout)
    assert len(everything) == 10
    assert run("new").stderr.strip() == "nothing new from your watches"

    # The same papers again (another copy of the digest) are not news.
    copy = tmp_path / "again.txt"
    copy.write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    again = run("ingest", str(copy), "--year", "2024")
    assert "watches:" not in again.stderr


def test_plain_watch_words_must_all_appear(library_home: Path) -> None:
    run("watch", "add", "both", "gaussian splatting")
    run("ingest", str(SAMPLE), "--year", "2024")
    found = json.loads(run("new", "--format", "json").stdout)
    assert found
    for paper in found:
        text = f"{paper['title']} {paper['abstract']}".lower()
        assert "gaussian" in text and "splat" in text


def test_user_state_survives_reindex_reingest_and_a_merge(sample: Path, tmp_path: Path) -> None:
    run("mark", SAGS, "star")
    run("tag", SAGS, "+keep")
    run("note", SAGS, "mine")
    expected = shown(SAGS)["user"]
    assert run("reindex").exit_code == 0
    assert run("ingest", str(SAMPLE), "--year", "2024").exit_code == 0
    # The same paper from another format, with an arXiv id and authors: merged, same id.
    record = {
        "title": "SAGS: Structure-Aware 3D Gaussian Splatting",
        "abstract": "Short.",
        "arxiv_id": "2404.19149",
        "authors": ["Evangelos Ververas"],
    }
    path = tmp_path / "more.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert run("ingest", str(path)).exit_code == 0
    merged = shown("2404.19149")
    assert merged["id"] == SAGS and merged["user"] == expected


def test_export_then_ingest_into_an_empty_library_restores_everything(
    sample: Path, tmp_path: Path
) -> None:
    run("mark", SAGS, DEBLUR, "star")
    run("mark", SLORA, "read")
    run("tag", SAGS, "+reading-group")
    run("note", DEBLUR, "line one\nline two — with ünïcode")
    run("watch", "add", "splatting", '"gaussian splatting"', "--exclude", "survey")
    exported = tmp_path / "library.jsonl"
    assert run("export", "-o", str(exported)).exit_code == 0

    fresh = tmp_path / "fresh"
    restored = run("--home", str(fresh), "ingest", str(exported))
    assert restored.exit_code == 0, restored.output
    assert "restored marks, tags and notes of 3 papers" in restored.stderr

    def state(*home: str) -> tuple[Any, ...]:
        listing = json.loads(run(*home, "list", "--format", "json").stdout)
        watches = json.loads(run(*home, "watch", "list", "--format", "json").stdout)
        return listing, [{**w, "unseen": 0} for w in watches]

    assert state("--home", str(fresh)) == state()
    # Importing again changes nothing, and the library's own note wins over the export's.
    run("--home", str(fresh), "note", DEBLUR, "edited after the export")
    again = run("--home", str(fresh), "ingest", str(exported))
    assert "1 notes of this library's own kept" in again.stderr
    assert shown_in(fresh, DEBLUR)["user"]["note"] == "edited after the export"


def shown_in(home: Path, paper: str) -> dict[str, Any]:
    return json.loads(run("--home", str(home), "show", paper, "--format", "json").stdout)  # type: ignore[no-any-return]


def test_recommend_follows_the_stars_and_says_why(sample: Path) -> None:
    run("mark", SAGS, DEBLUR, "star")
    result = run("recommend", "-n", "5", "--format", "json")
    assert result.exit_code == 0, result.output
    picks = json.loads(result.stdout)
    assert len(picks) == 5
    assert {p["id"] for p in picks}.isdisjoint({SAGS, DEBLUR})
    assert all(p["because"] in (SAGS, DEBLUR) for p in picks)
    assert all(p["snippet"].startswith("because you starred: ") for p in picks)
    splatting = sum("Gaussian" in p["title"] or "3D" in p["title"] for p in picks)
    assert splatting >= 4
    # Read papers are not recommended again.
    run("mark", picks[0]["id"], "read")
    after = json.loads(run("recommend", "-n", "5", "--format", "json").stdout)
    assert picks[0]["id"] not in {p["id"] for p in after}


def test_open_prints_the_url_when_not_on_a_terminal(sample: Path, tmp_path: Path) -> None:
    record = {"title": "A Paper With a DOI", "abstract": "", "authors": ["A B"], "doi": "10.1234/x"}
    path = tmp_path / "doi.jsonl"
    path.write_text(json.dumps(record) + "\n")
    assert run("ingest", str(path)).exit_code == 0
    assert run("open", "10.1234/x").stdout == "https://doi.org/10.1234/x\n"
    arxiv = {"title": "An arXiv Paper", "abstract": "Text.", "arxiv_id": "2401.00001v2"}
    path.write_text(json.dumps(arxiv) + "\n")
    run("ingest", str(path))
    assert run("open", "2401.00001", "--print").stdout == "https://arxiv.org/abs/2401.00001\n"


def test_list_since_a_relative_span(sample: Path) -> None:
    result = run("list", "--since", "36500d")
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 67
    assert run("list", "--since", "1d").stdout == ""


def _user_tables(home: Path) -> list[Any]:
    db = sqlite3.connect(home / "papers.sqlite3")
    try:
        return [
            db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("marks", "tags", "notes", "watches", "watch_hits")
        ]
    finally:
        db.close()
