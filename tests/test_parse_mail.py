"""Raw e-mail (`email`): .eml and mbox files unwrapped, their bodies read in their own format."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.parsing import detect_format
from paperidx.parsing.arxiv_email import parse_arxiv_email
from paperidx.parsing.base import Notice, ParseEvent, ParseOptions, RawRecord, Skipped
from paperidx.parsing.mail import (
    decode_part,
    html_to_lines,
    parse_mail,
    read_message,
    sniff,
    text_parts,
)

from .conftest import invoke
from .test_parse_arxiv_email import DUPLICATED, paper, render

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MAIL = FIXTURES / "mail"
MAILINGS = FIXTURES / "arxiv_email"


def lines_of(text: str) -> list[str]:
    # As paperidx.reading splits a file: LF, CRLF and CR all end a line.
    return re.split(r"\r\n|\r|\n", text)


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(parse_mail(lines_of(text), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(name: str, **options: object) -> list[ParseEvent]:
    return parse_text((MAIL / name).read_text(encoding="utf-8"), **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def skips(events: list[ParseEvent]) -> list[Skipped]:
    return [event for event in events if isinstance(event, Skipped)]


def content(record: RawRecord) -> tuple[object, ...]:
    return (
        record.title,
        record.abstract,
        tuple(record.authors),
        record.arxiv_id,
        record.doi,
        tuple(record.links),
        record.published,
        record.date,
    )


def mailing(name: str) -> list[RawRecord]:
    text = (MAILINGS / name).read_text(encoding="utf-8")
    return records(list(parse_arxiv_email(text.split("\n"), ParseOptions())))


def message(body: str, cte: str = "7bit", subtype: str = "plain", **headers: str) -> str:
    mail = EmailMessage()
    mail["From"] = headers.get("sender", "send mail ONLY to cs <no-reply@arxiv.org>")
    mail["To"] = "me@example.org"
    mail["Subject"] = "cs daily Subj-class mailing"
    mail["Date"] = headers.get("date", "Thu, 07 Nov 2024 01:02:03 +0000")
    mail["Message-ID"] = "<x@arxiv.org>"
    mail.set_content(body, subtype=subtype, charset=headers.get("charset", "utf-8"), cte=cte)
    return mail.as_string(policy=policy.default)


# --- arXiv mailings in real MIME wrappings ---------------------------------------------------


def test_quoted_printable_multipart_alternative_mailing() -> None:
    events = parse_file("q-fin-2023-03-16-qp.eml")
    papers = records(events)

    assert [content(p) for p in papers] == [content(p) for p in mailing("q-fin-2023-03-16.txt")]
    assert len(papers) == 16
    assert {p.date for p in papers} == {dt.date(2023, 3, 16)}
    # A decoded body's lines count from the message's first line.
    assert papers[0].line == 10
    assert [s.reason for s in skips(events)] == ["arXiv mailing header, not a paper"]


def test_base64_mailing() -> None:
    papers = records(parse_file("astro-ph-CO-2023-03-02-base64.eml"))

    expected = mailing("astro-ph-CO-2023-03-02.txt")
    assert [content(p) for p in papers] == [content(p) for p in expected]
    assert len(papers) == 23
    assert papers[0].title.startswith("Searching for galaxy-scale strong-lenses")


def test_mbox_of_two_mailings_gives_both_with_their_own_days_and_file_lines() -> None:
    text = (MAIL / "two-mailings.mbox").read_text(encoding="utf-8")
    file_lines = text.split("\n")

    events = parse_text(text)
    papers = records(events)

    assert [p.arxiv_id for p in papers] == [
        "2306.04713", "2204.01445", "2206.02587", "2602.12181", "2602.12129", "2503.16743",
    ]  # fmt: skip
    assert [p.date for p in papers] == [dt.date(2023, 6, 8)] * 3 + [dt.date(2026, 2, 12)] * 3
    # 7bit bodies: every line number is the file's, each record at its entry's `\\`.
    assert all(file_lines[p.line - 1] == "\\\\" for p in papers)
    assert all(file_lines[p.line].startswith("arXiv:") for p in papers)
    header_lines = [s.line for s in skips(events) if "header" in s.reason]
    assert [file_lines[n - 1] for n in header_lines] == [
        "Send any comments regarding submissions directly to submitter."
    ] * 2


def test_a_7bit_message_keeps_file_line_numbers() -> None:
    body = (MAILINGS / "cs-2024-11-21-excerpt.txt").read_text(encoding="utf-8")
    text = message(body)
    file_lines = text.split("\n")

    papers = records(parse_text(text))

    assert [file_lines[p.line] for p in papers] == ["arXiv:2411.13560", "arXiv:2411.13566"]


def test_the_message_date_is_the_digest_day_only_when_nothing_else_says() -> None:
    body = (MAILINGS / "astro-ph-0003-old-style.txt").read_text(encoding="utf-8")
    text = message(body, date="Thu, 02 Mar 2000 04:05:06 +0000")

    assert {p.date for p in records(parse_text(text))} == {dt.date(2000, 3, 2)}
    given_day = records(parse_text(text, date=dt.date(2000, 3, 9)))
    assert {p.date for p in given_day} == {dt.date(2000, 3, 9)}
    # The mailing's own "received from" window beats the message Date.
    window = message((MAILINGS / "cs-2024-11-21-excerpt.txt").read_text(encoding="utf-8"))
    assert {p.date for p in records(parse_text(window))} == {dt.date(2024, 11, 21)}


def test_an_html_only_mailing_is_read_as_the_text_it_shows() -> None:
    body = (MAILINGS / "math-OA-2023-06-08.txt").read_text(encoding="utf-8")
    page = f"<html><body><pre>{html.escape(body)}</pre></body></html>"

    papers = records(parse_text(message(page, cte="quoted-printable", subtype="html")))

    assert [content(p) for p in papers] == [content(p) for p in mailing("math-OA-2023-06-08.txt")]


def test_a_mailing_forwarded_as_an_attachment_is_found_behind_the_note() -> None:
    inner = EmailMessage()
    inner["Subject"] = "cs daily Subj-class mailing"
    inner["Date"] = "Thu, 13 Feb 2026 01:02:03 +0000"
    inner.set_content((MAILINGS / "cs-2026-02-12-excerpt.txt").read_text(encoding="utf-8"))
    outer = EmailMessage()
    outer["From"] = "colleague@example.org"
    outer["To"] = "me@example.org"
    outer["Subject"] = "Fwd: cs daily Subj-class mailing"
    outer["Date"] = "Sat, 14 Feb 2026 09:00:00 +0000"
    outer.set_content("Have a look at the two cross-listings below.\n")
    outer.add_attachment(inner)

    papers = records(parse_text(outer.as_string(policy=policy.default)))

    assert [p.arxiv_id for p in papers] == ["2602.12181", "2602.12129", "2503.16743"]
    assert {p.date for p in papers} == {dt.date(2026, 2, 12)}


def test_a_pasted_mailing_behind_mime_headers_goes_to_email_and_gives_the_same_papers() -> None:
    body = (MAILINGS / "cs-2024-11-21-excerpt.txt").read_text(encoding="utf-8")
    raw = message(body)
    pasted = (
        "From: a@example.org\nTo: b@example.org\nSubject: cs\nDate: Thu, 21 Nov 2024\n\n" + body
    )

    assert detect_format(raw[:8192]) == "email"
    assert detect_format(pasted[:8192]) == "arxiv-email"
    via_mail = records(parse_text(raw))
    via_text = records(list(parse_arxiv_email(pasted.split("\n"), ParseOptions())))
    assert [content(p) for p in via_mail] == [content(p) for p in via_text]


# --- real MIME samples (not arXiv mail) -----------------------------------------------------


def test_multipart_alternative_prefers_the_plain_part_and_decodes_quoted_printable() -> None:
    mail = read_message(lines_of((MAIL / "hunny-003.eml").read_text(encoding="utf-8")))

    parts = text_parts(mail)

    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    text = decode_part(parts[0])
    assert text.startswith("Die Hasen und die Frösche\n")
    assert "Die Hasen klagten einst über ihre mißliche Lage;" in text
    assert "=F6" not in text and "=\n" not in text


def test_an_html_only_message_turns_into_text_lines() -> None:
    mail = read_message(lines_of((MAIL / "hunny-002.eml").read_text(encoding="utf-8")))
    (part,) = text_parts(mail)

    shown = html_to_lines(decode_part(part))

    assert shown[0] == ""
    assert "Die Hasen und die" in shown[1]
    assert all("<" not in line for line in shown)
    assert any('"wir leben"' in line for line in shown)


def test_a_text_part_beside_a_base64_attachment_is_the_body() -> None:
    mail = read_message(lines_of((MAIL / "hunny-008.eml").read_text(encoding="utf-8")))

    (part,) = text_parts(mail)

    assert decode_part(part).lstrip().startswith("The Hare and the Tortoise")


def test_a_message_without_text_is_one_skip() -> None:
    events = parse_file("hunny-000.eml")

    assert events == [Skipped(1, "e-mail not read: the e-mail has no text/plain or text/html part")]


@pytest.mark.parametrize("name", sorted(p.name for p in MAIL.glob("*.eml")))
def test_every_real_message_reads_without_error(name: str) -> None:
    events = parse_file(name)

    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)


# --- charsets and broken mail ---------------------------------------------------------------


def test_an_unknown_charset_refuses_a_single_message_in_one_line() -> None:
    text = message("A body.", charset="utf-8").replace('charset="utf-8"', "charset=x-no-such")

    with pytest.raises(InputError) as raised:
        parse_text(text)

    assert str(raised.value) == "the e-mail body declares an unknown charset 'x-no-such'"
    assert "\n" not in str(raised.value)


def test_an_unknown_charset_in_an_mbox_skips_that_message_only() -> None:
    good = (MAIL / "two-mailings.mbox").read_text(encoding="utf-8")
    bad = message("A body.").replace('charset="utf-8"', "charset=x-no-such")
    text = "From someone Thu Nov  7 01:02:03 2024\n" + bad + "\n" + good

    events = parse_text(text)

    assert len(records(events)) == 6
    assert skips(events)[0] == Skipped(
        2, "e-mail not read: the e-mail body declares an unknown charset 'x-no-such'"
    )


def test_a_declared_latin1_body_is_decoded_by_its_charset() -> None:
    body = (MAILINGS / "math-OA-2023-06-08.txt").read_text(encoding="utf-8")
    body = body.replace("Title: On sofic", "Title: Caf\u00e9 on sofic")
    text = message(body, cte="quoted-printable", charset="iso-8859-1")

    assert "=E9" in text
    (first, *_rest) = records(parse_text(text))
    assert first.title == "Café on sofic approximations of non amenable groups"


@pytest.mark.parametrize(
    "text",
    [
        "From: a@example.org\nTo: b@example.org\nSubject: hi\nMIME-Version: 1.0\n\n",
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n--x--\n",
        "MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!!\n",
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
        + "--b\nContent-Type: multipart/mixed; boundary=b\n\n" * 500,
        "From x\n\x00\x00\nFrom y\n",
    ],
    ids=["empty-body", "no-parts", "bad-base64", "deep-nesting", "nul-mbox"],
)
def test_broken_mail_is_skipped_never_raised(text: str) -> None:
    events = parse_text(text)

    assert records(events) == []
    assert all(isinstance(e, Skipped | Notice) for e in events)


def test_a_huge_mail_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import paperidx.parsing.mail as module

    monkeypatch.setattr(module, "MAX_DOCUMENT_CHARS", 100)
    with pytest.raises(InputError, match="too large for an e-mail"):
        parse_text("From: a\nTo: b\n\n" + "x\n" * 100)


# --- sniffing -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in MAIL.iterdir() if p.suffix != ".md"))
def test_sniff_is_sure_of_saved_mail(name: str) -> None:
    head = (MAIL / name).read_text(encoding="utf-8")[:8192]

    assert sniff(head) == 0.95
    assert detect_format(head) == "email"


@pytest.mark.parametrize(
    ("head", "score"),
    [
        ("From: a@example.org\nTo: b@example.org\nSubject: s\nDate: d\n\nHello", 0.7),
        ("Received: from x\nFrom: a@example.org\n\nHello", 0.95),
        ("From MAILER-DAEMON Sun Aug  7 11:40:37 2022\nFrom: foo\nSubject: s\n\nHello", 0.95),
        ("Date: Fri,  9 Jun 23 00:44:20 GMT\nSubject: math.OA daily Subj-class mailing\n\n", 0.0),
        ("Title: A paper\nAuthors: A. Author\n\nAbstract text.", 0.0),
        ("From here on, a sentence.\nNot a header.", 0.0),
        ("", 0.0),
    ],
    ids=["bare-822", "received", "mbox", "listing-lines", "key-values", "prose", "empty"],
)
def test_sniff_scores(head: str, score: float) -> None:
    assert sniff(head) == score


def test_sniff_claims_no_other_fixture() -> None:
    others = [
        p for p in FIXTURES.rglob("*") if p.is_file() and p.parent != MAIL and p.suffix != ".md"
    ]
    assert others
    for path in others:
        assert sniff(path.read_text(encoding="utf-8", errors="replace")[:8192]) == 0.0, path


# --- property: rendered mailings in any transfer encoding parse back ------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(paper, max_size=5, unique_by=lambda p: str(p["id"]).lower()),
    st.sampled_from(["7bit", "quoted-printable", "base64"]),
    st.booleans(),
)
def test_rendered_mailings_in_any_encoding_parse_back(
    papers: list[dict[str, object]], cte: str, crlf: bool
) -> None:
    text = message(render(papers), cte=cte)
    if crlf:
        text = text.replace("\n", "\r\n")

    parsed = records(parse_text(text))

    assert [(p.title, p.authors, p.arxiv_id) for p in parsed] == [
        (item["title"], item["authors"], str(item["id"]).lower()) for item in papers
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "From x Thu Nov  7 01:02:03 2024", "From: a@b", "MIME-Version: 1.0", "Subject: =?utf-8?q?x?=",
    "Content-Type: multipart/mixed; boundary=b", "Content-Type: text/html", "--b", "--b--", "",
    "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable",
    "Content-Type: text/plain; charset=utf-7", "Content-Type: message/rfc822", "PGI+aGk8L2I+",
    "=E9=", "<p>Title</p>", "\\\\", "arXiv:2411.00001", "Title: A", "Date: Thu, 7 Nov 2024",
]), max_size=40))  # fmt: skip
def test_any_arrangement_of_mail_lines_gives_only_events(lines: list[str]) -> None:
    try:
        events = list(parse_mail(lines, ParseOptions()))
    except InputError as error:  # only the whole-file refusals, in one line
        assert "\n" not in str(error)
        return
    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)
    assert all(e.line >= 1 for e in events if isinstance(e, RawRecord | Skipped))
    sniff("\n".join(lines))


# --- end to end -----------------------------------------------------------------------------


def test_cli_ingest_of_a_saved_mail_then_show(tmp_path: Path) -> None:
    path = tmp_path / "mailing.eml"
    path.write_text(message(DUPLICATED, cte="quoted-printable"), encoding="utf-8")
    ingested = invoke("ingest", str(path))
    shown = invoke("show", "2411.00001", "--format", "json")

    assert ingested.exit_code == 0, ingested.output
    assert "(email): 2 parsed, 2 new" in ingested.stderr
    record = json.loads(shown.stdout)
    assert record["title"] == "Listed Twice"
    assert record["abstract"] == "The abstract of the paper listed twice."
    assert record["dates"] == ["2024-11-06"]


def test_a_from_line_in_a_body_does_not_split_the_mbox() -> None:
    from paperidx.parsing.mail import split_mbox

    lines = lines_of((MAIL / "cpython-mailbox_01.mbox").read_text(encoding="utf-8"))

    ((start, message_lines),) = split_mbox(lines)

    assert start == 2
    assert message_lines[-2:] == ["From time to time", ""]
    body = decode_part(text_parts(read_message(message_lines))[0])
    assert body == "Hello\n\nFrom time to time\n"


def test_a_byte_order_mark_before_the_headers_is_ignored() -> None:
    text = "\ufeff" + message((MAILINGS / "cs-2024-11-21-excerpt.txt").read_text(encoding="utf-8"))

    assert [p.arxiv_id for p in records(parse_text(text))] == ["2411.13560", "2411.13566"]
