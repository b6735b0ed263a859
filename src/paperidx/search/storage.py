"""Where the Whoosh index lives on disk: its name in the folder and how its files are opened.

Shared by `paperidx.search.index` and the bulk indexer's worker processes
(`paperidx.search.parallel`), which open the same index from a fresh interpreter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

INDEX_NAME = "papers"


def file_storage(path: Path) -> Any:
    """Whoosh's file storage without memory-mapping.

    With mmap, Whoosh reads a compound segment by copying each part it opens into memory
    (`BufferFile` wraps the map in a `BytesIO`): 350 MB per search at 75k papers. Without
    it, parts are read in place. Compound segments stay: their directory sits at the end of
    the file, so a truncated segment is noticed as soon as the index is opened.
    """
    from whoosh.filedb.filestore import FileStorage

    return FileStorage(str(path), supports_mmap=False)
