"""The `paperidx` command's entry point: the installed script and `python -m paperidx`.

It sets the process's garbage-collection policy before anything else is imported, then
runs the CLI (`paperidx.cli.main`, which also sets aside what its imports loaded).
"""

from __future__ import annotations

import gc

# Allocations between two collections of the cyclic collector's youngest generation
# (Python's default: 700). A command imports ~100,000 objects that live as long as the
# process (typer, Whoosh, pydantic, the parsers); at 700, ~120 young collections and ~10
# older ones walked them as they arrived, ~9 ms of a daily ingest and ~5 ms of a search.
# At 100,000 those commands collect nothing; a bulk ingest still collects every 100,000
# allocations, each collection walking at most that many young objects (mypy, another
# import-heavy command, raises it to 200,000).
YOUNG_GENERATION_THRESHOLD = 100_000


def main() -> None:
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
    from paperidx.cli import main as run

    run()


if __name__ == "__main__":
    main()
