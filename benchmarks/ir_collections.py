"""Loaders for the three IR test collections used by the ranking benchmarks.

Each loader takes the shared data directory of one collection and returns a
:class:`Collection` of plain Python data (no Whoosh objects):

- :func:`load_scifact` reads the BEIR form of SciFact: ``derived/corpus.jsonl``,
  ``beir_kirloxious/queries.jsonl`` (restricted to the judged test queries) and the
  header-carrying ``derived/qrels/test.tsv`` (binary relevance). The malformed
  ``beir_kirloxious/qrels/test.tsv`` is deliberately not used.
- :func:`load_cisi` reads the SMART-format ``CISI.ALL`` / ``CISI.QRY`` / ``CISI.REL``.
  Only the 76 judged queries are returned. Query text is the ``.W`` field; the
  ``.T/.A/.B`` fields that queries 58-112 also carry are ignored. Document title is
  ``.T`` and text is ``.W``; authors and ``.X`` citation triples are dropped.
- :func:`load_cranfield` reads ``cran.all.1400`` / ``cran.qry`` / ``cranqrel``. The query
  file uses CRLF line endings and labels queries 001..365 with gaps, while ``cranqrel``
  numbers them 1..225 by position, so query *n* in file order gets id ``str(n)``.
  Relevance codes 1 (most relevant) .. 4 (least relevant) are mapped to graded gains
  ``5 - code`` (4, 3, 2, 1); code -1 ("no relevant documents found") is ignored.
  Repeated field markers in a record are concatenated; empty abstracts (docs 471, 995)
  are kept as empty text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Collection", "Doc", "load_cisi", "load_cranfield", "load_scifact"]


@dataclass(frozen=True)
class Doc:
    """One document: an id, a title and the body (abstract) text."""

    id: str
    title: str
    text: str


@dataclass
class Collection:
    """A test collection: documents, queries by id and graded qrels by query id."""

    name: str
    docs: list[Doc]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)


def _read_smart(path: Path) -> list[tuple[str, dict[str, str]]]:
    """Parse a SMART tagged file into ``(id, {marker: text})`` records.

    Markers stand alone on their line (``.T``, ``.W`` ...), except ``.I <id>``. A marker
    repeated inside one record has its texts joined with a newline. Works for LF and
    CRLF files.
    """
    records: list[tuple[str, dict[str, str]]] = []
    cur_id: str | None = None
    fields: dict[str, list[str]] = {}
    marker: str | None = None
    seen: list[str] = []

    def flush() -> None:
        if cur_id is not None:
            records.append(
                (cur_id, {m: "\n".join(fields[m]).strip() for m in fields}),
            )

    text = path.read_text(encoding="utf-8", errors="replace")
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.startswith(".I ") or line.strip() == ".I":
            flush()
            cur_id = line[2:].strip()
            fields = {}
            marker = None
            seen = []
            continue
        stripped = line.strip()
        if len(stripped) == 2 and stripped[0] == "." and stripped[1].isalpha():
            marker = stripped[1]
            fields.setdefault(marker, [])
            if marker in seen:
                fields[marker].append("")
            seen.append(marker)
            continue
        if marker is not None and cur_id is not None:
            fields[marker].append(line)
    flush()
    return records


def _normalise_space(text: str) -> str:
    return " ".join(text.split())


def load_scifact(root: str | Path) -> Collection:
    """Load SciFact (BEIR test split: 5,183 docs, 300 queries, binary qrels)."""
    base = Path(root)
    docs: list[Doc] = []
    with (base / "derived" / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                docs.append(Doc(str(rec["_id"]), rec.get("title", ""), rec.get("text", "")))
    qrels: dict[str, dict[str, int]] = {}
    with (base / "derived" / "qrels" / "test.tsv").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) != 3 or parts[0] == "query-id":
                continue
            qid, did, score = parts
            if int(score) > 0:
                qrels.setdefault(qid, {})[did] = int(score)
    queries: dict[str, str] = {}
    with (base / "beir_kirloxious" / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                if str(rec["_id"]) in qrels:
                    queries[str(rec["_id"])] = rec["text"]
    return Collection("scifact", docs, queries, qrels)


def load_cisi(root: str | Path) -> Collection:
    """Load CISI (1,460 docs; the 76 judged of 112 queries; binary qrels)."""
    base = Path(root)
    docs = [
        Doc(did, _normalise_space(f.get("T", "")), _normalise_space(f.get("W", "")))
        for did, f in _read_smart(base / "CISI.ALL")
    ]
    qrels: dict[str, dict[str, int]] = {}
    with (base / "CISI.REL").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2:
                qrels.setdefault(parts[0], {})[parts[1]] = 1
    queries = {
        qid: _normalise_space(f.get("W", ""))
        for qid, f in _read_smart(base / "CISI.QRY")
        if qid in qrels
    }
    return Collection("cisi", docs, queries, qrels)


def load_cranfield(root: str | Path) -> Collection:
    """Load Cranfield (1,400 docs, 225 queries renumbered by position, graded qrels)."""
    base = Path(root)
    docs = [
        Doc(did, _normalise_space(f.get("T", "")), _normalise_space(f.get("W", "")))
        for did, f in _read_smart(base / "cran.all.1400")
    ]
    queries = {
        str(pos): _normalise_space(f.get("W", ""))
        for pos, (_label, f) in enumerate(_read_smart(base / "cran.qry"), start=1)
    }
    qrels: dict[str, dict[str, int]] = {}
    with (base / "cranqrel").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) != 3:
                continue
            qid, did, code = parts[0], parts[1], int(parts[2])
            if 1 <= code <= 4:
                qrels.setdefault(qid, {})[did] = 5 - code
    queries = {q: t for q, t in queries.items() if q in qrels}
    return Collection("cranfield", docs, queries, qrels)
