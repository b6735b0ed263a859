"""The Hugging Face Daily Papers API parser, on the real archive and on the other wrappings."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.parsing import hf_api
from paperidx.parsing.base import Notice, ParseEvent, ParseOptions, RawRecord, Skipped

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
API_DIR = SHARED / "hf_daily_papers" / "api_json" / "Paper_metadata_download"
needs_archive = pytest.mark.skipif(
    not API_DIR.is_dir(), reason=f"shared data not found at {API_DIR} (CI puts shared/ beside it)"
)


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(hf_api.parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_day(day: str, *, named: bool = True) -> list[ParseEvent]:
    path = API_DIR / f"{day}.json"
    text = path.read_text(encoding="utf-8")
    return parse_text(text, source_name=path.name) if named else parse_text(text)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def others(events: list[ParseEvent]) -> list[ParseEvent]:
    return [event for event in events if not isinstance(event, RawRecord)]


# --- the real archive ---------------------------------------------------------------------


@needs_archive
@pytest.mark.slow
def test_whole_archive_gives_every_paper_and_skips_nothing() -> None:
    papers: list[tuple[str, RawRecord]] = []
    for path in sorted(API_DIR.glob("*.json")):
        events = parse_day(path.stem)
        assert others(events) == [], path.name
        papers.extend((path.stem, record) for record in records(events))

    assert len({day for day, _ in papers}) == 580
    assert len(papers) == 9_881
    ids = Counter(record.arxiv_id or "" for _, record in papers)
    assert len(ids) == 9_877
    assert sorted(i for i, n in ids.items() if n > 1) == [
        "2604.07429",
        "2606.11176",
        "2608.12313",
        "2608.13558",
    ]
    # The featured day, never the arXiv date: it always matches the file's day.
    assert all(record.date == dt.date.fromisoformat(day) for day, record in papers)
    assert not [r.title for _, r in papers if "\n" in r.title or "  " in r.title]
    assert not [r.arxiv_id for _, r in papers if "\n" in r.abstract]
    assert all(record.authors and record.abstract for _, record in papers)


@needs_archive
def test_first_day_first_paper_has_every_field() -> None:
    papers = records(parse_day("2024-05-27"))

    assert len(papers) == 13
    first = papers[0]
    # Hard-wrapped in the file as "...Large Multimodal\n  Models".
    assert first.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    )
    assert first.arxiv_id == "2405.15738"
    assert first.authors[:3] == ["Chunjiang Ge", "Sijie Cheng", "Ziming Wang"]
    assert first.date == dt.date(2024, 5, 27)
    assert first.abstract.startswith("High-resolution Large Multimodal Models (LMMs) encounter")
    assert first.links == ["https://github.com/alibaba/conv-llava"]
    assert (first.line, papers[1].line) == (2, 89)


@needs_archive
@pytest.mark.parametrize("day", ["2024-05-27", "2024-12-11", "2025-01-10", "2025-09-30"])
def test_each_record_line_is_where_its_element_starts(day: str) -> None:
    lines = (API_DIR / f"{day}.json").read_text(encoding="utf-8").split("\n")
    papers = records(parse_day(day))

    assert len({paper.line for paper in papers}) == len(papers)
    for paper in papers:
        start = lines[paper.line - 1].lstrip()
        assert start.startswith(("{", "\"{'paper'")), (paper.line, start[:40])
        assert (paper.arxiv_id or "-") in lines[paper.line - 1] or start == "{"


@needs_archive
def test_all_300_python_repr_elements_are_read() -> None:
    days = sorted(p.stem for p in API_DIR.glob("*.json") if "2024-12-11" <= p.stem <= "2025-01-10")
    repr_elements = 0
    parsed = 0
    for day in days:
        document = json.loads((API_DIR / f"{day}.json").read_text(encoding="utf-8"))
        elements = document["data"] if isinstance(document, dict) else document
        repr_elements += sum(isinstance(element, str) for element in elements)
        events = parse_day(day)
        assert others(events) == [], day
        parsed += len(records(events))

    assert (len(days), repr_elements, parsed) == (22, 300, 300)
    first = records(parse_day("2024-12-11"))[0]
    assert first.title == "STIV: Scalable Text and Image Conditioned Video Generation"
    assert first.arxiv_id == "2412.07730"
    assert first.authors[:4] == ["Zongyu Lin", "Wei Liu", "Chen Chen", "Jiasen Lu"]


@needs_archive
def test_status_wrapper_file_gives_its_papers_dated_by_the_wrapper() -> None:
    # Its items have no submittedOnDailyAt; without a file name only the wrapper's "date"
    # dates them, and the arXiv date must not be used.
    events = parse_day("2025-01-10", named=False)

    assert others(events) == []
    papers = records(events)
    assert len(papers) == 9
    assert {paper.date for paper in papers} == {dt.date(2025, 1, 10)}
    assert papers[0].title == "The GAN is dead; long live the GAN! A Modern GAN Baseline"
    assert papers[0].arxiv_id == "2501.05441"
    assert papers[-1].arxiv_id == "2501.04828"
    assert [paper.line for paper in papers] == list(range(6, 15))


@needs_archive
def test_without_any_featured_date_the_arxiv_date_is_used_and_said_once() -> None:
    events = parse_day("2024-05-27", named=False)

    notices = [event for event in events if isinstance(event, Notice)]
    assert len(notices) == 1
    assert "publishedAt" in notices[0].message
    assert records(events)[0].date == dt.date(2024, 5, 24)


@needs_archive
def test_link_fields_are_cleaned_of_stray_whitespace() -> None:
    neuro_ada = next(p for p in records(parse_day("2025-10-23")) if p.arxiv_id == "2510.18940")
    adc = next(p for p in records(parse_day("2025-03-17")) if p.arxiv_id == "2503.11646")

    assert "https://github.com/FightingFighting/NeuroAda.git" in neuro_ada.links
    assert neuro_ada.title == (
        "NeuroAda: Activating Each Neuron's Potential for Parameter-Efficient Fine-Tuning"
    )
    assert "https://sites.google.com/view/adc-robot" in adc.links


@needs_archive
def test_hidden_authors_are_still_authors() -> None:
    paper = next(p for p in records(parse_day("2024-06-17")) if p.arxiv_id == "2406.06263")

    assert paper.authors == ["Amir Hossein Kargaran", "François Yvon", "Hinrich Schütze"]


# --- sniffing -----------------------------------------------------------------------------


@needs_archive
def test_sniff_claims_every_archive_file_and_nothing_else_in_shared_data() -> None:
    for path in API_DIR.glob("*.json"):
        assert hf_api.sniff(path.read_text(encoding="utf-8")[:8192]), path.name
    others_ = [
        *(SHARED / "arxiv_cs_daily" / "data").glob("*.jsonl"),
        *(SHARED / "hf_daily_papers" / "scraped_json" / "data" / "daily").glob("*.json"),
        *(SHARED / "hf_daily_papers" / "page_captures").glob("*.md"),
    ]
    assert len(others_) > 250
    for path in others_:
        assert not hf_api.sniff(path.read_text(encoding="utf-8")[:8192]), path.name


@pytest.mark.parametrize(
    "head",
    [
        '{"paper": {"id": "2401.00001", "title": "A"}}\n{"paper": {"id": "2401.00002"}}\n',
        '{"id": "2503.11731", "title": "T", "summary": "S", "authors": ["A"]}\n{"id": "x"}\n',
        '[{"id": "2503.11731", "title": "T", "summary": "S"}]',
        '[{"title": "T", "paper_url": "https://huggingface.co/papers/2601.11077"}]',
        "paper: not JSON at all",
        "",
    ],
    ids=["hf-json-lines", "arxiv-json-lines", "arxiv-array", "scraped-archive", "text", "empty"],
)
def test_sniff_rejects_json_lines_and_other_json(head: str) -> None:
    assert not hf_api.sniff(head)


@pytest.mark.parametrize(
    "head",
    [
        '[\n  {\n    "paper": {\n      "id": "2405.15738",',
        "\ufeff  [\n    \"{'paper': {'id': '2412.07730', 'authors': []",
        '{"status": "success", "date": "2025-01-10", "count": 9, "data": ["{\'paper\': {',
        '{\n  "paper": {"id": "2401.00001"}\n}\n',
        '[{"id": "2405.15738", "title": "T", "summary": "S", "upvotes": 3}]',
    ],
    ids=["array", "repr-strings", "wrapper", "single-item", "bare-paper-list"],
)
def test_sniff_accepts_the_api_shapes(head: str) -> None:
    assert hf_api.sniff(head)


# --- other wrappings of the same data -----------------------------------------------------

PAPER = {
    "id": "2401.00001",
    "title": "Wrapped\n  Title",
    "summary": "An abstract\nsee https://example.org/code.",
    "authors": [{"name": "Ada Lovelace", "hidden": False}, {"name": "Alan Turing"}],
    "publishedAt": "2023-12-29T10:00:00.000Z",
    "githubRepo": "https://github.com/x/y",
}
EXPECTED = {
    "title": "Wrapped Title",
    "abstract": "An abstract see https://example.org/code.",
    "authors": ["Ada Lovelace", "Alan Turing"],
    "arxiv_id": "2401.00001",
    "links": ["https://github.com/x/y", "https://example.org/code"],
}


def fields(record: RawRecord) -> dict[str, object]:
    return {key: getattr(record, key) for key in EXPECTED}


def test_single_item_object() -> None:
    events = parse_text(json.dumps({"paper": PAPER, "title": "item title"}, indent=2))

    assert [fields(r) for r in records(events)] == [EXPECTED]
    assert records(events)[0].line == 1


@pytest.mark.parametrize("key", ["data", "papers", "items", "results"])
def test_wrapper_object_with_its_list_under(key: str) -> None:
    document = {"date": "2024-01-02", "count": 2, key: [{"paper": PAPER}, {"paper": PAPER}]}
    text = json.dumps(document, indent=2)
    element_starts = [n for n, line in enumerate(text.split("\n"), 1) if line == "    {"]

    events = parse_text(text)

    papers = records(events)
    assert others(events) == []
    assert [fields(p) for p in papers] == [EXPECTED, EXPECTED]
    assert [p.date for p in papers] == [dt.date(2024, 1, 2)] * 2
    assert len(element_starts) == 2
    assert [p.line for p in papers] == element_starts


def test_nested_wrapper_takes_the_innermost_date() -> None:
    document = {"date": "2024-01-01", "data": {"date": "2024-01-03", "papers": [{"paper": PAPER}]}}

    (paper,) = records(parse_text(json.dumps(document)))

    assert paper.date == dt.date(2024, 1, 3)


def test_bare_list_of_paper_objects_with_plain_author_names() -> None:
    paper = {**PAPER, "authors": ["Ada Lovelace", "Alan Turing"]}

    events = parse_text(json.dumps([paper, paper]))

    assert [fields(r) for r in records(events)] == [EXPECTED, EXPECTED]


def test_paper_fields_win_over_item_fields() -> None:
    item = {"paper": PAPER, "title": "Item Title", "publishedAt": "2020-01-01T00:00:00Z"}

    (paper,) = records(parse_text(json.dumps([item]), date=dt.date(2024, 2, 2)))

    assert paper.title == "Wrapped Title"
    assert paper.date == dt.date(2024, 2, 2)


@pytest.mark.parametrize(
    ("paper_extra", "document_date", "options", "expected"),
    [
        ({"submittedOnDailyAt": "2024-03-04T08:00:00.000Z"}, "2024-01-01", {}, "2024-03-04"),
        ({}, "2024-01-01", {"source_name": "2024-05-06.json"}, "2024-01-01"),
        ({}, None, {"source_name": "digest-2024-05-06.json"}, "2024-05-06"),
        ({}, None, {"source_name": "x.json", "date": dt.date(2024, 7, 8)}, "2024-07-08"),
    ],
    ids=["submittedOnDailyAt", "wrapper-date", "file-name", "given-date"],
)
def test_featured_date_precedence(
    paper_extra: dict[str, str],
    document_date: str | None,
    options: dict[str, object],
    expected: str,
) -> None:
    document = {"date": document_date, "data": [{"paper": {**PAPER, **paper_extra}}]}

    events = parse_text(json.dumps(document), **options)

    assert [r.date for r in records(events)] == [dt.date.fromisoformat(expected)]
    assert others(events) == []


def test_arxiv_date_fallback_is_announced_once_for_the_whole_input() -> None:
    events = parse_text(json.dumps([{"paper": PAPER}] * 3))

    assert [type(e) for e in events] == [Notice, RawRecord, RawRecord, RawRecord]
    assert {r.date for r in records(events)} == {dt.date(2023, 12, 29)}


def test_string_elements_may_be_python_repr_or_json_text() -> None:
    elements = [repr({"paper": {**PAPER, "hidden": False}}), json.dumps({"paper": PAPER})]

    events = parse_text(json.dumps(elements, indent=1))

    assert [fields(r) for r in records(events)] == [EXPECTED, EXPECTED]
    assert [r.line for r in records(events)] == [2, 3]


def test_elements_that_are_not_papers_are_skipped_at_their_own_line() -> None:
    text = "\n".join(
        [
            "[",
            "  1,",
            '  "not a repr {",',
            "  null,",
            '  {"foo": "bar"},',
            '  "[1, 2]",',
            f"  {json.dumps({'paper': PAPER})}",
            "]",
        ]
    )

    events = parse_text(text)

    assert [(type(e).__name__, e.line) for e in events if not isinstance(e, Notice)] == [
        ("Skipped", 2),
        ("Skipped", 3),
        ("Skipped", 4),
        ("Skipped", 5),
        ("Skipped", 6),
        ("RawRecord", 7),
    ]
    reasons = [e.reason for e in events if isinstance(e, Skipped)]
    assert "a number" in reasons[0]
    assert "repr" in reasons[1]
    assert "null" in reasons[2]


def test_invalid_json_is_one_skip_at_the_error_line() -> None:
    text = '[\n  {"paper": {"id": "2401.00001"}}\n  {"paper": {}}\n]'

    assert parse_text(text) == [Skipped(3, "invalid JSON: Expecting ',' delimiter")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000, "invalid JSON: nested too deeply to read"),
        ("1" * 5_000, "invalid JSON: Exceeds the limit"),
        ("null", "JSON document is null, not a list of papers"),
        ('{"status": "error", "message": "rate limited"}', "JSON object holds no papers"),
        ("", "invalid JSON: Expecting value"),
    ],
    ids=["deeply-nested", "huge-integer", "null", "error-response", "empty"],
)
def test_unusable_documents_are_one_skip(text: str, reason: str) -> None:
    (event,) = parse_text(text)

    assert isinstance(event, Skipped)
    assert event.reason.startswith(reason)


def test_deeply_nested_repr_string_is_skipped_not_raised() -> None:
    events = parse_text(json.dumps(["[" * 50_000, {"paper": PAPER}]))

    assert [type(e) for e in events] == [Skipped, Notice, RawRecord]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2405.15738", "2405.15738"),
        ("arXiv:2405.15738v2", "2405.15738"),
        ("https://arxiv.org/abs/2405.15738v3", "2405.15738"),
        ("https://huggingface.co/papers/2405.15738", "2405.15738"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("66540321d200a2ecdf784ffe", None),
        (2405.15738, None),
    ],
)
def test_bare_arxiv_id(value: object, expected: str | None) -> None:
    assert hf_api.bare_arxiv_id(value) == expected


def test_an_id_that_is_not_an_arxiv_id_is_dropped_not_passed_on() -> None:
    (paper,) = records(parse_text(json.dumps([{**PAPER, "id": "hf-internal-42"}])))

    assert paper.arxiv_id is None
    assert paper.title == "Wrapped Title"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["paper", "title", "summary", "authors", "id", "data", "date", "name"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_document_gives_only_events(document: object) -> None:
    events = parse_text(json.dumps(document, indent=2))

    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]{}\"',: \n\\0123456789abcnpruletadsFT", max_size=200))
def test_any_text_gives_only_events(text: str) -> None:
    events = parse_text(text)

    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)
    hf_api.sniff(text)
