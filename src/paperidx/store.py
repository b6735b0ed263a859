"""The record store: one SQLite database, the library's source of truth.

Every change happens inside one transaction per ingested file and stamps the rows it
touches with a new store revision. The search index remembers the revision it has caught
up to, so after a crash anywhere between "store committed" and "index committed" the
next command re-indexes exactly the rows it missed (see `paperidx.library`).

WAL mode lets `search`, `show` and `list` read a consistent snapshot while an ingest
writes. A damaged database is reported, never recreated over the user's data.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from paperidx import state
from paperidx.errors import AmbiguousIdError, LibraryError, NotFoundError
from paperidx.results import StoredPaper
from paperidx.text import normalize_arxiv_id, normalize_doi

if TYPE_CHECKING:
    from paperidx.models import Paper
    from paperidx.state import StateFilter

BUSY_TIMEOUT_MS = 30_000
# How long a mark, tag or note waits for a running ingest's file transaction.
USER_WAIT_SECONDS = 600
BATCH = 500

# Marks, tags, notes and watches: keyed by paper id (ids never change), in tables of their
# own, so re-ingesting, merging and reindexing papers never touch them.
_USER_TABLES: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS marks (paper_id TEXT PRIMARY KEY, read_at TEXT, starred_at TEXT)",
    "CREATE TABLE IF NOT EXISTS tags (paper_id TEXT NOT NULL, tag TEXT NOT NULL, "
    "added_at TEXT NOT NULL, PRIMARY KEY (paper_id, tag))",
    "CREATE INDEX IF NOT EXISTS tags_by_tag ON tags (tag)",
    "CREATE TABLE IF NOT EXISTS notes (paper_id TEXT PRIMARY KEY, body TEXT NOT NULL, "
    "updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS watches (name TEXT PRIMARY KEY, query TEXT NOT NULL, "
    "exclude TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)",
    # A paper a watch matched when it arrived; `seen` once `paperidx new` showed it.
    "CREATE TABLE IF NOT EXISTS watch_hits (watch TEXT NOT NULL, paper_id TEXT NOT NULL, "
    "found_at TEXT NOT NULL, seen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (watch, paper_id))",
)

# Schema changes are migrations: `MIGRATIONS[n]` takes a store from version n to n + 1.
# A store written by an older paperidx is migrated when it is opened, in one transaction
# (all steps land, or none), so it never sits half-migrated. Never edit a released step:
# add the next one. `_SCHEMA` is what a new store gets, equal to version 1 plus every step.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 0.2: the DOI (a merge key after the arXiv id) and the paper's own publication date.
    1: (
        "ALTER TABLE papers ADD COLUMN doi TEXT",
        "ALTER TABLE papers ADD COLUMN published TEXT",
        "CREATE INDEX IF NOT EXISTS papers_by_doi ON papers (doi)",
    ),
    # 0.2: the user's own state, which no digest can give back (see `paperidx.state`).
    2: _USER_TABLES,
}
SCHEMA_VERSION = 1 + len(MIGRATIONS)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL,
    authors TEXT NOT NULL,
    arxiv_id TEXT UNIQUE,
    dates TEXT NOT NULL,
    first_date TEXT,
    sources TEXT NOT NULL,
    links TEXT NOT NULL,
    rev INTEGER NOT NULL,
    doi TEXT,
    published TEXT
);
CREATE INDEX IF NOT EXISTS papers_by_rev ON papers (rev);
CREATE INDEX IF NOT EXISTS papers_by_date ON papers (first_date);
CREATE INDEX IF NOT EXISTS papers_by_doi ON papers (doi);
CREATE TABLE IF NOT EXISTS digests (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    papers INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS acronyms (
    short TEXT NOT NULL,
    long TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    PRIMARY KEY (short, long, paper_id)
);
CREATE INDEX IF NOT EXISTS acronyms_by_long ON acronyms (long);
""" + "".join(f"{statement};\n" for statement in _USER_TABLES)

_COLUMNS = "id, title, abstract, authors, arxiv_id, dates, sources, links, doi, published"


def _row_to_paper(row: sqlite3.Row | tuple[Any, ...]) -> StoredPaper:
    pid, title, abstract, authors, arxiv_id, dates, sources, links, doi, published = row
    return StoredPaper(
        id=pid,
        title=title,
        abstract=abstract,
        authors=json.loads(authors),
        arxiv_id=arxiv_id,
        dates=[dt.date.fromisoformat(d) for d in json.loads(dates)],
        sources=json.loads(sources),
        links=json.loads(links),
        doi=doi,
        published=dt.date.fromisoformat(published) if published else None,
    )


@contextmanager
def _library_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as error:
        raise LibraryError(_describe_sqlite_error(path, error)) from None


def _describe_sqlite_error(path: Path, error: sqlite3.DatabaseError) -> str:
    message = str(error)
    if "not a database" in message or "malformed" in message:
        return (
            f"the record store {path} is damaged ({message}); it was left untouched. "
            "Restore it from a backup, or move it away to start a new library"
        )
    if "readonly" in message or "read-only" in message:
        return f"the library at {path.parent} is read-only ({message})"
    if "disk is full" in message or "disk I/O" in message:
        return f"cannot write to the library at {path.parent}: {message}"
    if "unable to open" in message:
        return f"cannot open the record store {path}: {message}"
    if "locked" in message:
        return f"the record store {path} stayed locked by another process ({message})"
    return f"record store {path}: {message}"


def _create_empty(path: Path) -> None:
    """A new store with the schema, created whole or not at all.

    It is built under a temporary name and renamed into place, so a crash half-way leaves
    no half-made `papers.sqlite3` behind -- and any file that is there without the schema
    can be reported as damaged rather than "finished" over the user's data. Callers hold
    the writer lock, so no two processes create a store at once.
    """
    temporary = path.with_name(f".{path.name}.new-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(f".{path.name}.new-*"):  # from creations killed
            leftover.unlink(missing_ok=True)
        with _library_errors(path):
            db = sqlite3.connect(temporary, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(
                    f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                )
            finally:
                db.close()
        os.replace(temporary, path)
    except OSError as error:
        raise LibraryError(
            f"cannot create a library at {path.parent}: {error.strerror or error}"
        ) from None
    finally:
        for leftover in (temporary, *(temporary.with_name(temporary.name + s) for s in _SIDE)):
            with suppress(OSError):
                leftover.unlink(missing_ok=True)


# SQLite's companion files in WAL mode.
_SIDE = ("-wal", "-shm")
# A store found sound is checked in full again after this long, changed or not.
RECHECK_SECONDS = 7 * 24 * 3600


class CheckStamp:
    """Beside the store, `papers.sqlite3.checked`: when paperidx last found the file sound,
    and the file's identity (size, modification time in ns) as paperidx left it. Not the
    inode: a copy that keeps the times (`cp -a`, a backup tool) is the same file."""

    SUFFIX = ".checked"

    def __init__(self, checked_at: float, identity: list[int]) -> None:
        self.checked_at = checked_at
        self.identity = identity

    @staticmethod
    def identity_of(path: Path) -> list[int] | None:
        try:
            found = os.stat(path)
        except OSError:
            return None
        return [found.st_size, found.st_mtime_ns]

    @classmethod
    def read(cls, path: Path) -> CheckStamp | None:
        try:
            data = json.loads(path.with_name(path.name + cls.SUFFIX).read_text("utf-8"))
            return cls(float(data["checked_at"]), [int(n) for n in data["identity"]])
        except (OSError, ValueError, TypeError, KeyError):
            return None  # none yet, unreadable or not ours: check in full

    def vouches_for(self, path: Path) -> bool:
        recent = 0 <= time.time() - self.checked_at < RECHECK_SECONDS
        return recent and self.identity == self.identity_of(path)

    @classmethod
    def write(cls, path: Path, checked_at: float) -> None:
        identity = cls.identity_of(path)
        target = path.with_name(path.name + cls.SUFFIX)
        temporary = target.with_name(f".{target.name}.{os.getpid()}")
        try:
            if identity is None:
                target.unlink(missing_ok=True)
                return
            temporary.write_text(
                json.dumps({"checked_at": checked_at, "identity": identity}), "utf-8"
            )
            os.replace(temporary, target)
        except OSError:
            # A read-only library cannot keep a stamp: it is checked in full each time.
            with suppress(OSError):
                temporary.unlink(missing_ok=True)


_HEADER_SIZE = 100


def _refuse_if_truncated(path: Path) -> None:
    """Raise when the file is shorter than its own header says (a cut-off copy or a full disk).

    SQLite would notice only when a query reaches a missing page. Checked only when the WAL
    holds no frames: pages committed there may not be in the main file yet, and a
    checkpoint may be growing the file right now. The WAL is looked at again afterwards in
    case a writer started meanwhile.
    """
    wal = path.with_name(path.name + "-wal")
    if _has_frames(wal):
        return
    try:
        with open(path, "rb") as stream:
            header = stream.read(_HEADER_SIZE)
            size = os.fstat(stream.fileno()).st_size
    except OSError:
        return  # SQLite reports an unreadable file itself, with its own words
    if len(header) < _HEADER_SIZE or not header.startswith(b"SQLite format 3\x00"):
        return  # an empty file, or not SQLite: `_prepare` and SQLite report those
    # https://www.sqlite.org/fileformat.html#the_database_header
    (page_size,) = struct.unpack_from(">H", header, 16)
    page_size = 65536 if page_size == 1 else page_size
    change_counter, pages = struct.unpack_from(">II", header, 24)
    (valid_for,) = struct.unpack_from(">I", header, 92)
    if change_counter != valid_for or pages == 0:
        return  # the in-header size is not maintained: nothing to compare against
    if size < pages * page_size and not _has_frames(wal):
        raise LibraryError(
            f"the record store {path} is damaged (truncated: {size} bytes, its header says "
            f"{pages * page_size}); it was left untouched. "
            "Restore it from a backup, or move it away to start a new library"
        )


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _fold_log(path: Path) -> None:
    """`Store.fold_log_in_background`'s thread: one passive checkpoint, errors ignored."""
    try:
        db = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        pass  # the owner's close checkpoints instead


def _has_frames(wal: Path) -> bool:
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


class Store:
    """Papers, digests seen and acronyms, in one SQLite file."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        # When this process found the file sound (None: not looked): the stamp to keep.
        self._sound_since: float | None = None
        self._folding: threading.Thread | None = None

    @classmethod
    def open(cls, path: Path, *, create: bool = True) -> Store:
        """Open the store; with `create`, make a new empty one when there is none.

        An existing file is only ever opened, never initialised: a file without paperidx's
        schema is damaged or foreign, and reported as such.
        """
        if not path.exists():
            if not create:
                raise NotFoundError(f"no library at {path.parent} yet: run 'paperidx ingest' first")
            _create_empty(path)
        with _library_errors(path):
            _refuse_if_truncated(path)
            try:
                return cls._connect(path, str(path))
            except sqlite3.OperationalError as error:
                # WAL mode needs its `-shm` file, which a read-only file system cannot hold.
                # Nothing can change the file there, so reading it as immutable is exact.
                if create or "unable to open" not in str(error) or not _read_only_fs(path):
                    raise
                return cls._connect(path, f"{path.resolve().as_uri()}?immutable=1")

    @classmethod
    def _connect(cls, path: Path, target: str) -> Store:
        db = sqlite3.connect(
            target,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            uri=target.startswith("file:"),
        )
        store = cls(path, db)
        try:
            store._prepare()
        except BaseException:
            db.close()
            raise
        return store

    def _prepare(self) -> None:
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # In WAL mode NORMAL still survives any crash of the process (kill -9 included);
        # only a power cut can undo the last committed ingest, which re-running restores.
        # FULL costs an fsync per commit and at close (~0.2 s of a daily ingest).
        self._db.execute("PRAGMA synchronous = NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if 1 <= version < SCHEMA_VERSION:
            self._migrate()
            return
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"the record store {self.path} was written by a newer paperidx "
                f"(schema {version}, this version knows {SCHEMA_VERSION}); upgrade paperidx"
            )
        # Stores are created complete (see `_create_empty`), so a file without the schema
        # is not one of ours, or was emptied: report it, and never write a schema into it.
        raise LibraryError(
            f"the record store {self.path} is damaged or not a paperidx library "
            "(it has no paperidx schema); it was left untouched. "
            "Restore it from a backup, or move it away to start a new library"
        )

    def _migrate(self) -> None:
        """Bring a store written by an older paperidx up to `SCHEMA_VERSION`, all or nothing.

        BEGIN IMMEDIATE takes SQLite's write lock first, so two commands opening the same
        old store migrate it once: the second finds it already done.
        """
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise LibraryError(
                f"the record store {self.path} was written by an older paperidx and must be "
                f"upgraded, which needs write access ({error})"
            ) from None
        try:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version]:
                    self._db.execute(statement)
                version += 1
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._roll_back()
            raise

    def schema_version(self) -> int:
        with _library_errors(self.path):
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def refuse_if_damaged(self) -> None:
        """Raise `LibraryError` when SQLite's quick check finds damage (before any write).

        The check reads the whole file: 30 ms at 20k papers, 0.14 s at 75k with the file
        cached, seconds without; every `mark` and daily ingest would pay it. So it is skipped
        when the file is exactly as paperidx left it after a check (`CheckStamp`): same size
        and modification time, checked less than `RECHECK_SECONDS` ago. A file changed
        by anything else (an older backup put back, a truncation, another program) is
        checked in full; `doctor` always checks in full.
        """
        stamp = CheckStamp.read(self.path)
        if stamp is not None and stamp.vouches_for(self.path):
            self._sound_since = stamp.checked_at
            return
        problems = self.integrity_problems()
        if problems:
            shown = "; ".join(problems[:3])
            raise LibraryError(
                f"the record store {self.path} is damaged ({shown}); it was left untouched. "
                "Restore it from a backup, or move it away to start a new library"
            )
        self._sound_since = time.time()

    def fold_log_in_background(self) -> None:
        """Start copying what the write-ahead log holds into the file (SQLite's checkpoint)
        on a connection of its own, in a thread; `close` waits for it.

        Closing the last connection does this anyway, in the foreground: after a daily
        digest ~1 MB of pages written and two syncs, ~20 ms of waiting on the disk. sqlite3
        lets go of the GIL while SQLite works, so started before the index is updated,
        the copy overlaps that CPU-bound work and close finds little left. A passive
        checkpoint never waits for, or blocks, this process's reads and writes; if it
        fails, nothing is lost: close copies the log as it always did.
        """
        if self._folding is not None and self._folding.is_alive():
            return  # one copy at a time: the next close or call copies what it left
        self._folding = threading.Thread(
            target=_fold_log, args=(self.path,), name="paperidx-checkpoint", daemon=True
        )
        self._folding.start()

    def close(self) -> None:
        if self._folding is not None:
            self._folding.join()
            self._folding = None
        self._db.close()
        # Closing checkpoints the log into the file: its final state is the one to vouch for.
        if self._sound_since is not None:
            CheckStamp.write(self.path, self._sound_since)

    # -- reading -----------------------------------------------------------------------

    def revision(self) -> int:
        with _library_errors(self.path):
            row = self._db.execute("SELECT value FROM meta WHERE key = 'rev'").fetchone()
        return int(row[0]) if row else 0

    def count(self) -> int:
        with _library_errors(self.path):
            return int(self._db.execute("SELECT count(*) FROM papers").fetchone()[0])

    def get_many(self, ids: list[str]) -> dict[str, StoredPaper]:
        found: dict[str, StoredPaper] = {}
        with _library_errors(self.path):
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM papers WHERE id IN ({marks})", chunk
                )
                found.update((paper.id, paper) for paper in map(_row_to_paper, rows))
        return found

    def texts(self, ids: list[str]) -> dict[str, str]:
        """Title and abstract of each paper, as the index saw them (for re-ranking)."""
        return {pid: p.searchable_text for pid, p in self.get_many(ids).items()}

    def resolve(self, reference: str) -> StoredPaper:
        """A paper by id, unique id prefix (like git), or arXiv id / arXiv URL."""
        reference = reference.strip()
        arxiv_id = normalize_arxiv_id(reference)
        doi = normalize_doi(reference) if "10." in reference else None
        with _library_errors(self.path):
            for column, value in (("arxiv_id", arxiv_id), ("doi", doi)):
                if not value:
                    continue
                row = self._db.execute(
                    f"SELECT {_COLUMNS} FROM papers WHERE {column} = ? ORDER BY id LIMIT 1",
                    (value,),
                ).fetchone()
                if row:
                    return _row_to_paper(row)
            prefix = reference.lower()
            if prefix and all(c in "0123456789abcdef" for c in prefix):
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT 51",
                    (prefix, prefix + "g"),
                ).fetchall()
                if len(rows) == 1:
                    return _row_to_paper(rows[0])
                if len(rows) > 1:
                    papers = [_row_to_paper(r) for r in rows]
                    raise AmbiguousIdError(reference, [(p.id, p.title) for p in papers])
        raise NotFoundError(f"no paper with id {reference!r} in the library")

    def iter_all(
        self,
        *,
        limit: int | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        wanted: StateFilter | None = None,
    ) -> Iterator[StoredPaper]:
        """Papers newest first (by the day a paper first appeared in a digest, then by title),
        `BATCH` rows at a time: exporting 75k papers stays small.

        One statement serves the whole walk: SQLite keeps its read snapshot until the
        statement ends, so an ingest running meanwhile can neither duplicate nor drop papers
        (paging with several queries could). SQLite's sorter spills to temporary files, so
        the ORDER BY does not hold the library in memory either.
        """
        clauses, params = _date_clauses(since, until)
        if wanted is not None and wanted.active:
            condition, more = state.filter_clause(wanted, "id")
            clauses.append(condition)
            params.extend(more)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            f"SELECT {_COLUMNS} FROM papers {where} "
            "ORDER BY first_date IS NULL, first_date DESC, title COLLATE NOCASE, id"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self._walk(sql, params)

    def _walk(self, sql: str, params: Sequence[object]) -> Iterator[StoredPaper]:
        """The papers one SELECT returns, fetched `BATCH` rows at a time from one statement."""
        with _library_errors(self.path):
            cursor = self._db.execute(sql, params)
        try:
            while True:
                with _library_errors(self.path):
                    rows = cursor.fetchmany(BATCH)
                if not rows:
                    return
                yield from map(_row_to_paper, rows)
        finally:
            # Left unfinished (a closed pipe), the walk may end after the library closed.
            with suppress(sqlite3.ProgrammingError):
                cursor.close()

    def count_changed(self, after_revision: int) -> int:
        with _library_errors(self.path):
            row = self._db.execute("SELECT count(*) FROM papers WHERE rev > ?", (after_revision,))
            return int(row.fetchone()[0])

    def iter_changed(self, after_revision: int) -> Iterator[StoredPaper]:
        """Every paper changed after `after_revision`, read `BATCH` rows at a time.

        One statement for the whole walk (as in `iter_all`): paging with `(rev, id) > (?, ?)`
        re-sorted every row per page, 16 s of a 75k-paper rebuild.
        """
        return self._walk(f"SELECT {_COLUMNS} FROM papers WHERE rev > ?", (after_revision,))

    def digests(self) -> int:
        with _library_errors(self.path):
            return int(self._db.execute("SELECT count(*) FROM digests").fetchone()[0])

    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        with _library_errors(self.path):
            low, high = self._db.execute(
                "SELECT min(first_date), max(first_date) FROM papers"
            ).fetchone()
        return (
            dt.date.fromisoformat(low) if low else None,
            dt.date.fromisoformat(high) if high else None,
        )

    def count_with_arxiv_id(self) -> int:
        with _library_errors(self.path):
            return int(
                self._db.execute(
                    "SELECT count(*) FROM papers WHERE arxiv_id IS NOT NULL"
                ).fetchone()[0]
            )

    def alternatives(self, phrases: list[str]) -> dict[str, list[str]]:
        """For each phrase that is a known acronym or long form: the other side's forms.

        Forms seen in fewer than a third as many papers as the most common one are left
        out, so a stray definition does not drag unrelated papers into results.
        """
        wanted = sorted({p.lower() for p in phrases})
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        found: dict[str, list[tuple[int, str]]] = {}
        with _library_errors(self.path):
            for key, other in (("short", "long"), ("long", "short")):
                rows = self._db.execute(
                    f"SELECT {key}, {other}, count(*) FROM acronyms WHERE {key} IN ({marks}) "
                    f"GROUP BY {key}, {other}",
                    wanted,
                )
                for phrase, form, papers in rows:
                    found.setdefault(phrase, []).append((papers, form))
        result: dict[str, list[str]] = {}
        for phrase, forms in found.items():
            forms.sort(reverse=True)
            top = forms[0][0]
            result[phrase] = [form for papers, form in forms[:3] if papers * 3 >= top]
        return result

    # -- the user's state (see `paperidx.state`) ----------------------------------------

    def state_selection(self, wanted: StateFilter) -> tuple[set[str], bool]:
        """The papers passing `wanted` as (ids, True), or those failing it as (ids, False):
        whichever list is shorter (`is:unread` is most of a library; its complement is not).
        """
        condition, params = state.filter_clause(wanted, "id")
        with _library_errors(self.path):
            (matching,) = self._db.execute(
                f"SELECT count(*) FROM papers WHERE {condition}", params
            ).fetchone()
            allow = matching * 2 <= self.count()
            where = condition if allow else f"NOT ({condition})"
            rows = self._db.execute(f"SELECT id FROM papers WHERE {where}", params)
            return {row[0] for row in rows}, allow

    def read_state(self, read: Callable[[sqlite3.Connection], T]) -> T:
        """Run `read` (a `paperidx.state` reader) on this store's connection."""
        with _library_errors(self.path):
            return read(self._db)

    @contextmanager
    def user_transaction(self, on_wait: Callable[[str], None]) -> Iterator[sqlite3.Connection]:
        """One atomic change to the user's state.

        An ingest holds SQLite's write lock for one file at a time. Rather than fail after
        the usual busy timeout, a change made meanwhile says that it waits, then waits (up
        to `USER_WAIT_SECONDS`) and applies: never a lost update, never a silent hang.
        """
        with _library_errors(self.path):
            self._db.execute("PRAGMA busy_timeout = 0")
            try:
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) and "busy" not in str(error):
                        raise
                    on_wait("waiting for another paperidx process to finish writing…")
                    self._db.execute(f"PRAGMA busy_timeout = {USER_WAIT_SECONDS * 1000}")
                    self._db.execute("BEGIN IMMEDIATE")
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise

    def integrity_problems(self) -> list[str]:
        with _library_errors(self.path):
            rows = self._db.execute("PRAGMA quick_check").fetchall()
        return [r[0] for r in rows if r[0] != "ok"]

    # -- writing -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[StoreWriter]:
        """One atomic change: everything written inside lands together, or not at all."""
        with _library_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                writer = StoreWriter(self._db, self.revision() + 1)
                yield writer
                writer.finish()
                self._db.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise

    def _roll_back(self) -> None:
        # SQLite has already rolled back after some errors (a full disk, an I/O error); a
        # second ROLLBACK would fail and hide the error that matters.
        if self._db.in_transaction:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


def _date_clauses(since: dt.date | None, until: dt.date | None) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("first_date >= ?")
        params.append(since.isoformat())
    if until is not None:
        clauses.append("first_date <= ?")
        params.append(until.isoformat())
    return clauses, params


class StoreWriter:
    """Writes within one transaction; see `Store.transaction`."""

    def __init__(self, db: sqlite3.Connection, revision: int) -> None:
        self._db = db
        self.revision = revision

    def add(self, paper: Paper) -> tuple[bool, str]:
        """Store a paper, merging it into the copy already there.

        Returns whether it is new, and the id it is stored under (the existing copy's id
        when it merged: ids never change).
        """
        from paperidx.models import merge, searched_alike, twin_id

        existing = self._find(paper)
        if existing is None:
            taken = self._load(paper.id)
            if (
                taken is not None
                and paper.arxiv_id
                and taken.arxiv_id not in (None, paper.arxiv_id)
            ):
                # Two different arXiv papers with the same title: keep both, apart.
                paper = paper.model_copy(update={"id": twin_id(paper.title, paper.arxiv_id)})
                existing = self._load(paper.id)
            else:
                existing = taken
        if existing is None:
            self._write(paper)
            return True, paper.id
        merged = merge(existing, paper)
        if merged != existing:
            # The search index catches up on papers of newer revisions: one whose document
            # stays the same keeps its revision (digests overlap: the same papers come back
            # from another feed, with only a new source or link).
            self._write(merged, reindex=not searched_alike(existing, merged))
        return False, existing.id

    def _find(self, paper: Paper) -> Paper | None:
        """The stored copy of `paper`: by arXiv id, then by DOI, then by title."""
        if paper.arxiv_id:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM papers WHERE arxiv_id = ?", (paper.arxiv_id,)
            ).fetchone()
            if row:
                return _stored_to_model(_row_to_paper(row))
        if paper.doi:
            # A DOI match with another arXiv id is another paper (a preprint and its
            # journal version may share a DOI only when someone says they are one).
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM papers WHERE doi = ? "
                "AND (arxiv_id IS NULL OR ? IS NULL OR arxiv_id = ?) ORDER BY id LIMIT 1",
                (paper.doi, paper.arxiv_id, paper.arxiv_id),
            ).fetchone()
            if row:
                return _stored_to_model(_row_to_paper(row))
        existing = self._load(paper.id)
        if (
            existing is not None
            and paper.arxiv_id
            and existing.arxiv_id not in (None, paper.arxiv_id)
        ):
            return None
        return existing

    def _load(self, paper_id: str) -> Paper | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM papers WHERE id = ?", (paper_id,)
        ).fetchone()
        return _stored_to_model(_row_to_paper(row)) if row else None

    def _write(self, paper: Paper, *, reindex: bool = True) -> None:
        revision = self.revision
        if not reindex:
            row = self._db.execute("SELECT rev FROM papers WHERE id = ?", (paper.id,)).fetchone()
            revision = row[0]
        data = paper.model_dump(mode="json")
        self._db.execute(
            "INSERT OR REPLACE INTO papers (id, title, abstract, authors, arxiv_id, dates, "
            "first_date, sources, links, rev, doi, published) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                data["id"],
                data["title"],
                data["abstract"],
                json.dumps(data["authors"], ensure_ascii=False),
                data["arxiv_id"],
                json.dumps(data["dates"]),
                data["dates"][0] if data["dates"] else None,
                json.dumps(data["sources"], ensure_ascii=False),
                json.dumps(data["links"], ensure_ascii=False),
                revision,
                data["doi"],
                data["published"],
            ),
        )

    @property
    def connection(self) -> sqlite3.Connection:
        """The transaction's connection, for `paperidx.state` writes that ride along."""
        return self._db

    def record_digest(self, sha256: str, name: str, papers: int) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._db.execute(
            "INSERT INTO digests (sha256, name, ingested_at, papers) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (sha256) DO UPDATE SET ingested_at = excluded.ingested_at",
            (sha256, name, now, papers),
        )

    def add_acronyms(self, paper_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO acronyms (short, long, paper_id) VALUES (?, ?, ?)",
            ((short, long, paper_id) for short, long in pairs),
        )

    def finish(self) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('rev', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(self.revision),),
        )


def _stored_to_model(stored: StoredPaper) -> Paper:
    from paperidx.models import Paper

    # Already validated when it was stored; skip validation on the way back in.
    return Paper.model_construct(
        **stored.to_dict() | {"dates": list(stored.dates), "published": stored.published}
    )


__all__ = ["SCHEMA_VERSION", "Store", "StoreWriter"]
