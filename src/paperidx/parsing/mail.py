"""Raw e-mail as a mail client saves it: one RFC 822 message (`.eml`) or an mbox.

The message is read with the standard library's `email` package: MIME multipart,
quoted-printable and base64 bodies, declared charsets. The text/plain part is chosen (else
text/html, turned into text lines), and that body is handed to whichever format detection
says it is (an arXiv mailing, a plain-text digest, ...): this module only unwraps the mail.

Line numbers are the body's own: for a body stored as is (7bit/8bit, not multipart) they
are the file's lines; for an encoded body (quoted-printable, base64) or a part of a
multipart message they count lines of the decoded body from the message's first line.

The message's `Date:` header is the digest day when the body does not say and the user
gave none. A message with nothing to read (no text part, an empty body, a body in no
known format) is reported as skipped. An unknown charset refuses a single message with an
`InputError`; in an mbox (messages after `From ` separator lines) that message is skipped
and the others are read.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import html
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from paperidx.errors import InputError
from paperidx.lazyre import lazy_compile
from paperidx.parsing.base import (
    CarriedWatch,
    InputFormat,
    ParseEvent,
    ParseOptions,
    RawRecord,
    Skipped,
)
from paperidx.parsing.common import MAX_DOCUMENT_CHARS

if TYPE_CHECKING:
    # The email package is imported when a message is read, not to sniff one.
    from email.message import EmailMessage, Message

# A forwarded mail inside a mail inside a mail is plausible; deeper is a hostile file.
MAX_NESTING = 3
# Text parts tried for a body; a message with more is hostile or a mailing list archive.
MAX_TEXT_PARTS = 20

# An mbox separator names a sender and a time (`From MAILER-DAEMON Sun Aug  7 11:40:37
# 2022`); a body line "From time to time" after a blank line is not one.
_MBOX_FROM = lazy_compile(r"^From \S+ .*\b\d{1,2}:\d{2}")
_HEADER = lazy_compile(r"^([!-9;-~]+):[ \t]*(.*)$")
_STRONG_HEADERS = frozenset(
    {
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "received",
        "message-id",
        "return-path",
        "delivered-to",
        "dkim-signature",
        "x-mailer",
        "x-received",
    }
)
_COMMON_HEADERS = frozenset({"from", "to", "cc", "subject", "date", "reply-to", "sender"})
_MBOX_ESCAPED = lazy_compile(r"^>(>*From )")

_HTML_DROP = lazy_compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_BREAK = lazy_compile(
    r"<\s*br\b[^>]*>|</\s*(?:p|div|li|h\d|tr|pre|blockquote|table)\s*>|<\s*(?:p|div|pre)\b[^>]*>",
    re.IGNORECASE,
)
_HTML_TAG = lazy_compile(r"<[^>]*>")


class Unreadable(Exception):
    """A message that holds nothing to read: it is reported as skipped, not refused."""


def _header_block(lines: list[str]) -> dict[str, int]:
    """Header names (lower-cased) of the block the text opens with, with their counts."""
    names: dict[str, int] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            break
        if line[:1] in (" ", "\t") and index:
            continue
        match = _HEADER.match(line)
        if match is None:
            return {} if len(names) < 2 else names
        name = match.group(1).lower()
        names[name] = names.get(name, 0) + 1
    return names


def sniff(head: str) -> float:
    """Sure for an mbox (`From ` first line) or a header block with MIME or transport
    headers; less sure for bare `From:/To:/Subject:/Date:` lines, which also top mailings
    pasted as text (the arXiv mailing format reads those itself)."""
    text = head.lstrip("\ufeff").replace("\r", "")
    lines = text.split("\n", 200)[:200]
    if not lines:
        return 0.0
    if _MBOX_FROM.match(lines[0]):
        names = _header_block(lines[1:])
        return 0.95 if names else 0.0
    names = _header_block(lines)
    if len(names) < 2:
        return 0.0
    if any(name in _STRONG_HEADERS for name in names):
        return 0.95
    if sum(name in _COMMON_HEADERS for name in names) >= 3:
        return 0.7
    return 0.0


# -- messages ---------------------------------------------------------------------------


def split_mbox(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Messages of an mbox as (line of its first header, its lines); one message when the
    text does not open with a `From ` separator line."""
    if not lines or not _MBOX_FROM.match(lines[0]):
        return [(1, lines)]
    messages: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    previous_blank = True
    for index, line in enumerate(lines):
        if previous_blank and _MBOX_FROM.match(line):
            if index:
                messages.append((start + 1, current))
            current, start = [], index + 1
        else:
            current.append(_MBOX_ESCAPED.sub(r"\1", line))
        previous_blank = not line.strip()
    messages.append((start + 1, current))
    return messages


def read_message(lines: list[str]) -> EmailMessage:
    import email
    import email.policy
    from email.message import EmailMessage

    data = "\n".join(lines).encode("utf-8", "replace")
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
    except RecursionError:
        raise Unreadable("e-mail nested too deeply to read") from None
    except Exception as error:  # the email package fails in many ways
        raise Unreadable(f"malformed e-mail: {_reason(error)}") from None
    assert isinstance(message, EmailMessage)
    return message


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())[:120]
    return text or type(error).__name__


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment"


def text_parts(message: Message) -> list[Message]:
    """The text parts worth reading, in order: text/plain ones, then text/html ones
    (attachments left out, forwarded messages included)."""
    plain: list[Message] = []
    markup: list[Message] = []
    try:
        for part in message.walk():
            if part.is_multipart() or _is_attachment(part):
                continue
            kind = part.get_content_type()
            if kind == "text/plain":
                plain.append(part)
            elif kind == "text/html":
                markup.append(part)
    except RecursionError:
        raise Unreadable("e-mail nested too deeply to read") from None
    return [*plain, *markup][:MAX_TEXT_PARTS]


def decode_part(part: Message) -> str:
    """The part's text: transfer encoding undone, declared charset applied."""
    try:
        payload = part.get_payload(decode=True)
    except Exception as error:  # hostile encodings
        raise Unreadable(f"cannot decode the e-mail body: {_reason(error)}") from None
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "replace")
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset()
    if charset in (None, "us-ascii", "ascii"):
        # Undeclared or ASCII: the file was valid UTF-8 when read, so UTF-8 it is.
        return payload.decode("utf-8", "replace")
    try:
        codecs.lookup(charset)
    except LookupError:
        raise InputError(f"the e-mail body declares an unknown charset {charset!r}") from None
    try:
        return payload.decode(charset, "replace")
    except Exception as error:  # codecs like utf-7 can still fail
        raise Unreadable(f"cannot decode the e-mail body as {charset}: {_reason(error)}") from None


def html_to_lines(text: str) -> list[str]:
    """An HTML body as text lines: block ends break lines, tags go, entities decode."""
    text = _HTML_DROP.sub("", text)
    text = _HTML_BREAK.sub("\n", text)
    text = html.unescape(_HTML_TAG.sub("", text))
    return text.replace("\r", "").split("\n")


def message_day(message: Message) -> dt.date | None:
    try:
        header = message.get("Date")
        moment = getattr(header, "datetime", None)
    except Exception:  # an unparsable Date header is just no date
        return None
    return moment.date() if isinstance(moment, dt.datetime) else None


def _identity_offset(message: Message, part: Message, lines: list[str]) -> int:
    """Lines before the body in the message, when body lines are the file's lines."""
    if part is not message or message.is_multipart():
        return 0
    encoding = str(message.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if encoding not in ("7bit", "8bit", "binary", ""):
        return 0
    for index, line in enumerate(lines):
        if not line.strip():
            return index + 1
    return 0


def _read_body(message: Message, part: Message, lines: list[str]) -> tuple[list[str], str, int]:
    """A text part's lines, the format they are in, and the lines before them in the file
    (0 when the body's lines are not the file's)."""
    body = decode_part(part)
    if not body.strip():
        raise Unreadable("the e-mail body is empty")
    is_html = part.get_content_type() == "text/html"
    body_lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    offset = _identity_offset(message, part, lines)
    try:
        name: str | None = _detect("\n".join(body_lines)[:8192])
    except Unreadable:
        if not is_html:
            raise
        name = None
    if is_html and name in (None, "digest"):
        # No HTML format claims it: read it as the text it shows.
        body_lines = html_to_lines(body)
        offset = 0
        name = _detect("\n".join(body_lines)[:8192])
    assert name is not None
    return body_lines, name, offset


def choose_body(message: Message, lines: list[str]) -> tuple[list[str], str, int]:
    """The first text part in a specific format (the plain-text digest is only a fallback,
    so a forwarding note does not hide the forwarded mailing), else the first readable."""
    parts = text_parts(message)
    if not parts:
        raise Unreadable("the e-mail has no text/plain or text/html part")
    fallback: tuple[list[str], str, int] | None = None
    problem: Exception | None = None
    for part in parts:
        try:
            body = _read_body(message, part, lines)
        except (Unreadable, InputError) as error:
            problem = problem or error
            continue
        if body[1] != "digest":
            return body
        fallback = fallback or body
    if fallback is not None:
        return fallback
    assert problem is not None
    raise problem


def _message_events(lines: list[str], options: ParseOptions, depth: int) -> Iterator[ParseEvent]:
    from paperidx.parsing import input_format

    message = read_message(lines)
    body_lines, name, offset = choose_body(message, lines)
    day = message_day(message)
    inner = (
        options
        if options.date is not None or day is None
        else (dataclasses.replace(options, date=day))
    )
    if name == "email":
        if depth >= MAX_NESTING:
            raise Unreadable("e-mail nested in e-mails too deeply to read")
        events: Iterable[ParseEvent] = _mail_events(body_lines, inner, depth + 1)
    else:
        events = input_format(name).parse(body_lines, inner)
    for event in events:
        yield _shifted(event, offset)


def _detect(head: str) -> str:
    from paperidx.parsing import detect_format

    try:
        return detect_format(head, "e-mail body")
    except InputError as error:
        message = str(error).removeprefix("e-mail body: ")
        raise Unreadable(f"the e-mail body is {message}") from None


def _mail_events(lines: list[str], options: ParseOptions, depth: int) -> Iterator[ParseEvent]:
    messages = split_mbox(lines)
    single = len(messages) == 1
    for start, message_lines in messages:
        try:
            events = list(_message_events(message_lines, options, depth))
        except Unreadable as error:
            yield Skipped(start, f"e-mail not read: {error}")
            continue
        except InputError as error:
            if single:
                raise
            yield Skipped(start, f"e-mail not read: {error}")
            continue
        for event in events:
            yield _shifted(event, start - 1)


def _shifted(event: ParseEvent, offset: int) -> ParseEvent:
    if not offset:
        return event
    if isinstance(event, RawRecord):
        event.line += offset
        return event
    if isinstance(event, Skipped | CarriedWatch):
        return dataclasses.replace(event, line=event.line + offset)
    return event


def parse_mail(lines: Iterable[str], options: ParseOptions) -> Iterator[ParseEvent]:
    collected: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > MAX_DOCUMENT_CHARS:
            raise InputError(
                f"too large for an e-mail ({size // 1_000_000}+ MB of text; "
                f"paperidx reads up to {MAX_DOCUMENT_CHARS // 1_000_000} MB)"
            )
        collected.append(line)
    if collected:
        collected[0] = collected[0].removeprefix("\ufeff")
    yield from _mail_events(collected, options, 0)


FORMAT = InputFormat(
    name="email",
    summary="raw e-mail (.eml, mbox): MIME, quoted-printable and base64 unwrapped, "
    "the body read in its own format",
    example="digest.eml",
    sniff=sniff,
    parse=parse_mail,
)
