"""Google Scholar alert HTML bodies: real 2019 and 2026 alerts, hostile bodies, round trip."""

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

FIXTURES = Path(__file__).parent / "fixtures" / "scholar-alert"
FURNITURE = (
    "This message was sent",
    "This alert is sent",
    "Cancel alert",
    "List",
    "Save",
    "Twitter",
    "Facebook",
    "LinkedIn",
    "Scholar Alert",
    "[PDF]",
    "[CITATION]",
)


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(scholar_alert.parse(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(name: str, **options: object) -> list[ParseEvent]:
    path = FIXTURES / name
    return parse_text(path.read_text(encoding="utf-8"), source_name=path.name, **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def skipped(events: list[ParseEvent]) -> list[Skipped]:
    return [event for event in events if isinstance(event, Skipped)]


def summary(found: list[RawRecord]) -> list[tuple[str, list[str], str | None, str | None]]:
    return [(r.title, r.authors, r.arxiv_id, r.doi) for r in found]


# --- real alerts ---------------------------------------------------------------------------


def test_2019_related_research_alert() -> None:
    events = parse_file("bzz-related-research-2019-12-10.html")
    found = records(events)
    assert summary(found) == [
        (
            "Using Sequence-to-Sequence Learning for Repairing C Vulnerabilities",
            ["Z Chen", "S Kommrusch", "M Monperrus"],
            "1912.02015",
            None,
        ),
        (
            "Marking Mechanism in Sequence-to-sequence Model for Mapping Language to Logical Form",
            ["PM Nguyen", "K Than", "M Le Nguyen"],
            None,
            None,
        ),
        # Two authors abbreviate to the same name: both are kept.
        ("Personalized Code Recommendation", ["T Nguyen", "P Vu", "T Nguyen"], None, None),
    ]
    assert found[0].links == [
        "https://arxiv.org/pdf/1912.02015",
        "https://arxiv.org/abs/1912.02015",
    ]
    assert found[1].links == ["https://ieeexplore.ieee.org/abstract/document/8919471/"]
    assert found[0].abstract.startswith("Software vulnerabilities affect all businesses and")
    assert found[0].abstract.endswith("…")  # a snippet, replaced by a later full abstract
    assert {r.date for r in found} == {dt.date(2019, 12, 10)}  # from the file name
    assert [s.reason for s in skipped(events)] == [
        "alert footer: This alert is sent by Google Scholar. Google Scholar is a service by Google."
    ]


def test_2019_citation_alerts() -> None:
    found = records(parse_file("bzz-new-citations-2019-12-10.html"))
    assert summary(found) == [
        (
            "Establishing Benchmarks For Learning Program Representations",
            ["A Karmakar"],
            None,
            None,
        ),
        ("Automatic Unit Test Amplification For DevOps", ["B Danglot"], None, None),
        (
            "Code Generation from Supervised Code Embeddings",
            ["H Hu", "Q Chen", "Z Liu"],
            None,
            "10.1007/978-3-030-36808-1_42",
        ),
    ]
    assert found[0].links == ["http://ceur-ws.org/Vol-2510/sattose2019_paper_14.pdf"]
    found = records(parse_file("bzz-new-citations-2019-12-12.html"))
    assert summary(found) == [
        (
            "ATOM: Commit Message Generation Based on Abstract Syntax Tree and Hybrid Ranking",
            ["S Liu", "C Gao", "S Chen", "LY Nie", "Y Liu"],
            "1912.02972",
            None,
        ),
    ]
    assert found[0].date == dt.date(2019, 12, 12)


def test_2026_single_result_alert() -> None:
    events = parse_file("ucfchps-alert-single-hanney-olecranon.html")
    found = records(events)
    assert summary(found) == [
        (
            "Olecranon fracture malunion treated surgically: A case report highlighting one elbow, "
            "four orthopedic surgeons, and two physical therapists",
            ["MJ Kolber", "WJ Hanney"],
            None,
            "10.1080/09593985.2026.2699338",
        ),
    ]
    assert found[0].abstract == (
        "Background Displaced olecranon fractures often require surgical fixation. A mobility "
        "loss following surgery may occur from fibrosis due to immobilization, malunion, and "
        "associated diagnoses. This case highlights the diagnostic uncertainty that may arise …"
    )
    assert found[0].links == ["https://www.tandfonline.com/doi/abs/10.1080/09593985.2026.2699338"]
    assert found[0].date is None  # the day is the e-mail's, passed in by the e-mail reader
    assert len(skipped(events)) == 1 and skipped(events)[0].reason.startswith("alert footer")


def test_citation_results_have_no_snippet_and_keep_their_authors() -> None:
    found = records(
        parse_file(
            "ucfchps-alert-multi-real-vanryckeghem-citations.html", date=dt.date(2026, 3, 12)
        )
    )
    assert [r.title for r in found] == [
        "Behavior Assessment Battery for Children and Adolescents who Stutter",
        "Behavior Assessment Battery voor Kinderen en Jongeren die Stotteren",
        "Behavior Assessment Battery for Adults who Stutter",
        "KiddyCAT: Communication Attitude Test for French Preschoolers who Stutter. "
        "Hogrefe, France",
    ]
    assert all(r.abstract == "" and r.authors == ["G Vanryckeghem", "M. & Brutten"] for r in found)
    assert {r.date for r in found} == {dt.date(2026, 3, 12)}
    assert found[0].links[0].startswith("https://scholar.google.com/citations?")


def test_truncated_author_lists_drop_the_ellipsis() -> None:
    citation = records(parse_file("ucfchps-pair-citation-tag-schellhase.html"))
    normal = records(parse_file("ucfchps-pair-normal-tag-mangum.html"))
    assert citation[0].authors == ["KC Schellhase", "A Weston", "A Layne", "M Ulan"]
    assert normal[0].authors == ["KC Schellhase", "W Adam", "A Layne", "M Ulan"]
    assert citation[0].title == normal[0].title
    backes = records(parse_file("ucfchps-alert-single-backes-polyvictimization.html"))
    assert summary(backes) == [
        (
            "Patterns of Sexual, Intimate Partner, and Stalking Polyvictimization Exposure Across "
            "Racial and Ethnic Populations in the US: Findings from the National Intimate …",
            ["L Fedina", "BL Backes", "K Toohy", "ND Franke", "M Royer"],
            None,
            "10.1080/15564886.2026.2673979",
        ),
    ]


def test_non_latin_title_and_snippet() -> None:
    found = records(parse_file("ucfchps-alert-nonlatin-title-stout.html"))
    assert summary(found) == [
        (
            "痛みの定量化: 運動科学における疼痛評価の方法論的レビュー",
            ["B Antonio", "V Gibbs", "JR Stout", "AW Anderson"],
            None,
            None,
        ),
    ]
    # Scholar's <br> inside Japanese text joins without a space.
    assert "頼らない方法として, ますます" in found[0].abstract


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.html")), ids=lambda p: p.name)
def test_every_real_alert_is_detected_and_has_no_furniture(path: Path) -> None:
    head = path.read_text(encoding="utf-8")[:8192]
    assert detect_format(head) == "scholar-alert"
    assert hf_html.sniff(head) == 0.0
    events = parse_file(path.name)
    found = records(events)
    assert found
    for record in found:
        assert not record.title.startswith(FURNITURE), record.title
        assert all("scholar.google" not in link or "citations?" in link for link in record.links)
    assert len(skipped(events)) == 1


# --- the e-mail container, hostile bodies -------------------------------------------------


def test_a_raw_email_is_left_to_the_email_reader() -> None:
    body = (FIXTURES / "ucfchps-alert-single-hanney-olecranon.html").read_text(encoding="utf-8")
    mail = (
        "From: Google Scholar Alerts <scholaralerts-noreply@google.com>\n"
        "Subject: William J. Hanney - new articles\nDate: Sun, 05 Jul 2026 01:08:09 -0700\n"
        "MIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n" + body
    )
    assert scholar_alert.sniff(mail) == 0.0


def test_headings_outside_results_are_skipped_not_papers() -> None:
    text = (
        '<html><body><h3 style="font-weight:lighter">Scholar Alert: [ diffusion models ]</h3>\n'
        '<h3><a class="gse_alrt_title" href="https://scholar.google.com/scholar_url?url='
        'https://doi.org/10.1145/3544548.3581388&amp;hl=en">A <b>Diffusion</b> Paper</a></h3>\n'
        '<div style="color:#006621">A Author, B Author - CHI, 2023</div>\n'
        '<div class="gse_alrt_sni">Snippet <b>diffusion</b> text…</div>\n'
        '<a href="https://scholar.google.com/scholar_alerts?view_op=list_alerts">List alerts</a>'
        "</body></html>"
    )
    events = parse_text(text)
    assert summary(records(events)) == [
        ("A Diffusion Paper", ["A Author", "B Author"], None, "10.1145/3544548.3581388")
    ]
    assert records(events)[0].abstract == "Snippet diffusion text…"
    assert skipped(events) == [
        Skipped(1, "heading, not a result: Scholar Alert: [ diffusion models ]")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<html><body><p>no results</p></body></html>",
        '<h3><a class="gse_alrt_title" href="javascript:alert(1)"></a></h3>',
        '<h3><a class="gse_alrt_title" href="%%%">[bold red]T[/bold red]\x1b[31m\x00</a>',
        '<h3><a class="gse_alrt_title">' + "x" * 300_000 + "</a></h3>",
        "<div class='gse_alrt_sni'>" * 5000,
        "<![weird[ x ]]><h3>",
        "<h3>" * 10_000,
    ],
)
def test_hostile_bodies_never_crash(text: str) -> None:
    try:
        events = parse_text(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    for event in events:
        assert isinstance(event, RawRecord | Skipped)
        if isinstance(event, RawRecord):
            assert len(event.title) <= 100_000


def test_duplicate_results_in_one_alert_come_out_once() -> None:
    body = (FIXTURES / "bzz-new-citations-2019-12-12.html").read_text(encoding="utf-8")
    start, end = body.index("<h3"), body.index("<br>", body.index("</h3>"))
    doubled = body[:end] + body[start:end] + body[end:]
    assert len(records(parse_text(doubled))) == 1


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
from paperidx.parsing import parser_for
from paperidx.parsing.base import ParseOptions, RawRecord
from paperidx.reading import Source, read_lines

path = Path(sys.argv[1])
count = sum(isinstance(event, RawRecord) for event in
            parser_for("scholar-alert")(read_lines(Source(path.name, path)), ParseOptions()))
print(count, peak_mb())
"""


def test_a_50_mb_alert_is_read_with_bounded_memory(tmp_path: Path) -> None:
    snippet = "Snippet words and more words " * 1700 + "<br>"
    result = (
        '<h3><a class="gse_alrt_title" href="https://scholar.google.com/scholar_url?url='
        'https://arxiv.org/abs/2401.{n:05d}&amp;hl=en">Generated result {n}</a></h3>'
        '<div style="color:#006621">A Author, B Author - arXiv, 2024</div>\n'
        '<div class="gse_alrt_sni">' + snippet + "\n" + snippet + "</div>\n"
    )
    path = tmp_path / "big.html"
    with path.open("w", encoding="utf-8") as out:
        out.write("<!doctype html><html><head><style>.gse_alrt_title{}</style></head><body>\n")
        for n in range(500):
            out.write(result.format(n=n))
        out.write("</body></html>\n")
    assert path.stat().st_size > 49_000_000
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    count, peak_mb = map(int, done.stdout.split())
    assert count == 500
    assert peak_mb < 200, f"peak memory {peak_mb} MB"


# --- round trip -------------------------------------------------------------------------

_text = (
    st.text(
        alphabet=st.characters(
            whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters=" <>&'\"é"
        ),
        min_size=1,
        max_size=30,
    )
    .map(collapse_whitespace)
    .filter(lambda text: any(ch.isalpha() for ch in text))
)
_results = st.lists(
    st.tuples(_text, st.lists(_text, min_size=1, max_size=4)),
    min_size=1,
    max_size=5,
    unique_by=lambda result: result[0].casefold(),
)


def render_alert(results: list[tuple[str, list[str]]]) -> str:
    blocks = "".join(
        f'<h3 style="font-weight:normal"><a href="https://scholar.google.com/scholar_url?url='
        f'https://arxiv.org/pdf/2402.{20000 + n}&amp;hl=en&amp;oi=scholaralrt" '
        f'class="gse_alrt_title">{html.escape(title)}</a></h3>'
        f'<div style="color:#006621;line-height:18px">{html.escape(", ".join(names))}'
        "&nbsp;- arXiv preprint, 2024</div>"
        f'<div class="gse_alrt_sni">Snippet {n} <br>continues …</div><br>\n'
        for n, (title, names) in enumerate(results)
    )
    return (
        "<!doctype html><html><head><style>.gse_alrt_title{text-decoration:none}</style>"
        f"</head><body><div>{blocks}<p>This message was sent by Google Scholar.</p>"
        '<a href="https://scholar.google.com/scholar_alerts?view_op=cancel">Cancel alert</a>'
        "</div></body></html>\n"
    )


@settings(max_examples=60, deadline=None)
@given(_results)
def test_rendered_alerts_parse_back(results: list[tuple[str, list[str]]]) -> None:
    text = render_alert(results)
    assert scholar_alert.sniff(text) > 0.5
    found = records(parse_text(text))
    assert [r.title for r in found] == [title for title, _ in results]
    assert [r.authors for r in found] == [names for _, names in results]
    assert [r.arxiv_id for r in found] == [f"2402.{20000 + n}" for n in range(len(results))]
    assert [r.abstract for r in found] == [f"Snippet {n} continues …" for n in range(len(results))]


# --- end to end -----------------------------------------------------------------------------


def test_cli_ingests_an_alert_and_shows_a_paper() -> None:
    path = FIXTURES / "bzz-related-research-2019-12-10.html"
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    assert "(scholar-alert)" in result.stderr and "3 new" in result.stderr
    shown = invoke("show", "1912.02015", "--format", "json")
    assert shown.exit_code == 0, shown.output
    paper = json.loads(shown.stdout)
    assert paper["title"] == "Using Sequence-to-Sequence Learning for Repairing C Vulnerabilities"
    assert paper["authors"] == ["Z Chen", "S Kommrusch", "M Monperrus"]
    assert paper["dates"] == ["2019-12-10"]
    assert "https://arxiv.org/pdf/1912.02015" in paper["links"]


def test_cli_refuses_an_html_page_without_results(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<!doctype html><html><body><h3>Hello</h3><p>Blog</p></body></html>\n")
    result = invoke("ingest", str(path))
    assert result.exit_code == ExitCode.INPUT
    assert "not a digest paperidx can read (looks like HTML without papers)" in result.stderr


def test_cli_reads_an_alert_inside_an_email(tmp_path: Path) -> None:
    body = (FIXTURES / "ucfchps-alert-single-hanney-olecranon.html").read_text(encoding="utf-8")
    path = tmp_path / "alert.eml"
    path.write_text(
        "From: Google Scholar Alerts <scholaralerts-noreply@google.com>\n"
        "Subject: William J. Hanney - new articles\nDate: Sun, 05 Jul 2026 01:08:09 -0700\n"
        "MIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n" + body,
        encoding="utf-8",
    )
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    shown = invoke("show", "10.1080/09593985.2026.2699338", "--format", "json")
    if shown.exit_code != 0:  # `show` may not take DOIs: look the paper up by listing
        shown = invoke("list", "--format", "json")
        papers = json.loads(shown.stdout)
    else:
        papers = [json.loads(shown.stdout)]
    assert [p["authors"] for p in papers] == [["MJ Kolber", "WJ Hanney"]]
    assert papers[0]["dates"] == ["2026-07-05"]  # the e-mail's day


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
        "p",
        "br",
        "script",
        "href=",
        'class="gse_alrt_title"',
        "class='gse_alrt_sni'",
        "scholar_url?url=https://arxiv.org/abs/2401.00001&amp;",
        "color:#006621",
        " - ",
        "…",
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
