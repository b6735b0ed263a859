"""The huggingface.co/papers page parser, on the two real captures and on small variants."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.parsing import hf_page
from paperidx.parsing.base import Notice, ParseEvent, ParseOptions, RawRecord, Skipped

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CAPTURES = SHARED / "hf_daily_papers" / "page_captures"
TEXTMODE = CAPTURES / "index-58948089181_hf-papers-q-Long-context-ASR_textmode_EXCERPT.md"
FIRECRAWL = CAPTURES / "index-70793901431_hf-papers-q-source-citations_firecrawl_EXCERPT.md"
needs_captures = pytest.mark.skipif(
    not CAPTURES.is_dir(), reason=f"shared data not found at {CAPTURES} (CI puts shared/ beside it)"
)


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(hf_page.parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(path: Path, **options: object) -> list[ParseEvent]:
    return parse_text(path.read_text(encoding="utf-8"), **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def skipped(events: list[ParseEvent]) -> list[Skipped]:
    return [event for event in events if isinstance(event, Skipped)]


def notices(events: list[ParseEvent]) -> list[str]:
    return [event.message for event in events if isinstance(event, Notice)]


# --- the text-browser capture -------------------------------------------------------------


@needs_captures
def test_textmode_capture_gives_its_five_papers() -> None:
    papers = records(parse_file(TEXTMODE))

    assert [p.title for p in papers] == [
        "MURMUR: An Efficient Inference System for Long-Form ASR",
        "Gemini 1.5: Unlocking multimodal understanding across millions of tokens of context",
        "Speech-Aware Long Context Pruning and Integration for Contextualized Automatic "
        "Speech Recognition",
        "MLMA: Towards Multilingual with Mamba Based Architectures",
        "Whispering Context: Distilling Syntax and Semantics for Long Speech Transcripts",
    ]
    assert [p.line for p in papers] == [59, 84, 109, 135, 159]
    # The reference list with the URLs is not part of the excerpt.
    assert [p.arxiv_id for p in papers] == [None] * 5
    assert [p.authors for p in papers] == [[]] * 5


@needs_captures
def test_textmode_dates_follow_their_card_and_take_the_capture_year() -> None:
    events = parse_file(TEXTMODE, today=dt.date(2030, 1, 1))

    assert [p.date for p in records(events)] == [
        dt.date(2026, 5, 30),  # "May 30", captured 2026-06-29; not the page's own "Jun 29"
        dt.date(2024, 3, 8),  # "Mar 8, 2024 [ 6][39]", with a comment count
        dt.date(2025, 11, 14),
        dt.date(2025, 10, 21),
        dt.date(2025, 8, 18),
    ]
    (notice,) = notices(events)
    assert "2026" in notice
    assert "capture date, 2026-06-29" in notice


@needs_captures
def test_textmode_abstracts_are_joined_from_wrapped_lines() -> None:
    murmur, gemini, *_, whispering = records(parse_file(TEXTMODE))

    assert murmur.abstract.startswith(
        "Long-form automatic speech recognition (ASR) requires both high accuracy and low "
        "latency, but existing systems force a trade-off between the two."
    )
    assert murmur.abstract.endswith(
        "The code of Murmur is available at https://github.com/uw-syfi/Murmur."
    )
    assert murmur.links == ["https://github.com/uw-syfi/Murmur"]
    assert gemini.abstract.endswith(
        "learns to translate English to Kalamang at a similar level to a person who learned "
        "from the same content."
    )
    assert "(>99%) up to at least 10M tokens" in gemini.abstract
    assert whispering.abstract.endswith("context-aware ASR in longform speech.")
    assert all("\n" not in p.abstract and "  " not in p.abstract for p in (murmur, gemini))


@needs_captures
def test_textmode_chrome_is_reported_once_and_cards_leave_nothing_over() -> None:
    events = parse_file(TEXTMODE)

    assert [(s.line, s.reason) for s in skipped(events)] == [
        (1, "'# Web source' capture header"),
        (8, "page header and navigation before the first paper"),
    ]


# --- the firecrawl markdown capture -------------------------------------------------------


@needs_captures
def test_firecrawl_capture_gives_its_five_papers() -> None:
    events = parse_file(FIRECRAWL)
    papers = records(events)

    assert [(p.arxiv_id, p.title) for p in papers] == [
        ("2606.00683", "OCC-RAG: Optimal Cognitive Core for Faithful Question Answering"),
        (
            "2609.11115",
            "Benchmark Radar: A Living Database and Search Engine for AI Benchmarks and Evaluation",
        ),
        (
            "2502.20581",
            "The Noisy Path from Source to Citation: Measuring How Scholars Engage with Past "
            "Research",
        ),
        (
            "2605.08583",
            "Source or It Didn't Happen: A Multi-Agent Framework for Citation Hallucination "
            "Detection",
        ),
        (
            "2609.00319",
            "Sources of Truth: A Multi-Platform, Multilingual Audit of Citations in AI Mental "
            "Health Information Queries",
        ),
    ]
    assert [p.date for p in papers] == [
        dt.date(2026, 5, 29),  # "May 29[6](...#community)"
        dt.date(2026, 9, 9),
        dt.date(2025, 2, 27),
        dt.date(2026, 5, 8),
        dt.date(2026, 8, 30),
    ]
    assert [p.line for p in papers] == [32, 44, 56, 89, 101]
    assert [(s.line, s.reason) for s in skipped(events)] == [
        (1, "YAML front matter (capture metadata)"),
        (10, "page header and navigation before the first paper"),
    ]
    (notice,) = notices(events)
    assert "capture date, 2026-10-02" in notice


@needs_captures
def test_firecrawl_wrapped_abstract_loses_its_hard_break_backslashes() -> None:
    noisy_path = records(parse_file(FIRECRAWL))[2]

    assert noisy_path.abstract.startswith(
        "Academic citations are widely used for evaluating research and tracing knowledge "
        "flows. Such uses typically rely on raw citation counts"
    )
    assert noisy_path.abstract.endswith(
        "analyses that rely on citation quantity alone and the potential for distortion of "
        "evidence."
    )
    assert '"telephone effect"' in noisy_path.abstract
    assert "\\" not in noisy_path.abstract
    # The author avatars block links to the same paper URL; it must not become the abstract.
    assert "authors" not in noisy_path.abstract[-40:]


@needs_captures
def test_firecrawl_single_line_abstracts_and_their_links() -> None:
    occ, radar, _, citetracer, truth = records(parse_file(FIRECRAWL))

    assert occ.abstract.startswith("Recent progress in the development of language models")
    assert occ.abstract.endswith("and refusal (MuSiQue-Un) benchmarks.")
    assert radar.abstract.endswith("for offline queries, and reproducible analysis.")
    assert citetracer.links == ["https://github.com/aaFrostnova/CiteTracer"]
    assert truth.abstract.endswith("as reusable instruments for auditing generative health search.")


@needs_captures
def test_a_given_year_is_used_as_is_without_a_notice() -> None:
    events = parse_file(FIRECRAWL, year=2024)

    assert [p.date for p in records(events)] == [
        dt.date(2024, 5, 29),
        dt.date(2024, 9, 9),
        dt.date(2025, 2, 27),  # shown with its year
        dt.date(2024, 5, 8),
        dt.date(2024, 8, 30),
    ]
    assert notices(events) == []


@needs_captures
def test_sniff_knows_the_captures_from_everything_else() -> None:
    assert hf_page.sniff(TEXTMODE.read_text(encoding="utf-8")[:8192])
    assert hf_page.sniff(FIRECRAWL.read_text(encoding="utf-8")[:8192])
    api_day = (
        SHARED / "hf_daily_papers" / "api_json" / "Paper_metadata_download" / "2024-05-27.json"
    )
    others = [
        api_day,
        SHARED / "arxiv_cs_daily" / "data" / "2025-03-18.jsonl",
        SHARED / "hf_daily_papers" / "SOURCE.md",  # quotes the headings, not at a line start
        REPO / "data" / "hf-daily-papers-sample.txt",
    ]
    for path in others:
        assert not hf_page.sniff(path.read_text(encoding="utf-8")[:8192]), path.name


def test_sniff_needs_a_hugging_face_card_heading() -> None:
    assert hf_page.sniff("Intro\n\n### [A Title][12]\n")
    assert hf_page.sniff("### [A Title](https://huggingface.co/papers/2401.00001)\n")
    assert not hf_page.sniff("# My notes\n\n### [A Title](https://example.org/a)\n")
    assert not hf_page.sniff("A Title\n\nAn abstract mentioning ### [x] mid-line.\n")


# --- variants -----------------------------------------------------------------------------

CARD = """\
[12](https://huggingface.co/login?next=%2Fpapers%2F2401.00001)

### [A \\_Title\\_ with \\[brackets\\] and C\\\\D](https://huggingface.co/papers/2401.00001)

[First line of the abstract\\\\
second line with code at https://github.com/a/b.\\\\
last line.](https://huggingface.co/papers/2401.00001)

[- 2 authors](https://huggingface.co/papers/2401.00001)

·

{date}
"""


def test_markdown_escapes_are_undone_in_titles_and_abstracts() -> None:
    (paper,) = records(parse_text(CARD.format(date="Jan 2, 2024")))

    assert paper.title == "A _Title_ with [brackets] and C\\D"
    assert paper.abstract == (
        "First line of the abstract second line with code at https://github.com/a/b. last line."
    )
    assert paper.links == ["https://github.com/a/b"]
    assert paper.arxiv_id == "2401.00001"
    assert paper.date == dt.date(2024, 1, 2)


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("Jan 1", dt.date(2026, 1, 1)),
        ("Jan 4", dt.date(2026, 1, 4)),  # two days ahead of "today": clocks and time zones
        ("Jan 5", dt.date(2025, 1, 5)),
        ("Dec 30", dt.date(2025, 12, 30)),
        ("September 9", dt.date(2025, 9, 9)),
    ],
)
def test_year_less_dates_never_land_in_the_future(shown: str, expected: dt.date) -> None:
    events = parse_text(CARD.format(date=shown), today=dt.date(2026, 1, 2))

    assert [p.date for p in records(events)] == [expected]
    (notice,) = notices(events)
    assert "today's date, 2026-01-02" in notice


def test_notice_names_the_previous_year_when_it_was_used() -> None:
    text = CARD.format(date="Dec 30") + CARD.format(date="Jan 1")

    events = parse_text(text, today=dt.date(2026, 1, 2))

    assert [p.date for p in records(events)] == [dt.date(2025, 12, 30), dt.date(2026, 1, 1)]
    (notice,) = notices(events)
    assert "2026" in notice
    assert "2025" in notice


def test_the_given_digest_date_sets_the_year_and_the_latest_day() -> None:
    events = parse_text(CARD.format(date="Dec 30"), date=dt.date(2024, 1, 3))

    assert [p.date for p in records(events)] == [dt.date(2023, 12, 30)]
    assert notices(events) == []


def test_a_card_without_a_date_takes_the_given_date() -> None:
    events = parse_text(CARD.format(date=""), date=dt.date(2024, 6, 7))

    assert [p.date for p in records(events)] == [dt.date(2024, 6, 7)]


def test_a_daily_page_dates_undated_cards_by_its_own_date() -> None:
    header = "---\nurl: https://huggingface.co/papers/date/2024-06-07\nretrieved: 2024-06-08\n---\n"

    (paper,) = records(parse_text(header + CARD.format(date="")))

    assert paper.date == dt.date(2024, 6, 7)


def test_a_search_page_does_not_lend_its_own_date_to_undated_cards() -> None:
    header = "---\nurl: https://huggingface.co/papers?q=x\nretrieved: 2024-06-08\n---\nJun 8\n"

    (paper,) = records(parse_text(header + CARD.format(date="")))

    assert paper.date is None


def test_textmode_reference_list_gives_the_arxiv_id() -> None:
    text = "\n".join(
        [
            "### [A Title][32]",
            "",
            "[",
            "",
            "An abstract.",
            "",
            "][33]",
            "·",
            "May 30",
            "",
            "[32]: https://huggingface.co/papers/2505.24864",
            "[33]: https://huggingface.co/papers/2505.24864",
        ]
    )

    events = parse_text(text, year=2025)

    (paper,) = records(events)
    assert (paper.title, paper.abstract, paper.arxiv_id) == (
        "A Title",
        "An abstract.",
        "2505.24864",
    )
    assert paper.date == dt.date(2025, 5, 30)
    assert [s.line for s in skipped(events)] == [11]  # the reference list itself


def test_stray_text_between_cards_is_one_skip_per_block() -> None:
    stray = "Some footer text\nmore footer\n\n[Another link](https://example.org)\n"
    text = CARD.format(date="Jan 2, 2024") + stray + CARD.format(date="Jan 3, 2024")

    events = parse_text(text)

    assert len(records(events)) == 2
    stray_skips = skipped(events)
    assert len(stray_skips) == 1
    assert stray_skips[0].line == CARD.count("\n") + 1
    assert "Some footer text" in stray_skips[0].reason


def test_a_heading_that_never_closes_is_skipped_and_the_next_card_still_read() -> None:
    text = "### [Broken title without its bracket\n\n" + CARD.format(date="Jan 2, 2024")

    events = parse_text(text)

    assert isinstance(events[0], Skipped)
    assert events[0].line == 1
    assert [p.arxiv_id for p in records(events)] == ["2401.00001"]


def test_text_without_any_card_is_one_skip() -> None:
    events = parse_text("just some text\nand more\n")

    assert [(type(e), e.line) for e in events if isinstance(e, Skipped)] == [(Skipped, 1)]
    assert records(events) == []


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "### [",
                "### [T](https://huggingface.co/papers/2401.00001)",
                "[",
                "][3]",
                "](x)",
                "[12](u)",
                "·",
                "May 30",
                "Feb 29",
                "---",
                "# Web source",
                "- Captured (UTC): 2026-06-29",
                "\\",
                "![",
                "abc",
                "",
            ]
        )
        | st.text(alphabet="[]()#!\\-*· \n0123456789aMy", max_size=30),
        max_size=40,
    )
)
def test_any_text_gives_only_events(lines: list[str]) -> None:
    events = list(hf_page.parse(lines, ParseOptions(today=dt.date(2025, 3, 1))))

    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)
    assert all(1 <= e.line <= max(len(lines), 1) for e in events if not isinstance(e, Notice))
    hf_page.sniff("\n".join(lines))
