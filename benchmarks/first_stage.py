"""The first stage of a plain search (`first_stage.score`), in process, against the
algorithm it replaced.

    python benchmarks/first_stage.py [--home /tmp/lib75] [--repeats 9]

For each short and long query of `perf.py`, the terms, weights and `keep` that
`paperidx search QUERY` scores with are caught on the way through `Library.search` (so
spelling, question words and acronym expansion are the CLI's), then scored over and over
by:

- **before**: the term-at-a-time walk this replaced, kept below as it was: every posting
  of every term decoded through Whoosh's posting blocks, with a MaxScore cut-off on a
  looser bound (one that is not always an upper bound: a term's title idf can exceed its
  text idf);
- **after**: `first_stage.score` as the CLI calls it;
- **every paper**: `first_stage.score` with `keep=None` (no cut-off), what a filtered or
  date-sorted search runs.

Rounds interleave the three (a slow spell on this shared machine hits all of them); a
warm-up round is dropped and medians of `--repeats` rounds are quoted, with `after /
before` as the figure to watch. Each query's best `keep` must come out the same from all
three (papers, order and scores within 1e-9): the script stops if not.

The library is only read; one whose index lags its record store is refused, since the
first search would bring the index up to date.
"""

from __future__ import annotations

import argparse
import heapq
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.perf import LONG_QUERIES, SHORT_QUERIES

from paperidx.library import Library
from paperidx.paths import resolve_home
from paperidx.search import fields, first_stage
from paperidx.search.first_stage import lucene_idf
from paperidx.search.index import SearchIndex
from paperidx.search.tuning import K1, TITLE_WEIGHT, B
from paperidx.store import Store

DEFAULT_HOME = Path("/tmp/lib75")
Call = tuple[dict[str, float], int | None]


# -- the algorithm this replaced (first_stage.score before), for comparison only -----------


def _postings(reader: Any, fieldname: str, term: str) -> Iterator[tuple[list[int], list[float]]]:
    matcher = reader.postings(fieldname, term)
    try:
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            yield list(matcher._ids), list(matcher._weights)
            matcher._next_block()
    except AttributeError:
        matcher = reader.postings(fieldname, term)
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights


def _length_norms(searcher: Any, reader: Any, fieldname: str) -> Callable[[int], float]:
    average = searcher.avg_field_length(fieldname) or 1.0
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        lengths = column._dbfile.get(column._basepos, column._doccount)
        table = [K1 * (1 - B + B * byte_to_length(i) / average) for i in range(256)]
        return lambda doc: table[lengths[doc]]
    except (AttributeError, ImportError, TypeError, IndexError):
        return lambda doc: K1 * (1 - B + B * reader.doc_field_length(doc, fieldname) / average)


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    return [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())


def score_before(searcher: Any, weights: dict[str, float], keep: int | None) -> dict[int, float]:
    documents = searcher.doc_count_all()
    idf = {
        t: lucene_idf(documents, df)
        for t in weights
        if (df := searcher.doc_frequency(fields.TEXT, t))
    }
    order = sorted(idf, key=lambda t: -idf[t] * weights[t])
    ceiling = {t: weights[t] * idf[t] * (K1 + 1) * (1 + TITLE_WEIGHT) for t in order}
    scores: dict[int, float] = {}
    leaves = _leaves(searcher.reader())
    for position, term in enumerate(order):
        remaining = sum(ceiling[t] for t in order[position:])
        closed = (
            keep is not None
            and len(scores) >= keep
            and (remaining < heapq.nlargest(keep, scores.values())[-1])
        )
        for fieldname, field_weight in ((fields.TEXT, 1.0), (fields.TITLE, TITLE_WEIGHT)):
            df = searcher.doc_frequency(fieldname, term)
            if not df:
                continue
            gain = field_weight * weights[term] * lucene_idf(documents, df) * (K1 + 1)
            for reader, offset in leaves:
                if (fieldname, term) not in reader:
                    continue
                norm = _length_norms(searcher, reader, fieldname)
                for ids, tfs in _postings(reader, fieldname, term):
                    for doc, tf in zip(ids, tfs, strict=True):
                        key = doc + offset
                        if closed and key not in scores:
                            continue
                        scores[key] = scores.get(key, 0.0) + gain * tf / (tf + norm(doc))
    for reader, offset in leaves:
        if reader.has_deletions():
            for doc in reader._perdoc.deleted_docs():
                scores.pop(doc + offset, None)
    return scores


# -- measuring -----------------------------------------------------------------------------


def refuse_if_behind(home: Path) -> None:
    paths = resolve_home(home)
    state = SearchIndex(paths.index).check()
    store = Store.open(paths.store, create=False)
    try:
        revision = store.revision()
    finally:
        store.close()
    if state is None or state.revision != revision:
        sys.exit(
            f"{home}: the search index lags the record store, and a search would update it; "
            "run `paperidx search x` on a copy of the library and point --home at the copy"
        )


def caught_calls(home: Path, queries: list[str]) -> dict[str, Call]:
    """What `paperidx search QUERY` passes to `first_stage.score`, per query."""
    calls: dict[str, Call] = {}
    real = first_stage.score
    current = [""]

    def catch(searcher: Any, weights: dict[str, float], keep: int | None) -> Any:
        calls[current[0]] = (dict(weights), keep)
        return real(searcher, weights, keep)

    first_stage.score = catch
    try:
        with Library.open(home) as library:
            for query in queries:
                current[0] = query
                library.search(query)
    finally:
        first_stage.score = real
    return calls


def best(scores: dict[int, float], keep: int) -> list[tuple[int, float]]:
    return heapq.nlargest(keep, scores.items(), key=lambda item: item[1])


def same(found: list[tuple[int, float]], expected: list[tuple[int, float]]) -> bool:
    return [doc for doc, _ in found] == [doc for doc, _ in expected] and all(
        math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
        for (_, a), (_, b) in zip(found, expected, strict=True)
    )


def measure(home: Path, queries: list[str], repeats: int) -> list[dict[str, Any]]:
    calls = caught_calls(home, queries)
    runs: dict[str, dict[str, list[float]]] = {q: {} for q in queries}
    rows: list[dict[str, Any]] = []
    with SearchIndex(resolve_home(home).index).searcher(first_stage.weighting()) as searcher:
        ways: dict[str, Callable[[dict[str, float], int | None], Any]] = {
            "before": lambda w, k: score_before(searcher, w, k),
            "after": lambda w, k: first_stage.score(searcher, w, k),
            "every paper": lambda w, k: first_stage.score(searcher, w, None),
        }
        for query in queries:
            weights, keep = calls[query]
            assert keep is not None, f"{query!r}: scored without a cut-off"
            before = score_before(searcher, weights, keep)
            after = first_stage.score(searcher, weights, keep)
            everything = first_stage.score(searcher, weights, None)
            expected = best(everything.scores, keep)
            rows.append(
                {
                    "query": query,
                    "terms": len(everything.idf),
                    "scored before": len(before),
                    "scored after": after.matched,
                    "same": same(best(after.scores, keep), expected),
                    "same before": same(best(before, keep), expected),
                }
            )
            if not rows[-1]["same"]:
                sys.exit(f"{query!r}: the best {keep} differ from scoring every paper")
        for round_number in range(repeats + 1):
            for query in queries:
                weights, keep = calls[query]
                for name, way in ways.items():
                    start = time.perf_counter()
                    way(weights, keep)
                    elapsed = (time.perf_counter() - start) * 1000
                    if round_number:  # the first round warms caches up
                        runs[query].setdefault(name, []).append(elapsed)
            print(f"round {round_number}/{repeats}", file=sys.stderr)
    for row in rows:
        for name, samples in runs[row["query"]].items():
            row[name] = statistics.median(samples)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| query | terms | before ms | after ms | after / before | every paper ms "
        "| papers scored before / after |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['query']} | {row['terms']} | {row['before']:.1f} | {row['after']:.1f} "
            f"| {row['after'] / row['before']:.2f} | {row['every paper']:.1f} "
            f"| {row['scored before']:,} / {row['scored after']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="library to read")
    parser.add_argument("--repeats", type=int, default=9, help="rounds measured")
    args = parser.parse_args()
    refuse_if_behind(args.home)
    short, long = list(SHORT_QUERIES), list(LONG_QUERIES)
    rows = measure(args.home, short + long, args.repeats)
    with SearchIndex(resolve_home(args.home).index).searcher(first_stage.weighting()) as s:
        papers = s.doc_count()
    print(f"{papers:,} papers in {args.home}; medians of {args.repeats} rounds\n")
    print(table(rows))
    for kind, queries in (("short", short), ("long", long)):
        chosen = [row for row in rows if row["query"] in queries]
        before = statistics.median(row["before"] for row in chosen)
        after = statistics.median(row["after"] for row in chosen)
        print(f"\n{kind} queries, median: {before:.1f} ms before, {after:.1f} ms after", end="")
        print(f" ({after / before:.2f}x)")
    differing = [row["query"] for row in rows if not row["same before"]]
    if differing:
        print(f"\nbefore did not give the best of scoring every paper for: {differing}")


if __name__ == "__main__":
    main()
