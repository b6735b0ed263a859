"""`paperidx fetch`: download today's digests (HF Daily Papers, arXiv RSS, arXiv API) and
ingest them. The only module that speaks HTTP.

Every response is checked (complete, within the size cap, well-formed JSON or XML), saved
under `<home>/digests/<source>/` by day (temp file + `os.replace`), and then ingested like
any other file, so each paper's source names a file the user can ingest again. A response
that cannot be used is refused before it reaches `digests/`; a saved file the parser then
refuses is removed again (or the copy it replaced is put back), so `digests/` only ever
holds files that ingest.

Politeness: one honest User-Agent, timeouts, bounded retries with exponential backoff on
429 and 5xx (honouring `Retry-After`, capped), at least `ARXIV_DELAY` seconds between
requests to arXiv (its API terms ask for one request every three seconds), and a size cap.

Only the standard library is used, imported when a fetch runs: `search` and `show` never
pay for urllib. The module-level constants and `sleep`/`clock`/`utc_today` are the knobs
tests turn (a fake clock, a tiny timeout) instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperidx import __version__
from paperidx.errors import InputError, LibraryError, NetworkError

if TYPE_CHECKING:
    from http.client import HTTPResponse

    from paperidx.library import Library
    from paperidx.reports import IngestReport

HF_URL_ENV = "PAPERIDX_HF_URL"
ARXIV_URL_ENV = "PAPERIDX_ARXIV_URL"
ARXIV_RSS_URL_ENV = "PAPERIDX_ARXIV_RSS_URL"
DEFAULT_HF_URL = "https://huggingface.co"
DEFAULT_ARXIV_URL = "https://export.arxiv.org"
DEFAULT_ARXIV_RSS_URL = "https://rss.arxiv.org"

# Seconds a connection or a single read may stall before the attempt counts as failed.
TIMEOUT = 30.0
# Attempts after the first, for 429, 5xx, timeouts and dropped connections.
MAX_RETRIES = 4
# The first backoff wait; it doubles with every retry (1, 2, 4, 8 s).
BACKOFF = 1.0
# No wait, whatever `Retry-After` asks, is longer than this.
MAX_WAIT = 60.0
# arXiv's API terms: no more than one request every three seconds (also kept for its RSS).
ARXIV_DELAY = 3.0
# A digest is kilobytes; past this a response is not one, and reading stops.
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
# `--since/--until` spans at most this many days per command (one request per day).
MAX_DAYS = 400
# arXiv API results per request; `--max` is reached in pages of this size.
API_PAGE_SIZE = 100
# The HF API returns 50 papers per day unless asked for more; 100 is its largest page.
HF_LIMIT = 100
_CHUNK = 1 << 16

DESCRIPTION = "a local search engine for research-paper digests"


def utc_today() -> dt.date:
    """'Today' for HF Daily Papers and for naming files: the date in UTC, where both live."""
    return dt.datetime.now(dt.UTC).date()


sleep: Callable[[float], None] = time.sleep
clock: Callable[[], float] = time.monotonic


def user_agent() -> str:
    return f"paperidx/{__version__} ({DESCRIPTION}; Python urllib)"


def digests_folder(home: Path) -> Path:
    return home / "digests"


# -- what a fetch did ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Saved:
    """A response saved under `digests/`; `backup` holds the copy it replaced, if any, until
    the new one has been ingested."""

    path: Path
    backup: Path | None = None


@dataclass(slots=True)
class FetchOutcome:
    """What the CLI reports: the ingest of every saved file, and the failure that stopped
    the fetch early (already-saved days are ingested before it is raised)."""

    report: IngestReport | None = None
    error: NetworkError | None = None
    saved: list[Saved] = field(default_factory=list)
    # Responses refused (cut off, too big, not JSON/XML): one line each, exit code 3.
    refused: list[str] = field(default_factory=list)


# -- HTTP -----------------------------------------------------------------------------------


class Client:
    """GETs with retries, backoff, arXiv spacing, a size cap and progress callbacks."""

    def __init__(
        self,
        *,
        on_message: Callable[[str], None],
        on_progress: Callable[[str, int, int | None], None],
    ) -> None:
        self.on_message = on_message
        self.on_progress = on_progress
        self._last_arxiv: float | None = None

    def get(self, url: str, *, what: str, accept: str, arxiv: bool = False) -> bytes:
        """The body of a 200 answer to `url`.

        Raises `NetworkError` when the server cannot be reached or keeps failing after the
        retries, `InputError` when the answer is truncated or too big.
        """
        import urllib.error
        import urllib.request
        from http.client import HTTPException

        request = urllib.request.Request(
            url, headers={"User-Agent": user_agent(), "Accept": accept}
        )
        host = _host(url)
        attempt = 0
        while True:
            if arxiv:
                self._space_arxiv_requests()
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    return self._read(response, url, what)
            except urllib.error.HTTPError as error:
                retry_after = error.headers.get("Retry-After") if error.headers else None
                status, reason = error.code, _clean(str(error.reason))
                error.close()
                if status == 429 or 500 <= status < 600:
                    problem = f"HTTP {status} {reason}".strip()
                    if attempt < MAX_RETRIES:
                        self._wait(_retry_wait(retry_after, attempt), what, problem)
                        attempt += 1
                        continue
                    raise NetworkError(
                        f"{what}: {host} answered {problem} {attempt + 1} times; try again later"
                    ) from None
                raise NetworkError(
                    f"{what}: {host} refused the request: HTTP {status} {reason} ({url})"
                ) from None
            except urllib.error.URLError as error:
                # DNS failures, certificate errors: retrying cannot help.
                cause = error.reason
                if not _transient(cause) or attempt >= MAX_RETRIES:
                    raise NetworkError(_unreachable(what, host, cause, attempt)) from None
                self._wait(_backoff(attempt), what, _describe(cause))
                attempt += 1
            except HTTPException as error:
                # Not HTTP at all (a bad status line): another try would get the same.
                raise NetworkError(
                    f"{what}: {host} did not answer in HTTP ({type(error).__name__})"
                ) from None
            except (TimeoutError, ConnectionError) as error:
                # Raised while waiting for the answer or reading it (urllib wraps only the
                # errors of sending the request in URLError).
                if not _transient(error) or attempt >= MAX_RETRIES:
                    raise NetworkError(_unreachable(what, host, error, attempt)) from None
                self._wait(_backoff(attempt), what, _describe(error))
                attempt += 1

    def _read(self, response: HTTPResponse, url: str, what: str) -> bytes:
        """The whole body, refusing more than `MAX_RESPONSE_BYTES` or fewer than promised."""
        from http.client import IncompleteRead

        declared = _content_length(response.headers.get("Content-Length"))
        if declared is not None and declared > MAX_RESPONSE_BYTES:
            raise _too_big(what)
        chunks: list[bytes] = []
        received = 0
        try:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                received += len(chunk)
                if received > MAX_RESPONSE_BYTES:
                    raise _too_big(what)
                chunks.append(chunk)
                self.on_progress(f"downloading {what}", received, declared)
        except IncompleteRead:
            raise _truncated(what, received, declared) from None
        # `read(n)` does not raise when the connection closes early; compare ourselves.
        if declared is not None and received < declared:
            raise _truncated(what, received, declared)
        return b"".join(chunks)

    def _space_arxiv_requests(self) -> None:
        now = clock()
        if self._last_arxiv is not None:
            remaining = ARXIV_DELAY - (now - self._last_arxiv)
            if remaining > 0:
                sleep(remaining)
        self._last_arxiv = clock()

    def _wait(self, seconds: float, what: str, problem: str) -> None:
        self.on_message(f"{what}: {problem}; retrying in {seconds:g} s")
        sleep(seconds)


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _clean(text: str) -> str:
    from paperidx.text import inert

    return inert(text)[:200]


def _content_length(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _transient(cause: object) -> bool:
    """Worth another try: timeouts and dropped connections (not DNS, TLS or refusals)."""
    import socket
    import ssl

    if isinstance(cause, (socket.gaierror, ssl.SSLError)):
        return False
    # A refused connection means nothing listens there: seconds later is no different.
    return isinstance(cause, (TimeoutError, ConnectionResetError, ConnectionAbortedError))


def _describe(cause: object) -> str:
    import socket

    if isinstance(cause, TimeoutError):
        return f"no answer within {TIMEOUT:g} s"
    if isinstance(cause, socket.gaierror):
        return "the host name does not resolve (no network?)"
    if isinstance(cause, OSError) and cause.strerror:
        return _clean(cause.strerror)
    return _clean(str(cause)) or type(cause).__name__


def _unreachable(what: str, host: str, cause: object, attempt: int) -> str:
    tries = f" (after {attempt + 1} attempts)" if attempt else ""
    return f"{what}: cannot reach {host}: {_describe(cause)}{tries}"


def _backoff(attempt: int) -> float:
    return float(min(MAX_WAIT, BACKOFF * 2**attempt))


def _retry_wait(header: str | None, attempt: int) -> float:
    """`Retry-After` (seconds or an HTTP date) when the server gives it, else the backoff;
    never more than `MAX_WAIT`."""
    if header is None or not header.strip():
        return _backoff(attempt)
    text = header.strip()
    if text.isdigit():
        return float(min(MAX_WAIT, int(text)))
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return _backoff(attempt)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return float(min(MAX_WAIT, max(0.0, seconds)))


def _too_big(what: str) -> InputError:
    megabytes, rest = divmod(MAX_RESPONSE_BYTES, 1024 * 1024)
    limit = f"{megabytes} MB" if megabytes and not rest else f"{MAX_RESPONSE_BYTES} bytes"
    return InputError(f"{what}: the response is larger than {limit}: refused")


def _truncated(what: str, received: int, declared: int | None) -> InputError:
    promised = f" of {declared} promised" if declared is not None else ""
    return InputError(
        f"{what}: the response was cut off ({received} bytes{promised}): nothing stored"
    )


# -- checking responses -----------------------------------------------------------------


def _check_json(body: bytes, what: str) -> int:
    """How many papers an HF API answer holds; refuses what is not a JSON paper list."""
    import json

    try:
        data: Any = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise InputError(f"{what}: the response is not valid JSON ({error}): refused") from None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        raise InputError(f"{what}: the server answered an error: {_clean(data['error'])}")
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        raise InputError(f"{what}: the response is not a list of papers: refused")
    return len(data)


@dataclass(slots=True)
class FeedShape:
    """What a quick pass over a feed found: enough to name, page and skip it."""

    items: int = 0
    total: int | None = None
    day: dt.date | None = None


class _EntityDeclared(Exception):
    pass


def _check_xml(body: bytes, what: str) -> FeedShape:
    """Count a feed's items and read its result total and day; refuse malformed XML.

    Only well-formedness is judged here (the feed parser reads the papers). Entity
    declarations are refused: feeds never need them, and they are how XML bombs work.
    """
    from xml.parsers import expat

    shape = FeedShape()
    path: list[str] = []
    text: list[str] = []
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, _attributes: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local in ("item", "entry"):
            shape.items += 1
        path.append(local)
        text.clear()

    def end(name: str) -> None:
        local = path.pop() if path else name
        value = "".join(text).strip()
        if local == "totalResults" and value.isdigit():
            shape.total = int(value)
        elif local in ("pubDate", "date") and shape.day is None and not _in_item(path):
            shape.day = _feed_day(value)
        text.clear()

    def characters(data: str) -> None:
        text.append(data)

    def entity_declared(*_args: object) -> None:
        raise _EntityDeclared

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.EntityDeclHandler = entity_declared
    try:
        parser.Parse(body, True)
    except expat.ExpatError as error:
        raise InputError(
            f"{what}: the response is not well-formed XML "
            f"(line {error.lineno}: {expat.ErrorString(error.code)}): refused"
        ) from None
    except _EntityDeclared:
        raise InputError(f"{what}: the response declares XML entities: refused") from None
    return shape


def _in_item(path: list[str]) -> bool:
    return "item" in path or "entry" in path


def _feed_day(value: str) -> dt.date | None:
    """The day of a channel's `pubDate` (RFC 822) or `dc:date` (ISO), in its own zone."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


# -- saving ---------------------------------------------------------------------------------


def _save(destination: Path, body: bytes) -> Saved:
    """Write `body` to `destination` atomically; keep a hard link to the copy it replaces."""
    folder = destination.parent
    try:
        if destination.is_file() and destination.read_bytes() == body:
            return Saved(destination)  # the same answer as last time: nothing to write
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{destination.name}.", suffix=".part"
        )
    except OSError as error:
        raise LibraryError(f"cannot save {destination}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        backup = _keep_previous(destination)
        os.replace(temporary, destination)
    except BaseException as error:
        # Also on Ctrl-C: no half-written temp file stays behind.
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise LibraryError(f"cannot save {destination}: {error.strerror or error}") from None
        raise
    return Saved(destination, backup)


def _keep_previous(destination: Path) -> Path | None:
    if not destination.is_file():
        return None
    backup = destination.with_name(f".{destination.name}.previous")
    backup.unlink(missing_ok=True)
    try:
        os.link(destination, backup)
    except OSError:
        import shutil

        shutil.copy2(destination, backup)
    return backup


def _settle(saved: list[Saved], report: IngestReport | None) -> None:
    """After the ingest: a file the parser refused is removed (or its previous copy put
    back); backups of the rest are dropped."""
    failed = {f.source for f in report.failed} if report is not None else set()
    for item in saved:
        try:
            if str(item.path) in failed:
                if item.backup is not None:
                    os.replace(item.backup, item.path)
                else:
                    item.path.unlink(missing_ok=True)
            elif item.backup is not None:
                item.backup.unlink(missing_ok=True)
        except OSError:
            continue  # a leftover dot-file is ignored by directory ingests


# -- the three sources ------------------------------------------------------------------------


def _base(variable: str, default: str) -> str:
    return (os.environ.get(variable) or default).rstrip("/")


def days_between(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=n) for n in range((until - since).days + 1)]


@dataclass(frozen=True, slots=True)
class _Step:
    """A file to ingest: a response to save there first, or (`body` None) one saved before."""

    destination: Path
    body: bytes | None = None


# What a source's steps yield: a file to ingest, or a response refused (the fetch goes on).
_Steps = Iterator[_Step | InputError]


def fetch_hf(library: Library, days: list[dt.date]) -> FetchOutcome:
    """One HF Daily Papers API request per day (skipping past days already saved)."""
    client = _client(library)
    folder = digests_folder(library.paths.home) / "hf"
    today = utc_today()

    def steps() -> _Steps:
        for day in days:
            destination = folder / f"{day.isoformat()}.json"
            if day < today and destination.is_file():
                # A past day's list no longer changes; today's still grows.
                library.on_message(f"hf {day.isoformat()}: already fetched, not downloaded again")
                yield _Step(destination)
                continue
            try:
                body = _hf_day(client, day, library.on_message)
            except InputError as error:
                yield error
                continue
            if body is not None:
                yield _Step(destination, body)

    return _run(library, steps(), "hf-api")


def _hf_day(client: Client, day: dt.date, say: Callable[[str], None]) -> bytes | None:
    from urllib.parse import urlencode

    what = f"hf {day.isoformat()}"
    query = urlencode({"date": day.isoformat(), "limit": HF_LIMIT})
    url = f"{_base(HF_URL_ENV, DEFAULT_HF_URL)}/api/daily_papers?{query}"
    body = client.get(url, what=what, accept="application/json")
    count = _check_json(body, what)
    if count == 0:
        # Weekends and holidays: the API answers an empty list.
        say(f"{what}: no papers")
        return None
    if count >= HF_LIMIT:
        say(f"{what}: {count} papers, the most one request returns; some may be missing")
    return body


_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")


def valid_category(name: str) -> bool:
    """arXiv category names (`cs.CL`, `hep-th`, `math`): also safe in file names and URLs."""
    return _CATEGORY.fullmatch(name) is not None


_FEED_TYPES = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1"


def fetch_arxiv_rss(library: Library, categories: list[str]) -> FetchOutcome:
    """Today's announcements, one RSS request per category.

    One request per category (rather than rss.arxiv.org's `cs.CL+cs.LG`) so that each saved
    file is one category's listing, named by it; a paper cross-listed in two is merged by
    the ingest, and one category's bad answer does not lose the others.
    """
    client = _client(library)
    folder = digests_folder(library.paths.home) / "arxiv-rss"

    def steps() -> _Steps:
        for category in dict.fromkeys(categories):
            what = f"arxiv {category}"
            url = f"{_base(ARXIV_RSS_URL_ENV, DEFAULT_ARXIV_RSS_URL)}/rss/{category}"
            try:
                body = client.get(url, what=what, accept=_FEED_TYPES, arxiv=True)
                shape = _check_xml(body, what)
            except InputError as error:
                yield error
                continue
            if shape.items == 0:
                library.on_message(f"{what}: no papers (no announcement today)")
                continue
            # Named by the announcement day the feed states, so a fetch on a weekend
            # rewrites Friday's file rather than adding a copy of it.
            day = shape.day or utc_today()
            yield _Step(folder / f"{day.isoformat()}-{category}.xml", body)

    return _run(library, steps(), "feed")


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()[:10]


def fetch_arxiv_query(library: Library, query: str, limit: int) -> FetchOutcome:
    """An arXiv API search, newest submissions first, in pages of `API_PAGE_SIZE` up to
    `limit` papers; stops early when a page comes back short or the total is reached."""
    from urllib.parse import urlencode

    client = _client(library)
    folder = digests_folder(library.paths.home) / "arxiv-api"
    stem = f"{utc_today().isoformat()}-{query_hash(query)}"

    def steps() -> _Steps:
        start, page = 0, 1
        while start < limit:
            size = min(API_PAGE_SIZE, limit - start)
            what = f"arxiv query page {page}"
            parameters = {
                "search_query": query,
                "start": start,
                "max_results": size,
                # Newest first, so `--max` keeps the most recent papers, and pages are
                # stable while they are fetched.
                "sortBy": "submittedDate",
                "sortOrder": "descending",
            }
            url = f"{_base(ARXIV_URL_ENV, DEFAULT_ARXIV_URL)}/api/query?{urlencode(parameters)}"
            try:
                body = client.get(url, what=what, accept=_FEED_TYPES, arxiv=True)
                shape = _check_xml(body, what)
            except InputError as error:
                yield error
                return  # the later pages would leave a gap: stop here
            if shape.items == 0:
                if page == 1:
                    library.on_message(f"arxiv query: no papers match {query!r}")
                return
            yield _Step(folder / f"{stem}-{page}.xml", body)
            start += size
            page += 1
            if shape.items < size or (shape.total is not None and start >= shape.total):
                return

    return _run(library, steps(), "feed")


def _client(library: Library) -> Client:
    return Client(on_message=library.on_message, on_progress=library.on_progress)


def _run(library: Library, steps: _Steps, input_format: str) -> FetchOutcome:
    """Save each response as it comes, then ingest every saved file in one go.

    A refused response is noted and the fetch goes on. A network failure stops the
    fetching, not the ingest of what was already saved; it is handed back to be reported
    after the summary. Anything else (a full disk) propagates at once: the responses saved
    before it stay, re-ingestable.
    """
    from paperidx.library import IngestOptions

    outcome = FetchOutcome()
    paths: list[Path] = []
    try:
        for step in steps:
            if isinstance(step, InputError):
                outcome.refused.append(str(step))
                continue
            if step.body is not None:
                outcome.saved.append(_save(step.destination, step.body))
            paths.append(step.destination)
    except NetworkError as error:
        outcome.error = error
    except BaseException:
        _settle(outcome.saved, None)
        raise
    if paths:
        try:
            outcome.report = library.ingest(
                [str(p) for p in paths], IngestOptions(format=input_format)
            )
        finally:
            _settle(outcome.saved, outcome.report)
    return outcome


__all__ = [
    "FetchOutcome",
    "days_between",
    "fetch_arxiv_query",
    "fetch_arxiv_rss",
    "fetch_hf",
    "user_agent",
    "valid_category",
]
