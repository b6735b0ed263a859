"""Search quality on public IR test collections, through the code path the CLI uses.

Each collection's documents are ingested into a fresh paperidx library with
`Library.ingest_records` (validation, store, index: the same code as `paperidx ingest`), and
every query is run with `Library.search` (query planning, spelling correction, acronym
expansion, ranking: the same code as `paperidx search`). Default settings, no per-collection
switches.

Printed beside it, in the same run: a naive Whoosh set-up (what a newcomer writes), and the
published BM25 numbers for SciFact (BEIR 0.665, Pyserini flat 0.679).

    python benchmarks/quality.py [--data ../shared/data] [--only scifact]

Documents whose titles normalise to the same text are one paper in paperidx; a hit on such
a paper counts as a hit on each of its documents, in collection order.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ir_collections import (
    Collection,
    load_cisi,
    load_cranfield,
    load_scifact,
)
from benchmarks.ir_metrics import evaluate
from benchmarks.naive_whoosh import naive_whoosh_run

from paperidx.library import Library
from paperidx.models import paper_id
from paperidx.parsing.base import RawRecord

DEPTH = 100
LOADERS: dict[str, Callable[[Path], Collection]] = {
    "scifact": lambda root: load_scifact(root / "scifact"),
    "cisi": lambda root: load_cisi(root / "cisi"),
    "cranfield": lambda root: load_cranfield(root / "cranfield"),
}
PUBLISHED = {
    "scifact": [("BEIR BM25 (published)", 0.665), ("Pyserini BM25 flat (published)", 0.679)]
}
TARGET = {"scifact": 0.70}


def paperidx_run(collection: Collection, home: Path) -> tuple[dict[str, list[str]], float]:
    """Ingest and search through paperidx; returns the run and the ingest time."""
    docs_of: dict[str, list[str]] = {}
    records = []
    for line, doc in enumerate(collection.docs, start=1):
        # Cranfield has two documents with no abstract; paperidx rejects those, as it should.
        records.append(RawRecord(title=doc.title or doc.text[:80], abstract=doc.text, line=line))
        docs_of.setdefault(paper_id(doc.title or doc.text[:80]), []).append(doc.id)
    library = Library.open(home)
    started = time.perf_counter()
    library.ingest_records(records, source=collection.name)
    ingest_seconds = time.perf_counter() - started
    run: dict[str, list[str]] = {}
    for qid, text in collection.queries.items():
        result = library.search(text, limit=DEPTH)
        ranking: list[str] = []
        for hit in result.hits:
            ranking.extend(docs_of.get(hit.paper.id, []))
        run[qid] = ranking[:DEPTH]
    library.close()
    return run, ingest_seconds


def report_line(name: str, metrics: dict[str, float]) -> str:
    return (
        f"| {name:<34} | {metrics['ndcg@10']:.3f} | {metrics['map']:.3f} "
        f"| {metrics['recall@100']:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_data = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=default_data)
    parser.add_argument("--only", choices=sorted(LOADERS), action="append")
    args = parser.parse_args()
    names = args.only or list(LOADERS)
    failed = False
    print("| collection / system | nDCG@10 | MAP | R@100 |")
    print("|---|---|---|---|")
    for name in names:
        collection = LOADERS[name](args.data)
        print(
            f"| **{name}** ({len(collection.docs)} docs, {len(collection.queries)} queries) | | | |"
        )
        with tempfile.TemporaryDirectory(prefix=f"paperidx-quality-{name}-") as home:
            started = time.perf_counter()
            run, ingest_seconds = paperidx_run(collection, Path(home))
            seconds = time.perf_counter() - started
        ours = evaluate(run, collection.qrels)
        naive = evaluate(naive_whoosh_run(collection, k=DEPTH), collection.qrels)
        print(report_line("paperidx (default settings)", ours))
        print(report_line("naive Whoosh (same run)", naive))
        for label, value in PUBLISHED.get(name, []):
            print(f"| {label:<34} | {value:.3f} | | |")
        print(
            f"paperidx {name}: ingest {ingest_seconds:.1f}s, "
            f"{len(collection.queries)} queries in {seconds - ingest_seconds:.1f}s",
            file=sys.stderr,
        )
        target = TARGET.get(name)
        if target is not None and ours["ndcg@10"] < target:
            print(
                f"{name}: nDCG@10 {ours['ndcg@10']:.3f} is below the target {target}",
                file=sys.stderr,
            )
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
