"""The fast segment writer (`paperidx.search.writer.FastWriter`): what Whoosh's own writer
writes -- byte for byte when it compresses every block as Whoosh does, the same postings with
its blocks of few postings stored uncompressed -- for every commit a daily ingest makes,
merges and updates included, and the same terms as the field's analyzer for any text.

Real papers (the shared arXiv slice) go through both writers. No timing is asserted.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec
from whoosh.writing import SegmentWriter

from paperidx.search import fields, first_stage, index, storage, writer

from .conftest import invoke
from .index_support import (
    ARXIV_SLICE,
    index_content,
    indexed_documents,
    papers_in_order,
    ranking,
    real_papers,
    segment_count,
)

QUERIES = (
    "gaussian splatting",
    "large language models reasoning",
    "graph neural networks",
    '"neural network"',
    "title:transformer",
    "lora OR adapter",
    "revisedmarker",
)
DAYS = 14
PAPERS_A_DAY = 40
# Postings a block holds in Whoosh's default codec, which the index uses.
BLOCK_LIMIT = W3Codec()._blocklimit
# Papers of the day before that each day's digest brings again, changed (updates).
REVISED_A_DAY = 3


@pytest.fixture(scope="module")
def papers() -> list[dict[str, Any]]:
    if not ARXIV_SLICE.exists():
        pytest.skip(f"shared data not found at {ARXIV_SLICE}")
    return real_papers(DAYS * PAPERS_A_DAY)


@pytest.fixture(scope="module")
def documents(
    papers: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """The Whoosh documents of the real papers, as the index receives them."""
    home = tmp_path_factory.mktemp("documents")
    source = home / "papers.jsonl"
    source.write_text("".join(json.dumps(paper) + "\n" for paper in papers), encoding="utf-8")
    return indexed_documents(home, source)


def test_fast_analysis_gives_what_the_analyzer_gives(documents: list[dict[str, Any]]) -> None:
    schema = index.build_schema()
    tricky = [
        "GPT-4 and the-the -x- a-b-c 1.8 3.141 x-- --y e.g. i.e. U.S.-based",
        "Über-Straße Café naïve ДНК-тест 日本語 THE The the a an of",
        "",
        "   ",
        "the of and",
        "a-the-b -",
        "Self-Supervised self-supervised SELF-SUPERVISED",
        "İstanbul ǅemal ΣΑΣ x² Ⅻ ﬁnance snake_case _x x_ café CAFÉ naïve",
        "Running runs ran runner THE And the-and of.the 3.14.15 e.g",
    ]
    for name in (fields.TITLE, fields.TEXT):
        field = schema[name]
        assert writer._analysed_word_by_word(field)
        fast = writer._fast_index(field, {})
        for value in [document[name] for document in documents] + tricky:
            assert sorted(fast(value)) == sorted(field.index(value)), value
    for name in (fields.ID, fields.AUTHORS, fields.DATE, fields.ARXIV_ID):
        assert not writer._analysed_word_by_word(schema[name])


def _longest_postings(folder: Path) -> int:
    """How many documents the commonest word of the text field is in."""
    ix = storage.file_storage(folder).open_index(storage.INDEX_NAME)
    with ix.reader() as reader:
        return max(
            int(reader.doc_frequency(fields.TEXT, text)) for text in reader.lexicon(fields.TEXT)
        )


def _commit(
    folder: Path, documents: list[dict[str, Any]], make: Callable[[Any], Any]
) -> dict[str, bytes]:
    """One commit of `documents` into a new index; the new segment's files by kind."""
    index.SearchIndex(folder).reset()
    ix = storage.file_storage(folder).open_index(storage.INDEX_NAME)
    before = {path.name for path in folder.iterdir()}
    chosen = make(ix)
    chosen.compound = False  # the segment's files one by one, to compare
    for document in documents:
        chosen.add_document(**document)
    name = chosen.get_segment().segment_id()
    chosen.commit()
    assert ix.doc_count() == len(documents)
    return {
        path.name.replace(name, "SEGMENT"): path.read_bytes()
        for path in folder.iterdir()
        if name in path.name and path.name not in before
    }


_WORDS = st.sampled_from(
    [
        "the",
        "And",
        "of",
        "a",
        "I",
        "running",
        "Models",
        "GPT",
        "4",
        "3.5",
        "x²",
        "İ",
        "ΣΑΣ",
        "naïve",
        "snake_case",
        "_",
        "ﬁ",
        "Self",
        "supervised",
        "generalization",
        "LoRA's",
    ]
)
_GLUE = st.sampled_from([" ", "-", ".", "--", " - ", "\n", "/", "'", ""])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_WORDS, _GLUE), max_size=12), st.text(max_size=20))
def test_fast_analysis_of_any_text_is_the_analyzers(
    pieces: list[tuple[str, str]], noise: str
) -> None:
    schema = index.build_schema()
    value = "".join(word + glue for word, glue in pieces) + noise
    for name in (fields.TITLE, fields.TEXT):
        field = schema[name]
        assert sorted(writer._fast_index(field, {})(value)) == sorted(field.index(value))


# A day's digest (every term's postings fit one block, written by `_write_field` itself) and
# every paper at once (common words fill several blocks: `_write_term`); the term table's
# rows written in one go, or through Whoosh's `add` for a table `_TermRows` does not know.
@pytest.mark.parametrize("rows_in_one_go", [True, False])
@pytest.mark.parametrize("papers_in_commit", [PAPERS_A_DAY, DAYS * PAPERS_A_DAY])
def test_a_commit_writes_the_same_files_as_whoosh(
    documents: list[dict[str, Any]],
    papers_in_commit: int,
    rows_in_one_go: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not rows_in_one_go:
        monkeypatch.setattr(writer, "OrderedHashWriter", type("AnotherTable", (), {}))
    # As Whoosh: every block compressed.
    monkeypatch.setattr(writer, "COMPRESS_FROM", 1)
    monkeypatch.setattr(writer, "SMALL_SEGMENT_DOCUMENTS", 0)
    day = documents[:papers_in_commit]
    whoosh = _commit(tmp_path / "whoosh", day, SegmentWriter)
    fast = _commit(tmp_path / "fast", day, writer.FastWriter)
    if papers_in_commit > PAPERS_A_DAY:
        assert _longest_postings(tmp_path / "fast") > BLOCK_LIMIT
    assert sorted(fast) == sorted(whoosh)
    assert len(whoosh) >= 5  # terms, postings, stored fields, lengths, columns
    for file_name, content in whoosh.items():
        assert fast[file_name] == content, file_name


class _Block(NamedTuple):
    postings: int
    level: int  # zlib level, 0 for a block stored as it is
    last: int  # the block's last document number (from its header)
    data: bytes  # the block's pickled (id deltas, weights, values), inflated


def _blocks(postings_file: bytes) -> list[_Block]:
    """Every block of a segment's postings file."""
    blocks = []
    position = 0
    while position < len(postings_file):
        if postings_file[position : position + 4] == WHOOSH3_HEADER_MAGIC:  # a term's first
            position += 4
        (length,) = struct.unpack_from("!i", postings_file, position)
        position += 4
        stream = io.BytesIO(postings_file[position : position + abs(length)])
        info = pickle.load(stream)  # the block's data follows its header
        data = stream.read()
        blocks.append(_Block(info[0], info[3], info[1], zlib.decompress(data) if info[3] else data))
        position += abs(length)
    return blocks


# A day's digest makes a small segment, soon merged; every paper at once stands for a
# lasting one (a bulk build's).
@pytest.mark.parametrize(
    ("papers_in_commit", "lasting"), [(PAPERS_A_DAY, False), (DAYS * PAPERS_A_DAY, True)]
)
def test_blocks_of_few_postings_are_stored_as_they_are_and_read_alike(
    documents: list[dict[str, Any]],
    papers_in_commit: int,
    lasting: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer, "SMALL_SEGMENT_DOCUMENTS", DAYS * PAPERS_A_DAY)
    commit = documents[:papers_in_commit]
    whoosh = _commit(tmp_path / "whoosh", commit, SegmentWriter)
    fast = _commit(tmp_path / "fast", commit, writer.FastWriter)
    assert sorted(fast) == sorted(whoosh)
    postings = next(name for name in whoosh if name.endswith(".pst"))
    assert all(block.level > 0 for block in _blocks(whoosh[postings]))
    blocks = _blocks(fast[postings])
    assert {block.postings >= writer.COMPRESS_FROM for block in blocks} == {True, False}
    # A lasting segment compresses blocks of two postings or more; a small one, none.
    compressed = [lasting and block.postings >= writer.COMPRESS_FROM for block in blocks]
    assert [block.level > 0 for block in blocks] == compressed
    # A small segment pickles with protocol 3 (bytes as they are), a lasting one as Whoosh.
    assert {block.data[:2] for block in blocks} == {b"\x80\x02" if lasting else b"\x80\x03"}
    # Either way the first stage reads a block's ids and weights without unpickling it all.
    for block in blocks:
        if block.postings >= 4:
            found = first_stage._ids_and_weights(block.data, block.postings)
            assert found is not None
            assert sum(found[0]) == block.last
    assert index_content(tmp_path, "fast") == index_content(tmp_path, "whoosh")


def _day(papers: list[dict[str, Any]], day: int, folder: Path) -> Path:
    """Day `day`'s digest: its new papers and a few of yesterday's, revised."""
    today = papers[day * PAPERS_A_DAY : (day + 1) * PAPERS_A_DAY]
    if day:
        yesterday = papers[(day - 1) * PAPERS_A_DAY : day * PAPERS_A_DAY]
        for paper in yesterday[:REVISED_A_DAY]:
            revised = dict(paper, summary=f"{paper['summary']} revisedmarker day {day}")
            today = [*today, revised]
    path = folder / f"day-{day}.jsonl"
    path.write_text("".join(json.dumps(paper) + "\n" for paper in today), encoding="utf-8")
    return path


def test_daily_commits_build_the_index_whooshs_writer_builds(
    papers: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merges: list[int] = []
    fast_add_reader = writer.FastWriter.add_reader

    def counted(self: writer.FastWriter, reader: Any) -> None:
        merges.append(reader.doc_count_all())
        fast_add_reader(self, reader)

    monkeypatch.setattr(writer.FastWriter, "add_reader", counted)
    whoosh, fast = tmp_path / "whoosh", tmp_path / "fast"
    for day in range(DAYS):
        digest = _day(papers, day, tmp_path)
        with monkeypatch.context() as patch:
            patch.setattr(writer, "FastWriter", lambda ix, **options: SegmentWriter(ix, **options))
            assert invoke("--home", str(whoosh), "ingest", str(digest)).exit_code == 0
        done = invoke("--home", str(fast), "ingest", str(digest))
        assert done.exit_code == 0, done.output
        # The same merges at the same commits, so the same segments.
        assert segment_count(fast) == segment_count(whoosh), day
    assert merges, "Whoosh's merge policy never folded a segment in: the test lost its point"
    assert segment_count(fast) < DAYS  # ...and commits without a merge happened too
    assert papers_in_order(fast) == papers_in_order(whoosh)
    assert index_content(fast) == index_content(whoosh)
    for query in QUERIES:
        assert ranking(fast, query) == ranking(whoosh, query), query
    revised = ranking(fast, "revisedmarker")
    assert len(revised) == (DAYS - 1) * REVISED_A_DAY  # every update replaced its old copy
