"""The RIS parser on real files (rispy's fixtures, an arXiv-mail converter's output), on
unclosed and hostile records, on rendered records, and through the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.parsing import detect_format
from paperidx.parsing.base import ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.parsing.ris import parse, sniff

from .conftest import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "ris"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def events(text: str, **options: object) -> list[ParseEvent]:
    return list(parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def fixture(name: str) -> list[ParseEvent]:
    return events((FIXTURES / name).read_text(encoding="utf-8"))


def records(found: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in found if isinstance(event, RawRecord)]


def skipped(found: list[ParseEvent]) -> list[Skipped]:
    return [event for event in found if isinstance(event, Skipped)]


def test_rispy_full_example() -> None:
    found = fixture("rispy-example-full.ris")
    papers = records(found)

    assert skipped(found) == []
    assert [paper.title for paper in papers] == ["Title of reference", "The title of the reference"]
    assert [paper.line for paper in papers] == [2, 29]
    assert papers[0].authors == ["Karl Marx", "Astrid Lindgren"]  # A2 (editor) is not an author
    assert papers[0].abstract.startswith("BACKGROUND: Lorem ipsum dolor sit amet")
    assert papers[0].links == ["http://example_url.com", "http://example.com"]
    assert papers[0].published is None  # Y1 - 2014// has no day
    assert all(paper.arxiv_id is None and paper.doi is None for paper in papers)


def test_endnote_export_with_untagged_continuation_lines() -> None:
    papers = records(fixture("rispy-endnote.ris"))

    assert len(papers) == 1
    paper = papers[0]
    assert paper.title == "EndNote: The Only Reference I Can Remember"
    assert paper.authors == ["A. Nonymous Smith", "J. Doe", "N. Ote End", "E. Rence Ref"]
    assert paper.doi == "10.1234/endnote.joke.2024"
    assert paper.abstract.startswith("This is a test article about the mysterious world")
    assert paper.links == [
        "https://www.endnote.com/",
        "https://www.reference-jokes.org/",
        "https://doi.org/10.1234/endnote.joke.2024",
    ]
    assert paper.arxiv_id is None and paper.published is None


def test_arxiv_mail_converter_output() -> None:
    papers = records(fixture("arxiv-mail.ris"))

    assert [(paper.arxiv_id, paper.line) for paper in papers] == [
        ("2411.13560", 1),
        ("2411.13566", 14),
    ]
    assert papers[0].title == (
        "AMSnet-KG: A Netlist Dataset for LLM-based AMS Circuit Auto-Design Using"
    )
    # One AU line holding a whole "Last, First and ..." list.
    assert papers[0].authors[:3] == ["Yichen Shi", "Zhuofu Tao", "Yuhao Gao"]
    assert papers[1].authors[-1] == "Markel Markel"
    assert papers[1].abstract.startswith(
        "Managing resources effectively in uncertain demand, variable availability, and complex"
    )


def test_dates_titles_and_identifier_tags() -> None:
    found = records(
        events(
            "TY  - JOUR\nT1  - A\nAU  - Doe, Jane\nDA  - 2024/11/07/\n"
            "DO  - 10.48550/arXiv.2411.13560\nER  - \n"
            "TY  - GEN\nTI  - B\nA1  - Roe, R.\nPY  - 2024\nY1  - 9 October, 2018\n"
            "M3  - arXiv:1810.04118\nER  -\n"
            "TY  - PREP\nTI  - C\nAU  - Poe, E.\nDA  - 2024-01-15T08:00:00Z\n"
            "AN  - arXiv:2401.00001v1\n"
            "L1  - https://arxiv.org/pdf/2401.00001v1\nER  - \n"
        )
    )
    assert [(p.title, p.arxiv_id, p.published) for p in found] == [
        ("A", "2411.13560", dt.date(2024, 11, 7)),
        ("B", "1810.04118", dt.date(2018, 10, 9)),
        ("C", "2401.00001", dt.date(2024, 1, 15)),
    ]
    assert found[0].doi == "10.48550/arxiv.2411.13560"
    assert found[2].links == ["https://arxiv.org/pdf/2401.00001v1"]


def test_unclosed_records_are_reported_and_a_file_of_them_refused() -> None:
    found = events(
        "TY  - JOUR\nTI  - One\nAU  - Doe, J\nER  - \n\n"
        "TY  - JOUR\nTI  - Two, missing its ER\nAU  - Roe, R\n"
        "TY  - JOUR\nTI  - Three\nAU  - Poe, E\nER  - \n"
        "TY  - JOUR\nTI  - Four, truncated\nAU  - Moe, M\n"
    )
    assert [paper.title for paper in records(found)] == ["One", "Three"]
    assert skipped(found) == [
        Skipped(6, "record not closed by ER (a new TY starts at line 9)"),
        Skipped(13, "record not closed by ER"),
    ]
    with pytest.raises(InputError, match="no RIS record is closed"):
        events("TY  - JOUR\nTI  - Truncated\nAU  - Doe, J\n")
    with pytest.raises(InputError, match="no RIS records"):
        events("just text\n")


def test_records_that_are_not_papers_are_skipped_with_their_line() -> None:
    found = events(
        "TY  - JOUR\nAU  - Doe, J\nER  - \n"
        "TY  - JOUR\nTI  - Title only\nPY  - 2020\nER  - \n"
        "TY  - JOUR\nTI  - Kept without abstract\nAU  - Doe, J\nER  - \n"
        "TY  - JOUR\nTI  - Kept without abstract again\nAU  - Doe, J\nDO  - 10.1234/a\nER  - \n"
        "TY  - JOUR\nTI  - Same DOI\nDO  - https://doi.org/10.1234/A\nER  - \n"
    )
    assert [paper.title for paper in records(found)] == [
        "Kept without abstract", "Kept without abstract again",
    ]  # fmt: skip
    assert [(event.line, event.reason) for event in skipped(found)] == [
        (1, "JOUR record has no title (TI/T1)"),
        (4, "JOUR record has a title but no abstract, authors or identifier"),
        (17, "repeats the paper of the record at line 12"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "TY  - JOUR\nTI  - T\nAB  - " + "x" * 1_000_000 + "\nAU  - A, B\nER  - \n",
        "TY  - JOUR\nTI  - T\x00\nAU  - A\x00, B\nER  - \n",
        "TY  - JOUR\nTI  - T\nAU  - A, B\n" + "continued line\n" * 100_000 + "ER  - \n",
        "\ufeffTY  - JOUR\r\nTI  - T\r\nAU  - A, B\r\nER  - \r\n",
        "ER  - \nER  - \nTY  - \nTY  - \n",
        "TY  - JOUR\nTI  - [bold red]T[/] \x1b[31m\nAU  - A, B\nER  - \n",
    ],
    ids=["1mb-field", "nul", "many-continuations", "bom-crlf", "only-tags", "markup"],
)
def test_hostile_inputs_end_in_events_or_input_error(text: str) -> None:
    try:
        found = events(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    assert all(isinstance(event, RawRecord | Skipped) for event in found)


def test_sniff_claims_ris_files_and_nothing_else() -> None:
    for path in FIXTURES.glob("*.ris"):
        head = path.read_text(encoding="utf-8")[:8192]
        assert sniff(head) >= 0.9, path.name
        assert detect_format(head) == "ris", path.name
    others = [p for p in (Path(__file__).parent / "fixtures").rglob("*") if p.is_file()]
    others = [p for p in others if p.parent.name != "ris" and p.suffix != ".sqlite3"]
    if SHARED.is_dir():
        others += sorted(SHARED.rglob("*.json"))[:50] + sorted(SHARED.rglob("*.jsonl"))[:50]
    for path in others:
        assert sniff(path.read_text(encoding="utf-8", errors="replace")[:8192]) < 0.5, path


_text = (
    st.text(
        alphabet=st.characters(categories=("L", "N", "P", "Zs"), exclude_characters=","),
        min_size=1,
        max_size=40,
    )
    .map(lambda value: " ".join(value.split()))
    .filter(lambda value: any(c.isalnum() for c in value))
)
_word = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            _text,
            st.lists(st.tuples(_word, _word), min_size=1, max_size=4),
            st.integers(15, 29),
            st.integers(1, 12),
            st.integers(0, 99999),
        ),
        max_size=5,
    )
)
def test_rendered_records_parse_back(
    papers: list[tuple[str, list[tuple[str, str]], int, int, int]],
) -> None:
    unique = {f"{yy:02d}{mm:02d}.{n:05d}": (title, names) for title, names, yy, mm, n in papers}
    text = "".join(
        f"TY  - JOUR\nTI  - {title}\n"
        + "".join(f"AU  - {last}, {first}\n" for first, last in names)
        + f"UR  - https://arxiv.org/abs/{arxiv_id}\nER  - \n\n"
        for arxiv_id, (title, names) in unique.items()
    )
    found = records(events(text)) if unique else []
    assert [(p.title, p.authors, p.arxiv_id) for p in found] == [
        (title, list(dict.fromkeys(f"{first} {last}" for first, last in names)), arxiv_id)
        for arxiv_id, (title, names) in unique.items()
    ]


def test_cli_ingests_an_ris_file_then_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "export.ris"
    path.write_text((FIXTURES / "arxiv-mail.ris").read_text(encoding="utf-8"), encoding="utf-8")
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    shown = invoke("show", "2411.13566", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["title"] == (
        "Integrated Water Resource Management in the Segura Hydrographic Basin:"
    )
