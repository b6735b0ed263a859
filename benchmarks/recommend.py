"""A judged check of `paperidx recommend`, on real arXiv papers with their real categories.

A user who works on one field stars a few of its papers; the rest of that field is held
out. Is it what `recommend` shows them? The judgement comes from arXiv itself: a paper is
on topic when its primary category is the topic's. Topics are categories with a clear
identity of their own (robotics, security, databases, ...), not the catch-alls cs.AI/cs.LG.

For each topic and seed: star `--stars` random papers of the topic, mark `--reads` random
papers of other topics read without a star (a user skims more than they like), and take
the top 20 of:

- `recommend` (several settings: how many neighbours each star votes for, and how much
  read-without-star papers push theirs down),
- random unread papers (the expected share is the topic's share of the unread papers),
- a plain search for the topic's name ("robotics"): what the user could type instead,
- `similar` to one starred paper: what paperidx offered before `recommend`.

Reported: precision@20 (the share of the 20 that is on topic, i.e. held-out papers found),
averaged over topics and seeds. Everything runs through `Library`, the CLI's code path.

    python benchmarks/recommend.py [--papers 20000] [--seeds 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paperidx.library import Library
from paperidx.parsing.base import RawRecord

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TOPICS = {
    "cs.RO": "robotics",
    "cs.CR": "security",
    "cs.DB": "databases",
    "cs.SE": "software engineering",
    "cs.NI": "networking",
    "cs.HC": "human-computer interaction",
    "cs.IR": "information retrieval",
    "cs.DC": "distributed computing",
    "cs.SD": "speech and audio",
}
TOP = 20
VARIANTS = {
    "recommend (100 neighbours, no dislike)": (100, 0.0),
    "recommend (50 neighbours)": (50, 0.0),
    "recommend (200 neighbours)": (200, 0.0),
    "recommend (100 neighbours, dislike 0.3)": (100, 0.3),
    "recommend (100 neighbours, dislike 0.6)": (100, 0.6),
}


def load(data: Path, count: int) -> list[dict[str, object]]:
    papers = []
    with gzip.open(data / "arxiv_cs_75k" / "papers.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            papers.append(json.loads(line))
            if len(papers) == count:
                break
    return papers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--stars", type=int, default=10)
    parser.add_argument("--reads", type=int, default=10)
    args = parser.parse_args()

    papers = load(args.data, args.papers)
    primary = {str(p["id"]): str(p["categories"][0]) for p in papers}  # type: ignore[index]
    with tempfile.TemporaryDirectory(prefix="paperidx-recommend-") as home:
        library = Library.open(Path(home))
        started = time.perf_counter()
        library.ingest_records(
            (
                RawRecord(
                    title=str(p["title"]),
                    abstract=str(p["summary"]),
                    line=n,
                    arxiv_id=str(p["id"]),
                    authors=list(p["authors"]),  # type: ignore[call-overload]
                )
                for n, p in enumerate(papers, start=1)
            ),
            "arxiv_cs_75k",
        )
        print(f"{len(papers):,} papers ingested in {time.perf_counter() - started:.0f} s")
        by_arxiv = {p.arxiv_id: p.id for p in library.iter_papers()}
        topic_of = {by_arxiv[a]: c for a, c in primary.items() if a in by_arxiv}
        scores: dict[str, list[float]] = {}
        seconds: dict[str, list[float]] = {}
        for category, name in TOPICS.items():
            members = sorted(pid for pid, c in topic_of.items() if c == category)
            others = sorted(pid for pid, c in topic_of.items() if c != category)
            if len(members) < args.stars + TOP:
                print(f"{category}: only {len(members)} papers, skipped")
                continue
            for seed in range(args.seeds):
                rng = random.Random(f"{category}-{seed}")
                starred = rng.sample(members, args.stars)
                read = rng.sample(others, args.reads)
                _reset_marks(library, starred, read)
                unread = [pid for pid in topic_of if pid not in set(starred) | set(read)]
                share = sum(topic_of[p] == category for p in unread) / len(unread)
                scores.setdefault("random unread papers (expected)", []).append(share)

                def precision(ids: list[str], category: str = category) -> float:
                    return sum(topic_of.get(pid) == category for pid in ids[:TOP]) / TOP

                for label, (neighbours, dislike) in VARIANTS.items():
                    from paperidx.search import ranking

                    ranking.RECOMMEND_NEIGHBOURS = neighbours
                    began = time.perf_counter()
                    picked = library.recommend(limit=TOP, dislike_weight=dislike)
                    seconds.setdefault(label, []).append(time.perf_counter() - began)
                    scores.setdefault(label, []).append(
                        precision([h.paper.id for h in picked.hits])
                    )
                searched = library.search(name, limit=TOP)
                scores.setdefault("plain search for the topic's name", []).append(
                    precision([h.paper.id for h in searched.hits if h.paper.id not in starred])
                )
                like_one = library.similar(starred[0], limit=TOP + args.stars)
                scores.setdefault("similar to one starred paper", []).append(
                    precision([h.paper.id for h in like_one.hits if h.paper.id not in starred])
                )
        print(
            f"\nprecision@{TOP} (share of held-out on-topic papers among the top {TOP}), "
            f"{len(TOPICS)} topics x {args.seeds} seeds, {args.stars} stars, {args.reads} reads"
        )
        print("| method | precision@20 | median time |\n|---|---|---|")
        for label, values in scores.items():
            timing = (
                f"{statistics.median(seconds[label]) * 1000:.0f} ms" if label in seconds else ""
            )
            print(f"| {label} | {statistics.mean(values):.3f} | {timing} |")
        library.close()


def _reset_marks(library: Library, starred: list[str], read: list[str]) -> None:
    store = library._store_for_state()  # a benchmark may reach in: it resets state per run
    with store.user_transaction(print) as db:
        db.execute("DELETE FROM marks")
    library.mark(starred, "star")
    library.mark(read, "read")


if __name__ == "__main__":
    main()
