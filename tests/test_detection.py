"""Format detection asks a format's sniffer only when the input shows that format's clue
(`paperidx.parsing.Clue`): each clue must be something its sniffer cannot claim a file
without, or detection would change. Held here on every sample file and on text made of
their pieces."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperidx import parsing
from paperidx.errors import InputError
from paperidx.parsing import FORMAT_NAMES, MIN_CONFIDENCE, detect_format, input_format
from paperidx.reading import SNIFF_BYTES

from .conftest import REPO, SHARED_DATA


def _sample_files() -> list[Path]:
    files = [p for p in (REPO / "tests" / "fixtures").rglob("*") if p.is_file()]
    files.append(REPO / "data" / "hf-daily-papers-sample.txt")
    for folder in (  # page captures, API JSON, scraped JSON arrays, JSON Lines, other text
        "hf_daily_papers/page_captures",
        "hf_daily_papers/api_json/Paper_metadata_download",
        "hf_daily_papers/scraped_json/data/daily",
        "arxiv_cs_daily/data",
        "cisi",
    ):
        files += sorted(p for p in (SHARED_DATA / folder).glob("*") if p.is_file())[:4]
    return sorted(files)


def _head(path: Path) -> str:
    return path.read_bytes()[:SNIFF_BYTES].decode("utf-8", errors="replace")


SAMPLES = _sample_files()
HEADS = {path: _head(path) for path in SAMPLES}


def _asking_every_sniffer(head: str) -> str | None:
    """Detection as it was before clues: the most confident of all sniffers."""
    best, confidence = None, 0.0
    for name in FORMAT_NAMES:
        score = input_format(name).sniff(head)
        if score > confidence:
            best, confidence = name, score
    return best if best is not None and confidence >= MIN_CONFIDENCE else None


def _detected(head: str) -> str | None:
    try:
        return detect_format(head)
    except InputError:
        return None


def _clue_missing_for_a_claim(head: str) -> list[str]:
    """Formats whose sniffer claims `head` although detection would not ask it."""
    opening, folded = parsing._clue_views(head)
    return [
        name
        for name, clue in parsing._CLUES.items()
        if input_format(name).sniff(head) >= MIN_CONFIDENCE and not clue.found_in(opening, folded)
    ]


def test_the_samples_cover_every_format_with_a_clue(shared_data: Path) -> None:
    # The JSON formats' samples are the shared data's (the API days, scraped days, listings).
    claimed = {_asking_every_sniffer(head) for head in HEADS.values()}
    assert set(parsing._CLUES) <= claimed


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_a_sample_file_is_detected_as_asking_every_sniffer_would(path: Path) -> None:
    head = HEADS[path]
    assert _clue_missing_for_a_claim(head) == []
    assert _detected(head) == _asking_every_sniffer(head)


# One input for each way a sniffer can claim an input, each showing only the clue that way
# needs: a clue that left out one of these would send the input to another format.
EACH_WAY_IN = [
    ("arxiv-email", "Send any comments regarding submissions directly to submitter.\n"),
    ("arxiv-email", "arXiv:2401.00001\nDate: Mon\n\nTitle: A title\n\\\\\n"),
    ("arxiv-email", "PAPER: 2401.00001\nTitle: A title\n\\\\\n"),
    ("arxiv-email", "Paper (*cross-listing*): 2401.00001\nTitle: A title\n\\\\\n"),
    ("arxiv-text", "ARXIV:2401.00001 [pdf, other]\nA title\n"),
    ("arxiv-text", "Computer Science > Learning\n[Submitted on 3 Jan 2024]\nA title\n"),
    ("arxiv-text", "arXiv:2401.00001\nTitle: A title\n"),
    ("hf-page", "## [A paper title](https://huggingface.co/papers/2401.00001)\nDaily Papers\n"),
    ("markdown", "---\ntitle: A title\nauthors: Ada\n---\n\nWhat it says.\n"),
    ("markdown", "| Title | Link |\n|:--|:--|\n| A | https://arxiv.org/abs/2401.00001 |\n"),
    ("markdown", "# Notes\n\nSee arXiv:2401.00001 on caching.\n"),
    ("bibtex", "@article{key,\n  title = {A title},\n}\n"),
    ("ris", "TY  - JOUR\nTI  - A title\nAU  - Ada\nER  - \n"),
    ("ris", "TY\t-\tJOUR\nTI - A title\nAU\t -\tAda\nER -\n"),
    ("feed", '<?xml version="1.0"?>\n<rss version="2.0"><channel></channel></rss>\n'),
    ("arxiv-html", 'Saved:\n<html><head><meta name="citation_arxiv_id" content="2401.00001">'),
    ("hf-html", "\ufeff <!-- saved from url=(0029)https://huggingface.co/papers -->\n<html>\n"),
    ("scholar-alert", '<html><body><h3 class="gse_alrt_title">A title</h3>'),
    ("hf-api", ' [{"paper": {"id": "2401.00001"}, "title": "A title"}]'),
    ("csl-json", '[{"type": "article", "title": "A title", "author": []}]'),
    ("jsonl", '{"title": "A title"}\n{"title": "Another"}\n'),
    ("json", '[{"title": "A title"}]'),
]


@pytest.mark.parametrize(("expected", "head"), EACH_WAY_IN)
def test_each_way_a_sniffer_claims_an_input_shows_its_clue(expected: str, head: str) -> None:
    assert input_format(expected).sniff(head) >= MIN_CONFIDENCE
    assert _clue_missing_for_a_claim(head) == []
    assert _detected(head) == _asking_every_sniffer(head)


def test_every_way_in_is_tried() -> None:
    assert set(parsing._CLUES) <= {name for name, _ in EACH_WAY_IN}


_PIECES = sorted(
    {line for head in HEADS.values() for line in head.splitlines(keepends=True) if line.strip()}
    | {line for _, head in EACH_WAY_IN for line in head.splitlines(keepends=True)}
)
# Blanks, the clues' characters, and letters a case-blind pattern takes for i, s and k.
_NOISE = st.text(
    alphabet=st.sampled_from(
        list(" \t\r\n\ufeff\u00a0<>{}[]@#|-:*()\\/\"'\u0130\u0131\u017f\u212a" + "arxivpaperty")
    ),
    max_size=12,
)


@given(
    st.lists(
        st.one_of(st.sampled_from(_PIECES), _NOISE, st.sampled_from(_PIECES).map(str.upper)),
        max_size=12,
    )
)
def test_text_made_of_sample_pieces_is_detected_as_asking_every_sniffer_would(
    pieces: list[str],
) -> None:
    head = "".join(pieces)[:SNIFF_BYTES]
    assert _clue_missing_for_a_claim(head) == []
    assert _detected(head) == _asking_every_sniffer(head)
