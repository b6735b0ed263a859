"""The Markdown digest parser: real daily-arXiv bot outputs, paper notes, furniture, hostiles."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.parsing import detect_format
from paperidx.parsing import markdown_digest as md
from paperidx.parsing.base import ParseEvent, ParseOptions, RawRecord, Skipped

from .conftest import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "markdown_digest"
CAPTURES = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "hf_daily_papers" / ("page_captures")
)


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(md.parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(name: str, **options: object) -> list[ParseEvent]:
    return parse_text((FIXTURES / name).read_text(encoding="utf-8"), **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [e for e in events if isinstance(e, RawRecord)]


def skipped(events: list[ParseEvent]) -> list[Skipped]:
    return [e for e in events if isinstance(e, Skipped)]


# --- real samples -----------------------------------------------------------------------


def test_cv_arxiv_daily_table_readme() -> None:
    events = parse_file("cv-arxiv-daily-README.md")
    papers = records(events)
    assert [(p.arxiv_id, p.title, p.authors, p.published) for p in papers] == [
        (
            "2411.04797",
            "Development of a Service Robot for Hospital Environments in "
            "Rehabilitation Medicine with LiDAR Based Simultaneous Localization and Mapping",
            ["Sayat Ibrayev"],
            dt.date(2024, 11, 7),
        ),
        (
            "2411.04796",
            "MPVO: Motion-Prior based Visual Odometry for PointGoal Navigation",
            ["Sayan Paul"],
            dt.date(2024, 11, 7),
        ),
        (
            "2411.03928",
            "DEIO: Deep Event Inertial Odometry",
            ["Weipeng Guan"],
            dt.date(2024, 11, 6),
        ),
        (
            "2411.01804",
            "Semantic Masking and Visual Feature Matching for Robust Localization",
            ["Luisa Mao"],
            dt.date(2024, 11, 4),
        ),
        (
            "2411.02545",
            "TripletCLIP: Improving Compositional Reasoning of CLIP via Synthetic "
            "Vision-Language Negatives",
            ["Maitreya Patel"],
            dt.date(2024, 11, 4),
        ),
        (
            "2411.02537",
            "INQUIRE: A Natural World Text-to-Image Retrieval Benchmark",
            ["Edward Vendrow"],
            dt.date(2024, 11, 6),
        ),
    ]
    # "## Updated on 2024.11.08" is the digest day; the table's column is the paper's own.
    assert {p.date for p in papers} == {dt.date(2024, 11, 8)}
    assert all(p.abstract == "" for p in papers)
    assert "https://github.com/inquire-benchmark/INQUIRE" in papers[-1].links
    reasons = " ".join(s.reason for s in skipped(events))
    for furniture in (
        "Contributors",
        "Updated on",
        "Usage instructions",
        "SLAM",
        "back to top",
        "Visual Localization",
    ):
        assert furniture in reasons


def test_cv_arxiv_daily_wechat_list_items() -> None:
    events = parse_file("cv-arxiv-daily-wechat.md")
    papers = records(events)
    assert [(p.arxiv_id, p.title, p.authors, p.published) for p in papers] == [
        (
            "2211.16882",
            "MVRackLay: Monocular Multi-View Layout Estimation for Warehouse Racks and Shelves",
            ["Pranjali Pathre"],
            dt.date(2022, 11, 30),
        ),
        (
            "2211.16266",
            "PatchMatch-Stereo-Panorama, a fast dense reconstruction from 360° video images",
            ["Hartmut Surmann"],
            dt.date(2022, 11, 29),
        ),
        (
            "2211.16024",
            "MmWave Mapping and SLAM for 5G and Beyond",
            ["Yu Ge"],
            dt.date(2022, 11, 29),
        ),
    ]
    assert {p.date for p in papers} == {dt.date(2022, 12, 2)}
    assert "https://github.com/roblabwh/patchmatch" in papers[1].links
    assert [s.line for s in skipped(events)] == [1, 6, 9, 20]


def test_a_section_listing_several_papers_is_not_one_paper() -> None:
    text = (
        "## Further reading on ranking\n\nSee [one](https://arxiv.org/abs/2401.00001) and "
        "[two](https://arxiv.org/abs/2401.00002). Both are long and interesting papers, "
        "and this paragraph is long enough to look like an abstract to a naive reader.\n"
    )
    events = parse_text(text)
    assert records(events) == []
    assert "several arXiv papers" in skipped(events)[0].reason


def test_beiyuouo_arxiv_daily_dedups_topics_and_takes_the_deployment_day() -> None:
    events = parse_file("arxiv-daily-beiyuouo-README.md")
    papers = records(events)
    assert [p.arxiv_id for p in papers] == [
        "2401.02416",
        "2401.02402",
        "2401.02398",
        "2401.02334",
        "2401.02230",
        "2401.02300",
    ]
    assert papers[0].title == "ODIN: A Single Model for 2D and 3D Perception"
    assert papers[3].title == (
        "Probing New Physics in light of recent developments in $b \\rightarrow c \\ell \u03bd$ "
        "transitions"
    )
    assert papers[4].title == 'Automated Test Production -- Complement to "Ad-hoc" Testing'
    assert papers[4].authors == ["José Marcos Gomes"]  # "et.al." dropped
    assert papers[5].authors == ["Marcin Łoś"]
    assert {p.date for p in papers} == {dt.date(2024, 1, 7)}
    assert {p.published for p in papers} == {dt.date(2024, 1, 4)}
    assert papers[2].links == [
        "http://arxiv.org/abs/2401.02398v1",
        "https://github.com/erisahasani/synthetic-data-for-neural-operators",
    ]
    assert [s.line for s in skipped(events)] == [2, 1, 6, 8, 17, 23]


def test_daily_arxiv_ai_enhanced_details_blocks() -> None:
    events = parse_file("daily-arxiv-ai-enhanced-2025-10-14.md", date=dt.date(2025, 10, 14))
    papers = records(events)
    assert [(p.arxiv_id, p.title, p.authors, p.line) for p in papers] == [
        (
            "2510.09615",
            "A Biosecurity Agent for Lifecycle LLM Biosecurity Alignment",
            ["Meiyin Meng", "Zaixi Zhang"],
            14,
        ),
        (
            "2510.09617",
            "ChipmunkRing: A Practical Post-Quantum Ring Signature Scheme for "
            "Blockchain Applications",
            ["Dmitrii A. Gerasimov"],
            59,
        ),
        (
            "2510.11658",
            "Automatically Generating Questions About Scratch Programs",
            ["Florian Obermüller", "Gordon Fraser"],
            100,
        ),
    ]
    first = papers[0]
    assert first.abstract.startswith("Large language models (LLMs) are increasingly integrated")
    assert first.abstract.endswith("for future agent-level security protections.")
    for paper in papers:  # the LLM's placeholders are not the abstract
        assert "Motivation" not in paper.abstract and "TL;DR" not in paper.abstract
        assert paper.date == dt.date(2025, 10, 14)
    assert {s.line for s in skipped(events)} == {3, 12, 98}


def test_daily_paper_update_sections() -> None:
    events = parse_file("daily-paper-update-01-12-2025.md")
    (paper,) = records(events)
    assert paper.title == (
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    )
    assert paper.authors == ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee"]
    assert paper.arxiv_id == "1810.04805"
    assert paper.date == dt.date(2025, 12, 1)
    assert paper.abstract.startswith("We introduce a new language representation model")
    assert paper.abstract.endswith("left and right context in all layers.")
    assert "Generated by" not in paper.abstract


def test_front_matter_note() -> None:
    (paper,) = records(parse_file("paper-note-frontmatter-2608.28846.md"))
    assert paper.title.startswith("A rigor-matched audit of periodic-step layer skipping")
    assert paper.authors == ["Prateek Kumar Sikdar", "Arpan Ghosh"]
    assert paper.arxiv_id == "2608.28846"
    assert paper.published == dt.date(2026, 8, 28)
    assert paper.abstract.startswith("Layer-skipping methods for efficient LLM inference")
    assert paper.abstract.endswith("rigor-matched efficiency comparisons.")
    assert "Metadata" not in paper.abstract


def test_obsidian_note_with_list_authors_doi_and_abstract_callout() -> None:
    text = """---
title: "Attention: Is All You Need?"
authors:
  - "[[Ashish Vaswani]]"
  - Noam Shazeer
arxiv: 1706.03762v7
doi: https://doi.org/10.48550/arXiv.1706.03762
date: 2024-11-07
tags: [paper, transformers]
---
# Attention Is All You Need

## Abstract
The dominant sequence transduction models are based on complex recurrent networks.
We propose the Transformer.

## Notes
My own notes, not the abstract.
"""
    (paper,) = records(parse_text(text))
    assert paper.title == "Attention: Is All You Need?"
    assert paper.authors == ["Ashish Vaswani", "Noam Shazeer"]
    assert paper.arxiv_id == "1706.03762"
    assert paper.doi == "10.48550/arxiv.1706.03762"
    assert paper.date == dt.date(2024, 11, 7)
    assert paper.abstract == (
        "The dominant sequence transduction models are based on complex recurrent networks. "
        "We propose the Transformer."
    )


def test_yaml_aliases_and_tags_are_not_expanded() -> None:
    bomb = (
        "---\n"
        + "\n".join([f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)])
        + "\ntitle: !!python/object:os.system x\nauthors: *a29\n---\n# T\n"
    )
    events = parse_text("---\na0: &a0 [x]\n" + bomb[4:])
    assert all(not isinstance(e, RawRecord) or len(e.title) < 100 for e in events)


# --- headings, bold metadata, furniture ----------------------------------------------------


ENTRY_DIGEST = """# Daily arXiv: cs.CL

[![badge](https://img.shields.io/badge/x-y-green)](https://github.com/a/b)

## Updated on 2024.11.07

> Usage instructions: [here](./docs/README.md#usage)

## Table of Contents
- [Papers](#papers)

## 1. Scaling Laws for Tiny Models

**Authors:** Ada Lovelace, Alan Turing
**Published:** 2024-11-05
- **Link**: [arXiv](http://arxiv.org/abs/2411.13560v1)
*Categories*: cs.CL

**Abstract:** We study scaling laws for tiny models. They behave like big ones.

**[A Bold Link Title](https://arxiv.org/abs/2411.00001)**
**Authors:** Grace Hopper
<details><summary>Abstract</summary>
Compilers are good. They help everyone write programs.
</details>

## Usage
Run `python main.py` every day. It fetches papers from arXiv and writes this file.

```markdown
## Paper Title
**Authors:** Names
**Link**: [arXiv](http://arxiv.org/abs/2411.99999)
```

<p align=right>(<a href=#updated-on-20241107>back to top</a>)</p>
"""


def test_headings_bold_metadata_and_details() -> None:
    events = parse_text(ENTRY_DIGEST)
    papers = records(events)
    assert [(p.title, p.authors, p.arxiv_id) for p in papers] == [
        ("Scaling Laws for Tiny Models", ["Ada Lovelace", "Alan Turing"], "2411.13560"),
        ("A Bold Link Title", ["Grace Hopper"], "2411.00001"),
    ]
    assert papers[0].abstract == "We study scaling laws for tiny models. They behave like big ones."
    assert papers[0].published == dt.date(2024, 11, 5)
    assert papers[1].abstract == "Compilers are good. They help everyone write programs."
    assert {p.date for p in papers} == {dt.date(2024, 11, 7)}
    reasons = " ".join(s.reason for s in skipped(events))
    assert "Table of Contents" in reasons and "Usage" in reasons and "code block" in reasons
    assert "2411.99999" not in {p.arxiv_id for p in papers}


def test_user_date_wins_over_updated_on() -> None:
    papers = records(parse_text(ENTRY_DIGEST, date=dt.date(2030, 1, 2)))
    assert {p.date for p in papers} == {dt.date(2030, 1, 2)}


def test_file_name_day_is_the_fallback() -> None:
    text = "### [Some Title](http://arxiv.org/abs/2411.13560)\n*A. Author*\n"
    papers = records(parse_text(text, source_name="2024-11-09.md"))
    assert papers[0].date == dt.date(2024, 11, 9) and papers[0].authors == ["A. Author"]


def test_readme_without_papers_stores_nothing() -> None:
    text = (
        "# my-arxiv-bot\n\nA bot that reads [arXiv](https://arxiv.org/).\n\n## Installation\n\n"
        "pip install it. Then configure the topics you like and it runs daily.\n\n"
        "## License\nMIT\n"
    )
    events = parse_text(text)
    assert records(events) == []
    assert len(skipped(events)) >= 3


def test_table_rows_without_ids_are_skipped_with_their_line() -> None:
    text = (
        "| **Title** | **Date** | **Abstract** |\n| --- | --- | --- |\n"
        "| **[A DVCon Paper](downloads/x.pdf)** | 2025-01-01 | <details><summary>Show</summary>"
        "<p></p></details> |\n"
        "| **[Has An Abstract](downloads/y.pdf)** | 2025-01-01 | <details><summary>Show</summary>"
        "<p>We present a thing. It works.</p></details> |\n"
    )
    events = parse_text(text)
    (paper,) = records(events)
    assert paper.title == "Has An Abstract" and paper.abstract == "We present a thing. It works."
    assert [s.line for s in skipped(events)] == [3]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x00\x00",
        "---\ntitle: x\n",  # unclosed front matter
        "---\n---\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "|Title|\n|---|\n|" + "x" * 5000 + "|\n",
        "### [" * 2000,
        "```\n" * 3 + "unclosed",
        "# [bold red]Title[/bold red]\n\n**Authors:** [blink]X[/blink]\n"
        "**Link**: https://arxiv.org/abs/2411.13560\n\x1b[31mred\x1b[0m\n",
        "<details><summary>Abstract</summary>\n" * 50,
        "## Updated on 2024.02.30\n",
        "**[" + "a" * 10_000 + "](http://arxiv.org/abs/2411.13560)**\n",
    ],
)
def test_hostile_inputs_never_crash(text: str) -> None:
    for event in parse_text(text):
        assert isinstance(event, RawRecord | Skipped)


def test_rich_markup_in_titles_is_kept_as_text() -> None:
    (paper,) = records(
        parse_text("# [bold red]Title[/bold red]\n\n**Link**: https://arxiv.org/abs/2411.13560\n")
    )
    assert paper.arxiv_id == "2411.13560"
    assert "bold red" in paper.title


# --- detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.glob("*.md") if p.name != "SOURCE.md")
)
def test_fixtures_are_detected_as_markdown(name: str) -> None:
    head = (FIXTURES / name).read_text(encoding="utf-8")[:8192]
    assert md.sniff(head) == 0.7
    assert detect_format(head) == "markdown"


def test_hf_page_captures_are_not_claimed() -> None:
    if not CAPTURES.is_dir():
        pytest.skip("shared data not found")
    for capture in CAPTURES.glob("*.md"):
        head = capture.read_text(encoding="utf-8")[:8192]
        assert md.sniff(head) < 0.8
        assert detect_format(head) == "hf-page"


def test_plain_digests_json_and_xml_are_not_claimed() -> None:
    root = Path(__file__).resolve().parents[1]
    for path in (
        root / "data" / "hf-daily-papers-sample.txt",
        root / "tests" / "fixtures" / "hf-digest-three-days.txt",
    ):
        assert md.sniff(path.read_text(encoding="utf-8")[:8192]) == 0.0
    for head in (
        '[{"title": "x"}]',
        '{"papers": []}',
        "<?xml version='1.0'?><rss/>",
        "<!DOCTYPE html><html>",
        "@article{x, title={y}}",
        "[Re] Title\n\nAbstract.",
    ):
        assert md.sniff(head) == 0.0


# --- property: a rendered digest parses back --------------------------------------------

_word = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x24F),
    min_size=2,
    max_size=9,
)
_title = st.lists(_word, min_size=2, max_size=10).map(" ".join)
# "and" separates authors in any case ("JOHN SMITH AND JANE DOE"), so it is never part of a name.
_name = st.lists(_word.filter(lambda w: w.casefold() != "and"), min_size=2, max_size=3).map(
    " ".join
)
_paper = st.tuples(
    _title,
    st.lists(_name, min_size=1, max_size=4, unique=True),
    st.integers(min_value=1, max_value=99_999),
)


def _render(papers: list[tuple[str, list[str], int]], style: str) -> str:
    out = ["# My arXiv digest", "", "## Updated on 2024.11.07", ""]
    if style == "table":
        out += ["|Publish Date|Title|Authors|PDF|Code|", "|---|---|---|---|---|"]
    for index, (title, authors, number) in enumerate(papers, start=1):
        arxiv = f"2411.{number:05d}"
        url = f"http://arxiv.org/abs/{arxiv}v1"
        if style == "table":
            out.append(f"|**2024-11-06**|**{title}**|{', '.join(authors)}|[{arxiv}v1]({url})|null|")
        elif style == "heading":
            out += [
                f"### {index}. [{title}]({url})",
                f"**Authors:** {', '.join(authors)}",
                "**Published:** 2024-11-06",
                "",
                "**Abstract:** We study it. It works.",
                "",
            ]
        else:
            out += [f"- **[{title}]({url})**", f"  *{', '.join(authors)}*", ""]
    return "\n".join(out)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_paper, min_size=1, max_size=6, unique_by=(lambda p: p[0].casefold(), lambda p: p[2])),
    st.sampled_from(["table", "heading", "bold"]),
)
def test_rendered_digest_parses_back(papers: list[tuple[str, list[str], int]], style: str) -> None:
    found = records(parse_text(_render(papers, style)))
    assert [(p.title, p.authors, p.arxiv_id) for p in found] == [
        (title, authors, f"2411.{number:05d}") for title, authors, number in papers
    ]
    assert {p.date for p in found} == {dt.date(2024, 11, 7)}


# --- end to end ------------------------------------------------------------------------


def test_cli_ingest_and_show(tmp_path: Path) -> None:
    source = tmp_path / "README.md"
    source.write_text((FIXTURES / "cv-arxiv-daily-README.md").read_text(encoding="utf-8"))
    result = invoke("ingest", str(source))
    assert result.exit_code == 0, result.output
    shown = invoke("show", "2411.01804", "--format", "json")
    assert shown.exit_code == 0, shown.output
    paper = json.loads(shown.stdout)
    assert paper["title"] == "Semantic Masking and Visual Feature Matching for Robust Localization"
    assert paper["authors"] == ["Luisa Mao"]
    assert paper["date"] == "2024-11-08"
    listed = invoke("list", "--format", "jsonl")
    titles = [json.loads(line)["title"] for line in listed.stdout.splitlines()]
    assert len(titles) == 6 and "SLAM" not in titles


def test_cli_ingest_note(tmp_path: Path) -> None:
    source = tmp_path / "note.md"
    source.write_text((FIXTURES / "paper-note-frontmatter-2608.28846.md").read_text("utf-8"))
    assert invoke("ingest", str(source)).exit_code == 0
    shown = invoke("show", "2608.28846", "--format", "json")
    assert json.loads(shown.stdout)["authors"] == ["Prateek Kumar Sikdar", "Arpan Ghosh"]
