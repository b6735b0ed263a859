"""A scripted day, end to end through the CLI, against recorded real HF Daily Papers answers
served from 127.0.0.1: watch, fetch, `new`, triage, recommend, export, restore."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paperidx import fetching
from paperidx.cli import app

from .test_fetch import Reply, Server, hf_days, hf_route, offline, server  # noqa: F401

runner = CliRunner()
I2VEDIT = "2405.16537"  # I2VEdit: First-Frame-Guided Video Editing via Image-to-Video Diffusion
COLLAB = "2405.17414"  # Collaborative Video Diffusion
INTRO_VLM = "2405.17247"  # An Introduction to Vision-Language Modeling
TRANS_LORA = "2405.17258"  # Trans-LoRA


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"{args}: {result.output}"
    assert "Traceback" not in result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(cli(*args, "--format", "json").stdout)


def test_a_day_with_paperidx(
    server: Server,  # noqa: F811
    hf_days: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for day in ("2024-05-28", "2024-05-29", "2024-05-30"):
        hf_route(server, day, Reply(body=(hf_days / f"{day}.json").read_bytes()))

    # Morning: standing topics, then today's papers.
    cli("watch", "add", "video", "video diffusion")
    cli("watch", "add", "lora", "lora OR peft OR finetuning")
    cli("watch", "add", "moe", '"mixture of experts"')
    fetched = cli("fetch", "hf")
    assert fetched.stderr.strip().splitlines()[-1] == "watches: lora 2 new, moe 0 new, video 4 new"

    news = as_json("new", "--peek")
    assert TRANS_LORA in {p["arxiv_id"] for p in news if p["watch"] == "lora"}
    video = [p for p in news if p["watch"] == "video"]
    assert {p["arxiv_id"] for p in video} >= {I2VEDIT, COLLAB}
    for paper in video:  # plain watch words must all appear
        text = f"{paper['title']} {paper['abstract']}".lower()
        assert "video" in text and "diffusion" in text
    assert len(as_json("new")) == len(news)
    assert cli("new").stderr.strip() == "nothing new from your watches"

    # Triage.
    cli("mark", I2VEDIT, COLLAB, "star")
    cli("mark", INTRO_VLM, I2VEDIT, "read")
    cli("tag", COLLAB, "+reading-group", "+todo")
    cli("note", COLLAB, "compare camera control with CameraCtrl")
    assert [p["arxiv_id"] for p in as_json("search", "video is:starred is:unread")] == [COLLAB]
    assert [p["arxiv_id"] for p in as_json("list", "--tag", "reading-group")] == [COLLAB]

    # The next two days arrive; the watches report only what is new.
    monkeypatch.setattr(fetching, "utc_today", lambda: dt.date(2024, 5, 30))
    later = cli("fetch", "hf", "--since", "2024-05-29", "--until", "2024-05-30")
    assert later.stderr.strip().splitlines()[-1] == "watches: lora 6 new, moe 1 new, video 3 new"
    assert [p["arxiv_id"] for p in as_json("new", "moe")] == ["2405.17976"]

    # What to read next.
    picks = as_json("recommend", "-n", "5")
    assert len(picks) == 5
    starred = {p["id"] for p in as_json("list", "--starred")}
    read = {p["id"] for p in as_json("list", "--read")}
    assert all(p["id"] not in starred | read and p["because"] in starred for p in picks)
    assert sum("Video" in p["title"] or "video" in p["title"] for p in picks) >= 2

    # Everything the user did survives an export into a new library.
    exported = tmp_path / "library.jsonl"
    cli("export", "-o", str(exported))
    fresh = tmp_path / "fresh"
    cli("--home", str(fresh), "ingest", str(exported))

    def state(*home: str) -> tuple[Any, ...]:
        watches = as_json(*home, "watch", "list")
        return (
            as_json(*home, "list"),
            [{k: w[k] for k in ("name", "query", "exclude")} for w in watches],
            as_json(*home, "show", COLLAB)["user"],
        )

    assert state("--home", str(fresh)) == state()
    assert state()[2] == {
        "read": False,
        "starred": True,
        "tags": ["reading-group", "todo"],
        "note": "compare camera control with CameraCtrl",
    }
