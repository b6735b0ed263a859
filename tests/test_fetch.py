"""`paperidx fetch` against a local HTTP server replaying recorded real responses.

No test reaches the internet: the three base-URL variables always point at 127.0.0.1 (a
closed port unless a test starts the server), and `socket.create_connection` refuses any
other host. Waits are recorded by a fake clock instead of slept.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from paperidx import fetching
from paperidx.errors import ExitCode

from .conftest import invoke

HERE = Path(__file__).resolve().parent
RESPONSES = HERE / "fixtures" / "responses"
FEEDS = HERE / "fixtures" / "feed"
API_PAGE_1 = RESPONSES / "arxiv-api-testing-start0.xml"
API_PAGE_2 = RESPONSES / "arxiv-api-testing-start10.xml"
# Reused from the feed parser's fixtures (see tests/fixtures/responses/SOURCE.md).
RSS = FEEDS / "arxiv-rss-2026-09-24-cs.LG+cs.AI+cs.CL+stat.ML.xml"
API_ERROR = FEEDS / "arxiv-api-error-incorrect-id.xml"
ENV = (fetching.HF_URL_ENV, fetching.ARXIV_URL_ENV, fetching.ARXIV_RSS_URL_ENV)


def run(*args: str) -> Any:
    return invoke("fetch", *args)


def show(reference: str) -> dict[str, Any]:
    result = invoke("show", reference, "-f", "json")
    assert result.exit_code == 0, result.stderr
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


# -- the local server ---------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # A Content-Length other than the body's (larger: the answer is cut off), or None to
    # send none and mark the end by closing the connection.
    length: int | None = -1


@dataclass
class Request:
    path: str
    query: dict[str, str]
    user_agent: str


class Server:
    """Routes are `path?param=value` (the params must match); each answers its replies in
    turn, the last one for good."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Request] = []

    def route(self, key: str, *replies: Reply) -> None:
        self.routes[key] = list(replies)

    def reply_for(self, path: str, query: dict[str, str]) -> Reply:
        for key, replies in self.routes.items():
            parts = urlsplit(key)
            wanted = dict(parse_qsl(parts.query))
            if parts.path == path and all(query.get(k) == v for k, v in wanted.items()):
                return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(404, b"not found")


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            server.requests.append(Request(parts.path, query, self.headers["User-Agent"] or ""))
            reply = server.reply_for(parts.path, query)
            try:
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.length is not None:
                    length = len(reply.body) if reply.length < 0 else reply.length
                    self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    state = Server("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    for variable in ENV:
        monkeypatch.setenv(variable, state.base)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Every test: base URLs on a closed local port, only loopback connections, fake time."""
    closed = f"http://127.0.0.1:{_closed_port()}"
    for variable in ENV:
        monkeypatch.setenv(variable, closed)
    real_connect = socket.create_connection

    def loopback_only(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if address[0] not in ("127.0.0.1", "localhost"):
            raise AssertionError(f"a test tried to reach {address[0]}")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    fake = FakeTime()
    monkeypatch.setattr(fetching, "sleep", fake.sleep)
    monkeypatch.setattr(fetching, "clock", fake.clock)
    monkeypatch.setattr(fetching, "utc_today", lambda: dt.date(2024, 5, 28))
    return fake


@pytest.fixture
def hf_days(shared_data: Path) -> Path:
    return shared_data / "hf_daily_papers" / "api_json" / "Paper_metadata_download"


def hf_route(server: Server, day: str, *replies: Reply) -> None:
    server.route(f"/api/daily_papers?date={day}", *replies)


def test_the_environment_points_every_source_at_this_machine() -> None:
    for variable in ENV:
        assert urlsplit(os.environ[variable]).hostname == "127.0.0.1"


# -- Hugging Face Daily Papers --------------------------------------------------------------


def test_fetch_hf_today_saves_the_answer_and_ingests_it(
    server: Server, hf_days: Path, library_home: Path
) -> None:
    recorded = (hf_days / "2024-05-28.json").read_bytes()
    hf_route(server, "2024-05-28", Reply(body=recorded))
    result = run("hf")
    assert result.exit_code == 0, result.stderr
    saved = library_home / "digests" / "hf" / "2024-05-28.json"
    assert saved.read_bytes() == recorded
    assert f"{saved} (hf-api): 15 parsed, 15 new" in result.stderr
    paper = show("2405.17247")
    assert paper["title"] == "An Introduction to Vision-Language Modeling"
    assert paper["sources"][0].startswith(f"{saved}:")
    assert server.requests[0].query == {"date": "2024-05-28", "limit": "100"}
    assert server.requests[0].user_agent.startswith("paperidx/")
    assert not list(saved.parent.glob(".*"))  # no temp or backup file left behind


def test_fetch_hf_range_skips_empty_days_and_ingests_the_rest(
    server: Server, hf_days: Path, library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetching, "utc_today", lambda: dt.date(2024, 6, 10))
    days = ["2024-05-30", "2024-05-31", "2024-06-03"]
    for day in days:
        hf_route(server, day, Reply(body=(hf_days / f"{day}.json").read_bytes()))
    for weekend in ("2024-06-01", "2024-06-02"):
        hf_route(server, weekend, Reply(body=b"[]"))
    result = run("hf", "--since", "2024-05-30", "--until", "2024-06-03")
    assert result.exit_code == 0, result.stderr
    assert "hf 2024-06-01: no papers" in result.stderr
    assert "hf 2024-06-02: no papers" in result.stderr
    folder = library_home / "digests" / "hf"
    assert sorted(p.name for p in folder.iterdir()) == [f"{d}.json" for d in days]
    assert len(server.requests) == 5
    first_of_june_3 = json.loads((folder / "2024-06-03.json").read_text())[0]["paper"]["id"]
    assert show(first_of_june_3)["dates"] == ["2024-06-03"]


def test_the_same_day_twice_adds_nothing_and_a_past_day_is_not_downloaded_again(
    server: Server, hf_days: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hf_route(server, "2024-05-28", Reply(body=(hf_days / "2024-05-28.json").read_bytes()))
    assert run("hf").exit_code == 0
    again = run("hf")  # still today: downloaded again, merged
    assert again.exit_code == 0
    assert "15 parsed, 0 new, 15 already present" in again.stderr
    assert len(server.requests) == 2
    monkeypatch.setattr(fetching, "utc_today", lambda: dt.date(2024, 5, 29))
    later = run("hf", "--since", "2024-05-28", "--until", "2024-05-28")
    assert later.exit_code == 0
    assert "already fetched" in later.stderr and "0 new" in later.stderr
    assert len(server.requests) == 2


def test_429_with_retry_after_is_waited_out(
    server: Server, hf_days: Path, offline: FakeTime
) -> None:
    body = (hf_days / "2024-05-28.json").read_bytes()
    hf_route(server, "2024-05-28", Reply(429, b"slow down", {"Retry-After": "7"}), Reply(body=body))
    result = run("hf")
    assert result.exit_code == 0, result.stderr
    assert offline.waits == [7.0]
    assert "HTTP 429" in result.stderr and "retrying in 7 s" in result.stderr


def test_retry_after_is_capped_and_read_as_an_http_date() -> None:
    assert fetching._retry_wait("86400", 0) == fetching.MAX_WAIT
    future = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    wait = fetching._retry_wait(future.strftime("%a, %d %b %Y %H:%M:%S GMT"), 0)
    assert 25 <= wait <= 30
    assert fetching._retry_wait("Thu, 01 Jan 1970 00:00:00 GMT", 0) == 0
    assert fetching._retry_wait("soon", 2) == 4.0  # unreadable: the backoff


def test_server_errors_are_retried_with_backoff(
    server: Server, hf_days: Path, offline: FakeTime
) -> None:
    body = (hf_days / "2024-05-28.json").read_bytes()
    hf_route(server, "2024-05-28", Reply(500), Reply(503), Reply(body=body))
    result = run("hf")
    assert result.exit_code == 0, result.stderr
    assert offline.waits == [1.0, 2.0]
    assert show("2405.17247")["arxiv_id"] == "2405.17247"


def test_a_server_that_keeps_failing_is_a_network_error_and_the_library_is_untouched(
    server: Server, library_home: Path, offline: FakeTime
) -> None:
    hf_route(server, "2024-05-28", Reply(500, b"oops"))
    result = run("hf")
    assert result.exit_code == int(ExitCode.NETWORK) == 8
    last = result.stderr.splitlines()[-1]
    assert last.startswith("paperidx: error: hf 2024-05-28: 127.0.0.1:")
    assert "HTTP 500" in last and "5 times" in last
    assert len(server.requests) == fetching.MAX_RETRIES + 1
    assert offline.waits == [1.0, 2.0, 4.0, 8.0]
    assert not library_home.exists()


def test_a_slow_answer_times_out_into_a_network_error(
    server: Server, library_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetching, "TIMEOUT", 0.2)
    monkeypatch.setattr(fetching, "MAX_RETRIES", 1)
    hf_route(server, "2024-05-28", Reply(body=b"[]", delay=1.0))
    result = run("hf")
    assert result.exit_code == ExitCode.NETWORK
    assert "no answer within 0.2 s (after 2 attempts)" in result.stderr
    assert not library_home.exists()


def test_no_server_listening_is_one_line_and_exit_8(library_home: Path) -> None:
    result = run("hf")  # the autouse fixture points at a closed port
    assert result.exit_code == ExitCode.NETWORK
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("paperidx: error: hf 2024-05-28: cannot reach 127.0.0.1:")
    assert not library_home.exists()


def test_a_cut_off_answer_is_refused_and_nothing_is_stored(
    server: Server, hf_days: Path, library_home: Path
) -> None:
    body = (hf_days / "2024-05-28.json").read_bytes()
    hf_route(server, "2024-05-28", Reply(body=body[:5000], length=len(body)))
    result = run("hf")
    assert result.exit_code == ExitCode.INPUT
    assert "cut off (5000 bytes of" in result.stderr
    assert not (library_home / "digests").exists()
    assert not (library_home / "papers.sqlite3").exists()


@pytest.mark.parametrize("length", [-1, None], ids=["declared", "undeclared"])
def test_an_answer_over_the_size_cap_is_refused(
    server: Server, library_home: Path, monkeypatch: pytest.MonkeyPatch, length: int | None
) -> None:
    monkeypatch.setattr(fetching, "MAX_RESPONSE_BYTES", 100_000)
    monkeypatch.setattr(fetching, "_CHUNK", 4096)
    hf_route(server, "2024-05-28", Reply(body=b"[" + b" " * 200_000 + b"]", length=length))
    result = run("hf")
    assert result.exit_code == ExitCode.INPUT
    assert "larger than 100000 bytes: refused" in result.stderr
    assert not (library_home / "digests").exists()


def test_json_that_does_not_parse_is_refused(server: Server, library_home: Path) -> None:
    hf_route(server, "2024-05-28", Reply(body=b'[{"paper": {"id": "2405.17247"'))
    result = run("hf")
    assert result.exit_code == ExitCode.INPUT
    assert "not valid JSON" in result.stderr
    assert not library_home.exists()


def test_a_new_answer_that_does_not_ingest_puts_the_previous_copy_back(
    server: Server, hf_days: Path, library_home: Path
) -> None:
    good = (hf_days / "2024-05-28.json").read_bytes()
    hf_route(server, "2024-05-28", Reply(body=good), Reply(body=b'[{"paper": {"id": "x"}}]'))
    assert run("hf").exit_code == 0
    result = run("hf")
    assert result.exit_code == ExitCode.INPUT, result.stderr
    saved = library_home / "digests" / "hf" / "2024-05-28.json"
    assert saved.read_bytes() == good
    assert not list(saved.parent.glob(".*"))


def test_usage_errors_exit_2() -> None:
    assert run("hf", "--since", "2020-01-01", "--until", "2024-01-01").exit_code == 2
    assert run("hf", "--since", "2024-05-29").exit_code == 2  # after today
    assert run("hf", "cs.CL").exit_code == 2
    assert run("arxiv").exit_code == 2
    assert run("arxiv", "cs.CL", "--query", "ti:x").exit_code == 2
    assert run("arxiv", "../etc").exit_code == 2


# -- arXiv ----------------------------------------------------------------------------------


def test_fetch_arxiv_rss_one_request_per_category_spaced_out(
    server: Server, library_home: Path, offline: FakeTime
) -> None:
    recorded = RSS.read_bytes()
    server.route("/rss/cs.CL", Reply(body=recorded))
    server.route("/rss/cs.LG", Reply(body=recorded))
    result = run("arxiv", "cs.CL", "cs.LG")
    assert result.exit_code == 0, result.stderr
    folder = library_home / "digests" / "arxiv-rss"
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-09-24-cs.CL.xml",
        "2026-09-24-cs.LG.xml",
    ]
    assert [r.path for r in server.requests] == ["/rss/cs.CL", "/rss/cs.LG"]
    assert offline.waits == [fetching.ARXIV_DELAY]
    assert "(feed): 4 parsed, 4 new" in result.stderr
    assert "(feed): 4 parsed, 0 new, 4 already present" in result.stderr
    assert show("2609.26811")["dates"] == ["2026-09-24"]


def test_fetch_arxiv_query_pages_and_waits_between_requests(
    server: Server, library_home: Path, offline: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetching, "API_PAGE_SIZE", 10)
    server.route("/api/query?start=0", Reply(body=API_PAGE_1.read_bytes()))
    server.route("/api/query?start=10", Reply(body=API_PAGE_2.read_bytes()))
    result = run("arxiv", "--query", "all:testing", "--max", "20")
    assert result.exit_code == 0, result.stderr
    assert [r.query["start"] for r in server.requests] == ["0", "10"]
    assert all(r.query["max_results"] == "10" for r in server.requests)
    assert server.requests[0].query["search_query"] == "all:testing"
    assert any(wait >= fetching.ARXIV_DELAY for wait in offline.waits)
    stem = f"2024-05-28-{fetching.query_hash('all:testing')}"
    folder = library_home / "digests" / "arxiv-api"
    assert sorted(p.name for p in folder.iterdir()) == [f"{stem}-1.xml", f"{stem}-2.xml"]
    assert show("2403.16981")["sources"][0].startswith(f"{folder / stem}-2.xml:")
    assert all(r.user_agent.startswith("paperidx/") for r in server.requests)


def test_arxiv_query_stops_at_a_short_page(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetching, "API_PAGE_SIZE", 50)
    server.route("/api/query?start=0", Reply(body=API_PAGE_1.read_bytes()))  # 10 of 50
    result = run("arxiv", "--query", "all:testing", "--max", "300")
    assert result.exit_code == 0, result.stderr
    assert len(server.requests) == 1


def test_an_arxiv_error_answer_is_refused_and_its_file_removed(
    server: Server, library_home: Path
) -> None:
    server.route("/api/query", Reply(body=API_ERROR.read_bytes()))
    result = run("arxiv", "--query", "id:abc")
    assert result.exit_code == ExitCode.INPUT, result.stderr
    folder = library_home / "digests" / "arxiv-api"
    assert not folder.exists() or not any(folder.iterdir())


def test_xml_that_does_not_parse_is_refused(server: Server, library_home: Path) -> None:
    server.route("/rss/cs.CL", Reply(body=RSS.read_bytes()[:3000]))
    result = run("arxiv", "cs.CL")
    assert result.exit_code == ExitCode.INPUT
    assert "not well-formed XML" in result.stderr
    assert not library_home.exists()


def test_xml_entity_declarations_are_refused(server: Server) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><item>&a;</item></rss>'
    server.route("/rss/cs.CL", Reply(body=bomb))
    result = run("arxiv", "cs.CL")
    assert result.exit_code == ExitCode.INPUT
    assert "declares XML entities" in result.stderr


def test_progress_on_a_terminal_keeps_the_messages(
    server: Server, hf_days: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paperidx import cli

    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)
    body = (hf_days / "2024-05-28.json").read_bytes()
    hf_route(server, "2024-05-28", Reply(503), Reply(body=body))
    result = run("hf")
    assert result.exit_code == 0, result.stderr
    assert "retrying in 1 s" in result.stderr and "15 new" in result.stderr
