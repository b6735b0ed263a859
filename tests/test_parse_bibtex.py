"""The BibTeX parser on real exports (JabRef, Zotero via papis, Better BibTeX, INSPIRE, arXiv),
on broken and hostile files, on rendered entries, and through the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.exporters.bibtex import escape
from paperidx.parsing import detect_format
from paperidx.parsing.base import ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.parsing.bibtex import bibtex_names, parse, sniff

from .conftest import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "bibtex"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def events(text: str, **options: object) -> list[ParseEvent]:
    return list(parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def fixture(name: str) -> list[ParseEvent]:
    return events((FIXTURES / name).read_text(encoding="utf-8"))


def records(found: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in found if isinstance(event, RawRecord)]


def skipped(found: list[ParseEvent]) -> list[Skipped]:
    return [event for event in found if isinstance(event, Skipped)]


# --- real files ----------------------------------------------------------------------------


def test_jabref_file_gives_its_entries_and_ignores_comments_strings_and_meta() -> None:
    found = fixture("jabref-complex.bib")
    papers = records(found)

    assert skipped(found) == []
    assert [paper.line for paper in papers] == [11, 27, 44, 59, 69]
    assert papers[0].title == (
        "The trouble with login: on usability and computer security in ubiquitous computing"
    )
    assert papers[0].doi == "10.1007/s00779-005-0347-6"
    assert papers[0].authors == ["E. Bardram"]
    assert papers[1].authors == [
        "Gustav Boström", "Jaana Wäyrynen", "Marine Bodén", "Konstantin Beznosov",
        "Philippe Kruchten",
    ]  # fmt: skip
    assert papers[2].authors == [
        "Eric von Hippel", "Joseph M. Reagle Jr.", "John F. Sherry Jr.",
        "Johan A van den Huevel Jr.",
    ]  # fmt: skip
    assert papers[3].links == ["http://rozinov.sfs.poly.edu/papers/security_vs_usability.pdf"]
    assert papers[4].title == "Why Johnny can't encrypt: a usability evaluation of PGP 5.0"
    # No abstract anywhere in this library: every entry is still a paper, without a day.
    assert all(paper.abstract == "" and paper.published is None for paper in papers)
    assert all(paper.arxiv_id is None for paper in papers)


def test_zotero_export_keeps_abstracts_and_entries_without_one() -> None:
    papers = records(fixture("zotero-papis.bib"))

    assert [paper.title for paper in papers] == [
        "Receiving versus being denied an abortion and subsequent drug use",
        "A qualitative systematic review of factors influencing parents' vaccination "
        "decision-making in the United Kingdom",
        "World Health Organization, radiofrequency radiation and health - a hard nut to crack "
        "(Review)",
    ]
    assert papers[0].authors == ["Sarah C. M. Roberts", "Corinne H. Rocca", "Diana Greene Foster"]
    assert papers[0].abstract.startswith("Background Some research finds that women")
    assert papers[0].doi == "10.1016/j.drugalcdep.2013.09.013"
    assert papers[2].abstract == "" and papers[2].authors == ["Lennart Hardell"]
    # `month = jan, year = {2014}` names no day.
    assert [paper.published for paper in papers] == [None, None, None]


def test_papis_entry_with_comment_lines_inside_a_field() -> None:
    found = fixture("papis-physrevlett.bib")
    paper = records(found)[0]

    assert paper.title == (
        "Room-Temperature Implementation of the Deutsch-Jozsa Algorithm with a Single "
        "Electronic Spin in Diamond"
    )
    assert paper.authors[:3] == ["Fazhan Shi", "Xing Rong", "Nanyang Xu"]
    assert len(paper.authors) == 12
    assert paper.abstract == "... to 100 %(concurrent intercalation)..."
    assert paper.doi == "10.1103/physrevlett.105.040504"
    assert skipped(found) == [Skipped(41, "@article{bibtextest3} has no title")]


def test_arxiv_ids_wherever_each_exporter_puts_them() -> None:
    papers = records(fixture("arxiv-exports.bib"))

    assert [(paper.arxiv_id, paper.doi) for paper in papers] == [
        ("2305.01582", "10.48550/arxiv.2305.01582"),  # Zotero: note/url/arXiv DOI
        ("2411.09851", "10.1007/s41781-025-00140-9"),  # INSPIRE: eprint + archivePrefix
        ("2105.15203", None),  # arXiv's own export
        ("2406.06875", "10.48550/arxiv.2406.06875"),  # Better BibTeX
        ("2402.08052", "10.48550/arxiv.2402.08052"),
        ("2411.13566", None),  # journal = {arXiv preprint arXiv:...}
    ]
    assert papers[0].title == (
        "Interpretable Machine Learning for Science with PySR and SymbolicRegression.jl"
    )
    assert papers[1].title == "SymbolFit: Automatic Parametric Modeling with Symbolic Regression"
    assert papers[1].authors[0] == "Ho Fung Tsoi"
    assert papers[3].title == "Random Disks of Constant Curvature: The Lattice Story"
    assert papers[3].abstract.startswith("We lay the groundwork for a UV-complete formulation")
    assert papers[4].abstract.startswith("We propose a microscopic definition")
    assert "$\\text{CFT}_{1}$" in papers[4].abstract
    assert papers[5].authors[0] == "Urtzi Otamendi"


def test_names_in_every_bibtex_form() -> None:
    assert bibtex_names(
        "Charles Louis Xavier Joseph de la Vallee Poussin and von Beethoven, Ludwig "
        "and Ford, Jr., Henry and {Barnes and Noble, Inc.} and others"
    ) == [
        "Charles Louis Xavier Joseph de la Vallee Poussin",
        "Ludwig von Beethoven",
        "Henry Ford Jr.",
        "Barnes and Noble, Inc.",
    ]
    assert bibtex_names("Kov{\\'a}cs, D{\\'a}vid P{\\'e}ter AND {Google Brain}") == [
        "Dávid Péter Kovács",
        "Google Brain",
    ]


def test_published_only_from_a_full_day() -> None:
    found = records(
        events(
            "@online{a, title = {A}, author = {X, Y}, date = {2024-11-07}}\n"
            "@misc{b, title = {B}, author = {X, Y}, year = 2024, month = nov, day = 7}\n"
            "@misc{c, title = {C}, author = {X, Y}, year = 2024, month = nov}\n"
            "@misc{d, title = {D}, author = {X, Y}, date = {2024-11}, urldate = {2024-12-01}}\n"
        )
    )
    assert [paper.published for paper in found] == [
        dt.date(2024, 11, 7), dt.date(2024, 11, 7), None, None,
    ]  # fmt: skip


def test_string_macros_concatenation_and_parenthesised_entries() -> None:
    found = records(
        events(
            '@string{nips = "Advances in " # {Neural} # " Information Processing Systems"}\n'
            '@STRING(pre = "arXiv preprint ")\n'
            "@inproceedings(vaswani2017, author = {Vaswani, Ashish and Shazeer, Noam},\n"
            "  title = {Attention Is {All} You Need}, booktitle = nips,\n"
            "  journal = pre # {arXiv:1706.03762v5})\n"
        )
    )
    assert len(found) == 1
    assert found[0].title == "Attention Is All You Need"
    assert found[0].authors == ["Ashish Vaswani", "Noam Shazeer"]
    assert found[0].arxiv_id == "1706.03762"


def test_same_paper_twice_comes_out_once() -> None:
    found = events(
        "@misc{a, title = {T}, eprint = {2401.00001}, archivePrefix = {arXiv}}\n"
        "@article{b, title = {T (journal version)}, journal = {arXiv:2401.00001}}\n"
    )
    assert len(records(found)) == 1
    assert skipped(found) == [Skipped(2, "@article{b} repeats the paper of the entry at line 1")]


# --- broken and hostile files -----------------------------------------------------------------


def test_unbalanced_braces_skip_one_entry_and_the_rest_is_read() -> None:
    found = events(
        "@article{a1, title = {Good One}, author = {A, B}}\n\n"
        "@article{a2, title = {Broken {unbalanced}, author = {C, D}}\n\n"
        "@article{a3, title = {Good Three}, author = {E, F}}\n"
        "@article{a4, title = {Never {closed}, author = {G, H}\n"
        "  abstract = {runs to the next entry\n"
        "@article{a5, title = {Good Five}, author = {I, J}}\n"
    )
    assert [paper.title for paper in records(found)] == ["Good One", "Good Three", "Good Five"]
    assert [(event.line, "unbalanced" in event.reason) for event in skipped(found)] == [
        (3, True),
        (6, True),
    ]


def test_a_file_where_nothing_can_be_read_is_refused() -> None:
    with pytest.raises(InputError, match="no BibTeX entry could be read"):
        events("@article{a, title = {never closed\n  author = {X}\n")
    assert events("% only a comment\n@comment{nothing here}\n") == []


@pytest.mark.parametrize(
    "text",
    [
        "@string{a = a # a}\n@misc{x, title = a # {T}, author = {A, B}}",
        "@string{a = {"
        + "x" * 1000
        + "}}\n"
        + "@string{a = a # a}\n" * 20
        + "@misc{x, title = {T}, author = {A, B}}",
        "@misc{x, title = {" + "{" * 50_000 + "T" + "}" * 50_000 + "}, author = {A, B}}",
        "@misc{x, title = {T}, abstract = {" + "word " * 200_000 + "}, author = {A, B}}",
        "@misc{x, ti\x00tle = {T\x00}, author = {A, B}}",
        "@misc{x, title = {\\'{\\\"{\\~{",
        "@" * 10_000,
        "@misc{" + "x" * 100_000,
    ],
    ids=[
        "self-macro",
        "doubling-macro",
        "deep-nesting",
        "1mb-field",
        "nul",
        "open-accent",
        "ats",
        "long-key",
    ],
)
def test_hostile_inputs_end_in_events_or_input_error(text: str) -> None:
    try:
        found = events(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    for event in found:
        assert isinstance(event, RawRecord | Skipped)
        if isinstance(event, RawRecord):
            assert event.title == "T" or event.title.startswith("T")


# --- sniffing ----------------------------------------------------------------------------


def test_sniff_claims_bib_files_and_nothing_else() -> None:
    for path in FIXTURES.glob("*.bib"):
        assert sniff(path.read_text(encoding="utf-8")[:8192]) >= 0.9, path.name
        assert detect_format(path.read_text(encoding="utf-8")[:8192]) == "bibtex", path.name
    others = [p for p in (Path(__file__).parent / "fixtures").rglob("*") if p.is_file()]
    others = [p for p in others if p.parent.name != "bibtex" and p.suffix != ".sqlite3"]
    if SHARED.is_dir():
        others += sorted(SHARED.rglob("*.json"))[:50] + sorted(SHARED.rglob("*.jsonl"))[:50]
    for path in others:
        head = path.read_text(encoding="utf-8", errors="replace")[:8192]
        assert sniff(head) < 0.5, path
    quoted = "Cite us:\n\n```bibtex\n@misc{x,\n  title = {T},\n}\n```\n" + "Readme text.\n" * 5
    assert sniff(quoted) < 0.5


# --- rendered entries parse back -------------------------------------------------------------

_words = st.text(
    alphabet=st.characters(categories=("L", "N"), include_characters="-'`&%$#_^~{}\\"),
    min_size=1,
    max_size=12,
).filter(lambda word: any(ch.isalpha() for ch in word))
_titles = st.lists(_words, min_size=1, max_size=8).map(" ".join)
# BibTeX separates names with "and" in any case, so a rendered name never holds the word.
_names = st.lists(
    st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=10).filter(
        lambda word: word.casefold() != "and"
    ),
    min_size=2,
    max_size=3,
).map(" ".join)
_ids = st.builds(
    lambda year, month, number: f"{year:02d}{month:02d}.{number:05d}",
    st.integers(15, 29),
    st.integers(1, 12),
    st.integers(0, 99999),
)


@settings(max_examples=80, deadline=None)
@example([("A'' ``B``", ["A A"], "1501.00000")])  # TeX reads both pairs as curly quotes
@given(st.lists(st.tuples(_titles, st.lists(_names, min_size=1, max_size=4), _ids), max_size=5))
def test_rendered_entries_parse_back(papers: list[tuple[str, list[str], str]]) -> None:
    unique = {arxiv_id: (title, authors) for title, authors, arxiv_id in papers}
    text = "".join(
        f"@misc{{key{index},\n  title = {{{escape(title)}}},\n"
        f"  author = {{{' and '.join(escape(name) for name in authors)}}},\n"
        f"  eprint = {{{arxiv_id}}},\n  archivePrefix = {{arXiv}}\n}}\n\n"
        for index, (arxiv_id, (title, authors)) in enumerate(unique.items())
    )
    found = records(events(text)) if unique else []
    assert [(p.title, p.authors, p.arxiv_id) for p in found] == [
        (" ".join(title.split()), list(dict.fromkeys(authors)), arxiv_id)
        for arxiv_id, (title, authors) in unique.items()
    ]


# --- through the CLI ---------------------------------------------------------------------


def test_cli_ingests_a_bib_file_then_shows_and_searches_it(tmp_path: Path) -> None:
    path = tmp_path / "library.bib"
    path.write_text(
        (FIXTURES / "arxiv-exports.bib").read_text(encoding="utf-8")
        + (FIXTURES / "jabref-complex.bib").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output

    shown = invoke("show", "2406.06875", "--format", "json")
    assert shown.exit_code == 0, shown.output
    paper = json.loads(shown.stdout)
    assert paper["title"] == "Random Disks of Constant Curvature: The Lattice Story"
    assert paper["authors"] == ["Frank Ferrari"]

    # An entry without an abstract is found by its title and by its author.
    by_title = invoke("search", "Johnny encrypt")
    assert by_title.exit_code == 0, by_title.output
    assert "Why Johnny" in by_title.stdout
    by_author = invoke("search", "Rozinov")
    assert "Are Usability and Security" in by_author.stdout
