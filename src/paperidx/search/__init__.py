"""Search: everything between a query string and ranked paper ids, and the index behind it.

Whoosh is imported only inside this package, and only by the modules that need it. The
modules, each importing only modules listed before it:

- `fields`: the index's field names, defined once. `tuning`: every ranking constant.
- `plan`: the query as typed -> a `QueryPlan` (filters, syntax checks); pure text, no
  Whoosh, so checking a watch or listing papers never loads it. `acronyms`: mining
  "Low-Rank Adaptation (LoRA)" from abstracts at ingest; pure text too.
- `analysis`: the analyzer the index is built with, query analysis, snippets.
- `first_stage`: BM25 scoring, and every use of Whoosh's private internals.
- `index`: `SearchIndex`, the Whoosh index on disk (schema, writing, state, damage). It
  knows nothing of ranking; ranking opens its searchers from it.
- `syntax` (the query parser), `spelling` (corrections), `expansion` (acronyms), `rerank`
  (proximity).
- `ranking`: `run`, `similar` and `recommend`, what `paperidx.library` calls.

This file imports nothing, so importing `paperidx.search.plan` stays as light as it was.
"""
