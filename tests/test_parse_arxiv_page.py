"""Saved arxiv.org pages: listings and abstract pages, as HTML and as copied text."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.parsing import arxiv_page, detect_format
from paperidx.parsing.base import ParseEvent, ParseOptions, RawRecord, Skipped

from .conftest import invoke

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = FIXTURES / "arxiv_page"
REPO = Path(__file__).resolve().parents[1]


def parse(path: Path, **options: object) -> list[ParseEvent]:
    text = path.read_text(encoding="utf-8")
    return parse_string(text, html_page=path.suffix == ".html", **options)


def parse_string(text: str, *, html_page: bool, **options: object) -> list[ParseEvent]:
    parser = arxiv_page.parse_html if html_page else arxiv_page.parse_text
    return list(parser(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def skipped(events: list[ParseEvent]) -> list[Skipped]:
    return [event for event in events if isinstance(event, Skipped)]


# --- the q-fin.PR /new page of 9 September 2026: HTML, text capture, text-browser dump --------

QFIN_NEW = [
    (
        "2609.05433",
        "Perpetual Futures for Stocks: The SpaceX Pre-IPO Market",
        ["Aditya Gupta", "Nick Polson"],
    ),
    (
        "2609.07169",
        "Pricing and Hedging of Discretely Monitored Asian Options in the Volterra-Heston Model",
        ["Gijs Custers", "Sven Karbach", "Martin Friesen"],
    ),
    ("2609.06137", "Unbiased Monte Carlo Greeks for Discontinuous Payoffs", ["Evgeny Lakshtanov"]),
    (
        "1502.05743",
        "The existence of optimal bang-bang controls for GMxB contracts",
        ["Parsiad Azimzadeh", "Peter A. Forsyth"],
    ),
    (
        "2603.24605",
        "Bid--Ask Martingale Optimal Transport",
        ["Bryan Liang", "Marcel Nutz", "Shunan Sheng", "Valentin Tissot-Daguette"],
    ),
]
QFIN_FILES = [
    "qfin-PR-new-2026-09-09.html",
    "qfin-PR-new-2026-09-09-textcapture.md",
    "qfin-PR-new-2026-09-09.w3m.txt",
    "qfin-PR-new-2026-09-09.lynx.txt",
]


@pytest.mark.parametrize("name", QFIN_FILES)
def test_qfin_new_page_gives_its_five_papers_in_every_form(name: str) -> None:
    papers = records(parse(PAGES / name))

    assert [(p.arxiv_id, p.title, p.authors) for p in papers] == QFIN_NEW
    # The digest day is the page's "Showing new listings for Wednesday, 9 September 2026".
    assert {p.date for p in papers} == {dt.date(2026, 9, 9)}
    assert all(p.published is None and p.doi is None for p in papers)
    first, _, cross, replaced, last = papers
    assert first.abstract.startswith("Robert Shiller proposed perpetual futures in 1993 to create")
    assert first.abstract.endswith("We close with other equity applications.")
    assert len(first.abstract) == 1334
    assert "$F(Z,\\theta)$" in cross.abstract  # math is kept as written
    assert cross.abstract.endswith("of analytic or bump-and-revalue references.")
    assert replaced.abstract.endswith("other than in certain degenerate cases.")
    assert last.abstract.endswith("with several synthetic and real-data examples.")
    assert all("  " not in p.abstract and "\n" not in p.abstract for p in papers)
    assert first.links[:2] == [
        "https://arxiv.org/abs/2609.05433",
        "https://arxiv.org/pdf/2609.05433",
    ]


@pytest.mark.parametrize("name", QFIN_FILES)
def test_qfin_new_page_furniture_is_skipped_never_a_paper(name: str) -> None:
    events = parse(PAGES / name)
    reasons = [s.reason for s in skipped(events)]

    headings = [r for r in reasons if r.startswith("section heading")]
    assert headings == [
        "section heading: 'Showing new listings for Wednesday, 9 September 2026'",
        "section heading: 'New submissions (showing 2 of 2 entries)'",
        "section heading: 'Cross submissions (showing 1 of 1 entries)'",
        headings[3],  # the capture shows "4 of 4", the excerpt "2 of 2"
    ]
    assert headings[3].startswith("section heading: 'Replacement submissions (showing ")
    assert reasons.count(arxiv_page._FURNITURE_REASON) >= 2  # the header, and the footer
    furniture = ("Total of", "Skip to", "About", "We gratefully", "Showing up to", "fewer")
    for paper in records(events):
        assert not paper.title.startswith(furniture)
        assert not any(word in paper.abstract for word in ("Total of 7 entries", "gratefully"))


# --- a /recent page: no abstracts, one heading per day --------------------------------------

RECENT = [
    (
        "2504.14037",
        "Uncovering Conspiratorial Narratives within Arabic Online Content",
        ["Djamila Mohdeb", "Meriem Laifa", "Zineb Guemraoui", "Dalila Behih"],
        dt.date(2025, 4, 22),
    ),
    (
        "2504.14039",
        "MEQA: A Meta-Evaluation Framework for Question & Answer LLM Benchmarks",
        ["Jaime Raldua Veuthey", "Zainab Ali Majid", "Suhas Hariharan", "Jacob Haimes"],
        dt.date(2025, 4, 22),
    ),
    (
        "2504.14260",
        "Cross-attention for State-based model RWKV-7",
        ["Liu Xiao", "Li Zhiyuan", "Lin Yueyu"],
        dt.date(2025, 4, 22),
    ),
    (
        "2504.14066",
        "A Baseline for Self-state Identification and Classification in Mental Health "
        "Data: CLPsych 2025 Task",
        ["Laerdon Kim"],
        dt.date(2025, 4, 21),
    ),
]


@pytest.mark.parametrize(
    "name",
    [
        "csCL-recent-2025-04-22.html",
        "csCL-recent-2025-04-22.w3m.txt",
        "csCL-recent-2025-04-22.lynx.txt",
    ],
)
def test_recent_page_papers_have_ids_no_abstracts_and_their_day(name: str) -> None:
    events = parse(PAGES / name, date=dt.date(2030, 1, 1))
    papers = records(events)

    assert [(p.arxiv_id, p.title, p.authors, p.date) for p in papers] == RECENT
    assert [p.abstract for p in papers] == [""] * 4
    assert sum(s.reason.startswith("section heading: 'Tue, 22 Apr 2025") for s in skipped(events))
    assert sum(s.reason.startswith("section heading: 'Mon, 21 Apr 2025") for s in skipped(events))


# --- the pre-2024 markup --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["csLG-new-2022-02-10-oldmarkup.html", "csLG-new-2022-02-10-oldmarkup-browser-copy.txt"],
)
def test_old_markup_with_author_labels_and_two_digit_years(name: str) -> None:
    events = parse(PAGES / name)
    buckingham, replaced = records(events)

    assert buckingham.arxiv_id == "2202.04643"
    assert buckingham.title == "Dimensionally Consistent Learning with Buckingham Pi"
    assert buckingham.authors == [
        "Joseph Bakarji",
        "Jared Callaham",
        "Steven L. Brunton",
        "J. Nathan Kutz",
    ]
    assert buckingham.abstract.startswith("In the absence of governing equations, dimensional")
    assert buckingham.abstract.endswith("groups that spans the solution.")
    assert (replaced.arxiv_id, replaced.abstract) == ("1502.05743", "")
    assert replaced.authors == ["Parsiad Azimzadeh", "Peter A. Forsyth"]
    # "New submissions for Thu, 10 Feb 22": a two-digit year
    assert buckingham.date == replaced.date == dt.date(2022, 2, 10)
    assert "section heading: 'Replacements for Thu, 10 Feb 22'" in [
        s.reason for s in skipped(events)
    ]


# --- browser copies -------------------------------------------------------------------------


def test_browser_copy_of_a_new_page_with_unlabelled_authors() -> None:
    events = parse(PAGES / "csCL-new-2025-04-22-browser-copy.txt")
    papers = records(events)

    assert [(p.arxiv_id, p.authors) for p in papers] == [
        ("2504.14089", ["Kang He", "Kaushik Roy"]),
        (
            "2504.14150",
            ["Katie Matton", "Robert Osazuwa Ness", "John Guttag", "Emre K\u0131c\u0131man"],
        ),
        ("2504.13932", ["Deyu Cao", "Samin Aref"]),
    ]
    assert papers[1].title == (
        "Walk the Talk? Measuring the Faithfulness of Large Language Model Explanations"
    )
    assert papers[0].abstract.startswith("Large language models (LLMs) have achieved")
    assert papers[0].abstract.endswith("outperforms o3-mini by 7.6% on average.")
    assert all(p.date == dt.date(2025, 4, 22) for p in papers)
    assert not any("Comments" in p.abstract or "Subjects" in p.abstract for p in papers)
    assert skipped(events)[-1].reason == arxiv_page._FURNITURE_REASON  # the footer


# --- abstract pages -------------------------------------------------------------------------

GOULET = (
    "2508.11068",
    "Approaching the Source of Symbol Grounding with Confluent Reductions of Abstract Meaning "
    "Representation Directed Graphs",
    ["Nicolas Goulet", "Alexandre Blondin Massé", "Moussa Abdendi"],
)


@pytest.mark.parametrize("name", ["abs-2508.11068.html", "abs-2508.11068-browser-copy.txt"])
def test_abstract_page_gives_the_paper_and_its_submission_day(name: str) -> None:
    events = parse(PAGES / name)
    (paper,) = records(events)

    assert (paper.arxiv_id, paper.title, paper.authors) == GOULET
    assert paper.abstract.startswith("Abstract meaning representation (AMR) is a semantic")
    assert paper.abstract.endswith("discussed in relation to the symbol grounding problem.")
    assert paper.published == dt.date(2025, 8, 14)
    assert paper.date is None  # the page does not say when it was read
    assert paper.doi is None  # 10.48550/arXiv.2508.11068 is arXiv's own DOI, not a journal's
    assert skipped(events)


@pytest.mark.parametrize("name", ["abs-1208.6335.html", "abs-1208.6335.w3m.txt"])
def test_abstract_page_of_a_revised_paper_with_a_journal_doi(name: str) -> None:
    (paper,) = records(parse(PAGES / name, date=dt.date(2026, 1, 5)))

    assert paper.arxiv_id == "1208.6335"
    assert paper.title == (
        "Comparative Study and Optimization of Feature-Extraction Techniques for Content based "
        "Image Retrieval"
    )
    assert paper.authors == ["Aman Chadha", "Sushmit Mallik", "Ravdeep Johar"]
    assert paper.doi == "10.5120/8320-1959"
    assert paper.published == dt.date(2012, 8, 30)  # v1, not the v2 of 2020
    assert paper.date == dt.date(2026, 1, 5)
    assert paper.abstract.startswith("The aim of a Content-Based Image Retrieval (CBIR) system")
    assert paper.abstract.endswith("personalize the image retrieval results.")
    assert "https://doi.org/10.5120/8320-1959" in paper.links


def test_abstract_page_meta_tags_alone_are_enough() -> None:
    page = """<html><head>
<meta name="citation_title" content="A {\\em Bold} Title" />
<meta name="citation_author" content="Lovelace, Ada" />
<meta name="citation_author" content="Turing, Alan M." />
<meta name="citation_date" content="2024/11/06" />
<meta name="citation_arxiv_id" content="2411.04110" />
<meta name="citation_doi" content="10.1000/xyz123" />
<meta name="citation_abstract" content="We study things.
Over two lines." />
</head><body></body></html>"""
    (paper,) = records(parse_string(page, html_page=True, source_name="abs-2024-11-08.html"))

    assert (paper.title, paper.arxiv_id) == ("A Bold Title", "2411.04110")
    assert paper.doi == "10.1000/xyz123"
    assert paper.authors == ["Ada Lovelace", "Alan M. Turing"]
    assert paper.abstract == "We study things. Over two lines."
    assert paper.published == dt.date(2024, 11, 6)
    assert paper.date == dt.date(2024, 11, 8)  # from the file name


# --- every form of one page gives the same papers -------------------------------------------

SAME_PAGE = [
    [
        "qfin-PR-new-2026-09-09.html",
        "qfin-PR-new-2026-09-09-textcapture.md",
        "qfin-PR-new-2026-09-09.w3m.txt",
        "qfin-PR-new-2026-09-09.lynx.txt",
    ],
    [
        "csCL-recent-2025-04-22.html",
        "csCL-recent-2025-04-22.w3m.txt",
        "csCL-recent-2025-04-22.lynx.txt",
    ],
    ["csLG-new-2022-02-10-oldmarkup.html", "csLG-new-2022-02-10-oldmarkup-browser-copy.txt"],
    ["abs-2508.11068.html", "abs-2508.11068-browser-copy.txt"],
    ["abs-1208.6335.html", "abs-1208.6335.w3m.txt"],
]


@pytest.mark.parametrize("names", SAME_PAGE, ids=lambda names: names[0])
def test_html_and_text_forms_of_a_page_agree(names: list[str]) -> None:
    def fields(name: str) -> list[tuple[object, ...]]:
        return [
            (p.arxiv_id, p.title, p.authors, p.abstract, p.date, p.published, p.doi)
            for p in records(parse(PAGES / name))
        ]

    expected = fields(names[0])
    assert expected
    for name in names[1:]:
        assert fields(name) == expected, name


def test_mathjax_rendering_in_a_page_saved_after_it_ran_is_undone() -> None:
    page = (
        "<dl id='articles'><dt><a href='/abs/2411.00001'>arXiv:2411.00001</a></dt><dd>"
        "<div class='list-title mathjax'><span class='descriptor'>Title:</span> Bounds for "
        "<span class='MathJax_Preview'></span><span class='MathJax'><nobr><span class='mi'>"
        "\u03b1</span></nobr></span><script type='math/tex'>\\alpha</script>-mixing "
        "<mjx-container class='MathJax'><mjx-math>\u03b2</mjx-math></mjx-container></div>"
        "<div class='list-authors'><a href='x'>Ada Lovelace</a></div><p class='mathjax'>We "
        "show <span class='MathJax'><span>x</span></span><script type='math/tex'>x^2</script>"
        " holds.</p></dd></dl>"
    )
    (paper,) = records(parse_string(page, html_page=True))

    assert paper.title == "Bounds for $\\alpha$-mixing"
    assert paper.abstract == "We show $x^2$ holds."


def test_abstract_page_without_meta_tags_uses_the_visible_page() -> None:
    page = """<html><head><link rel="canonical" href="https://arxiv.org/abs/2411.00001"/></head>
<body><h1 class="title mathjax"><span class="descriptor">Title:</span>Big Collab</h1>
<div class="authors"><span class="descriptor">Authors:</span><a href="/s?a">Ada Lovelace</a>,
<a href="/s?b">Alan Turing</a><div id="long-author-list" style="display: none;">
<a href="/s?c">Grace Hopper</a>, <a href="/s?d">Kurt G&ouml;del</a></div>
<a href="javascript:toggleAuthorList('long-author-list','et al. (2 additional authors not
shown)');" id="toggle">et al. (2 additional authors not shown)</a><noscript>&nbsp;You must
enable JavaScript to view entire author list.</noscript></div>
<blockquote class="abstract mathjax"><span class="descriptor">Abstract:</span>Text.</blockquote>
<div class="dateline">[Submitted on 1 Nov 2024 (<a href="/abs/2411.00001v1">v1</a>), last
revised 3 Nov 2024 (this version, v2)]</div>
</body></html>"""
    (paper,) = records(parse_string(page, html_page=True))

    assert (paper.arxiv_id, paper.title, paper.abstract) == ("2411.00001", "Big Collab", "Text.")
    assert paper.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Kurt Gödel"]
    assert paper.published == dt.date(2024, 11, 1)
    assert paper.line == 2


# --- duplicates, hostile input --------------------------------------------------------------


def _html_entry(arxiv_id: str, title: str, abstract: str = "", marker: str = "") -> str:
    return (
        f'<dt><a name=\'item1\'>[1]</a><a href ="/abs/{arxiv_id}" title="Abstract">'
        f'arXiv:{arxiv_id}</a> {marker} [<a href="/pdf/{arxiv_id}">pdf</a>]</dt>'
        f"<dd><div class='meta'><div class='list-title mathjax'><span class='descriptor'>"
        f"Title:</span> {title}</div><div class='list-authors'><a href='/a/x'>Ada Lovelace</a>"
        f"</div><div class='list-subjects'><span class='descriptor'>Subjects:</span> cs.CL</div>"
        + (f"<p class='mathjax'>{abstract}</p>" if abstract else "")
        + "</div></dd>"
    )


def test_a_paper_listed_twice_comes_out_once() -> None:
    page = (
        "<dl id='articles'><h3>New submissions (showing 1 of 1 entries)</h3>"
        + _html_entry("2411.00001", "Twice", "")
        + "</dl>\n<dl id='articles'><h3>Cross submissions (showing 1 of 1 entries)</h3>\n"
        + _html_entry("2411.00001v2", "Twice", "The abstract.", "(cross-list from cs.AI)")
        + "</dl>"
    )
    events = parse_string(page, html_page=True, date=dt.date(2024, 11, 7))
    (paper,) = records(events)

    assert (paper.arxiv_id, paper.abstract) == ("2411.00001", "The abstract.")
    assert paper.date == dt.date(2024, 11, 7)
    assert any("listed again" in s.reason for s in skipped(events))


@pytest.mark.parametrize(
    "page",
    [
        "<dl id='articles'><dt><a href='/abs/2411.00001'>arXiv:2411.00001</a></dt><dd>",
        "<dl id='articles'><dt>no id</dt><dd><div class='list-title'>Lost</div></dd>",
        "<div class='list-title'><<<>>>&#xffffffff;&bogus;\x00\x1b[31m[bold red]x</div>",
        "<dl id='articles'>" + "<dt><dd><div class='list-title'>" * 300,
        "<html><!-- never closed " + "x" * 10_000,
        "<!DOCTYPE html><html><head><meta name='citation_title'></head></html>",
    ],
)
def test_hostile_html_gives_skips_never_a_crash(page: str) -> None:
    events = parse_string(page, html_page=True)
    assert all(isinstance(e, RawRecord | Skipped) for e in events)
    assert not any(isinstance(e, RawRecord) and not e.title for e in events)


@pytest.mark.parametrize(
    "text",
    [
        "arXiv:2411.00001 [pdf]\n",
        "[1] arXiv:2411.00001 [pdf, other]\nTitle:\n\n\n",
        "Title: \x00\x1b[31m[bold red]Oops[/]\nCite as: arXiv:2411.00002\n",
        "[Submitted on 99 Foo 2024]\n",
        "\n".join(["[1]"] * 500),
    ],
)
def test_hostile_text_gives_skips_never_a_crash(text: str) -> None:
    events = parse_string(text, html_page=False)
    assert events
    assert all(isinstance(e, RawRecord | Skipped) for e in events)


def test_too_large_a_page_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arxiv_page, "MAX_DOCUMENT_CHARS", 1000)
    lines = ["<div>" + "x" * 100 + "</div>"] * 20
    with pytest.raises(InputError, match="too large"):
        parse_string("\n".join(lines), html_page=True)
    with pytest.raises(InputError, match="too large"):
        parse_string("\n".join(line[5:-6] for line in lines), html_page=False)


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PAGES.glob("*.*")), ids=lambda p: p.name)
def test_each_sample_is_detected_as_its_format(path: Path) -> None:
    if path.name == "SOURCE.md":
        pytest.skip("documentation")
    expected = "arxiv-html" if path.suffix == ".html" else "arxiv-text"
    assert detect_format(path.read_text(encoding="utf-8")[:8192]) == expected


def _other_samples() -> list[Path]:
    found = [p for p in FIXTURES.rglob("*") if p.is_file() and PAGES not in p.parents]
    shared = REPO.parent / "shared" / "data" / "hf_daily_papers" / "page_captures"
    return [*found, REPO / "data" / "hf-daily-papers-sample.txt", *sorted(shared.glob("*"))]


@pytest.mark.parametrize("path", _other_samples(), ids=lambda p: p.name)
def test_other_formats_are_not_claimed(path: Path) -> None:
    if not path.is_file():
        pytest.skip("sample not present")
    head = path.read_bytes()[:8192].decode("utf-8", errors="replace")
    assert arxiv_page.sniff_html(head) < 0.5
    assert arxiv_page.sniff_text(head) < 0.5


# --- property: rendered entries parse back --------------------------------------------------

_WORDS = [
    "graph",
    "model",
    "learning",
    "neural",
    "sparse",
    "retrieval",
    "language",
    "agents",
    "bound",
    "tokens",
    "memory",
    "vision",
    "robust",
    "policy",
    "kernel",
    "causal",
]
_word = st.sampled_from(_WORDS)
_title_word = st.one_of(
    _word.map(str.capitalize), st.sampled_from(["of", "for", "&", "<X>", "3D", "LLMs:", "a"])
)
_name = st.tuples(
    st.sampled_from(["Ada", "Alan", "Grace", "Émile", "Li", "Jean-Paul", "Kurt"]),
    st.sampled_from(["Lovelace", "Turing", "Hopper", "Borel", "Wei", "Sartre", "Gödel"]),
).map(" ".join)
_entry = st.fixed_dictionaries(
    {
        "number": st.integers(1000, 99999),
        "title": st.lists(_title_word, min_size=2, max_size=14).map(" ".join),
        "authors": st.lists(_name, min_size=1, max_size=5, unique=True),
        "abstract": st.lists(_word, min_size=6, max_size=60).map(lambda w: " ".join(w) + "."),
    }
)


def _ident(entry: dict[str, object]) -> str:
    return f"2411.{entry['number']:05d}"


def _render_html(entries: list[dict[str, object]], old: bool) -> str:
    parts = [
        "<!DOCTYPE html><html><head><title>cs.CL</title></head><body>",
        "<h3>Showing new listings for Thursday, 7 November 2024</h3>",
        "<dl id='articles'><h3>New submissions (showing 9 of 9 entries)</h3>",
    ]
    for index, entry in enumerate(entries, 1):
        ident = _ident(entry)
        authors = entry["authors"]
        assert isinstance(authors, list)
        names = ", \n".join(f'<a href="/a/{i}">{html.escape(a)}</a>' for i, a in enumerate(authors))
        label = "<span class='descriptor'>Authors:</span> " if old else ""
        parts.append(
            f'<dt><a name=\'item{index}\'>[{index}]</a>\n<a href ="/abs/{ident}" title="Abstract"'
            f' id="{ident}">\n arXiv:{ident}\n</a>\n [<a href="/pdf/{ident}">pdf</a>]</dt>\n'
            f"<dd><div class='meta'>\n<div class='list-title mathjax'><span class='descriptor'>"
            f"Title:</span>\n {html.escape(str(entry['title']))}\n</div>\n"
            f"<div class='list-authors'>{label}{names}</div>\n"
            f"<div class='list-subjects'><span class='descriptor'>Subjects:</span>\n"
            f'<span class="primary-subject">Computation and Language (cs.CL)</span></div>\n'
            f"<p class='mathjax'>\n {html.escape(str(entry['abstract']))}\n</p></div></dd>"
        )
    parts.append("</dl><p>Total of 9 entries</p></body></html>")
    return "\n".join(parts)


def _render_text(entries: list[dict[str, object]], old: bool) -> str:
    lines = [
        "Skip to main content",
        "Computation and Language",
        "New submissions",
        "Showing new listings for Thursday, 7 November 2024",
        "Total of 9 entries",
        "New submissions (showing 9 of 9 entries)",
        "",
    ]
    for index, entry in enumerate(entries, 1):
        authors = entry["authors"]
        assert isinstance(authors, list)
        lines += [
            f"[{index}]  arXiv:{_ident(entry)} [pdf, html, other]",
            f"Title: {entry['title']}",
            ("Authors: " if old else "") + ", ".join(authors),
            "Subjects: Computation and Language (cs.CL)",
            "",
            str(entry["abstract"]),
            "",
        ]
    lines += ["Total of 9 entries", "About", "Help", "Contact"]
    return "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(_entry, min_size=1, max_size=6, unique_by=lambda e: e["number"]),
    old=st.booleans(),
    as_html=st.booleans(),
)
def test_rendered_pages_parse_back(
    entries: list[dict[str, object]], old: bool, as_html: bool
) -> None:
    page = _render_html(entries, old) if as_html else _render_text(entries, old)
    events = parse_string(page, html_page=as_html)
    papers = records(events)

    assert [p.arxiv_id for p in papers] == [_ident(e) for e in entries]
    assert [p.title for p in papers] == [e["title"] for e in entries]
    assert [p.authors for p in papers] == [e["authors"] for e in entries]
    assert [p.abstract for p in papers] == [e["abstract"] for e in entries]
    assert {p.date for p in papers} == {dt.date(2024, 11, 7)}
    sniff = arxiv_page.sniff_html if as_html else arxiv_page.sniff_text
    assert sniff(page[:8192]) >= 0.85


# --- end to end -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown", "expected_format"),
    [
        ("qfin-PR-new-2026-09-09.html", "2609.06137", "arxiv-html"),
        ("csCL-new-2025-04-22-browser-copy.txt", "2504.14150", "arxiv-text"),
    ],
)
def test_cli_ingest_then_show(name: str, shown: str, expected_format: str) -> None:
    ingested = invoke("ingest", str(PAGES / name))
    result = invoke("show", shown, "--format", "json")

    assert ingested.exit_code == 0, ingested.output
    assert f"({expected_format})" in ingested.stderr
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["arxiv_id"] == shown
    assert record["title"] in {
        "Unbiased Monte Carlo Greeks for Discontinuous Payoffs",
        "Walk the Talk? Measuring the Faithfulness of Large Language Model Explanations",
    }
    assert record["abstract"]
    assert record["authors"]
    assert record["dates"] == ["2026-09-09" if expected_format == "arxiv-html" else "2025-04-22"]
