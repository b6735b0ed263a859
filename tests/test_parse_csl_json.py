"""The CSL-JSON parser on real exports (Zotero, Better BibTeX, a Crossref API response),
on bad items and hostile documents, on rendered items, and through the CLI."""

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
from paperidx.parsing.csl_json import parse, sniff

from .conftest import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "csl_json"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def events(text: str, **options: object) -> list[ParseEvent]:
    return list(parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def fixture(name: str) -> list[ParseEvent]:
    return events((FIXTURES / name).read_text(encoding="utf-8"))


def records(found: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in found if isinstance(event, RawRecord)]


def skipped(found: list[ParseEvent]) -> list[Skipped]:
    return [event for event in found if isinstance(event, Skipped)]


def test_zotero_items_with_an_arxiv_preprint() -> None:
    found = fixture("zotero-better-notes.json")
    papers = records(found)

    assert skipped(found) == []
    assert [paper.title for paper in papers] == [
        "Structure-From-Motion Revisited",
        "DreamEditor: Text-Driven 3D Scene Editing with Neural Fields",
    ]
    assert papers[0].authors == ["Johannes L. Schonberger", "Jan-Michael Frahm"]
    assert papers[0].abstract == "" and papers[0].arxiv_id is None
    assert papers[0].published is None  # issued: [["2016"]], a year only
    dream = papers[1]
    assert dream.arxiv_id == "2306.13455"
    assert dream.authors == ["Jingyu Zhuang", "Chen Wang", "Lingjie Liu", "Liang Lin", "Guanbin Li"]
    assert dream.published == dt.date(2023, 6, 29)  # string year, numeric month and day
    assert dream.abstract.startswith("Neural fields have achieved impressive advancements")
    assert dream.links == ["http://arxiv.org/abs/2306.13455"]
    assert [paper.line for paper in papers] == [1, 2]


def test_better_bibtex_date_edge_cases() -> None:
    papers = records(fixture("bbt-dates.csl.json"))

    assert len(papers) == 7
    assert all(paper.authors in (["John Doe"], ["Janet Staiger"]) for paper in papers)
    # Ranges give their start; open ranges too; BC years, a year, a season: no day.
    assert [paper.published for paper in papers] == [
        dt.date(2014, 12, 31), None, dt.date(2014, 12, 31), dt.date(2014, 12, 31),
        None, None, None,
    ]  # fmt: skip
    assert papers[-1].title == "The Politics of Film Canons"


def test_zotero_library_items_without_abstracts_are_kept() -> None:
    papers = records(fixture("zotero-phdiss.json"))

    assert [(p.title, p.authors, p.doi) for p in papers] == [
        ("The Invention of Writing in China", ["William G. Boltz"], None),
        ("On Realism in Egyptian Funerary Sculpture", ["Bernard V. Bothmer"], None),
        ("Oracle-Bone Color Pigments", ["Roswell S. Britton"], "10.2307/2717859"),
    ]


def test_crossref_work_response() -> None:
    papers = records(fixture("crossref-work.json"))

    assert len(papers) == 1
    paper = papers[0]
    assert paper.title == (
        "The quantum-confined Stark effect and localization of charge carriers in "
        "Al x Ga 1-x N/Al y Ga 1-y N quantum wells with different morphologies"
    )
    assert paper.authors[0] == "E. A. Shevchenko" and len(paper.authors) == 7
    assert paper.doi == "10.1002/pssc.201200953"
    assert paper.published == dt.date(2013, 2, 7)
    assert paper.links == [
        "http://dx.doi.org/10.1002/pssc.201200953",
        "https://doi.org/10.1002/pssc.201200953",
    ]


def test_crossref_work_list_with_jats_abstracts() -> None:
    document = {
        "status": "ok",
        "message-type": "work-list",
        "message": {
            "items": [
                {
                    "DOI": "10.1111/JOFI.12345",
                    "title": ["Volatility <i>Risk</i> Premium"],
                    "author": [{"given": "John", "family": "Smith"}, {"name": "ACME Consortium"}],
                    "published-print": {"date-parts": [[2023, 6, 1]]},
                    "abstract": "<jats:title>Abstract</jats:title><jats:p>We study the "
                    "<jats:bold>volatility</jats:bold> risk premium.</jats:p>",
                    "container-title": ["Journal of Finance"],
                },
                {"DOI": "10.1111/jofi.12345", "title": ["Duplicate"], "abstract": "x"},
                "not an object",
                {"abstract": "no title"},
            ]
        },
    }
    found = events(json.dumps(document))
    paper = records(found)[0]
    assert paper.title == "Volatility Risk Premium"
    assert paper.abstract == "We study the volatility risk premium."
    assert paper.authors == ["John Smith", "ACME Consortium"]
    assert paper.published == dt.date(2023, 6, 1)
    assert skipped(found) == [
        Skipped(2, "item 2: repeats the paper of item 1"),
        Skipped(3, "item 3: a string, not a CSL object"),
        Skipped(4, "item 4: no title"),
    ]


def test_arxiv_ids_from_number_doi_url_and_container_and_names_with_particles() -> None:
    items = [
        {"type": "article", "title": "A", "number": "arXiv:2101.00001",
         "author": [{"family": "Waals", "non-dropping-particle": "van der", "given": "J. D."},
                    {"literal": "The LIGO Scientific Collaboration"},
                    {"family": "King", "given": "Martin Luther", "suffix": "Jr."}]},
        {"type": "article", "title": "B", "DOI": "10.48550/arXiv.2305.01582",
         "author": [{"family": "X"}]},
        {"type": "article", "title": "C", "URL": "https://arxiv.org/abs/hep-th/9901001v2",
         "author": [{"family": "Y"}]},
        {"type": "article-journal", "title": "D",
         "container-title": "arXiv preprint arXiv:2411.13560",
         "issued": {"raw": "2021-01-05"}, "author": [{"family": "Z"}]},
    ]  # fmt: skip
    papers = records(events(json.dumps({"items": items})))
    assert [paper.arxiv_id for paper in papers] == [
        "2101.00001", "2305.01582", "hep-th/9901001", "2411.13560",
    ]  # fmt: skip
    assert papers[0].authors == [
        "J. D. van der Waals", "The LIGO Scientific Collaboration", "Martin Luther King Jr.",
    ]  # fmt: skip
    assert papers[3].published == dt.date(2021, 1, 5)


@pytest.mark.parametrize(
    "text, message",
    [
        ('[{"title": "unterminated', "invalid JSON at line 1"),
        ('"just a string"', "no CSL items"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON"),
        ('{"status": "ok"}', "no CSL items"),
    ],
    ids=["truncated", "string", "deep-nesting", "no-items"],
)
def test_unreadable_documents_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        events(text)


@pytest.mark.parametrize(
    "item",
    [
        {"title": "T", "author": [{"family": "A"}], "abstract": "x" * 1_000_000},
        {"title": "T\x00", "author": [{"family": "A\x00"}]},
        {"title": ["T"], "author": "not a list", "DOI": 12},
        {"title": "T", "author": [{"family": "A"}], "issued": {"date-parts": [[10**40, 99, 99]]}},
        {"title": "T", "author": [{"family": "A"}], "issued": {"date-parts": "2020"}},
        {"title": "T", "author": [None, 3, {"family": ["x"]}], "issued": {"date-parts": [[True]]}},
        {"title": "[bold red]T[/]", "author": [{"family": "\x1b[31mA"}]},
    ],
)
def test_hostile_items_become_records_or_skips(item: dict[str, object]) -> None:
    found = events(json.dumps([item]))
    assert len(found) == 1 and isinstance(found[0], RawRecord | Skipped)


def test_sniff_beats_generic_json_only_for_csl() -> None:
    for path in FIXTURES.glob("*.json"):
        head = path.read_text(encoding="utf-8")[:8192]
        assert sniff(head) >= 0.7, path.name
        assert detect_format(head) == "csl-json", path.name
    others = [p for p in (Path(__file__).parent / "fixtures").rglob("*") if p.is_file()]
    others = [p for p in others if p.parent.name != "csl_json" and p.suffix != ".sqlite3"]
    if SHARED.is_dir():
        others += sorted(SHARED.rglob("*.json"))[:80] + sorted(SHARED.rglob("*.jsonl"))[:80]
    for path in others:
        assert sniff(path.read_text(encoding="utf-8", errors="replace")[:8192]) == 0, path
    export = '{"id": "ab12cd34ef", "title": "T", "abstract": "A", "authors": ["X"], "type": "x"}\n'
    assert sniff(export * 2) == 0  # paperidx's JSON Lines
    assert sniff('[{"paper": {"id": "2401.00001", "title": "T", "authors": [{"name": "A"}]}}]') == 0


_text = st.text(alphabet=st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=40)
_titles = _text.map(lambda value: " ".join(value.split())).filter(
    lambda value: any(c.isalnum() for c in value) and "<" not in value and "&" not in value
)
_word = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            _titles,
            st.lists(st.tuples(_word, _word), min_size=1, max_size=4),
            st.integers(15, 29),
            st.integers(1, 12),
            st.integers(0, 99999),
        ),
        max_size=5,
    )
)
def test_rendered_items_parse_back(
    papers: list[tuple[str, list[tuple[str, str]], int, int, int]],
) -> None:
    unique = {f"{yy:02d}{mm:02d}.{n:05d}": (title, names) for title, names, yy, mm, n in papers}
    document = [
        {"type": "article", "title": title, "number": f"arXiv:{arxiv_id}",
         "author": [{"given": given, "family": family} for given, family in names]}
        for arxiv_id, (title, names) in unique.items()
    ]  # fmt: skip
    found = records(events(json.dumps(document)))
    assert [(p.title, p.authors, p.arxiv_id) for p in found] == [
        (title, list(dict.fromkeys(f"{given} {family}" for given, family in names)), arxiv_id)
        for arxiv_id, (title, names) in unique.items()
    ]


def test_cli_ingests_csl_json_then_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "My Library.json"
    path.write_text(
        (FIXTURES / "zotero-better-notes.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    shown = invoke("show", "2306.13455", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["title"] == (
        "DreamEditor: Text-Driven 3D Scene Editing with Neural Fields"
    )
