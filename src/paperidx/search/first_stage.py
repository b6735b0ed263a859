"""First-stage ranking: BM25 over title+abstract plus TITLE_WEIGHT x BM25 on the title.

Two ways to the same scores: `LuceneBM25`, the weighting Whoosh's own searcher uses for
queries with syntax, and `score`, which scores plain queries term by term straight from
Whoosh's posting blocks, 5-25x faster than Whoosh's matcher tree for long queries, with
the same ranking; for the best few papers it skips most postings of the common terms.

Every use of Whoosh's private internals in paperidx is in this module (Whoosh is pinned to
2.7.4): posting blocks, the length column, a segment's deletion set, the table of contents.
Each has a fallback through public API where one exists, so a Whoosh that differs is slower,
not wrong.
"""

from __future__ import annotations

import heapq
import io
import math
import pickle
import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Generic, Protocol, TypeVar

from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import And, Query
from whoosh.scoring import BM25F, WeightLengthScorer, bm25

from paperidx.search import fields
from paperidx.search.tuning import K1, TITLE_WEIGHT, B

_T_co = TypeVar("_T_co", covariant=True)


def lucene_idf(documents: int, frequency: int) -> float:
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


# -- weighting for Whoosh's own searcher (queries with syntax) -------------------------------


class LuceneBM25(BM25F):  # type: ignore[misc]
    """Whoosh's BM25F with Lucene's idf, which never goes negative for common terms."""

    def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf)
        return _LuceneBM25Scorer(searcher, fieldname, text, self.B, self.K1)


class _LuceneBM25Scorer(WeightLengthScorer):  # type: ignore[misc]
    def __init__(self, searcher: Any, fieldname: str, text: Any, b: float, k1: float) -> None:
        parent = searcher.get_parent()
        self.idf = lucene_idf(parent.doc_count(), parent.doc_frequency(fieldname, text))
        self.avgfl = parent.avg_field_length(fieldname) or 1
        self.B = b
        self.K1 = k1
        self.setup(searcher, fieldname, text)

    def _score(self, weight: float, length: float) -> float:
        return float(bm25(self.idf, weight, length, self.avgfl, self.B, self.K1))


def weighting() -> Any:
    """The weighting every searcher is opened with (`SearchIndex.searcher`)."""
    return LuceneBM25(B=B, K1=K1)


# -- plain queries: term-at-a-time BM25 ---------------------------------------------------


@dataclass(slots=True)
class Scored:
    """First-stage scores by Whoosh document number, the idf of each term found, and how
    many papers were scored.

    Without `keep`, `scores` has every paper matching a term. With it, only the best `keep`
    (and any tied with the last of them), with the scores and in the order scoring every
    paper gives them: `heapq.nlargest(keep, ...)` picks the same papers in the same order.
    `matched` then counts the papers scored before the others were ruled out.
    """

    scores: dict[int, float]
    idf: dict[str, float]
    matched: int


def score(searcher: Any, weights: dict[str, float], keep: int | None) -> Scored:
    """BM25 over text plus TITLE_WEIGHT x title, summed per query term (`weights`: analysed
    term -> its weight in the query), for the best `keep` papers (None: every paper).

    Each posting list (a term in a field) has an upper bound on what it adds to a paper,
    from Whoosh's per-term statistics (largest term frequency, shortest field). Lists are
    walked whole, most bound per posting first, until the lists left could not lift a paper
    not yet seen into the best `keep` (MaxScore). Those are then added for the papers seen
    only: walked while nearly all of them could still make it, then looked up for the ones
    still in the race, which narrows list by list (a paper that could not reach the
    `keep`-th best with every list left is dropped), skipping undecoded the blocks of
    postings that hold none of them. The best are at last added up again list by list in
    the order scoring everything adds them: the same scores to the last bit, and ties
    broken the same way.
    """
    documents = searcher.doc_count_all()
    idf = {
        t: lucene_idf(documents, df)
        for t in weights
        if (df := searcher.doc_frequency(fields.TEXT, t))
    }
    order = sorted(idf, key=lambda t: -idf[t] * weights[t])
    leaves = [_Leaf(searcher, reader, offset) for reader, offset in _leaves(searcher.reader())]
    # Every (term, field) posting list, in the order exhaustive scoring adds them up.
    lists = [
        part for term in order for part in _term(searcher, leaves, term, weights[term], documents)
    ]
    if (
        keep is None
        # Scoring the best again costs a look-up per list each: when they are not a handful
        # next to the postings, every posting costs less.
        or _REDO * max(keep, 1) * len(lists) > sum(part.postings for part in lists)
        # A weight that lowers or leaves scores: the bounds are no cut-off.
        or not all(weights[t] > 0 for t in order)
    ):
        scores: dict[int, float] = {}
        for part in lists:
            _add_all(scores, part)
        return Scored(scores, idf, len(scores))
    best, matched = _best(lists, max(keep, 1), documents)
    return Scored(best, idf, matched)


# What looking a paper up in a list costs, in postings walked (measured: ~1 µs against
# ~0.3 µs, with some margin).
_REDO = 8


# A paper is ruled out only when its best possible score is below the k-th best by more
# than float rounding could ever account for: bounds and sums in another order round
# differently, and a paper tied with the k-th best must be kept.
_ROUNDING = 1e-9


def _best(lists: list[_TermPostings], keep: int, documents: int) -> tuple[dict[int, float], int]:
    # Scores so far by document number (a list: ~3x faster to add to than a dict of 50k
    # floats, and faster than an array of doubles). Sums in the order lists are walked: the
    # best are added up again in order.
    totals = [0.0] * documents
    # The papers with a score, while they are few; past that, reading `totals` costs less.
    seen: set[int] | None = set()
    race = _Race(totals, keep)
    pending = sorted(lists, key=lambda part: -part.bound / part.postings)
    # Walk lists whole until no paper not yet seen could make the best `keep`.
    while pending and not _bound(pending) < race.kth():
        race.rise(_walk(totals, pending.pop(0), race.kth(), seen))
        if seen is not None and _SEEN_SHARE * len(seen) > documents:
            seen = None
    # No paper not yet seen can make it now. The lists left are walked again for the papers
    # seen only while nearly all of them are still in the race; then looked up for those
    # still in it, which narrows as lists go (the common words come last).
    alive: list[int] | None = None
    for position, part in enumerate(pending):
        left = _bound(pending[position:])
        if alive is None:
            if race.kth() - left < _NARROW * race.kth():
                _walk_seen(totals, part)
                continue
            alive = sorted(_at_least(_seen(totals, seen), totals, race.kth() - left))
        # The leaders are picked again among the papers left: the k-th best has risen
        # since, and they are few by now.
        alive = _at_least(alive, totals, race.pick(alive) - left)
        _look_up(totals, part, alive)
    race.pick(_seen(totals, seen) if alive is None else alive)
    matched = len(totals) - totals.count(0.0) if seen is None else len(seen)
    return _in_order(lists, race.leaders), matched


# After the last paper not yet seen is ruled out, the papers seen are narrowed down to those
# still in the race once they need this share of the k-th best from the lists left: before,
# nearly all are still in it, and walking a list whole costs less than looking them up.
_NARROW = 0.25
# The papers seen are kept in a set until they are more than 1/_SEEN_SHARE of all
# documents: past that, keeping it up costs more than a pass over every document.
_SEEN_SHARE = 4


def _bound(parts: list[_TermPostings]) -> float:
    return sum(part.bound for part in parts)


def _seen(totals: list[float], seen: set[int] | None) -> Collection[int]:
    """The papers `seen`, or every document when they are not kept (`_at_least` then reads
    `totals` in order)."""
    return range(len(totals)) if seen is None else seen


class _Race:
    """The k-th best score so far, less a margin for rounding, kept cheaply: the papers at or
    above it when last looked (the leaders) are kept, and `kth` looks at them only. Their
    k-th best is a lower bound of everyone's, which only rises as scores do: all a cut-off
    needs. It is exact after `pick` (every paper looked at) and after `rise` (a paper not
    among the leaders that did not rise is still below them)."""

    __slots__ = ("_keep", "_totals", "leaders")

    def __init__(self, totals: list[float], keep: int) -> None:
        self._totals, self._keep = totals, keep
        self.leaders: list[int] = []

    def kth(self) -> float:
        """-infinity until `pick` has seen `keep` papers."""
        totals = self._totals
        if len(self.leaders) < self._keep:
            return -math.inf
        best = heapq.nlargest(self._keep, [totals[doc] for doc in self.leaders])[-1]
        return best - _ROUNDING * (1.0 + best)

    def rise(self, risen: list[int]) -> None:
        """`risen` (distinct) now have at least `kth`, or are all that rose."""
        self.pick(list(dict.fromkeys(self.leaders + risen)))

    def pick(self, papers: Collection[int]) -> float:
        """The k-th best of `papers` (every paper with a score among them), which becomes
        `kth`, the papers at or above it the leaders (all of them while fewer than `keep`
        have a score)."""
        totals = self._totals
        # The k-th best only rises: papers below the last one are left out before Python's
        # heap sees them one by one.
        near = _at_least(papers, totals, self.kth())
        best = heapq.nlargest(self._keep, [totals[doc] for doc in near])
        if len(best) < self._keep:
            self.leaders = near
            return -math.inf
        kth = best[-1] - _ROUNDING * (1.0 + best[-1])
        self.leaders = _at_least(near, totals, kth)
        return kth


def _at_least(papers: Collection[int], totals: list[float], needed: float) -> list[int]:
    """The `papers` (in their order) with at least `needed`, and a score at all.

    Comprehensions: in Python 3.11 they beat `compress` over `map(needed.__le__, ...)`."""
    if needed <= 0:
        needed = math.ulp(0.0)  # the smallest score there is
    if papers == range(len(totals)):  # every document (see `_seen`): read `totals` in order
        return [doc for doc, value in enumerate(totals) if value >= needed]
    return [doc for doc in papers if totals[doc] >= needed]


def _in_order(lists: list[_TermPostings], best: list[int]) -> dict[int, float]:
    """The papers `best` scored again list by list, in the order exhaustive scoring adds
    them up (to the last bit of their scores), and in the order it first meets them (which
    breaks ties)."""
    exact: dict[int, float] = {}
    first: dict[int, int] = {}
    for index, part in enumerate(lists):
        gain = part.gain
        for postings in part.leaves:
            leaf = postings.leaf
            lengths, table = leaf.norms(part.fieldname)
            blocks = postings.blocks()
            for doc in best:
                local = doc - leaf.offset
                if not 0 <= local < leaf.size:
                    continue
                number = bisect_left(blocks.ends, local)
                if number == len(blocks.ends):
                    continue
                ids, tfs = blocks.block(number)
                at = bisect_left(ids, local)
                if at < len(ids) and ids[at] == local:
                    tf = tfs[at]
                    exact[doc] = exact.get(doc, 0.0) + gain * tf / (tf + table[lengths[local]])
                    first.setdefault(doc, index)
    return {doc: exact[doc] for doc in sorted(exact, key=lambda doc: (first[doc], doc))}


def _add_all(scores: dict[int, float], part: _TermPostings) -> None:
    """Every posting of one list, into `scores` (in the order it first meets papers)."""
    get = scores.get
    gain = part.gain
    for leaf, lengths, table, ids, tfs in part.every_block():
        offset, deleted = leaf.offset, leaf.deleted
        for doc, tf in zip(ids, tfs, strict=True):
            if doc not in deleted:
                key = doc + offset
                scores[key] = get(key, 0.0) + gain * tf / (tf + table[lengths[doc]])


def _walk(
    totals: list[float], part: _TermPostings, floor: float, seen: set[int] | None
) -> list[int]:
    """Every posting of one list, into `totals` (and the papers into `seen`); returns the
    papers that now have at least `floor`."""
    gain = part.gain
    risen: list[int] = []
    for leaf, lengths, table, ids, tfs in part.every_block():
        offset, deleted = leaf.offset, leaf.deleted
        if offset or deleted:
            for doc, tf in zip(ids, tfs, strict=True):
                if doc not in deleted:
                    key = doc + offset
                    total = totals[key] + gain * tf / (tf + table[lengths[doc]])
                    totals[key] = total
                    if total >= floor:
                        risen.append(key)
                    if seen is not None:
                        seen.add(key)
            continue
        # The hot loop of a long query: kept as bare as Python allows.
        for doc, tf in zip(ids, tfs, strict=True):
            total = totals[doc] + gain * tf / (tf + table[lengths[doc]])
            totals[doc] = total
            if total >= floor:
                risen.append(doc)
        if seen is not None:
            seen.update(ids)
    return risen


def _walk_seen(totals: list[float], part: _TermPostings) -> None:
    """Every posting of one list of the papers that have a score already, into `totals`."""
    gain = part.gain
    for leaf, lengths, table, ids, tfs in part.every_block():
        offset = leaf.offset
        for doc, tf in zip(ids, tfs, strict=True):
            if totals[doc + offset]:  # deleted documents never have one
                totals[doc + offset] += gain * tf / (tf + table[lengths[doc]])


# Below this share of a block's postings, the papers still in the race are looked up in the
# block one by one (bisection); above it, the block is walked.
_LOOKUP_SHARE = 8


def _look_up(totals: list[float], part: _TermPostings, alive: list[int]) -> None:
    """One list's postings of the papers `alive` (sorted) only."""
    gain = part.gain
    wanted: set[int] | None = None  # `alive`, for walking a block: made when first needed
    for postings in part.leaves:
        leaf = postings.leaf
        offset = leaf.offset
        low = bisect_left(alive, offset)
        high = bisect_left(alive, offset + leaf.size, low)
        if low == high:
            continue
        local = alive[low:high] if not offset else [doc - offset for doc in alive[low:high]]
        lengths, table = leaf.norms(part.fieldname)
        blocks = postings.blocks()
        low, count = 0, len(local)
        for number, (last, size) in enumerate(zip(blocks.ends, blocks.sizes, strict=True)):
            high = bisect_right(local, last, low)
            if high == low:
                continue  # no paper in the race in this block: not even decoded
            ids, tfs = blocks.block(number)
            if (high - low) * _LOOKUP_SHARE < size:
                for doc in local[low:high]:
                    at = bisect_left(ids, doc)
                    if at < size and ids[at] == doc:
                        tf = tfs[at]
                        totals[doc + offset] += gain * tf / (tf + table[lengths[doc]])
            else:
                wanted = set(alive) if wanted is None else wanted
                for doc, tf in zip(ids, tfs, strict=True):
                    if doc + offset in wanted:
                        totals[doc + offset] += gain * tf / (tf + table[lengths[doc]])
            low = high
            if low == count:
                break


# -- plain queries: reading postings -------------------------------------------------------


@dataclass(slots=True)
class _TermPostings:
    """One query term in one field: a posting adds gain*tf/(tf + the paper's length norm),
    and never more than `bound`."""

    fieldname: str
    gain: float
    bound: float
    postings: int  # in every segment
    leaves: list[_LeafPostings]

    def every_block(
        self,
    ) -> Iterator[tuple[_Leaf, _Lookup[int], _Lookup[float], list[int], Sequence[float]]]:
        """Each block of the postings, segment by segment, decoded, with its segment and the
        segment's length norms: the outer loops the walks share (each keeps its own
        per-posting loop, the hot path; a block holds up to 128 postings)."""
        for postings in self.leaves:
            leaf = postings.leaf
            lengths, table = leaf.norms(self.fieldname)
            blocks = postings.blocks()
            for number in range(len(blocks.ends)):
                ids, tfs = blocks.block(number)
                yield leaf, lengths, table, ids, tfs


class _LeafPostings:
    """One term in one field of one segment."""

    __slots__ = ("_blocks", "fieldname", "info", "leaf", "term")

    def __init__(self, leaf: _Leaf, fieldname: str, term: str, info: Any) -> None:
        self.leaf = leaf
        self.fieldname = fieldname
        self.term = term
        self.info = info  # Whoosh's TermInfo
        self._blocks: _Blocks | None = None

    def blocks(self) -> _Blocks:
        """The postings, read on first use."""
        if self._blocks is None:
            try:
                self._blocks = _W3Blocks(_w3_postings(self.leaf.reader, self.info))
            except _NOT_W3:
                self._blocks = _matcher_blocks(self.leaf.reader, self.fieldname, self.term)
        return self._blocks


def _term(
    searcher: Any, leaves: list[_Leaf], term: str, weight: float, documents: int
) -> list[_TermPostings]:
    parts = []
    for fieldname, field_weight in ((fields.TEXT, 1.0), (fields.TITLE, TITLE_WEIGHT)):
        df = searcher.doc_frequency(fieldname, term)
        if not df:
            continue
        gain = field_weight * weight * lucene_idf(documents, df) * (K1 + 1)
        found = [
            _LeafPostings(leaf, fieldname, term, leaf.reader.term_info(fieldname, term))
            for leaf in leaves
            if (fieldname, term) in leaf.reader
        ]
        bound = max((p.leaf.bound(fieldname, gain, p.info) for p in found), default=0.0)
        parts.append(_TermPostings(fieldname, gain, bound, df, found))
    return parts


class _Lookup(Protocol[_T_co]):
    def __getitem__(self, key: int, /) -> _T_co: ...


class _Computed(Generic[_T_co]):
    """A lookup computed on demand: the fallback where Whoosh's length column is out of
    reach."""

    __slots__ = ("_function",)

    def __init__(self, function: Callable[[int], _T_co]) -> None:
        self._function = function

    def __getitem__(self, key: int, /) -> _T_co:
        return self._function(key)


class _Leaf:
    """One segment: its place among the index's document numbers, its deleted documents
    (a re-ingested paper is deleted and added again; the old copy stays in the postings)
    and BM25's length normalisation of its documents."""

    __slots__ = ("_norms", "_searcher", "deleted", "offset", "reader", "size")

    def __init__(self, searcher: Any, reader: Any, offset: int) -> None:
        self._searcher = searcher
        self.reader = reader
        self.offset = offset
        self.size: int = reader.doc_count_all()
        self.deleted = frozenset(_deleted(reader)) if reader.has_deletions() else frozenset()
        self._norms: dict[str, tuple[_Lookup[int], _Lookup[float]]] = {}

    def average(self, fieldname: str) -> float:
        return float(self._searcher.avg_field_length(fieldname) or 1.0)

    def norms(self, fieldname: str) -> tuple[_Lookup[int], _Lookup[float]]:
        """(length by document, norm by length): a document's norm is
        `norm[length[doc]]`."""
        if fieldname not in self._norms:
            self._norms[fieldname] = _length_norms(self.reader, fieldname, self.average(fieldname))
        return self._norms[fieldname]

    def bound(self, fieldname: str, gain: float, info: Any) -> float:
        """The most one posting of a term can add in this segment: its largest frequency
        in its shortest field (Whoosh keeps both per term, lengths rounded as the length
        column rounds them), far below BM25's ceiling `gain`."""
        try:
            most = float(info.max_weight())
            shortest = float(info.min_length() or 0)
        except (AttributeError, TypeError, ValueError):
            return gain  # tf / (tf + norm) < 1
        if not most > 0:
            return gain
        return gain * most / (most + K1 * (1 - B + B * shortest / self.average(fieldname)))


def _length_norms(
    reader: Any, fieldname: str, average: float
) -> tuple[_Lookup[int], _Lookup[float]]:
    """BM25's length normalisation per document of one segment, as (length byte by
    document, norm by length byte); computed per document through the public API if
    Whoosh's length column is out of reach."""
    try:
        lengths = _length_bytes(reader, fieldname)
    except (AttributeError, ImportError, TypeError, IndexError):
        return (
            _Computed(lambda doc: int(reader.doc_field_length(doc, fieldname))),
            _Computed(lambda length: K1 * (1 - B + B * length / average)),
        )
    from whoosh.util.numeric import byte_to_length

    # As a list: indexing one is quicker than indexing bytes, in the loops over postings.
    table = [K1 * (1 - B + B * byte_to_length(i) / average) for i in range(256)]
    return list(lengths), table


def _length_bytes(reader: Any, fieldname: str) -> bytes:
    """Whoosh 2.7.4's length column of a segment: a byte per document (`length_to_byte`)."""
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    lengths: bytes = column._dbfile.get(column._basepos, column._doccount)
    return lengths


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    return [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())


def _deleted(reader: Any) -> list[int]:
    try:
        return list(reader._perdoc.deleted_docs())  # Whoosh 2.7.4's segment deletion set
    except AttributeError:
        return [doc for doc in range(reader.doc_count_all()) if reader.is_deleted(doc)]


class _Blocks:
    """A posting list block by block: block i ends with document `ends[i]` and holds
    `sizes[i]` postings; `block(i)` is its (document numbers, term frequencies), decoded
    once (the best papers are added up again at the end from the same blocks)."""

    __slots__ = ("_decoded", "ends", "sizes")

    def __init__(self) -> None:
        self.ends: list[int] = []
        self.sizes: list[int] = []
        self._decoded: dict[int, tuple[list[int], Sequence[float]]] = {}

    def block(self, number: int) -> tuple[list[int], Sequence[float]]:
        found = self._decoded.get(number)
        if found is None:
            found = self._decoded[number] = self._decode(number)
        return found

    def _decode(self, number: int) -> tuple[list[int], Sequence[float]]:
        raise NotImplementedError


class _ListedBlocks(_Blocks):
    """Postings read through Whoosh's public matcher API, as one block."""

    __slots__ = ("_ids", "_tfs")

    def __init__(self, ids: list[int], tfs: list[float]) -> None:
        super().__init__()
        self._ids, self._tfs = ids, tfs
        if ids:
            self.ends, self.sizes = [ids[-1]], [len(ids)]

    def _decode(self, number: int) -> tuple[list[int], Sequence[float]]:
        return self._ids, self._tfs


def _matcher_blocks(reader: Any, fieldname: str, term: str) -> _Blocks:
    matcher = reader.postings(fieldname, term)
    ids, tfs = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        tfs.append(matcher.weight())
        matcher.next()
    return _ListedBlocks(ids, tfs)


# Whoosh 2.7.4's posting lists (`whoosh.codec.whoosh3`, pinned): the tag "W3Bl", then
# blocks of up to 128 postings, each a big-endian int (its byte length, negative for the
# last block), a pickled header (count, last id, max weight, compression, min and max
# length bytes) and the pickled, usually zlib-compressed tuple (id deltas, weights,
# values). Reading these directly, a posting list's headers cost ~2 µs a block, and a
# block's ids and weights ~15 µs instead of Whoosh's ~100 µs.
_W3_TAG = b"W3Bl"
_BLOCK_LENGTH = struct.Struct("!i")
# A posting list that is not laid out that way is read through Whoosh's matcher instead.
_NOT_W3 = (
    AttributeError,
    TypeError,
    ValueError,
    LookupError,
    EOFError,
    struct.error,
    pickle.UnpicklingError,
)


def _w3_postings(reader: Any, info: Any) -> bytes:
    if info.is_inlined():
        raise ValueError("inlined postings")  # a term in one document: the matcher has it
    offset, length = info.extent()
    if isinstance(length, tuple):  # Whoosh 2.7.4 keeps the length as a 1-tuple
        (length,) = length
    raw: bytes = reader._terms._postfile.get(offset, length)
    return raw


class _W3Blocks(_Blocks):
    __slots__ = ("_raw", "_spans")

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        if raw[:4] != _W3_TAG:
            raise ValueError("not a W3 posting list")
        self._raw = raw
        self._spans: list[tuple[int, int, bool]] = []  # where each block's data lies
        stream = io.BytesIO(raw)
        position, last = len(_W3_TAG), False
        while not last:
            (length,) = _BLOCK_LENGTH.unpack_from(raw, position)
            last = length < 0
            stream.seek(position + _BLOCK_LENGTH.size)
            count, end, _weight, compression, _shortest, _longest = pickle.load(stream)
            position += _BLOCK_LENGTH.size + abs(length)
            self.ends.append(end)
            self.sizes.append(count)
            self._spans.append((stream.tell(), position, bool(compression)))
        if position != len(raw):
            raise ValueError("posting list length")

    def _decode(self, number: int) -> tuple[list[int], Sequence[float]]:
        start, end, compressed = self._spans[number]
        size = self.sizes[number]
        data = self._raw[start:end]
        # Only the front of the pickle is wanted: inflate just that much (ids of up to 3
        # bytes, weights of 9, and slack for a few larger ids).
        front = zlib.decompressobj().decompress(data, 12 * size + 16) if compressed else data
        found = _ids_and_weights(front, size)
        ids = list(accumulate(found[0])) if found else []
        if found is None or not ids or ids[-1] != self.ends[number]:
            # Larger ids than the front held, or not the layout expected: the whole block,
            # read the same way, or unpickled whole as Whoosh does.
            whole = zlib.decompress(data) if compressed else data
            found = _ids_and_weights(whole, size)
            ids = list(accumulate(found[0])) if found else []
            if found is None or not ids or ids[-1] != self.ends[number]:
                loaded = pickle.loads(whole)
                found = loaded[0], loaded[1]
                ids = list(accumulate(found[0]))
        weights = found[1]
        if weights is None or isinstance(weights, float):
            # As Whoosh expands them: every posting weighs 1, or the one weight given.
            return ids, array("f", [1.0 if weights is None else weights]) * size
        return ids, weights


def _ids_and_weights(front: bytes, size: int) -> tuple[tuple[int, ...], Any] | None:
    """The id deltas and weights of a W3 block, read without its values.

    The values are the positions (for phrases), each pickled as a call to
    `_codecs.encode`: unpickling them is ~90% of reading a block, and scoring needs none.
    The ids tuple is pickled MARK, ints, TUPLE, BINPUT 0 (closed with STOP, that much
    unpickles alone); the weights follow as None, one float, or MARK, `size` BINFLOATs
    (opcode and big-endian double), TUPLE, read with `struct`. Anything else (a block of
    up to 3 postings pickles its ids without MARK) gives None, and the caller unpickles the
    whole block.
    """
    if size < 4:
        return None
    closed = front.find(b"tq\x00", 2 * size)
    if closed < 0:
        return None
    try:
        ids = pickle.loads(front[: closed + 1] + b".")
    except Exception:  # a layout not foreseen: the caller reads the block Whoosh's way
        return None
    if type(ids) is not tuple or len(ids) != size:
        return None
    at = closed + 3
    kind = front[at : at + 1]
    if kind == b"N":
        return ids, None
    if kind == b"G" and len(front) >= at + 9:
        return ids, _BINFLOAT.unpack_from(front, at)[0]
    end = at + 1 + 9 * size
    if kind == b"(" and front[end : end + 1] == b"t" and front[at + 1 : end : 9] == b"G" * size:
        layout = _BINFLOATS.get(size) or _BINFLOATS.setdefault(
            size, struct.Struct(">" + "xd" * size)
        )
        return ids, layout.unpack_from(front, at + 1)
    return None


_BINFLOAT = struct.Struct(">xd")
_BINFLOATS: dict[int, struct.Struct] = {}


# -- Whoosh internals the index needs -------------------------------------------------------


def committed_segments(ix: Any) -> tuple[int, list[Any]]:
    """The generation and segments of an index's last commit (`SearchIndex` deletes the files
    of writes that never committed). Whoosh has no public way to list them."""
    toc = ix._read_toc()
    return int(toc.generation), list(toc.segments)


class DocumentsQuery(Query):  # type: ignore[misc]
    """Matches exactly the given (index-wide) document numbers, scoring 0.

    ANDed with a query (`within_documents`), it lets Whoosh skip straight to those documents
    instead of walking the query's whole posting lists and filtering afterwards. Whoosh hands
    a query one segment at a time, with segment-local numbers: the segment's offset is
    looked up on the searcher that made it.
    """

    def __init__(self, docnums: frozenset[int]) -> None:
        self.docnums = sorted(docnums)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocumentsQuery) and other.docnums == self.docnums

    def __hash__(self) -> int:
        return hash(tuple(self.docnums))

    def __repr__(self) -> str:
        return f"DocumentsQuery({len(self.docnums)} documents)"

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docnums)

    def local(self, searcher: Any) -> list[int]:
        """The documents in the segment `searcher` reads, numbered as that segment does."""
        # `parent` is a weak reference to the top searcher, None for a one-segment index.
        parent = searcher.parent() if searcher.has_parent() else None
        offset = 0 if parent is None else parent._offset_for_subsearcher(searcher) or 0
        end = offset + searcher.doc_count_all()
        return [doc - offset for doc in self.docnums if offset <= doc < end]

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        local = self.local(searcher)
        # Weights given one by one: ListMatcher takes `all_weights=0.0` as "none given" (1.0).
        return ListMatcher(local, weights=[0.0] * len(local)) if local else NullMatcher()


class _WithinDocuments(And):  # type: ignore[misc]
    """`And` of a query and a `DocumentsQuery` that gives up at once in a segment holding
    none of the documents: Whoosh's `And` builds every subquery's matcher first, so a watch's
    phrase would still read its posting lists in the library's big segment only to intersect
    them with nothing (a daily ingest's new papers are all in the newest segment)."""

    def _matcher(self, subs: list[Any], searcher: Any, context: Any) -> Any:
        wanted = [sub for sub in subs if isinstance(sub, DocumentsQuery)]
        if wanted and not any(sub.local(searcher) for sub in wanted):
            return NullMatcher()
        return super()._matcher(subs, searcher, context)


def within_documents(q: Any, docnums: frozenset[int]) -> Any:
    """`q`, matching only the given (index-wide) documents, with the scores `q` gives them."""
    return _WithinDocuments([q, DocumentsQuery(docnums)])
