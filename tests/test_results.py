"""The read path's plain records have the shape of the validated model they came from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperidx.models import Paper, paper_id
from paperidx.results import StoredPaper
from paperidx.state import PaperState


def test_stored_paper_to_dict_is_the_models_json_dump() -> None:
    fields: dict[str, Any] = {
        "id": paper_id("A Title"),
        "title": "A Title",
        "abstract": "An abstract.",
        "authors": ["Ada Lovelace"],
        "arxiv_id": "2411.13560",
        "dates": [dt.date(2024, 11, 7)],
        "sources": ["digest.txt:3"],
        "links": ["https://arxiv.org/abs/2411.13560"],
        "doi": "10.1234/abc",
        "published": dt.date(2024, 11, 1),
    }
    assert StoredPaper(**fields).to_dict() == Paper(**fields).model_dump(mode="json")


def test_the_users_state_is_added_only_when_there_is_some() -> None:
    plain = StoredPaper("0123456789", "T", "A", [], None, [], [], [])
    assert "user" not in plain.to_dict()
    assert "user" not in StoredPaper(**_fields(plain), state=PaperState()).to_dict()
    starred = StoredPaper(**_fields(plain), state=PaperState(starred=True, tags=("x",)))
    assert starred.to_dict()["user"] == {"read": False, "starred": True, "tags": ["x"], "note": ""}


def _fields(paper: StoredPaper) -> dict[str, Any]:
    return {name: getattr(paper, name) for name in StoredPaper.__slots__ if name != "state"}
