"""What an index holds, compared across indexes built different ways (the parallel
indexer, the fast segment writer): by paper id, never by document number or file name."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from paperidx.search import fields, index, storage
from paperidx.store import Store

from .conftest import invoke

ARXIV_SLICE = Path(__file__).resolve().parents[2] / "shared/data/arxiv_cs_75k/papers.jsonl.gz"


def real_papers(count: int) -> list[dict[str, Any]]:
    """The first `count` papers of the shared arXiv slice (the caller skips without it)."""
    papers: list[dict[str, Any]] = []
    with gzip.open(ARXIV_SLICE, "rt", encoding="utf-8") as lines:
        for line in lines:
            if len(papers) == count:
                break
            papers.append(json.loads(line))
    return papers


def indexed_documents(home: Path, source: Path) -> list[dict[str, Any]]:
    """Ingest `source` into a new library at `home`; the Whoosh documents of its papers, as
    the index receives them."""
    done = invoke("--home", str(home), "ingest", str(source))
    assert done.exit_code == 0, done.output
    store = Store.open(home / "papers.sqlite3", create=False)
    try:
        return [index._document(paper) for paper in store.iter_changed(0)]
    finally:
        store.close()


def segment_count(home: Path) -> int:
    from paperidx.search.first_stage import committed_segments

    return len(
        committed_segments(storage.file_storage(home / "index").open_index(storage.INDEX_NAME))[1]
    )


def index_content(home: Path, folder: str = "index") -> dict[str, Any]:
    """Everything a live document holds, keyed by paper id rather than document number:
    every posting (weight and encoded positions) and every field length."""
    ix = storage.file_storage(home / folder).open_index(storage.INDEX_NAME)
    postings: dict[tuple[str, bytes], list[tuple[str, float, bytes]]] = {}
    lengths: dict[str, tuple[int, ...]] = {}
    scorable = [name for name in ix.schema.names() if ix.schema[name].scorable]
    with ix.reader() as reader:
        leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
        for leaf, _offset in leaves:
            ids = {n: stored[fields.ID] for n, stored in leaf.iter_docs()}
            for name in scorable:
                for docnum, paper in ids.items():
                    lengths.setdefault(paper, ())
                    lengths[paper] += (leaf.doc_field_length(docnum, name),)
            for fieldname, text, docnum, weight, value in leaf.iter_postings():
                if docnum in ids:  # not deleted
                    postings.setdefault((fieldname, text), []).append((ids[docnum], weight, value))
    return {
        "postings": {key: sorted(found) for key, found in postings.items()},
        "lengths": lengths,
    }


def ranking(home: Path, query: str) -> list[tuple[str, float]]:
    done = invoke("--home", str(home), "search", query, "--format", "jsonl", "--limit", "40")
    assert done.exit_code == 0, done.output
    return [(row["id"], row["score"]) for row in map(json.loads, done.stdout.splitlines())]


def papers_in_order(home: Path) -> list[str]:
    """The paper ids of the live documents, by document number."""
    ix = storage.file_storage(home / "index").open_index(storage.INDEX_NAME)
    with ix.searcher() as searcher:
        return [stored[fields.ID] for _, stored in searcher.reader().iter_docs()]
