"""Saved huggingface.co/papers HTML pages: real excerpt, markup fallback, hostile pages, memory."""

from __future__ import annotations

import datetime as dt
import html
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.errors import ExitCode, InputError
from paperidx.parsing import detect_format, hf_html, scholar_alert
from paperidx.parsing.base import ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.text import collapse_whitespace

from .conftest import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "hf-html"
DAILY = FIXTURES / "daily-2026-09-28-excerpt.html"
DAILY_MARKUP = FIXTURES / "daily-2026-09-28-markup-only.html"
PAPER = FIXTURES / "paper-page-invented.html"
PAPER_MARKUP = FIXTURES / "paper-page-invented-markup-only.html"

DAILY_IDS = ["2609.31620", "2609.18703", "2609.31093", "2609.31394"]
DAILY_TITLES = [
    "FuseReg: Regularizing Layer Fusion Mitigates the Reconstruction-Generation Gap in "
    "Representation Autoencoders",
    "RayOrch: Programming and Executing Lineage-Controlled Multi-Grain Dataflows for "
    "Foundation-Model Data Preparation",
    "Block Sparse Attention with Log-Linear Complexity",
    "InternW0-Δ: A World Action Model Bridging Predictive Dynamics and Actions with 20K+ "
    "Hours of Open Data",
]
FURNITURE = (
    "Daily Papers",
    "Submitted by",
    "Subscribe",
    "Get trending papers",
    "Sep 28",
    "Log In",
    "Sign Up",
    "Models",
    "Pricing",
    "Hugging Face",
    "Weekly",
    "Monthly",
    "Comments",
    "Trending",
    "similar",
    "TOS",
    "Nice work",
)


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(hf_html.parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(path: Path, named: bool = True, **options: object) -> list[ParseEvent]:
    if named:
        options.setdefault("source_name", path.name)
    return parse_text(path.read_text(encoding="utf-8"), **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def skipped(events: list[ParseEvent]) -> list[Skipped]:
    return [event for event in events if isinstance(event, Skipped)]


def assert_no_furniture(found: list[RawRecord]) -> None:
    for record in found:
        assert not any(record.title.startswith(word) for word in FURNITURE), record.title


# --- the real daily page -------------------------------------------------------------------


def test_real_daily_page_gives_the_four_papers_of_its_data() -> None:
    events = parse_file(DAILY, named=False)
    found = records(events)
    assert [r.arxiv_id for r in found] == DAILY_IDS
    assert [r.title for r in found] == DAILY_TITLES
    assert [len(r.authors) for r in found] == [16, 16, 5, 48]
    assert found[0].authors[:3] == ["Hongyang Du", "Yunfei Xie", "Junjie Ye"]
    assert found[0].authors[-1] == "Yue Wang"
    assert found[2].authors == ["Bohao Tang", "Zhen Qin", "Yuqi Pan", "Zheng Li", "Pengfei Liu"]
    assert found[3].authors[-1] == "Chunhua Shen"
    # The page's day is its data's dateString (og:url has none); published is the paper's.
    assert {r.date for r in found} == {dt.date(2026, 9, 28)}
    assert [r.published for r in found] == [
        dt.date(2026, 9, 25),
        dt.date(2026, 9, 16),
        dt.date(2026, 9, 25),
        dt.date(2026, 9, 25),
    ]
    assert found[0].abstract.startswith("Representation autoencoders (RAEs) reuse features")
    assert found[0].abstract.endswith("without modifying the pretrained encoder.")
    # arXiv's hard line breaks in the JSON are joined.
    assert "\n" not in found[3].abstract
    assert "real-robot platforms. InternW0-Δ combines" in found[3].abstract
    assert found[0].links == [
        "https://huggingface.co/papers/2609.31620",
        "https://arxiv.org/abs/2609.31620",
        "https://github.com/Hongyang-Du/FuseReg",
        "https://hongyang-du.github.io/FuseReg/",
    ]
    # The visible cards repeat two of these papers: they are not papers twice, nor skipped.
    assert skipped(events) == []
    assert_no_furniture(found)


def test_real_daily_page_is_detected_and_not_claimed_by_scholar() -> None:
    head = DAILY.read_text(encoding="utf-8")[:8192]
    assert detect_format(head) == "hf-html"
    assert scholar_alert.sniff(head) == 0.0


def test_markup_only_copy_falls_back_to_the_visible_cards() -> None:
    found = records(parse_file(DAILY_MARKUP))
    assert [r.arxiv_id for r in found] == DAILY_IDS[:2]
    assert [r.title for r in found] == DAILY_TITLES[:2]
    assert all(r.abstract == "" and r.authors == [] for r in found)
    assert {r.date for r in found} == {dt.date(2026, 9, 28)}  # from the file name
    assert {r.date for r in records(parse_file(DAILY_MARKUP, named=False))} == {None}
    told = records(parse_file(DAILY_MARKUP, named=False, date=dt.date(2026, 1, 2)))
    assert {r.date for r in told} == {dt.date(2026, 1, 2)}
    assert_no_furniture(found)


_OG_URL = 'content="https://huggingface.co/papers"'
_DAY_URL = "https://huggingface.co/papers?date=2024-05-28"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (_OG_URL, f'content="{_DAY_URL}"'),
        (_OG_URL, 'content="https://huggingface.co/papers/date/2024-05-28"'),
        (
            "<head>",
            '<head><link rel="canonical" href="https://huggingface.co/papers/date/2024-05-28">',
        ),
        ("<!DOCTYPE html>", f"<!DOCTYPE html>\n<!-- saved from url=(0048){_DAY_URL} -->"),
    ],
)
def test_the_saved_address_gives_the_day(old: str, new: str) -> None:
    text = DAILY.read_text(encoding="utf-8").replace(old, new, 1)
    found = records(parse_text(text))
    assert len(found) == 4 and {r.date for r in found} == {dt.date(2024, 5, 28)}
    assert hf_html.sniff(text[:8192]) > 0.5


def test_previous_day_link_is_not_the_page_day() -> None:
    text = DAILY_MARKUP.read_text(encoding="utf-8")
    assert "/papers/date/2026-09-25" in text
    assert {r.date for r in records(parse_text(text))} == {None}


# --- a single paper's page -----------------------------------------------------------------


def test_paper_page_gives_only_its_own_paper() -> None:
    events = parse_file(PAPER, date=dt.date(2025, 1, 5))
    found = records(events)
    assert len(found) == 1
    paper = found[0]
    assert paper.arxiv_id == "2501.99999"
    assert paper.title == "An Invented Paper Page: Testing Saved Hugging Face HTML"
    assert paper.authors == ["Ada Example", "Émile Exemple"]
    assert paper.abstract.startswith("We describe an invented paper, written only to test how")
    assert paper.date == dt.date(2025, 1, 5)  # a paper page has no day: the given one
    assert paper.published == dt.date(2025, 1, 2)
    assert "https://github.com/example/invented" in paper.links
    assert skipped(events) == []


def test_paper_page_without_a_given_day_uses_the_featured_day() -> None:
    found = records(parse_file(PAPER))
    assert [r.date for r in found] == [dt.date(2025, 1, 3)]


def test_paper_page_markup_fallback_reads_title_and_abstract() -> None:
    found = records(parse_file(PAPER_MARKUP))
    assert [(r.arxiv_id, r.title) for r in found] == [
        ("2501.99999", "An Invented Paper Page: Testing Saved Hugging Face HTML")
    ]
    assert found[0].abstract.endswith("has <b>markup-like</b> text & an ampersand.")


# --- not HF pages, hostile pages ------------------------------------------------------------

BLOG = """<!doctype html>
<html><head><title>My blog</title>
<meta property="og:url" content="https://blog.example.org/2024/05/papers">
</head><body><h1>What I read this week</h1>
<h3><a href="https://huggingface.co/papers/2405.15738">A paper I liked</a></h3>
<p>It was good. See https://huggingface.co/papers for more.</p></body></html>
"""


def test_generic_html_is_not_claimed() -> None:
    assert hf_html.sniff(BLOG) == 0.0
    assert scholar_alert.sniff(BLOG) == 0.0
    assert hf_html.sniff("<html><body><p>hello</p></body></html>") == 0.0
    # Markdown captures of the page belong to hf-page, JSON to hf-api.
    assert hf_html.sniff("### [Title](https://huggingface.co/papers/2405.15738)\n") == 0.0
    assert hf_html.sniff('[{"paper": {"id": "2405.15738"}}]') == 0.0


def test_generic_html_is_refused_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "blog.html"
    path.write_text(BLOG, encoding="utf-8")
    result = invoke("ingest", str(path))
    assert result.exit_code == ExitCode.INPUT
    assert "not a digest paperidx can read (looks like HTML without papers)" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<",
        "<html><head><meta property='og:url' content='https://huggingface.co/papers'>",
        '<div data-target="DailyPapers" '
        'data-props="{&quot;dailyPapers&quot;:[1, {}, {&quot;paper&quot;:{}}]}">',
        '<div data-target="DailyPapers" data-props="{not json">',
        '<div data-target="DailyPapers" data-props="[&quot;dailyPapers&quot;]">',
        '<div data-props="{&quot;dailyPapers&quot;:{&quot;x&quot;:1}}">',
        "<h3><a href='/papers/2405.15738'></a></h3><h3><a href='/papers/2405.15739'>",
        "<![unknown[ x ]]>\x00\x1b[31m<h3>",
        "<script>" + "<" * 5000,
        "<!--" * 3000,
        "<h3>" * 20000 + "<a href='/papers/2405.15738'>[bold red]x[/bold red]</a>",
    ],
)
def test_hostile_pages_never_crash(text: str) -> None:
    try:
        events = parse_text(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    for event in events:
        assert isinstance(event, RawRecord | Skipped)


def test_bad_daily_entries_are_skipped_with_their_line() -> None:
    props = html.escape(json.dumps({"dailyPapers": [1, {"paper": {"id": "2405.15738"}}]}))
    events = parse_text(f'<html>\n<div data-target="DailyPapers" data-props="{props}"></div>')
    assert records(events) == []
    assert [(s.line, s.reason) for s in skipped(events)] == [
        (2, "daily papers entry 1 is not an object"),
        (2, "daily papers entry 2 has no title"),
    ]


def test_a_huge_unterminated_tag_is_refused() -> None:
    lines = ['<html><head><meta property="og:url" content="https://huggingface.co/papers">']
    lines += ['<div data-props="' + "x" * 999] + ["y" * 999] * 20_000
    with pytest.raises(InputError, match="longer than 16 MB"):
        list(hf_html.parse(iter(lines), ParseOptions()))


# --- 50 MB pages: bounded memory ------------------------------------------------------------

_MEASURE = """
import resource, sys


def peak_mb():
    # This process's own peak (VmHWM): ru_maxrss would carry the pytest parent's peak
    # across fork and exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
from pathlib import Path
from paperidx.errors import InputError
from paperidx.parsing import parser_for
from paperidx.parsing.base import ParseOptions, RawRecord
from paperidx.reading import Source, read_lines

path = Path(sys.argv[1])
outcome = 0
try:
    for event in parser_for(sys.argv[2])(read_lines(Source(path.name, path)), ParseOptions()):
        outcome += isinstance(event, RawRecord)
except InputError:
    outcome = -1
print(outcome, peak_mb())
"""


def write_big_page(path: Path, one_line: bool) -> None:
    items = [
        {
            "paper": {
                "id": f"2609.{10000 + i}",
                "title": f"Generated paper {i}",
                "summary": "An abstract. " * 20,
                "authors": [{"name": "A Author"}],
            }
        }
        for i in range(50)
    ]
    props = html.escape(json.dumps({"dateString": "2026-09-28", "dailyPapers": items}))
    end = "" if one_line else "\n"
    filler = (
        '<div class="flex"><svg viewBox="0 0 12 12"><path d="'
        + "M5.19 2.67a.94.94 0 0 1 " * 60
        + '"></path></svg> <span>42</span> Submitted by someone</div>'
        + end
    )
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<!DOCTYPE html><html><head><meta property="og:url" '
            f'content="https://huggingface.co/papers">{end}</head><body>{end}'
            f'<div data-target="DailyPapers" data-props="{props}">{end}'
        )
        for _ in range(50_000_000 // len(filler)):
            out.write(filler)
        out.write("</div></body></html>\n")


@pytest.mark.parametrize("one_line", [False, True], ids=["lines", "minified"])
def test_a_50_mb_page_is_read_with_bounded_memory(tmp_path: Path, one_line: bool) -> None:
    path = tmp_path / "big.html"
    write_big_page(path, one_line)
    assert path.stat().st_size > 49_000_000
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), "hf-html"],
        capture_output=True,
        text=True,
        check=True,
    )
    papers, peak_mb = map(int, done.stdout.split())
    assert papers == 50
    assert peak_mb < 200, f"peak memory {peak_mb} MB"


# --- round trip -------------------------------------------------------------------------

_words = (
    st.text(
        alphabet=st.characters(
            whitelist_categories=("Lu", "Ll", "Nd"),
            whitelist_characters=" <>&\"'-:;Δé",
        ),
        min_size=1,
        max_size=40,
    )
    .map(collapse_whitespace)
    .filter(lambda text: any(ch.isalnum() for ch in text))
)
_papers = st.lists(
    st.tuples(_words, st.lists(_words, min_size=0, max_size=4, unique=True)),
    min_size=1,
    max_size=6,
    unique_by=lambda paper: paper[0].casefold(),
)


def render_page(papers: list[tuple[str, list[str]]], with_data: bool) -> str:
    items = [
        {
            "paper": {
                "id": f"2401.{10000 + n}",
                "title": title,
                "summary": f"Abstract {n}.",
                "authors": [{"name": name} for name in names],
            }
        }
        for n, (title, names) in enumerate(papers)
    ]
    props = html.escape(json.dumps({"dailyPapers": items}, ensure_ascii=False))
    data = f' data-props="{props}"' if with_data else ""
    cards = "".join(
        f'<article><a href="/papers/2401.{10000 + n}"><img alt=""></a>'
        f'<div class="leading-none">{n}</div>'
        f'<h3><a href="/papers/2401.{10000 + n}">{html.escape(title)}</a></h3></article>\n'
        for n, (title, _) in enumerate(papers)
    )
    return (
        '<!DOCTYPE html>\n<html><head><link rel="canonical" '
        'href="https://huggingface.co/papers/date/2024-01-02"></head>\n'
        f'<body><div data-target="DailyPapers"{data}>\n{cards}</div></body></html>\n'
    )


@settings(max_examples=60, deadline=None)
@given(_papers, st.booleans())
def test_rendered_pages_parse_back(papers: list[tuple[str, list[str]]], with_data: bool) -> None:
    text = render_page(papers, with_data)
    assert hf_html.sniff(text) > 0.5
    found = records(parse_text(text))
    assert [r.title for r in found] == [title for title, _ in papers]
    assert [r.arxiv_id for r in found] == [f"2401.{10000 + n}" for n in range(len(papers))]
    assert {r.date for r in found} == {dt.date(2024, 1, 2)}
    if with_data:
        assert [r.authors for r in found] == [names for _, names in papers]


# --- end to end -----------------------------------------------------------------------------


def test_cli_ingests_a_saved_daily_page_and_shows_a_paper() -> None:
    result = invoke("ingest", str(DAILY))
    assert result.exit_code == 0, result.output
    assert "(hf-html)" in result.stderr and "4 new" in result.stderr
    shown = invoke("show", "2609.31394", "--format", "json")
    assert shown.exit_code == 0, shown.output
    paper = json.loads(shown.stdout)
    assert paper["title"] == DAILY_TITLES[3]
    assert paper["dates"] == ["2026-09-28"] and paper["published"] == "2026-09-25"
    assert paper["authors"][0] == "Xingyu Miao" and len(paper["authors"]) == 48


_html_pieces = st.sampled_from(
    [
        "<",
        ">",
        "</",
        "<!--",
        "-->",
        "<![",
        "]]>",
        "<!",
        "&",
        "&#",
        ";",
        '"',
        "'",
        "=",
        " ",
        "\n",
        "h3",
        "a",
        "div",
        "article",
        "h1",
        "h2",
        "p",
        "script",
        "data-props=",
        'data-target="DailyPapers"',
        "/papers/2401.00001",
        "Abstract",
        "{&quot;dailyPapers&quot;:[{&quot;paper&quot;:{&quot;id&quot;:&quot;2401.00001&quot;,"
        "&quot;title&quot;:&quot;T&quot;}}]}",
        "x",
        "\x00",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_html_pieces, max_size=60).map("".join))
def test_html_shaped_noise_never_crashes(text: str) -> None:
    try:
        events = parse_text(text)
    except InputError:
        return
    assert all(isinstance(event, RawRecord | Skipped) for event in events)
