"""The exporters one by one, on hand-made papers: escaping, keys, streaming, atomic files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperidx.errors import OutputError
from paperidx.exporters import EXPORT_FORMATS, atomic_file, bibtex, exporter_for, markdown
from paperidx.exporters.records import csv_cell
from paperidx.parsing.base import ParseOptions, RawRecord
from paperidx.parsing.jsonl import record_from_mapping
from paperidx.results import StoredPaper


def paper(
    title: str = "LoRA Learns Less and Forgets Less",
    *,
    abstract: str = "An abstract.",
    authors: tuple[str, ...] = ("Dan Biderman", "Jose Gonzalez Ortiz"),
    arxiv_id: str | None = "2405.09673",
    dates: tuple[dt.date, ...] = (dt.date(2024, 5, 16),),
    links: tuple[str, ...] = (),
    pid: str = "0123456789",
) -> StoredPaper:
    return StoredPaper(
        id=pid,
        title=title,
        abstract=abstract,
        authors=list(authors),
        arxiv_id=arxiv_id,
        dates=list(dates),
        sources=["digest.txt:3"],
        links=list(links),
    )


def text(fmt: str, papers: list[StoredPaper]) -> str:
    return "".join(exporter_for(fmt)(papers))


# --- every format -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_streams_without_holding_the_papers(fmt: str) -> None:
    taken: list[int] = []

    def papers() -> Iterator[StoredPaper]:
        for n in range(3):
            taken.append(n)
            yield paper(f"Paper {n}", pid=f"{n:010d}")

    chunks = exporter_for(fmt)(papers())
    first = next(chunks)
    assert len(taken) <= 1 and first  # the first chunk is out before the rest are read
    assert len([*chunks]) >= 2 and taken == [0, 1, 2]


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_writes_something_valid_for_no_papers(fmt: str) -> None:
    out = text(fmt, [])
    if fmt == "json":
        assert json.loads(out) == []
    elif fmt == "csv":
        assert out.startswith("id,title,")
    else:
        assert out == ""


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        exporter_for("pdf")


# --- JSON, CSV ----------------------------------------------------------------------------


def test_json_array_holds_the_same_records_as_json_lines() -> None:
    papers = [paper("One", pid="1" * 10), paper("Two", pid="2" * 10, arxiv_id=None, dates=())]
    lines = [json.loads(line) for line in text("jsonl", papers).splitlines()]
    assert json.loads(text("json", papers)) == lines == [p.listing() for p in papers]


def test_json_keeps_text_exact_but_escapes_c1_and_bidi_controls() -> None:
    tricky = "Ünïcode \u202e reversed \x85 next-line"
    out = text("jsonl", [paper(tricky)])
    assert "\u202e" not in out and "\x85" not in out and "Ünïcode" in out
    assert json.loads(out)["title"] == tricky


def test_csv_cells_are_one_line_and_show_controls() -> None:
    out = text("csv", [paper(abstract="line one\nline two \x1b[31mred", links=("https://a.b/c",))])
    [row] = csv.DictReader(io.StringIO(out))
    assert len(out.splitlines()) == 2
    assert row["abstract"] == "line one\\x0aline two \\x1b[31mred"
    assert row["authors"] == "Dan Biderman; Jose Gonzalez Ortiz"
    assert (row["date"], row["dates"], row["links"]) == (
        "2024-05-16",
        "2024-05-16",
        "https://a.b/c",
    )


# --- BibTeX -------------------------------------------------------------------------------


def test_bibtex_entry_has_the_fields_of_an_arxiv_preprint() -> None:
    out = text("bibtex", [paper()])
    assert out == (
        "@misc{biderman2024lora,\n"
        "  title = {{LoRA} Learns Less and Forgets Less},\n"
        "  author = {Dan Biderman and Jose Gonzalez Ortiz},\n"
        "  year = {2024},\n"
        "  month = may,\n"
        "  eprint = {2405.09673},\n"
        "  archivePrefix = {arXiv},\n"
        "  url = {https://arxiv.org/abs/2405.09673},\n"
        "  abstract = {An abstract.}\n"
        "}\n\n"
    )


def test_bibtex_without_arxiv_id_dates_by_the_digest_and_links_the_first_link() -> None:
    out = text(
        "bibtex",
        [
            paper(
                arxiv_id=None,
                authors=(),
                dates=(dt.date(2023, 12, 30),),
                links=("https://x.y/{a}",),
            )
        ],
    )
    assert out.startswith("@misc{anon2023lora,\n")
    assert "eprint" not in out and "author" not in out
    assert "  year = {2023},\n  month = dec,\n  url = {https://x.y/%7Ba%7D},\n" in out


def test_bibtex_year_comes_from_the_arxiv_id_even_when_featured_later() -> None:
    featured_in_january = paper(arxiv_id="2312.00001", dates=(dt.date(2024, 1, 3),))
    assert bibtex.year_and_month(featured_in_january) == (2023, 12)
    assert bibtex.year_and_month(paper(arxiv_id="hep-th/9901001")) == (1999, 1)
    assert bibtex.year_and_month(paper(arxiv_id=None, dates=())) == (None, None)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("100% & $5 #1 a_b", r"100\% \& \$5 \#1 a\_b"),
        ("x^2 ~ y", r"x\textasciicircum{}2 \textasciitilde{} y"),
        ("{a} \\b", r"\textbraceleft{}a\textbraceright{} \textbackslash{}b"),
        ("Ünïcödé, 中文", "Ünïcödé, 中文"),
        ("bell\x07", r"bell\textbackslash{}x07"),
    ],
)
def test_bibtex_escapes_every_special(raw: str, escaped: str) -> None:
    assert bibtex.escape(raw) == escaped


@pytest.mark.parametrize(
    ("title", "protected"),
    [
        ("LoRA for GPT-4 in 3D", "{LoRA} for {GPT-4} in {3D}"),
        ("Gaussian Splatting", "Gaussian Splatting"),
        ("A Survey of NeRF_s", r"A Survey of {NeRF\_s}"),
    ],
)
def test_bibtex_braces_words_whose_capitals_must_survive(title: str, protected: str) -> None:
    assert bibtex.protected_title(title) == protected


def _balanced(value: str) -> bool:
    depth = 0
    for ch in value:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@given(st.text())
def test_any_text_escapes_to_balanced_braces_and_no_bare_specials(raw: str) -> None:
    escaped = bibtex.escape(raw)
    assert _balanced(escaped) and _balanced(bibtex.protected_title(raw))
    unescaped = escaped
    for command in (r"\%", r"\&", r"\$", r"\#", r"\_"):
        unescaped = unescaped.replace(command, "")
    assert not set("%&$#_^~") & set(unescaped.replace("{}", ""))


def test_bibtex_keys_are_ascii_and_unique_in_one_export() -> None:
    same = [paper(pid=f"{n:010d}") for n in range(28)]
    same.append(paper("Ça marche: the Über-Model", authors=("Zoë Ærøskøbing",), arxiv_id=None))
    keys = [line[6:-1] for line in text("bibtex", same).splitlines() if line.startswith("@misc{")]
    assert keys[:3] == ["biderman2024lora", "biderman2024lorab", "biderman2024lorac"]
    assert keys[25:28] == ["biderman2024loraz", "biderman2024loraaa", "biderman2024loraab"]
    assert keys[28] == "rskbing2024ca"
    assert len(set(keys)) == len(keys)


def test_bibtex_author_names_that_would_split_or_fail_are_kept_whole() -> None:
    authors = ("Research and Development Team", "Doe, Jane, Jr., III", "Ada Lovelace")
    out = text("bibtex", [paper(authors=authors)])
    assert (
        "author = {{Research and Development Team} and {Doe, Jane, Jr., III} and Ada Lovelace}"
        in out
    )


# --- Markdown -----------------------------------------------------------------------------


def test_markdown_section_shows_id_date_link_authors_abstract() -> None:
    out = text("markdown", [paper(links=("https://github.com/x/y",))])
    assert out == (
        "## LoRA Learns Less and Forgets Less\n\n"
        "`0123456789` · 2024-05-16 · [arXiv:2405.09673](https://arxiv.org/abs/2405.09673)\n\n"
        "*Dan Biderman, Jose Gonzalez Ortiz*\n\n"
        "An abstract.\n\n"
        "Links: <https://github.com/x/y>\n\n"
    )


def test_markdown_neutralises_markup_and_html_in_paper_text() -> None:
    out = text(
        "markdown",
        [paper("<script>x</script> *bold* [link](javascript:1)", abstract="1. not a list\x1b[2J")],
    )
    assert "<script>" not in out and r"\<script\>" in out
    assert r"\*bold\*" in out and r"\[link\](javascript:1)" in out
    assert "\n" + r"1\. not a list\\x1b\[2J" + "\n" in out  # shows as "1. not a list\x1b[2J"


def test_markdown_escape_only_adds_backslashes() -> None:
    raw = r"a_b *c* `d` [e] <f> #g |h| &i ~j~ \k"
    assert markdown.escape(raw).replace("\\", "") == raw.replace("\\", "")


# --- atomic output ------------------------------------------------------------------------


def test_atomic_file_replaces_the_target_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.bib"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)

    with pytest.raises(RuntimeError), atomic_file(target) as out:
        out.write("half")
        raise RuntimeError("disk on fire")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bib"]

    with atomic_file(target) as out:
        out.write("new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the old file's permissions


def test_atomic_file_gives_new_files_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "new.jsonl") as out:
            out.write("{}\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o644


@pytest.mark.parametrize("where", ["missing/dir/x.jsonl", "."])
def test_atomic_file_reports_unwritable_targets_as_output_errors(
    tmp_path: Path, where: str
) -> None:
    with pytest.raises(OutputError, match="cannot write"), atomic_file(tmp_path / where):
        pass


# --- reading an export back (paperidx.parsing.jsonl) ----------------------------------------


def _read(record: Mapping[str, object], **options: object) -> RawRecord:
    event = record_from_mapping(record, 1, ParseOptions(**options))  # type: ignore[arg-type]
    assert isinstance(event, RawRecord)
    return event


def test_an_undated_listing_record_takes_the_day_in_its_file_name() -> None:
    listing = {"id": "2503.11731", "title": "T", "summary": "A."}
    assert _read(listing, source_name="2025-03-18.jsonl").date == dt.date(2025, 3, 18)
    assert _read(listing, source_name="listing.jsonl", date=dt.date(2024, 1, 2)).date == dt.date(
        2024, 1, 2
    )
    assert _read(listing, source_name="2025-02-30.jsonl").date is None  # not a day


def test_an_exported_record_without_dates_stays_undated_whatever_the_file_name() -> None:
    exported = paper(dates=()).to_dict()
    assert _read(exported, source_name="export-2025-03-18.jsonl").date is None


def test_an_export_carries_its_dates_sources_and_paperidx_id() -> None:
    two_days = paper(dates=(dt.date(2024, 5, 1), dt.date(2024, 5, 7))).to_dict()
    raw = _read(two_days)
    assert (raw.date, raw.carried_dates) == (dt.date(2024, 5, 1), [dt.date(2024, 5, 7)])
    assert (raw.carried_sources, raw.carried_id) == (["digest.txt:3"], "0123456789")
    assert raw.arxiv_id == "2405.09673"
    # A listing's `id` is its arXiv id, never a paperidx id.
    listing = _read({"id": "2503.11731", "title": "T", "summary": "A."})
    assert (listing.arxiv_id, listing.carried_id) == ("2503.11731", None)


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    hostile = paper('=HYPERLINK("http://evil.example","click")', pid="3" * 10)
    rows = list(csv.DictReader(io.StringIO(text("csv", [hostile]))))
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil.example","click")'
    for lead in ("+1+1", "-2+3", "@SUM(A1)", "\tx"):
        assert csv_cell(lead) == "'" + lead
    assert csv_cell("plain title") == "plain title"


@pytest.mark.parametrize("command", [("list",), ("search", "lora"), ("show", "LORA_ID")])
def test_every_paper_command_speaks_bibtex_and_markdown(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    from .conftest import SAMPLE, invoke

    assert invoke("ingest", str(SAMPLE), "--year", "2024").exit_code == 0
    args = [a.replace("LORA_ID", "df40787f33") for a in command]
    bib = invoke(*args, "--format", "bibtex").stdout
    assert bib.startswith("@misc{") and bib.count("@misc{") >= 1
    markdown = invoke(*args, "--format", "markdown").stdout
    assert markdown.startswith("## ")
    refused = invoke("stats", "--format", "bibtex")
    assert refused.exit_code == 2 and "holds papers" in refused.stderr
