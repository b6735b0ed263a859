"""The user's own state: read and star marks, tags, notes, watches and what they found.

Papers can be fetched again; this cannot. It lives in tables of its own keyed by paper id
(ids never change once given, see `paperidx.models`), so re-ingesting, cross-format merges
and reindexing never touch it. Every change is one SQLite transaction (see
`Store.user_transaction`), so a `kill -9` loses nothing committed and two processes never
lose each other's updates: each change is a statement applied to the current row, never a
read-modify-write of a copy.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from paperidx.errors import UsageError
from paperidx.lazyre import lazy_compile

MARK_ACTIONS = ("read", "unread", "star", "unstar")
MAX_NOTE_CHARS = 100_000
_TAG = lazy_compile(r"^[\w][\w.\-/:+]{0,63}$")
_WATCH_NAME = lazy_compile(r"^[\w][\w.\-]{0,63}$")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class PaperState:
    """What the user did with one paper."""

    read: bool = False
    starred: bool = False
    tags: tuple[str, ...] = ()
    note: str = ""

    @property
    def empty(self) -> bool:
        return not (self.read or self.starred or self.tags or self.note)

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "starred": self.starred,
            "tags": list(self.tags),
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, value: object) -> PaperState | None:
        """The state an export carries (`"user": {...}`), or None when it is not one."""
        if not isinstance(value, dict):
            return None
        tags = value.get("tags", [])
        note = value.get("note", "")
        return cls(
            read=value.get("read") is True,
            starred=value.get("starred") is True,
            tags=tuple(t for t in tags if isinstance(t, str) and _TAG.match(t))
            if isinstance(tags, list)
            else (),
            note=note[:MAX_NOTE_CHARS] if isinstance(note, str) else "",
        )


@dataclass(frozen=True, slots=True)
class Watch:
    """A saved query matched against every ingest's new papers."""

    name: str
    query: str
    exclude: str = ""
    created_at: str = ""
    unseen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "exclude": self.exclude}


@dataclass(slots=True)
class StateFilter:
    """Which papers a listing or a search may show, by the user's state.

    `None` means "either"; `tags` must all be present.
    """

    read: bool | None = None
    starred: bool | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.read is not None or self.starred is not None or bool(self.tags)


def check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise UsageError(
            f"{tag!r} is not a tag (letters, digits and . - _ / : +, up to 64 characters)"
        )
    return tag


def check_watch_name(name: str) -> str:
    if not _WATCH_NAME.match(name):
        raise UsageError(
            f"{name!r} is not a watch name (letters, digits and . - _, up to 64 characters)"
        )
    return name


# -- reading -----------------------------------------------------------------------------


def states(db: sqlite3.Connection, ids: Iterable[str]) -> dict[str, PaperState]:
    """The state of each paper in `ids` that has any (others are absent)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for pid, read_at, starred_at in db.execute(
            f"SELECT paper_id, read_at, starred_at FROM marks WHERE paper_id IN ({marks})", chunk
        ):
            entry = found.setdefault(pid, {})
            entry["read"], entry["starred"] = read_at is not None, starred_at is not None
        for pid, tag in db.execute(
            f"SELECT paper_id, tag FROM tags WHERE paper_id IN ({marks}) ORDER BY tag", chunk
        ):
            found.setdefault(pid, {}).setdefault("tags", []).append(tag)
        for pid, body in db.execute(
            f"SELECT paper_id, body FROM notes WHERE paper_id IN ({marks})", chunk
        ):
            found.setdefault(pid, {})["note"] = body
    return {
        pid: PaperState(
            read=entry.get("read", False),
            starred=entry.get("starred", False),
            tags=tuple(entry.get("tags", ())),
            note=entry.get("note", ""),
        )
        for pid, entry in found.items()
    }


def filter_clause(state: StateFilter, id_column: str) -> tuple[str, list[Any]]:
    """A SQL condition on `id_column` that keeps only papers passing `state`."""
    clauses: list[str] = []
    params: list[Any] = []
    for wanted, column in ((state.read, "read_at"), (state.starred, "starred_at")):
        if wanted is None:
            continue
        inner = f"SELECT paper_id FROM marks WHERE {column} IS NOT NULL"
        clauses.append(f"{id_column} {'IN' if wanted else 'NOT IN'} ({inner})")
    for tag in state.tags:
        clauses.append(f"{id_column} IN (SELECT paper_id FROM tags WHERE tag = ?)")
        params.append(tag)
    return " AND ".join(clauses) or "1", params


def marked(db: sqlite3.Connection, kind: str, limit: int | None) -> list[str]:
    """Ids of papers marked `starred` or `read`, most recently marked first."""
    column = {"starred": "starred_at", "read": "read_at"}[kind]
    sql = f"SELECT paper_id FROM marks WHERE {column} IS NOT NULL ORDER BY {column} DESC"
    return [row[0] for row in db.execute(sql + (f" LIMIT {int(limit)}" if limit else ""))]


def watches(db: sqlite3.Connection) -> list[Watch]:
    rows = db.execute(
        "SELECT name, query, exclude, created_at, "
        "(SELECT count(*) FROM watch_hits h WHERE h.watch = w.name AND NOT h.seen) "
        "FROM watches w ORDER BY name"
    )
    return [Watch(*row) for row in rows]


def unseen_hits(db: sqlite3.Connection, name: str | None) -> dict[str, list[str]]:
    """Watch name -> paper ids it matched that `paperidx new` has not shown yet."""
    sql = "SELECT watch, paper_id FROM watch_hits WHERE NOT seen"
    params: list[Any] = []
    if name is not None:
        sql += " AND watch = ?"
        params.append(name)
    found: dict[str, list[str]] = {}
    for watch, pid in db.execute(sql + " ORDER BY watch, found_at DESC, paper_id", params):
        found.setdefault(watch, []).append(pid)
    return found


def orphans(db: sqlite3.Connection) -> dict[str, int]:
    """Rows of user state whose paper is not in the store, per table (should be none)."""
    counts: dict[str, int] = {}
    for table in ("marks", "tags", "notes", "watch_hits"):
        (count,) = db.execute(
            f"SELECT count(*) FROM {table} WHERE paper_id NOT IN (SELECT id FROM papers)"
        ).fetchone()
        if count:
            counts[table] = int(count)
    (dangling,) = db.execute(
        "SELECT count(*) FROM watch_hits WHERE watch NOT IN (SELECT name FROM watches)"
    ).fetchone()
    if dangling:
        counts["watch_hits without a watch"] = int(dangling)
    return counts


def counts(db: sqlite3.Connection) -> dict[str, int]:
    read, starred = db.execute("SELECT count(read_at), count(starred_at) FROM marks").fetchone()
    (tagged,) = db.execute("SELECT count(DISTINCT paper_id) FROM tags").fetchone()
    (noted,) = db.execute("SELECT count(*) FROM notes").fetchone()
    (watching,) = db.execute("SELECT count(*) FROM watches").fetchone()
    return {
        "read": int(read),
        "starred": int(starred),
        "tagged": int(tagged),
        "noted": int(noted),
        "watches": int(watching),
    }


# -- writing (inside `Store.user_transaction`) -------------------------------------------


def mark(db: sqlite3.Connection, ids: Iterable[str], action: str) -> None:
    if action not in MARK_ACTIONS:
        raise UsageError(f"{action!r} is not one of {', '.join(MARK_ACTIONS)}")
    column = "read_at" if action in ("read", "unread") else "starred_at"
    value = now() if action in ("read", "star") else None
    for pid in ids:
        db.execute("INSERT OR IGNORE INTO marks (paper_id) VALUES (?)", (pid,))
        # COALESCE keeps the first time a paper was read or starred.
        db.execute(
            f"UPDATE marks SET {column} = CASE WHEN ? IS NULL THEN NULL "
            f"ELSE COALESCE({column}, ?) END WHERE paper_id = ?",
            (value, value, pid),
        )
    db.execute("DELETE FROM marks WHERE read_at IS NULL AND starred_at IS NULL")


def change_tags(
    db: sqlite3.Connection, pid: str, add: Iterable[str], remove: Iterable[str]
) -> None:
    stamp = now()
    for tag in add:
        db.execute(
            "INSERT OR IGNORE INTO tags (paper_id, tag, added_at) VALUES (?, ?, ?)",
            (pid, check_tag(tag), stamp),
        )
    for tag in remove:
        db.execute("DELETE FROM tags WHERE paper_id = ? AND tag = ?", (pid, tag))


def set_note(db: sqlite3.Connection, pid: str, body: str) -> None:
    """Replace the paper's note; an empty body deletes it."""
    if len(body) > MAX_NOTE_CHARS:
        raise UsageError(f"a note holds at most {MAX_NOTE_CHARS:,} characters")
    if body.strip():
        db.execute(
            "INSERT INTO notes (paper_id, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (paper_id) DO UPDATE SET body = excluded.body, "
            "updated_at = excluded.updated_at",
            (pid, body, now()),
        )
    else:
        db.execute("DELETE FROM notes WHERE paper_id = ?", (pid,))


def restore(db: sqlite3.Connection, pid: str, state: PaperState) -> bool:
    """Add what an export carried for a paper to what the library has. True if a note of
    the library's own was kept over a different one in the export.

    Marks and tags are unions (an import never un-reads or un-stars); a note fills an empty
    one and never overwrites the user's own.
    """
    if state.read:
        mark(db, [pid], "read")
    if state.starred:
        mark(db, [pid], "star")
    change_tags(db, pid, state.tags, ())
    if not state.note.strip():
        return False
    row = db.execute("SELECT body FROM notes WHERE paper_id = ?", (pid,)).fetchone()
    if row is None:
        set_note(db, pid, state.note)
        return False
    return bool(row[0] != state.note)


def add_watch(
    db: sqlite3.Connection, name: str, query: str, exclude: str, *, replace: bool
) -> None:
    exists = db.execute("SELECT 1 FROM watches WHERE name = ?", (name,)).fetchone()
    if exists and not replace:
        raise UsageError(f"a watch named {name!r} exists already (--replace to change it)")
    db.execute(
        "INSERT INTO watches (name, query, exclude, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET query = excluded.query, exclude = excluded.exclude",
        (check_watch_name(name), query, exclude, now()),
    )


def remove_watch(db: sqlite3.Connection, name: str) -> bool:
    db.execute("DELETE FROM watch_hits WHERE watch = ?", (name,))
    return db.execute("DELETE FROM watches WHERE name = ?", (name,)).rowcount > 0


def record_hits(db: sqlite3.Connection, name: str, ids: Iterable[str]) -> int:
    """Remember papers a watch matched; returns how many it had not matched before."""
    stamp = now()
    added = 0
    for pid in ids:
        added += db.execute(
            "INSERT OR IGNORE INTO watch_hits (watch, paper_id, found_at) VALUES (?, ?, ?)",
            (name, pid, stamp),
        ).rowcount
    return added


def mark_seen(db: sqlite3.Connection, hits: dict[str, list[str]]) -> None:
    for name, ids in hits.items():
        db.executemany(
            "UPDATE watch_hits SET seen = 1 WHERE watch = ? AND paper_id = ?",
            ((name, pid) for pid in ids),
        )
