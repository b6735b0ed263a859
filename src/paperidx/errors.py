"""One error hierarchy for the whole library, and the exit code each family maps to.

Library code raises these; only the CLI turns them into a message and an exit code, in one
place (`paperidx.cli`). Every message is written to be shown to the user as one line.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; documented in the README."""

    OK = 0
    ERROR = 1  # anything unexpected
    USAGE = 2  # bad command line (typer/click's own code)
    INPUT = 3  # a digest could not be read or held no papers
    NOT_FOUND = 4  # no paper with that id
    AMBIGUOUS = 5  # an id prefix matches several papers
    LIBRARY = 6  # the library on disk is damaged, read-only or full
    LOCKED = 7  # another paperidx process held the library for too long
    NETWORK = 8  # `fetch`: no network, the server unreachable or failing after retries
    INTERRUPTED = 130


class PaperidxError(Exception):
    """Base of every error paperidx reports to the user."""

    exit_code: ExitCode = ExitCode.ERROR


class InputError(PaperidxError):
    """An input file cannot be read as a digest."""

    exit_code = ExitCode.INPUT


class OutputError(PaperidxError):
    """A file the user asked paperidx to write (`export --output`) cannot be written.

    Same family and exit code as `InputError`: a file named on the command line is unusable.
    """

    exit_code = ExitCode.INPUT


class UsageError(PaperidxError):
    """A request the library cannot carry out as asked: an unknown mark, a malformed watch
    query, an empty note. Same exit code as a bad command line."""

    exit_code = ExitCode.USAGE


class NotFoundError(PaperidxError):
    exit_code = ExitCode.NOT_FOUND


class AmbiguousIdError(PaperidxError):
    exit_code = ExitCode.AMBIGUOUS

    def __init__(self, prefix: str, candidates: list[tuple[str, str]]) -> None:
        self.prefix = prefix
        self.candidates = candidates
        shown = "; ".join(f"{pid} {title[:60]}" for pid, title in candidates[:10])
        more = f" (and {len(candidates) - 10} more)" if len(candidates) > 10 else ""
        super().__init__(f"id prefix {prefix!r} matches {len(candidates)} papers: {shown}{more}")


class LibraryError(PaperidxError):
    """The library on disk cannot be used: damaged, unreadable, read-only or full."""

    exit_code = ExitCode.LIBRARY


class IndexDamagedError(LibraryError):
    """The search index cannot be used as it is: damaged, missing a file, out of step with
    its state file or the store. The library rebuilds it from the store; the error reaches
    the user only when that is impossible."""


class LockTimeoutError(PaperidxError):
    exit_code = ExitCode.LOCKED


class NetworkError(PaperidxError):
    """`paperidx fetch` could not get an answer: no network, a host that does not resolve or
    refuses, timeouts or server errors that outlasted the retries, or a refused request.

    A response that arrives but is unusable (cut off, too big, not JSON or XML) is an
    `InputError` instead: it is refused like a bad file.
    """

    exit_code = ExitCode.NETWORK
