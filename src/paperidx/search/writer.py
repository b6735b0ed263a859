"""A faster Whoosh segment writer: the same segment files, a fraction of the work.

Whoosh's `SegmentWriter` runs every token of every document through the analyzer's chain
of generators, puts every posting in a pool of tuples, sorts the pool, and writes it one
posting at a time, asking the new segment's per-document reader for a length for each
(a seek and a read). `FastWriter` analyses each distinct word once (`_fast_index`), keeps
each term's postings together as documents arrive in document-number order (only the terms
are sorted), writes a term whose postings fit one block in one go (`_write_field`) and a
longer one a block at a time (`_write_term`), adds the terms' rows to the term table in
batches (`_TermRows`), and reads the segment's field lengths into memory once
(`_MemoryLengths`). The bytes written are Whoosh's own, but for blocks of few
postings, and every block of a small segment, stored uncompressed (`COMPRESS_FROM`,
`SMALL_SEGMENT_DOCUMENTS`), and a small segment's blocks pickled with protocol 3
(`SMALL_SEGMENT_PROTOCOL`); tests/test_fast_writer.py compares the files.

Used for every commit of the index (`SearchIndex.apply`) except a bulk one in this process,
whose postings could outgrow memory (Whoosh's pool spills to disk), and by each worker of a
parallel build (`paperidx.search.parallel`). When Whoosh's merge policy folds older segments
into the new one, their postings come through Whoosh's pool; the new documents' postings
then join them there and Whoosh writes them all (`_flush_segment`).

This module reaches into Whoosh 2.7.4's writer and codec; anything it does not recognise
falls back to Whoosh's own path (`_writes_blocks`, `_analysed_word_by_word`, `_TermRows`,
`_MemoryLengths`).
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from pickle import dumps
from typing import Any

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.formats import Positions
from whoosh.lang.porter2 import stem as porter2_stem
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.util.numlists import delta_encode
from whoosh.writing import SegmentWriter

from paperidx.search.analysis import TOKEN_PATTERN, HyphenFilter, hyphen_pieces

# Whoosh compresses every posting block (zlib level 3); Whoosh's readers and `first_stage`
# read each block's compression flag, so a block may be written as it is. A block of one
# posting -- four in five of a daily segment's terms -- comes out of zlib 1% larger than it
# went in (72 bytes for 71 on the 67-paper sample, 67 for 66 on 2,000 papers): never
# compressed. Two postings already shrink by 15%, so a lasting segment compresses them.
COMPRESS_FROM = 2
# A segment of a few documents (a daily digest's) is soon folded into a larger one by
# Whoosh's merge policy, which compresses every block again. Each zlib call costs ~8-15 µs,
# mostly setting up its window: such a segment's blocks are all written as they are. On the
# 67-paper sample: ~17 ms less of its commit than compressing every block (~7 ms less than
# compressing those of 8 postings or more), for a segment of 792 KB instead of 641 KB (682)
# until it is merged. (In a 20k-paper bulk build, leaving blocks of up to 7 postings
# uncompressed saved no time and made the index 2.4% larger.)
SMALL_SEGMENT_DOCUMENTS = 1_000
# Whoosh pickles a block's data with protocol 2, which has no opcode for bytes: each
# encoded position list becomes a call to `_codecs.encode` on a latin-1 string. Whoosh
# unpickles any protocol, and protocol 3 writes bytes as they are; the ids and weights that
# come first, all `first_stage` reads of a block, are pickled alike by both. A small
# segment's one-block terms use it: on the 67-paper sample the text field's blocks pickle in
# 1.6 ms instead of 5.7, take 196 KB instead of 375 and unpickle 5x faster. A lasting
# segment keeps Whoosh's protocol (its files stay Whoosh's byte for byte).
SMALL_SEGMENT_PROTOCOL = 3
WHOOSH_PROTOCOL = 2

_TERM_INFO = W3TermInfo._struct
_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # a hash file row's head (Whoosh's `_lengths`)

# One term's postings in a segment being built: document numbers, weights, encoded values
# (positions). Three flat arrays rather than a tuple per posting: a third of the memory.
_Postings = tuple["array[int]", "array[float]", list[bytes]]


class FastWriter(SegmentWriter):  # type: ignore[misc]
    """Whoosh's `SegmentWriter`, with documents analysed and their postings written faster.

    `lock=False` is for a parallel build's worker, whose parent holds the index's lock.
    """

    def __init__(self, ix: Any, *, lock: bool = True, **options: Any) -> None:
        # Whoosh's default codec (zlib level 3 for posting blocks): level 1 saves under 1%
        # of a build, no compression 12% for postings files 2.4 times the size.
        super().__init__(ix, _lk=lock, **options)
        # fieldname -> term -> its postings, documents ascending
        self._terms: dict[str, dict[bytes, _Postings]] = {}
        self._merged = False
        self.postings = 0
        # Per field: how its text becomes terms (`field.index`, or `_fast_index` for one of
        # paperidx's analysed text fields). Kept here: the schema is written back at commit.
        self._indexers: dict[str, Callable[..., Any]] = {}
        caches: dict[int, dict[str, tuple[bytes, ...]]] = {}
        for name in self.schema.names():
            field = self.schema[name]
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: vectors and spelling are not supported here")
            if _analysed_word_by_word(field):
                cache = caches.setdefault(id(field.analyzer), {})
                self._indexers[name] = _fast_index(field, cache)
            else:
                self._indexers[name] = field.index

    def add_document(self, **fields: Any) -> None:
        # Whoosh's `SegmentWriter.add_document`, less vectors and spelling (refused above),
        # with the postings kept per term rather than in the pool.
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                terms = self._terms.setdefault(fieldname, {})
                scorable = field.scorable
                for text, frequency, weight, encoded in self._indexers[fieldname](value):
                    if scorable:
                        length += frequency
                    postings = terms.get(text)
                    if postings is None:
                        postings = terms[text] = (array("I"), array("d"), [])
                    postings[0].append(docnum)
                    postings[1].append(weight * fieldboost)
                    postings[2].append(encoded)
                    self.postings += 1
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            column = field.column_type
            if column and stored is not None:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def add_reader(self, reader: Any) -> None:
        # A segment the merge policy folds in: its postings go to Whoosh's pool.
        self._merged = True
        super().add_reader(reader)

    def write_segment(self) -> Any:
        """Write the segment's files and close it without committing (as MpWriter's
        sub-writers do): a parallel build's parent adds it to the index."""
        return self._finalize_segment()

    def _flush_segment(self) -> None:
        if self._merged:
            # Older segments' postings are in the pool: ours join them, Whoosh writes all.
            for fieldname, text, docnum, weight, encoded in self._in_order():
                self.pool.add((fieldname, text, docnum, weight, encoded))
            self._terms = {}
            super()._flush_segment()
            return
        self.perdocwriter.close()
        reader = self.per_document_reader()
        try:
            lengths = _MemoryLengths(reader, self.schema)
            writer = self.fieldwriter
            if _writes_blocks(writer):
                # Each field's postings writer is made with the codec's level.
                small = self.docnum < SMALL_SEGMENT_DOCUMENTS
                level = 0 if small else writer._codec._compression
                protocol = SMALL_SEGMENT_PROTOCOL if small else WHOOSH_PROTOCOL
                for fieldname in sorted(self._terms):
                    writer.start_field(fieldname, self.schema[fieldname])
                    terms = self._terms[fieldname]
                    _write_field(
                        writer, terms, lengths.of(fieldname), level, COMPRESS_FROM, protocol
                    )
                    writer.finish_field()
            else:
                writer.add_postings(self.schema, lengths, self._in_order())
            writer.close()
        finally:
            reader.close()
        self._terms = {}

    def _in_order(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """The postings as Whoosh's pool gives them: by field, term, then document."""
        for fieldname in sorted(self._terms):
            terms = self._terms[fieldname]
            for text in sorted(terms):
                docnums, weights, values = terms[text]
                for docnum, weight, encoded in zip(docnums, weights, values, strict=True):
                    yield fieldname, text, docnum, weight, encoded


def _writes_blocks(writer: Any) -> bool:
    """Whether `_write_term` knows this field writer (Whoosh 2.7.4's W3FieldWriter)."""
    from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter

    probe = W3PostingsWriter.__init__.__code__.co_names
    known = {"_blocklimit", "_byteids", "_compression"}
    return type(writer) is W3FieldWriter and known <= set(probe)


def _write_field(
    writer: Any,
    terms: dict[bytes, _Postings],
    lengths: Callable[[int], int | None],
    level: int,
    compress_from: int,
    protocol: int = WHOOSH_PROTOCOL,
) -> None:
    """A field's terms in order (the caller has started the field). A term whose postings
    fit one block -- nearly every term of a daily segment -- is written here in one go: the
    block Whoosh's `W3PostingsWriter` would write (magic, length, info and data pickles)
    and the `W3TermInfo` row its `W3FieldWriter.finish_term` would add, without the dozen
    calls a term of that path makes (~5 µs a term: 13 of the ~65 ms the 67-paper sample's
    commit took for its 2,800 terms). Longer terms take `_write_term`."""
    postwriter = writer._postwriter
    postfile = writer._postfile
    rows = _TermRows(writer._tindex)
    field_key = pack_ushort(writer._fieldid)
    limit = postwriter._blocklimit
    # As `W3PostingsWriter._mini_values`: variable-size values pickled one by one,
    # fixed-size ones joined, none for a format without values.
    fixed_size = writer._format.fixed_value_size()
    for text in sorted(terms):
        docnums, weights, values = postings = terms[text]
        count = len(docnums)
        if count > limit:
            rows.write()  # Whoosh's `finish_term` adds this term's row: the rows stay in order
            writer.start_term(text)
            _write_term(postwriter, postings, lengths, level, compress_from)
            writer.finish_term()
            continue
        shortest, longest, top = _block_bounds(docnums, weights, lengths)
        stored = array("f", weights)  # the block keeps weights as 32-bit floats
        first = stored[0]
        kept = [value for value in values if value]
        if count == 1:  # four in five terms of a day's segment: the same, in fewer steps
            block_weights: Any = None if first == 1.0 else first
            ids: tuple[int, ...] = (docnums[0],)
        else:
            if first == 1.0 and all(weight == 1.0 for weight in stored):
                block_weights = None
            elif all(weight == first for weight in stored):
                block_weights = first
            else:
                block_weights = tuple(stored)
            kept = _distinct(kept)
            ids = tuple(delta_encode(docnums))
        if fixed_size is None or fixed_size < 0:
            block_values: Any = tuple(kept)
        else:
            block_values = b"".join(kept) if fixed_size else None
        data = dumps((ids, block_weights, block_values), protocol)
        compression = level if count >= compress_from else 0
        if compression:
            data = zlib.compress(data, compression)
        last = docnums[-1]
        # `length_to_byte(None)` is 0, as the term row wants for a block without lengths.
        shortest_byte, longest_byte = length_to_byte(shortest), length_to_byte(longest)
        info = dumps((count, last, top, compression, shortest_byte, longest_byte), 2)
        offset = postfile.tell()
        block = b"".join((WHOOSH3_HEADER_MAGIC, pack_int(-(len(info) + len(data))), info, data))
        postfile.write(block)
        row = _TERM_INFO.pack(
            False,
            sum(stored),
            count,
            shortest_byte,
            longest_byte,
            max(0, top),
            docnums[0],
            last,
        )
        rows.pending.append((field_key + text, row + pack_long(offset) + pack_int(len(block))))
    rows.write()


class _TermRows:
    """Rows of a segment's term table, added as Whoosh's `OrderedHashWriter.add` adds them
    (the key's position to the table's index, its hash and position to a bucket, then key
    and value lengths, key and value to the file) and written in one go: `add` costs ~2.4
    µs a row, mostly two `tell`s, three writes and its checks (keys come in order from
    `_write_field`'s sorted terms). Falls back to `add` for another kind of table."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.pending: list[tuple[bytes, bytes]] = []
        known = {"dbfile", "index", "buckets", "hashfn", "lastkey"}
        self._direct = type(table) is OrderedHashWriter and known <= set(vars(table))

    def write(self) -> None:
        if not self.pending:
            return
        table, pending = self.table, self.pending
        self.pending = []
        if not self._direct:
            for key, value in pending:
                table.add(key, value)
            return
        if pending[0][0] <= table.lastkey:
            raise ValueError(f"Keys must increase: {table.lastkey!r}..{pending[0][0]!r}")
        position = table.dbfile.tell()
        index, buckets, hashed = table.index, table.buckets, table.hashfn
        chunks = []
        for key, value in pending:
            index.append(position)
            code = hashed(key)
            buckets[code & 255].append((code, position))
            chunk = b"".join((_KEY_VALUE_LENGTHS.pack(len(key), len(value)), key, value))
            chunks.append(chunk)
            position += len(chunk)
        table.dbfile.write(b"".join(chunks))
        table.lastkey = pending[-1][0]


def _block_bounds(
    ids: Sequence[int], weights: Sequence[float], lengths: Callable[[int], int | None]
) -> tuple[int | None, int, float]:
    """A block's shortest and longest field length (None and 0 when no document has one)
    and its highest weight, as `W3PostingsWriter.add_posting` tracks them: the maximum
    starts at int 0 and is pickled as such when nothing beats it."""
    if len(ids) == 1:  # most terms of a daily segment: the same, without the lists
        length, weight = lengths(ids[0]), weights[0]
        return (length or None, length or 0, weight if weight > 0 else 0)
    known = [length for length in map(lengths, ids) if length]
    highest = max(weights)
    return (
        min(known) if known else None,
        max(known) if known else 0,
        highest if highest > 0 else 0,
    )


def _write_term(
    postwriter: Any,
    postings: _Postings,
    lengths: Callable[[int], int | None],
    level: int,
    compress_from: int,
) -> None:
    """One term's postings, a block at a time, exactly as `W3PostingsWriter.add_posting`
    would buffer them one by one: full blocks of `_blocklimit`, the last one written by
    `finish_postings` (the caller's `finish_term`). A block of fewer than `compress_from`
    postings is written uncompressed, the rest at `level` (Whoosh's)."""
    limit = postwriter._blocklimit
    assert not postwriter._byteids
    docnums, weights, values = postings
    for start in range(0, len(docnums), limit):
        end = start + limit
        ids = docnums[start:end]
        shortest, longest, top = _block_bounds(ids, weights[start:end], lengths)
        postwriter._ids = ids
        postwriter._weights = array("f", weights[start:end])
        postwriter._values = _distinct([encoded for encoded in values[start:end] if encoded])
        postwriter._maxweight = top
        postwriter._minlength = shortest
        postwriter._maxlength = longest
        postwriter._compression = level if len(ids) >= compress_from else 0
        if end < len(docnums):
            postwriter._write_block()


def _analysed_word_by_word(field: Any) -> bool:
    """Whether `_fast_index` gives exactly what `field.index` gives: a positions field whose
    analyzer is paperidx's (`analysis.ANALYZER`): a regex tokenizer whose matches do not
    depend on their surroundings, then filters that each work on one token alone (the stop
    filter also renumbers positions, which `_fast_index` mirrors)."""
    analyzer = getattr(field, "analyzer", None)
    if not isinstance(field.format, Positions) or not isinstance(analyzer, CompositeAnalyzer):
        return False
    kinds = [type(item) for item in analyzer.items]
    if kinds != [RegexTokenizer, HyphenFilter, LowercaseFilter, StopFilter, StemFilter]:
        return False
    tokenizer, stop, stemmer = analyzer.items[0], analyzer.items[3], analyzer.items[4]
    return (
        tokenizer.expression.pattern == TOKEN_PATTERN
        and not tokenizer.gaps
        and stop.renumber
        # `_word_terms`'s table holds Porter2 stems.
        and stemmer.stemfn is porter2_stem
        and not stemmer.lang
    )


def _fast_index(
    field: Any, cache: dict[str, tuple[bytes, ...]]
) -> Callable[..., list[tuple[bytes, int, float, bytes]]]:
    """`field.index` for a field `_analysed_word_by_word` accepts, many times faster.

    Whoosh runs every token of every document through the whole filter chain (the stemmer
    has its own cache, but the generators around it cost more than the stemming). Here each
    distinct word is analysed once (`_word_terms`) and its terms are cached.
    Positions follow Whoosh's stop filter: the first kept term keeps its word's position,
    each later kept term is one more. tests/test_fast_writer.py compares the two.
    """
    pattern = field.analyzer.items[0].expression
    analysed = _word_terms(field.analyzer)
    encode = field.format.encode
    boost = field.format.field_boost
    # Most terms occur once in a document: their encoded position lists repeat.
    once: dict[int, bytes] = {}
    one = float(1) * boost

    def encoded(places: list[int]) -> bytes:
        if len(places) == 1:
            value = once.get(places[0])
            if value is None:
                value = once[places[0]] = encode(places)
            return value
        return encode(places)  # type: ignore[no-any-return]

    def index(value: str, **_: Any) -> list[tuple[bytes, int, float, bytes]]:
        positions: dict[bytes, list[int]] = {}
        first = -1
        kept = 0
        for number, word in enumerate(pattern.findall(value)):
            terms = cache.get(word)
            if terms is None:
                terms = cache[word] = analysed(word)
            for term in terms:
                if first < 0:
                    first = number
                seen = positions.get(term)
                if seen is None:
                    positions[term] = [first + kept]
                else:
                    seen.append(first + kept)
                kept += 1
        return [
            (
                term,
                len(places),
                one if len(places) == 1 else float(len(places)) * boost,
                encoded(places),
            )
            for term, places in positions.items()
        ]

    return index


def _word_terms(analyzer: Any) -> Callable[[str], tuple[bytes, ...]]:
    """How one word (a match of the field's token pattern) becomes terms, as `analyzer` (one
    `_analysed_word_by_word` accepts) makes them, with each Porter2 stem looked up first in
    the shipped table of the field's vocabulary (`lexicon.stems`, every entry held to
    Whoosh's stemmer in tests/test_lexicon.py).

    The word is the tokenizer's one token (a match of its pattern); its pieces are
    `HyphenFilter`'s (the word itself when it has no hyphen), and each piece takes the other
    filters' steps without their generators -- lower case, the stop filter's test, the stem
    -- which cost more than the steps themselves (~5 µs a word, ~7,000 distinct words in a
    200-paper arXiv mail; ~12 µs for each of the ~400 hyphenated words and numbers of a
    daily digest when they went through the analyzer).
    """
    from paperidx.search.lexicon import stems

    table = stems()
    *_, stop, stemmer = analyzer.items
    stem, ignore = stemmer.stemfn, stemmer.ignore
    stoplist, shortest, longest = stop.stops, stop.min, stop.max

    def term(piece: str) -> tuple[bytes, ...]:
        lower = piece.lower()
        if len(lower) < shortest or (longest is not None and len(lower) > longest):
            return ()
        if lower in stoplist:
            return ()
        if lower in ignore:
            return (lower.encode("utf-8"),)
        found = table.get(lower)
        return ((stem(lower) if found is None else found).encode("utf-8"),)

    def terms(word: str) -> tuple[bytes, ...]:
        if "-" not in word:
            return term(word)
        return tuple(found for piece in hyphen_pieces(word) for found in term(piece))

    return terms


def _distinct(values: list[bytes]) -> list[bytes]:
    """`values` with no object twice. Whoosh pickles a block's values, and pickle writes an
    object it has seen before as a back-reference: `_fast_index` shares the encodings of
    single positions, which would change the bytes written (not what they decode to)."""
    if len(values) < 2:
        return values
    seen: set[int] = set()
    for number, value in enumerate(values):
        if id(value) in seen:
            values[number] = bytes(bytearray(value))
        else:
            seen.add(id(value))
    return values


class _MemoryLengths:
    """A new segment's per-document field lengths, each field's column read into memory once.

    Whoosh's writer asks the segment's per-document reader for a length for every posting
    it writes, which without mmap is a seek and a read each: a third of a worker's flush.
    Falls back to that reader for a field whose column is not as Whoosh 2.7.4 writes it.
    """

    def __init__(self, reader: Any, schema: Any) -> None:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        self._reader = reader
        # Whoosh answers None for a zero length byte.
        self._lengths = [byte_to_length(b) if b else None for b in range(256)]
        self._columns: dict[str, bytes] = {}
        # Fields with no lengths column (not scorable): Whoosh answers 0, after looking for
        # the column's file each time.
        self._none: set[str] = set()
        for name in schema.names():
            try:
                if not reader.has_column(_lenfield(name)):
                    self._none.add(name)
                    continue
                column = reader._cached_reader(_lenfield(name), LENGTHS_COLUMN)
                data = column._dbfile.get(column._basepos, column._doccount)
            except (AttributeError, TypeError, ValueError):
                continue
            if isinstance(data, bytes) and len(data) == column._doccount:
                self._columns[name] = data

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> Any:
        column = self._columns.get(fieldname)
        if column is not None:
            return self._lengths[column[docnum]]
        if fieldname in self._none:
            return default
        return self._reader.doc_field_length(docnum, fieldname, default)

    def of(self, fieldname: str) -> Callable[[int], int | None]:
        """`doc_field_length` of one field, as a function of the document number."""
        column = self._columns.get(fieldname)
        if column is not None:
            table = self._lengths
            return lambda docnum: table[column[docnum]]
        if fieldname in self._none:
            return lambda docnum: 0
        return lambda docnum: self._reader.doc_field_length(docnum, fieldname, 0)


__all__ = ["FastWriter"]
