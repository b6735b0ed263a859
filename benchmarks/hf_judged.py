"""Search quality on researcher-style queries over the HF Daily Papers archive.

The collection is every paper in ``shared/data/hf_daily_papers/api_json/
Paper_metadata_download/*.json`` (9,877 distinct arXiv ids); the queries and graded qrels
are in ``benchmarks/hf_judged/`` (how they were made: ``benchmarks/hf_judged/METHOD.md``).
The archive's files are ingested into a fresh library with ``Library.ingest`` (the code of
``paperidx ingest``) and every query runs through ``Library.search`` with default settings.
Printed beside it, in the same run: the naive Whoosh set-up of ``naive_whoosh.py``.

    python benchmarks/hf_judged.py [--data ../shared/data] [--heldout] [--per-query]
    python benchmarks/hf_judged.py --pool    # rebuild the judging pool (done once, see METHOD)

``--heldout`` scores the held-out queries (``queries-heldout.tsv``) instead of the main set;
the main set is the one to look at while working on ranking, the held-out set is not.
``--pool`` writes the top ``POOL_DEPTH`` of three systems for every query (paperidx, the naive
Whoosh, and SQLite FTS5 with hand-written acronym long forms) to ``hf_judged/pool.tsv``, and
the pooled papers to ``.work/hf_judged-pool-docs.jsonl`` (git-ignored) for reading; it
changes no judgement.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ir_collections import Collection, Doc
from benchmarks.ir_metrics import Qrels, evaluate, per_query_ndcg
from benchmarks.naive_whoosh import naive_whoosh_run

from paperidx.library import Library
from paperidx.parsing.base import ParseOptions, RawRecord
from paperidx.parsing.hf_api import parse as parse_hf_api

JUDGED = Path(__file__).resolve().parent / "hf_judged"
WORK = Path(__file__).resolve().parent / ".work"
ARCHIVE = Path("hf_daily_papers") / "api_json" / "Paper_metadata_download"
DEPTH = 100
KINDS = ("topic", "question", "jargon")
POOL_DEPTH = 20

# The FTS5 pooling system only. FTS5 has no stop list, and an OR of "how", "to", "a" would
# match every paper.
STOP = frozenset(
    re.findall(
        r"\w+",
        """a an and are as at be by can do does for from get getting how in into is it its make
        making of on or than that the their them this to vs was what when whether which why
        with without""",
    )
)
# The FTS5 pooling system only, written by hand before pooling: that system exists to bring
# papers that spell out what a query abbreviates (or says in other words) into the pool.
EXPANSIONS = {
    "peft": "parameter efficient fine tuning",
    "rlhf": "reinforcement learning from human feedback",
    "moe": "mixture of experts",
    "vit": "vision transformer",
    "dpo": "direct preference optimization",
    "ppo": "proximal policy optimization",
    "kv": "key value",
    "gans": "gan generative adversarial network",
    "nerfs": "nerf neural radiance field",
    "cot": "chain of thought",
    "rag": "retrieval augmented generation",
    "lora": "low rank adaptation",
    "mllm": "multimodal large language model",
    "sds": "score distillation sampling",
    "vla": "vision language action",
    "rope": "rotary position embedding",
    "asr": "automatic speech recognition",
    "llms": "llm large language model",
    "ai": "generated synthetic",
    "phone": "mobile device",
    "photo": "image",
}


@dataclass(frozen=True)
class Query:
    kind: str
    text: str


def read_queries(path: Path) -> dict[str, Query]:
    """``query_id <TAB> kind <TAB> query`` with a header line."""
    queries: dict[str, Query] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            qid, kind, text = line.split("\t")
            queries[qid] = Query(kind, text)
    return queries


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query_id <TAB> arxiv_id <TAB> grade`` with a header line; grades 0, 1, 2."""
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            qid, doc, grade = line.split("\t")
            qrels.setdefault(qid, {})[doc] = int(grade)
    return qrels


def load_archive(data: Path) -> tuple[list[Path], Collection]:
    """The archive's files, and its papers as a plain collection keyed by arXiv id.

    A paper featured on several days is one document; its first appearance (files in date
    order) gives the title and abstract, which for the naive baseline is all that matters.
    """
    files = sorted((data / ARCHIVE).glob("*.json"))
    if not files:
        raise SystemExit(f"no HF Daily Papers archive under {data / ARCHIVE}")
    docs: dict[str, Doc] = {}
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        for event in parse_hf_api(lines, ParseOptions(source_name=path.name)):
            if isinstance(event, RawRecord) and event.arxiv_id and event.arxiv_id not in docs:
                docs[event.arxiv_id] = Doc(event.arxiv_id, event.title, event.abstract)
    return files, Collection("hf-daily-papers", list(docs.values()), {})


def paperidx_run(
    files: list[Path], queries: dict[str, str], home: Path, depth: int = DEPTH
) -> dict[str, list[str]]:
    library = Library.open(home)
    started = time.perf_counter()
    library.ingest([str(f) for f in files])
    print(f"paperidx: ingest {time.perf_counter() - started:.1f}s", file=sys.stderr)
    run: dict[str, list[str]] = {}
    for qid, text in queries.items():
        hits = library.search(text, limit=depth).hits
        run[qid] = [hit.paper.arxiv_id for hit in hits if hit.paper.arxiv_id]
    library.close()
    return run


def fts5_run(collection: Collection, queries: dict[str, str], k: int) -> dict[str, list[str]]:
    """SQLite FTS5 (porter, ``bm25()`` with title weight 2) over an OR of the query's words."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(id UNINDEXED, title, abstract, tokenize=porter)")
    db.executemany(
        "INSERT INTO p VALUES (?, ?, ?)", [(d.id, d.title, d.text) for d in collection.docs]
    )
    run: dict[str, list[str]] = {}
    for qid, text in queries.items():
        terms: list[str] = []
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            if word not in STOP:
                terms.extend([word, *EXPANSIONS.get(word, "").split()])
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        rows = db.execute(
            "SELECT id FROM p WHERE p MATCH ? ORDER BY bm25(p, 0, 2.0, 1.0) LIMIT ?", (match, k)
        ).fetchall()
        run[qid] = [row[0] for row in rows]
    db.close()
    return run


def write_pool(files: list[Path], collection: Collection) -> None:
    """Union of every system's top ``POOL_DEPTH`` for the main and held-out queries."""
    queries = {
        **read_queries(JUDGED / "queries.tsv"),
        **read_queries(JUDGED / "queries-heldout.tsv"),
    }
    texts = {qid: q.text for qid, q in queries.items()}
    collection.queries = texts
    with tempfile.TemporaryDirectory(prefix="paperidx-hf-pool-") as home:
        runs = {
            "paperidx": paperidx_run(files, texts, Path(home), POOL_DEPTH),
            "naive": naive_whoosh_run(collection, k=POOL_DEPTH),
            "fts5": fts5_run(collection, texts, POOL_DEPTH),
        }
    docs = {doc.id: doc for doc in collection.docs}
    pooled: set[str] = set()
    with (JUDGED / "pool.tsv").open("w", encoding="utf-8") as out:
        out.write("query_id\tarxiv_id\tsystems\tbest_rank\n")
        for qid in queries:
            found: dict[str, tuple[list[str], int]] = {}
            for system, run in runs.items():
                for rank, doc in enumerate(run[qid][:POOL_DEPTH], start=1):
                    names, best = found.get(doc, ([], rank))
                    found[doc] = ([*names, system], min(best, rank))
            for doc, (names, best) in sorted(found.items(), key=lambda item: item[1][1]):
                out.write(f"{qid}\t{doc}\t{','.join(names)}\t{best}\n")
                pooled.add(doc)
    WORK.mkdir(exist_ok=True)
    with (WORK / "hf_judged-pool-docs.jsonl").open("w", encoding="utf-8") as out:
        for doc_id in sorted(pooled):
            paper = docs[doc_id]
            record = {"id": paper.id, "title": paper.title, "abstract": paper.text}
            out.write(json.dumps(record) + "\n")
    print(f"{len(pooled)} distinct papers pooled", file=sys.stderr)


def _row(name: str, metrics: dict[str, float]) -> str:
    return (
        f"| {name:<30} | {metrics['ndcg@10']:.3f} | {metrics['map']:.3f} "
        f"| {metrics['recall@100']:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--heldout", action="store_true", help="score the held-out queries")
    parser.add_argument("--per-query", action="store_true", help="print nDCG@10 per query")
    parser.add_argument("--pool", action="store_true", help="rebuild hf_judged/pool.tsv")
    args = parser.parse_args()
    if args.pool:
        write_pool(*load_archive(args.data))
        return
    suffix = "-heldout" if args.heldout else ""
    queries = read_queries(JUDGED / f"queries{suffix}.tsv")
    qrels = read_qrels(JUDGED / f"qrels{suffix}.tsv")
    files, collection = load_archive(args.data)
    collection.queries = {qid: q.text for qid, q in queries.items()}
    with tempfile.TemporaryDirectory(prefix="paperidx-hf-judged-") as home:
        runs = {
            "paperidx (default settings)": paperidx_run(files, collection.queries, Path(home)),
            "naive Whoosh (same run)": naive_whoosh_run(collection, k=DEPTH),
        }
    print(
        f"HF Daily Papers: {len(collection.docs)} papers, {len(queries)} "
        f"{'held-out ' if args.heldout else ''}queries"
    )
    print("| queries / system | nDCG@10 | MAP | R@100 |")
    print("|---|---|---|---|")
    for kind in (None, *KINDS):
        subset: Qrels = {q: r for q, r in qrels.items() if kind is None or queries[q].kind == kind}
        print(f"| **{kind or 'all'}** ({len(subset)} queries) | | | |")
        for name, run in runs.items():
            print(_row(name, evaluate(run, subset)))
    if args.per_query:
        scores = {name: per_query_ndcg(run, qrels, 10) for name, run in runs.items()}
        print("\n| query | kind | relevant | paperidx | naive |")
        print("|---|---|---|---|---|")
        ours, naive = scores.values()
        for qid, query in queries.items():
            relevant = sum(g > 0 for g in qrels.get(qid, {}).values())
            print(
                f"| {qid} {query.text} | {query.kind} | {relevant} "
                f"| {ours.get(qid, 0.0):.3f} | {naive.get(qid, 0.0):.3f} |"
            )


if __name__ == "__main__":
    main()
