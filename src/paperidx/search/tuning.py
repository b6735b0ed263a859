"""Every ranking constant, each with why it has its value.

Measured with `benchmarks/quality.py` (SciFact, CISI, Cranfield) unless said otherwise:
change one, run it again. Pure constants (no Whoosh).
"""

from __future__ import annotations

# -- first stage: BM25 ---------------------------------------------------------------------

# BM25's customary term-frequency saturation (k1) and length normalisation (b), Lucene's
# defaults; the ranking's other choices were measured on top of them.
K1 = 1.2
B = 0.75
# BM25 on the title alone, added at this weight to BM25 on title+abstract: a title match
# helps topic queries without letting titles drown the abstract for claim-like queries (a
# title boost of 2 lost 0.04 nDCG@10 on SciFact: the note on issue 3).
TITLE_WEIGHT = 0.3

# -- re-ranking ------------------------------------------------------------------------------

# How many of the best first-stage hits get the proximity bonus: depths 30, 50 and 100 gave
# the same nDCG@10, and fewer texts are read from the store.
RERANK_DEPTH = 30
# The proximity bonus's scale: small, so it reorders close BM25 scores rather than override them.
PROXIMITY_WEIGHT = 0.1
# Query-term pairs within this many tokens count as near ("gaussian splatting" as a phrase).
PROXIMITY_SPAN = 3
# Only the rarest query terms make pairs: their number grows with the square of the terms,
# and a pasted paragraph must not cost seconds.
PROXIMITY_MAX_TERMS = 12

# -- acronym expansion -----------------------------------------------------------------------

# Alternatives (an acronym's long forms, a long form's acronym) weigh less than the words
# typed, so papers using the user's own words still come first.
EXPANSION_BOOST = 0.6

# -- spelling --------------------------------------------------------------------------------

# The most edits a correction (and the fuzzy fallback) may make.
MAX_EDIT_DISTANCE = 2
# Only words this long are corrected by two edits; shorter ones have too many neighbours.
LONG_WORD = 8
# A query of at most this many words is a short one ...
SHORT_QUERY_WORDS = 4
# ... whose words are corrected from this length ...
SHORTEST_CORRECTED = 4
# ... while a long question is full of words no paper uses: only clear typos (long words)
# are worth fixing there.
SHORTEST_CORRECTED_IN_LONG_QUERY = 7
# In a query longer than SHORT_QUERY_WORDS, these words say how it is asked, not what it is
# about ("how well do LLMs follow long instructions": "how", "do"), and a paper titled "How
# Well Do ..." on another subject matched them; they are left out of the scoring (measured on
# the question queries of benchmarks/hf_judged.py, and CISI's and Cranfield's questions).
QUESTION_WORDS = frozenset(
    [
        "how",
        "why",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "do",
        "does",
        "did",
        "doing",
        "make",
        "making",
        "makes",
        "get",
        "getting",
        "gets",
        "thing",
        "things",
        "way",
        "ways",
        "one",
        "ones",
        "them",
        "they",
        "their",
        "there",
    ]
)
# Longer "words" are identifiers or garbage; their one-edit neighbourhood is huge.
LONGEST_WORD = 30

# -- similar papers and recommendations ------------------------------------------------------

# How many of a paper's most distinctive terms (Whoosh's Bo1 key terms) stand for it when
# looking for papers like it: enough to describe an abstract, few enough to score fast.
KEY_TERMS = 25
# How many of each starred paper's nearest papers count towards a recommendation, and how
# strongly papers read without a star push theirs down (measured: benchmarks/recommend.py).
RECOMMEND_NEIGHBOURS = 100
RECOMMEND_DISLIKE_WEIGHT = 0.0
