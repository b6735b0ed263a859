"""Every input format a user meets, through the CLI, on the real files in shared/data.

Each test ingests a few real files (never the whole archive, so the file stays fast) and
checks the library against an oracle read straight from the same files: counts, dates,
authors and arXiv ids. Then the exports: JSON Lines must round-trip losslessly, BibTeX
must parse back with balanced braces and escaped specials, CSV must read back with
`csv.DictReader`.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from paperidx.cli import app
from paperidx.errors import ExitCode

from .conftest import SHARED_DATA, invoke

LISTING = SHARED_DATA / "arxiv_cs_daily" / "data" / "2025-03-18.jsonl"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
THREE_DAYS = FIXTURES / "hf-digest-three-days.txt"
# The first paper of THREE_DAYS, as the HF API archive has it on 2024-05-28.
MATRYOSHKA = "2405.17430"

runner = CliRunner()


run = invoke


def ingest(*paths: Path | str, home: Path | None = None) -> Result:
    prefix = ["--home", str(home)] if home else []
    result = run(*prefix, "ingest", *map(str, paths))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return result


def papers(home: Path | None = None) -> list[dict[str, Any]]:
    """The whole library as `list --format jsonl` shows it (newest first)."""
    prefix = ["--home", str(home)] if home else []
    out = run(*prefix, "list", "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines()]


def by_arxiv_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["arxiv_id"]: r for r in records if r["arxiv_id"]}


def api_day(shared_data: Path, day: str) -> Path:
    return shared_data / "hf_daily_papers" / "api_json" / "Paper_metadata_download" / f"{day}.json"


def hf_oracle(path: Path) -> list[dict[str, Any]]:
    """The `paper` objects of an API day, read independently of paperidx's parser."""
    value = json.loads(path.read_text(encoding="utf-8"))
    items = value["data"] if isinstance(value, dict) else value
    items = [ast.literal_eval(item) if isinstance(item, str) else item for item in items]
    return [item["paper"] for item in items]


# --- inputs --------------------------------------------------------------------------------


def test_hf_api_days_give_every_paper_with_its_date_authors_and_arxiv_id(
    shared_data: Path,
) -> None:
    # 2024-12-11 holds Python-repr strings; 2025-01-10 wraps them in {"status", "data"}.
    days = {day: api_day(shared_data, day) for day in ("2024-05-28", "2024-12-11", "2025-01-10")}
    expected = {day: hf_oracle(path) for day, path in days.items()}
    assert [len(papers) for papers in expected.values()] == [15, 26, 9]

    result = ingest(*days.values())

    stored = by_arxiv_id(papers())
    assert len(stored) == len(papers()) == 15 + 26 + 9
    for day, path in days.items():
        count = len(expected[day])
        assert f"{path} (hf-api): {count} parsed, {count} new" in result.stderr
        for paper in expected[day]:
            record = stored[paper["id"]]
            assert record["title"] == " ".join(paper["title"].split())
            assert record["authors"] == [author["name"] for author in paper["authors"]]
            assert record["dates"] == [day]


@pytest.fixture(scope="module")
def listing_library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A library of one raw arXiv listing day, ingested once for the tests that read it.

    Indexing 328 papers takes seconds; these tests only read the library.
    """
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    home = tmp_path_factory.mktemp("listing")
    result = ingest(LISTING, home=home)
    return home, result.stderr


def test_raw_arxiv_listing_collapses_cross_listed_duplicates(
    listing_library: tuple[Path, str],
) -> None:
    home, report = listing_library
    lines = LISTING.read_text(encoding="utf-8").splitlines()
    distinct = {json.loads(line)["id"] for line in lines}
    assert (len(lines), len(distinct)) == (465, 328)

    assert f"(jsonl): 465 parsed, {len(distinct)} new, {465 - len(distinct)} already" in report
    stored = papers(home)
    assert len(stored) == len(distinct)
    assert {r["arxiv_id"] for r in stored} == distinct
    # A listing names no day inside; its file name does.
    assert {tuple(r["dates"]) for r in stored} == {("2025-03-18",)}


def test_both_page_captures_give_five_papers_each(shared_data: Path) -> None:
    captures = sorted((shared_data / "hf_daily_papers" / "page_captures").glob("*.md"))
    assert len(captures) == 2

    result = ingest(*captures)

    assert result.stderr.count("(hf-page): 5 parsed, 5 new") == 2
    titles = {r["title"] for r in papers()}
    assert len(titles) == 10
    assert "MURMUR: An Efficient Inference System for Long-Form ASR" in titles
    assert by_arxiv_id(papers())["2609.11115"]["title"].startswith("Benchmark Radar:")


def test_multi_day_text_digest_dates_each_paper_by_its_day() -> None:
    result = ingest(THREE_DAYS)

    assert "(digest): 3 parsed, 3 new" in result.stderr
    assert [(r["dates"], r["title"]) for r in papers()] == [
        (
            ["2024-05-30"],
            "MAP-Neo: Highly Capable and Transparent Bilingual Large Language Model Series",
        ),
        (["2024-05-29"], "Phased Consistency Model"),
        (["2024-05-27"], "Matryoshka Multimodal Models"),
    ]
    assert all(r["arxiv_id"] is None and r["authors"] == [] for r in papers())


def test_text_copy_and_json_copy_of_a_paper_become_one_record(shared_data: Path) -> None:
    ingest(THREE_DAYS)
    [before] = [r for r in papers() if r["title"] == "Matryoshka Multimodal Models"]
    assert before["arxiv_id"] is None

    result = ingest(api_day(shared_data, "2024-05-28"))

    assert "15 parsed, 14 new, 1 already present" in result.stderr
    matches = [r for r in papers() if r["title"] == "Matryoshka Multimodal Models"]
    assert len(matches) == 1
    after = matches[0]
    assert after["id"] == before["id"]  # ids never change
    assert after["arxiv_id"] == MATRYOSHKA
    assert after["dates"] == ["2024-05-27", "2024-05-28"]
    assert [s.rsplit(":", 1)[0] for s in after["sources"]] == [
        str(THREE_DAYS),
        str(api_day(shared_data, "2024-05-28")),
    ]
    assert after["authors"][0] == "Mu Cai"
    assert after["abstract"] == before["abstract"]
    assert json.loads(run("show", MATRYOSHKA, "--format", "json").stdout)["id"] == before["id"]


# --- exports ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Papers from every input format, one merged across formats, one undated; built once."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    folder = tmp_path_factory.mktemp("mixed")
    undated = folder / "notes.jsonl"
    undated.write_text(
        json.dumps({"title": "An Undated Note", "abstract": "No digest gave it a day."}) + "\n",
        encoding="utf-8",
    )
    ingest(
        THREE_DAYS,
        api_day(SHARED_DATA, "2024-05-28"),
        api_day(SHARED_DATA, "2025-01-10"),
        next((SHARED_DATA / "hf_daily_papers" / "page_captures").glob("*firecrawl*")),
        undated,
        home=folder / "library",
    )
    return folder / "library"


@pytest.fixture
def mixed_library(mixed_template: Path, library_home: Path) -> list[dict[str, Any]]:
    """A copy of the mixed library as this test's own library (tests may change it)."""
    shutil.copytree(mixed_template, library_home)
    return papers()


def test_jsonl_export_round_trips_losslessly(
    mixed_library: list[dict[str, Any]], tmp_path: Path
) -> None:
    # A day in the export's name must not date the undated paper on the way back.
    exported = tmp_path / "export-2025-03-18.jsonl"
    result = run("export", "--output", str(exported))
    assert result.exit_code == 0 and result.stdout == ""
    assert f"exported {len(mixed_library)} papers" in result.stderr

    other = tmp_path / "other"
    ingest(exported, home=other)

    assert papers(other) == mixed_library
    merged = by_arxiv_id(mixed_library)[MATRYOSHKA]
    shown = [
        run(*home, "show", merged["id"], "--format", "json").stdout
        for home in ([], ["--home", str(other)])
    ]
    assert shown[0] == shown[1]
    assert len(json.loads(shown[1])["sources"]) == 2
    assert any(r["dates"] == [] for r in papers(other))


def test_reingesting_an_export_changes_nothing(
    mixed_library: list[dict[str, Any]], tmp_path: Path
) -> None:
    exported = tmp_path / "all.jsonl"
    run("export", "-o", str(exported))

    result = ingest(exported)

    assert f"0 new, {len(mixed_library)} already present" in result.stderr
    assert papers() == mixed_library  # no source gained the export's own file:line


def test_round_trip_keeps_ids_of_same_titled_arxiv_papers(tmp_path: Path) -> None:
    # The second of two arXiv papers with one title gets a title+id-derived id; the
    # export lists it first (newer), so a re-import must not hand it the plain id.
    source = tmp_path / "twins.jsonl"
    source.write_text(
        "\n".join(
            json.dumps(
                {"title": "Attention", "abstract": f"Paper {n}.", "arxiv_id": arxiv, "date": day}
            )
            for n, arxiv, day in ((1, "2401.00001", "2024-01-01"), (2, "2402.00002", "2024-02-01"))
        ),
        encoding="utf-8",
    )
    ingest(source)
    exported = tmp_path / "twins-export.jsonl"
    exported.write_text(run("export").stdout, encoding="utf-8")

    ingest(exported, home=tmp_path / "other")

    assert papers(tmp_path / "other") == papers()
    assert len({r["id"] for r in papers()}) == 2


def test_export_of_a_query_holds_only_matching_papers(listing_library: tuple[Path, str]) -> None:
    home = str(listing_library[0])
    everything = papers(listing_library[0])

    def exported(*args: str) -> list[dict[str, Any]]:
        out = run("--home", home, "export", *args, "--format", "jsonl").stdout
        return [json.loads(line) for line in out.splitlines()]

    # The plain query is the search's: best first, any of the words (or the acronym GS).
    loose = exported("gaussian splatting")
    search = run("--home", home, "search", "gaussian splatting", "-n", "1000", "-f", "json")
    found = json.loads(search.stdout)
    assert 0 < len(loose) < len(everything)
    assert [r["id"] for r in loose] == [hit["id"] for hit in found]
    for record in loose:
        assert re.search(r"gaussian|splat|\bGS\b", f"{record['title']} {record['abstract']}", re.I)
    # The phrase gives exactly the papers that say it, counted straight from the library.
    phrase = exported('"gaussian splatting"')
    saying_it = {
        r["id"]
        for r in everything
        if "gaussian splatting" in f"{r['title']} {r['abstract']}".lower()
    }
    assert len(saying_it) > 5 and {r["id"] for r in phrase} == saying_it
    stored = {r["id"]: r for r in everything}
    assert all(record == stored[record["id"]] for record in phrase)  # whole records
    limited = exported("gaussian splatting", "--limit", "3")
    assert [r["id"] for r in limited] == [r["id"] for r in loose[:3]]


def test_export_since_until_and_limit_window_the_library(
    mixed_library: list[dict[str, Any]],
) -> None:
    out = run("export", "--since", "2024-05-28", "--until", "2024-05-28").stdout
    window = [json.loads(line) for line in out.splitlines()]
    assert window and all(r["dates"][0] == "2024-05-28" for r in window)
    assert len(run("export", "-n", "4").stdout.splitlines()) == 4


# BibTeX: a small reader that knows brace-delimited values, `"..."`-free output and macros.
_ENTRY_HEAD = re.compile(r"@(\w+)\{([^,\s]+),\n")
_FIELD_HEAD = re.compile(r"\s*(\w+) = ")


def _braced(text: str, start: int) -> int:
    """The index just past the `}` matching the `{` at `start`."""
    assert text[start] == "{"
    depth = 0
    for position in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return position + 1
    raise AssertionError(f"unbalanced braces from offset {start}")


def parse_bibtex(text: str) -> list[tuple[str, str, dict[str, str]]]:
    entries = []
    position = 0
    while (head := _ENTRY_HEAD.search(text, position)) is not None:
        assert text[position : head.start()].strip() == "", "text between entries"
        fields: dict[str, str] = {}
        position = head.end()
        while (field := _FIELD_HEAD.match(text, position)) is not None:
            start = field.end()
            if text[start] == "{":
                end = _braced(text, start)
                value = text[start + 1 : end - 1]
            else:
                end = re.compile(r"[a-z]+").match(text, start).end()  # type: ignore[union-attr]
                value = text[start:end]
            assert field[1] not in fields, f"repeated field {field[1]}"
            fields[field[1]] = value
            position = end + 1 if text[end] == "," else end
        assert text[position:].startswith("\n}"), f"entry {head[2]} does not close"
        position += 2
        entries.append((head[1], head[2], fields))
    assert text[position:].strip() == ""
    return entries


def test_bibtex_export_parses_back_with_escaped_specials(
    mixed_library: list[dict[str, Any]], tmp_path: Path
) -> None:
    nasty = tmp_path / "nasty.jsonl"
    nasty.write_text(
        json.dumps(
            {
                "title": "LoRA {Braces} at 100% for $x_1^2$ & #tags ~ back\\slash",
                "abstract": "An abstract with } an unbalanced brace and \x1b[31m an escape.",
                "authors": ["Ünïcödé Ñame", "Research and Development Team"],
                "arxiv_id": "2401.00001",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    ingest(nasty)
    result = run("export", "--format", "bibtex")
    entries = parse_bibtex(result.stdout)

    assert len(entries) == len(mixed_library) + 1
    keys = [key for _, key, _ in entries]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9]+", key) for key in keys)
    for kind, _, fields in entries:
        assert kind == "misc"
        assert {"title", "abstract"} <= set(fields)
        for value in fields.values():
            assert re.search(r"(?<!\\)[%&$#_]", value) is None, value
            assert "\x1b" not in value
    by_eprint = {fields["eprint"]: fields for _, _, fields in entries if "eprint" in fields}
    matryoshka = by_eprint[MATRYOSHKA]
    assert matryoshka["archivePrefix"] == "arXiv"
    assert (matryoshka["year"], matryoshka["month"]) == ("2024", "may")
    assert matryoshka["url"] == f"https://arxiv.org/abs/{MATRYOSHKA}"
    assert matryoshka["author"].startswith("Mu Cai and Jianwei Yang and ")
    odd = by_eprint["2401.00001"]
    assert odd["title"] == (
        r"{LoRA} {\textbraceleft{}Braces\textbraceright{}} at 100\% for \$x\_1\textasciicircum{}2\$"
        r" \& \#tags \textasciitilde{} back\textbackslash{}slash"
    )
    assert odd["author"] == "Ünïcödé Ñame and {Research and Development Team}"
    assert r"\textbackslash{}x1b[31m" in odd["abstract"]
    assert "name2024lora" in keys  # last name of "Ünïcödé Ñame", folded to ASCII
    assert any(key.startswith("anon2026") for key in keys)  # page captures name no authors


def test_csv_export_reads_back_one_row_per_paper(mixed_library: list[dict[str, Any]]) -> None:
    out = run("export", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))

    assert len(out.splitlines()) == len(mixed_library) + 1  # no cell spans lines
    assert [row["id"] for row in rows] == [r["id"] for r in mixed_library]
    for row, record in zip(rows, mixed_library, strict=True):
        assert row["title"] == record["title"]
        assert row["authors"] == "; ".join(record["authors"])
        assert row["dates"] == "; ".join(record["dates"])
        assert row["arxiv_id"] == (record["arxiv_id"] or "")


def test_markdown_and_json_exports(mixed_library: list[dict[str, Any]]) -> None:
    markdown = run("export", "--format", "markdown").stdout
    assert markdown.count("\n## ") + markdown.startswith("## ") == len(mixed_library)
    assert f"[arXiv:{MATRYOSHKA}](https://arxiv.org/abs/{MATRYOSHKA})" in markdown
    as_json = json.loads(run("export", "--format", "json").stdout)
    assert as_json == mixed_library  # the same records as `list`: one shape everywhere


# --- command-line manners -----------------------------------------------------------------


def test_unwritable_output_is_one_clear_line_and_keeps_the_old_file(
    mixed_library: list[dict[str, Any]], tmp_path: Path
) -> None:
    missing = run("export", "-o", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert missing.exit_code == ExitCode.INPUT
    assert missing.stderr.count("\n") == 1 and "cannot write" in missing.stderr
    assert "Traceback" not in missing.output

    folder = run("export", "-o", str(tmp_path))
    assert folder.exit_code == ExitCode.INPUT and "is a directory" in folder.stderr

    target = tmp_path / "keep.bib"
    target.write_text("old", encoding="utf-8")
    bad = run("export", "-f", "pdf", "-o", str(target))
    assert bad.exit_code == ExitCode.USAGE
    assert target.read_text(encoding="utf-8") == "old"
    assert run("export", "-f", "bibtex", "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("@misc{")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    "command",
    [["search", "model"], ["show", MATRYOSHKA], ["list"], ["stats"], ["similar", MATRYOSHKA]],
)
def test_every_command_that_prints_papers_takes_format(
    mixed_library: list[dict[str, Any]], command: list[str]
) -> None:
    result = run(*command, "--format", "json")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)


def test_bash_completion_script_and_completions() -> None:
    # What `paperidx --show-completion` prints in bash, without detecting the test's shell.
    script = runner.invoke(app, [], env={"_PAPERIDX_COMPLETE": "source_bash"}, prog_name="paperidx")
    assert script.exit_code == 0
    assert "complete -o default -F _paperidx_completion paperidx" in script.stdout

    def complete(words: str) -> list[str]:
        env = {
            "_PAPERIDX_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        return runner.invoke(app, [], env=env, prog_name="paperidx").stdout.split()

    assert complete("paperidx ex") == ["export"]
    assert complete("paperidx export --fo") == ["--format"]
    assert complete("paperidx export --format b") == ["bibtex"]


REAL = Path(__file__).parent / "fixtures"


def test_one_paper_from_an_email_a_ris_file_and_a_bibtex_file_is_one_record() -> None:
    """2411.13566 appears in three real files of three kinds: one record, every sighting."""
    mail = REAL / "arxiv_email" / "cs-2024-11-21-excerpt.txt"
    ris = REAL / "ris" / "arxiv-mail.ris"
    bib = REAL / "bibtex" / "arxiv-exports.bib"
    assert run("ingest", str(mail)).exit_code == 0
    first = json.loads(run("show", "2411.13566", "--format", "json").stdout)
    for path in (ris, bib):
        result = run("ingest", str(path))
        assert result.exit_code == 0, result.output
    merged = json.loads(run("show", "2411.13566", "--format", "json").stdout)
    assert merged["id"] == first["id"]  # ids never change
    assert [s.split(":")[0] for s in merged["sources"]] == [str(mail), str(ris), str(bib)]
    assert len(merged["abstract"]) >= len(first["abstract"]) > 200
    assert len(merged["authors"]) >= len(first["authors"]) > 1
    everything = json.loads(run("list", "--format", "json").stdout)
    assert [p["arxiv_id"] for p in everything].count("2411.13566") == 1
