"""`paperidx doctor`: what is checked, and the one repair it may make.

The store (opens, SQLite's quick check, schema version), the user's state (every mark, tag,
note and watch hit belongs to a stored paper; every watch's query parses), and the search
index (opens, caught up to the store's revision, holding as many papers as the store). The
only repair is rebuilding an index that fails a check from a sound store; a damaged store
and the user's state are only ever reported.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from paperidx import state
from paperidx.errors import IndexDamagedError, LibraryError, NotFoundError
from paperidx.locking import writer_lock
from paperidx.reports import Finding

if TYPE_CHECKING:
    from paperidx.index_sync import IndexSync
    from paperidx.store import Store

STORE_OPENS = "store opens"
STORE_INTEGRITY = "store integrity"
STORE_SCHEMA = "store schema"
USER_STATE = "user state"
INDEX_OPENS = "index opens"
INDEX_REVISION = "index revision"
INDEX_DOCUMENTS = "index documents"


def doctor(open_store: Callable[[], Store], sync: IndexSync, *, fix: bool) -> list[Finding]:
    """Check the library. Changes nothing, unless `fix`: then an index that fails a check is
    rebuilt from a sound store, and checked again.

    Runs under the writer lock, so a running ingest is waited for rather than mistaken for
    drift between the store and the index.
    """
    paths = sync.paths
    if not paths.store.exists():
        raise NotFoundError(f"no library at {paths.home} yet: run 'paperidx ingest' first")
    with ExitStack() as locked:
        try:
            locked.enter_context(writer_lock(paths.lock, purpose="doctor", on_wait=sync.on_message))
        except LibraryError:
            if fix:
                raise
            # No lock file can be made (a read-only library): then no writer can be at work
            # either, and checking without the lock is exact.
        findings = examine(open_store, sync)
        index_fails = any(not f.ok for f in findings if f.check.startswith("index"))
        if fix and _store_is_sound(findings) and index_fails:
            sync.on_message("rebuilding the search index from the record store")
            sync.rebuild(open_store())
            findings = examine(open_store, sync)
    return findings


def examine(open_store: Callable[[], Store], sync: IndexSync) -> list[Finding]:
    from paperidx.store import SCHEMA_VERSION

    try:
        store = open_store()
        version = store.schema_version()
        problems = store.integrity_problems()
    except LibraryError as error:
        return [Finding(STORE_OPENS, False, str(error))]
    findings = [
        Finding(STORE_OPENS, True, str(sync.paths.store)),
        Finding(
            STORE_INTEGRITY,
            not problems,
            "SQLite quick_check: " + ("ok" if not problems else "; ".join(problems[:5])),
        ),
        Finding(
            STORE_SCHEMA,
            version == SCHEMA_VERSION,
            f"schema version {version} (this paperidx writes {SCHEMA_VERSION})",
        ),
        user_state_finding(store),
    ]
    papers, revision = store.count(), store.revision()
    index = sync.index()
    try:
        found = index.check()
        documents = index.doc_count() if found is not None else 0
    except IndexDamagedError as damage:
        return [*findings, Finding(INDEX_OPENS, False, str(damage))]
    if found is None:
        return [*findings, Finding(INDEX_OPENS, False, f"no search index at {index.path}")]
    return [
        *findings,
        Finding(INDEX_OPENS, True, str(index.path)),
        Finding(
            INDEX_REVISION,
            found.revision == revision,
            f"index at store revision {found.revision}, the store is at {revision}",
        ),
        Finding(
            INDEX_DOCUMENTS,
            documents == papers,
            f"{documents} papers in the index, {papers} in the store",
        ),
    ]


def user_state_finding(store: Store) -> Finding:
    """The user's marks, tags, notes and watches: every row belongs to a stored paper, and
    every watch's query still parses."""
    from paperidx.search.plan import syntax_problem

    counts = store.read_state(state.counts)
    summary = ", ".join(f"{count} {what}" for what, count in counts.items())
    problems = [
        f"{n} {table} rows for papers not in the store"
        for table, n in store.read_state(state.orphans).items()
    ]
    for watch in store.read_state(state.watches):
        problem = syntax_problem(watch.query) or syntax_problem(watch.exclude)
        if problem:
            problems.append(f"watch {watch.name!r} has {problem}")
    return Finding(USER_STATE, not problems, "; ".join(problems) or summary)


def _store_is_sound(findings: list[Finding]) -> bool:
    return all(f.ok for f in findings if f.check.startswith("store"))


__all__ = ["doctor", "examine", "user_state_finding"]
