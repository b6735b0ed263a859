"""The "naive Whoosh" baseline: the set-up a newcomer to Whoosh 2.7.4 would write.

Title and abstract are indexed as two separate ``TEXT`` fields with
``StemmingAnalyzer``; queries go through a ``MultifieldParser`` over both fields with
``OrGroup`` and are scored by Whoosh's default ``BM25F``. The index is built in a
temporary directory and deleted afterwards.
"""

from __future__ import annotations

import tempfile

from benchmarks.ir_collections import Collection
from whoosh import index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup

__all__ = ["naive_whoosh_run"]


def naive_whoosh_run(collection: Collection, k: int = 100) -> dict[str, list[str]]:
    """Index ``collection`` naively and return the top ``k`` doc ids for every query."""
    analyzer = StemmingAnalyzer()
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer),
        abstract=TEXT(analyzer=analyzer),
    )
    run: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="naive_whoosh_") as tmp:
        ix = index.create_in(tmp, schema)
        writer = ix.writer()
        for doc in collection.docs:
            writer.add_document(id=doc.id, title=doc.title, abstract=doc.text)
        writer.commit()
        parser = MultifieldParser(["title", "abstract"], schema, group=OrGroup)
        with ix.searcher() as searcher:
            for qid, text in collection.queries.items():
                hits = searcher.search(parser.parse(text), limit=k)
                run[qid] = [hit["id"] for hit in hits]
        ix.close()
    return run
