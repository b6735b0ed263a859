"""The index's field names, defined once: the schema, the ranking and the query parser use
these, so a renamed field cannot drift between them. Pure constants (no Whoosh)."""

from __future__ import annotations

ID = "id"
TITLE = "title"
# Title and abstract together: what queries match, and the default field of the parser.
TEXT = "text"
AUTHORS = "authors"
ARXIV_ID = "arxiv_id"
DATE = "date"

# Names the query language accepts for a field besides its own ("author:", "abstract:").
ALIASES = {AUTHORS: ["author"], ARXIV_ID: ["arxiv"], TEXT: ["abstract"]}

# The field prefixes a user types that make a query need the parser (`date:` is taken out
# of the query when it is planned, before the parser sees it).
QUERY_FIELDS = frozenset(
    {ID, TITLE, TEXT, AUTHORS, *(alias for names in ALIASES.values() for alias in names)}
)
