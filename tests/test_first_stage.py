"""`first_stage.score` with a cut-off (`keep`) against scoring every paper, on real papers.

The cut-off must change nothing a search shows: the best `keep` papers, their scores and
their order (ties included) are those of scoring every posting. Checked on the first
papers of the shared arXiv set, in one segment, and in two segments with a paper ingested
again (its old copy deleted, but still in the first segment's postings); and scoring
everything is checked against Whoosh's own BM25.
"""

from __future__ import annotations

import gzip
import heapq
import itertools
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query

from paperidx.search import fields, first_stage
from paperidx.search.analysis import analyse
from paperidx.search.index import SearchIndex
from paperidx.search.tuning import TITLE_WEIGHT

from .conftest import SHARED_DATA, invoke

DATASET = SHARED_DATA / "arxiv_cs_75k" / "papers.jsonl.gz"
FIRST_BATCH = 1800
SECOND_BATCH = 400
# Added to one paper of the first batch, ingested again with the second.
REVISION = " We revisit it for zymurgy and quokka ecology."

QUERIES = [
    "gaussian splatting",
    "lora",
    "diffusion models",
    "mixture of experts",
    "speculative decoding",
    "graph neural networks",
    "reinforcement learning from human feedback",
    "how can large language models be made to reason more reliably about math problems",
    "compressing the key value cache of transformers for long context inference on one gpu",
    "which methods detect objects in images and videos with deep neural networks in real time",
    # Repeated words weigh more.
    "model models modeling modelled language model",
    "learning learning learning to rank",
]
KEEPS = [1, 10, 30, 31, 100]


# -- libraries --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def papers() -> list[dict[str, Any]]:
    if not DATASET.is_file():
        pytest.skip(f"shared data not found at {DATASET}")
    with gzip.open(DATASET, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in itertools.islice(lines, FIRST_BATCH + SECOND_BATCH)]


def ingest(home: Path, batch: list[dict[str, Any]], source: Path) -> None:
    source.write_text("".join(json.dumps(paper) + "\n" for paper in batch), encoding="utf-8")
    result = invoke("--home", str(home), "ingest", str(source))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def one_segment(papers: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("first-stage")
    ingest(folder / "library", papers[:FIRST_BATCH], folder / "first.jsonl")
    return folder / "library"


@pytest.fixture(scope="module")
def two_segments(
    one_segment: Path, papers: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The same papers, then a second batch (a segment of its own) with one paper of the
    first batch again, revised: Whoosh deletes its first copy."""
    folder = tmp_path_factory.mktemp("first-stage-two")
    shutil.copytree(one_segment, folder / "library")
    revised = dict(papers[10], summary=papers[10]["summary"] + REVISION)
    ingest(folder / "library", [revised, *papers[FIRST_BATCH:]], folder / "second.jsonl")
    return folder / "library"


@pytest.fixture(params=["one_segment", "two_segments"])
def library(request: pytest.FixtureRequest) -> Path:
    home: Path = request.getfixturevalue(request.param)
    return home


@contextmanager
def searcher(home: Path) -> Iterator[Any]:
    with SearchIndex(home / "index").searcher(first_stage.weighting()) as opened:
        yield opened


@pytest.fixture
def always_cut(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cut-off taken whenever `keep` is given (on a small library it is often cheaper
    to score everything); returns the `keep` of every cut-off taken."""
    monkeypatch.setattr(first_stage, "_REDO", 0)
    taken: list[int] = []
    best = first_stage._best

    def spy(lists: Any, keep: int, documents: int) -> tuple[dict[int, float], int]:
        taken.append(keep)
        return best(lists, keep, documents)

    monkeypatch.setattr(first_stage, "_best", spy)
    return taken


# -- the comparison ----------------------------------------------------------------------


def weights_of(text: str) -> dict[str, float]:
    """A plain query's terms and weights, as `ranking` makes them (repeats count)."""
    return {term: float(count) for term, count in Counter(analyse(text)).items()}


def best(scored: first_stage.Scored, keep: int) -> list[tuple[int, float]]:
    """What `ranking` takes from the scores: the first `keep` by score, ties in dict order."""
    return heapq.nlargest(keep, scored.scores.items(), key=lambda item: item[1])


def assert_same_best(opened: Any, weights: dict[str, float], keep: int) -> None:
    everything = first_stage.score(opened, weights, None)
    cut = first_stage.score(opened, weights, keep)
    expected, found = best(everything, keep), best(cut, keep)
    assert [doc for doc, _ in found] == [doc for doc, _ in expected]
    assert [value for _, value in found] == pytest.approx(
        [value for _, value in expected], abs=1e-9, rel=0
    )
    assert cut.idf == everything.idf
    assert everything.matched == len(everything.scores)
    assert min(keep, everything.matched) <= cut.matched <= everything.matched


# -- tests -------------------------------------------------------------------------------


def test_the_libraries_have_the_shapes_under_test(one_segment: Path, two_segments: Path) -> None:
    with searcher(one_segment) as opened:
        assert opened.reader().is_atomic()
    with searcher(two_segments) as opened:
        leaves = first_stage._leaves(opened.reader())
        assert len(leaves) == 2
        assert leaves[0][0].has_deletions()
        assert opened.doc_count_all() == opened.doc_count() + 1


@pytest.mark.parametrize("text", QUERIES)
def test_the_best_equal_scoring_every_paper(
    library: Path, always_cut: list[int], text: str
) -> None:
    with searcher(library) as opened:
        for keep in KEEPS:
            assert_same_best(opened, weights_of(text), keep)
    assert always_cut == KEEPS


@pytest.mark.parametrize("text", QUERIES[6:])
def test_the_best_equal_scoring_every_paper_with_weighted_alternatives(
    library: Path, always_cut: list[int], text: str
) -> None:
    # As acronym expansion adds them: other terms at a fraction of a typed word's weight.
    weights = weights_of(text)
    weights.update({"llm": 0.6, "transform": 0.3, "neural": 0.15, "kv": 0.6, "rlhf": 0.2})
    with searcher(library) as opened:
        for keep in (10, 30):
            assert_same_best(opened, weights, keep)


def test_the_default_choice_of_cut_off_equals_scoring_every_paper(library: Path) -> None:
    # On 2,200 papers a short query is cheaper to score whole, and so is a large `keep`.
    with searcher(library) as opened:
        for text in QUERIES:
            for keep in (10, 30, 10_000):
                assert_same_best(opened, weights_of(text), keep)


def test_ties_at_the_cut_are_broken_as_scoring_every_paper_does(
    library: Path, always_cut: list[int]
) -> None:
    # One common word: papers with the same frequency and (rounded) lengths tie exactly.
    cuts_in_ties = 0
    with searcher(library) as opened:
        for term in ("model", "learn", "data", "network", "propos"):
            ranked = best(first_stage.score(opened, {term: 1.0}, None), 300)
            tied = [k for k in range(1, len(ranked)) if ranked[k - 1][1] == ranked[k][1]]
            for keep in tied[:: max(1, len(tied) // 4)]:
                cuts_in_ties += 1
                assert_same_best(opened, {term: 1.0}, keep)
    assert cuts_in_ties >= 10


def test_ties_between_terms_are_broken_as_scoring_every_paper_does(
    library: Path, always_cut: list[int]
) -> None:
    # Two terms as frequent as each other (in both fields) score a paper with one of them
    # like a paper with the other, given the same frequency and lengths. Scoring every paper
    # meets those of the first term first and lists them first; the cut-off, which adds
    # lists up in another order, must too, whatever their numbers.
    with searcher(library) as opened:
        cases = 0
        for first, second in _equally_frequent_pairs(opened):
            weights = {first: 1.0, second: 1.0}
            ranked = best(first_stage.score(opened, weights, None), 100)
            for keep in range(1, len(ranked)):
                (earlier, score), (later, other) = ranked[keep - 1], ranked[keep]
                if score == other and earlier > later:  # listed first, numbered after
                    cases += 1
                    assert_same_best(opened, weights, keep)
            if cases >= 5:
                break
    assert cases >= 1


def _equally_frequent_pairs(opened: Any) -> Iterator[tuple[str, str]]:
    reader = opened.reader()
    groups: dict[tuple[int, int], list[str]] = {}
    for term in reader.field_terms(fields.TEXT):
        frequency = opened.doc_frequency(fields.TEXT, term)
        if 10 <= frequency <= 80 and term.isalpha():
            groups.setdefault((frequency, opened.doc_frequency(fields.TITLE, term)), []).append(
                term
            )
    for terms in groups.values():
        yield from itertools.combinations(terms[:4], 2)


def test_a_re_ingested_paper_is_scored_once(
    two_segments: Path, papers: list[dict[str, Any]], always_cut: list[int]
) -> None:
    # Its title and the revision's rare words: the new copy is the best match, and the old
    # one, deleted but still in the first segment's postings, would be the next.
    weights = weights_of(papers[10]["title"] + REVISION)
    with searcher(two_segments) as opened:
        reader = opened.reader()
        (old_copy,) = [doc for doc in range(FIRST_BATCH) if reader.is_deleted(doc)]
        assert_same_best(opened, weights, 10)
        cut = first_stage.score(opened, weights, 10)
        assert old_copy not in cut.scores
        ranked = [opened.stored_fields(doc)[fields.ID] for doc, _ in best(cut, 10)]
        assert ranked[0] == opened.stored_fields(old_copy)[fields.ID]
        assert len(set(ranked)) == len(ranked)


def test_a_weight_of_zero_or_less_scores_every_paper(library: Path) -> None:
    with searcher(library) as opened:
        for extra in (0.0, -0.5):
            weights = {**weights_of("graph neural networks"), "propos": extra}
            assert_same_best(opened, weights, 10)


def test_scoring_every_paper_is_whooshs_bm25(one_segment: Path) -> None:
    """Text plus TITLE_WEIGHT x title, Lucene's idf: what Whoosh's searcher computes for
    the same terms with the same weighting (`LuceneBM25`)."""
    with searcher(one_segment) as opened:
        for text in QUERIES[:8]:
            weights = weights_of(text)
            ours = first_stage.score(opened, weights, None).scores
            terms = [
                query.Term(fieldname, term, boost=weight * field_weight)
                for term, weight in weights.items()
                for fieldname, field_weight in ((fields.TEXT, 1.0), (fields.TITLE, TITLE_WEIGHT))
            ]
            theirs = {hit.docnum: hit.score for hit in opened.search(query.Or(terms), limit=None)}
            assert set(ours) == set(theirs)
            assert all(ours[doc] == pytest.approx(theirs[doc], abs=1e-9) for doc in ours)


def _w3_unreadable(reader: Any, info: Any) -> bytes:
    raise AttributeError("not Whoosh 2.7.4")


def _no_front(front: bytes, size: int) -> None:
    return None


def _no_length_column(reader: Any, fieldname: str) -> bytes:
    raise AttributeError("not Whoosh 2.7.4")


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("_w3_postings", _w3_unreadable),  # postings through Whoosh's matcher
        ("_ids_and_weights", _no_front),  # blocks unpickled whole, values included
        ("_length_bytes", _no_length_column),  # lengths through `doc_field_length`
    ],
)
def test_the_fallbacks_score_the_same(
    library: Path,
    always_cut: list[int],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    replacement: Callable[..., Any],
) -> None:
    texts = [QUERIES[0], QUERIES[7], QUERIES[10]]
    with searcher(library) as opened:
        expected = [first_stage.score(opened, weights_of(text), 30) for text in texts]
    monkeypatch.setattr(first_stage, name, replacement)
    with searcher(library) as opened:
        for text, scored in zip(texts, expected, strict=True):
            assert first_stage.score(opened, weights_of(text), 30) == scored
            assert_same_best(opened, weights_of(text), 30)


# -- any terms, any weights ----------------------------------------------------------------

# Stems of real abstracts: rare ones, common ones, and everything between.
_VOCABULARY = sorted(
    {
        term
        for text in (
            "We propose a novel transformer model for multilingual speech recognition and "
            "evaluate it on benchmark datasets, where it outperforms convolutional baselines.",
            "Gaussian splatting renders radiance fields in real time; we compress the scene "
            "representation with vector quantization for mobile devices.",
            "Large language models hallucinate; retrieval augmented generation grounds their "
            "answers in documents, which we study for medical question answering.",
            "A reinforcement learning agent plans robot manipulation with a learned world "
            "model and a diffusion policy, transferring from simulation to hardware.",
        )
        for term in analyse(text)
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    terms=st.dictionaries(
        st.sampled_from(_VOCABULARY),
        st.sampled_from([0.15, 0.2, 0.3, 0.6, 1.0, 2.0, 3.0]),
        min_size=1,
        max_size=14,
    ),
    keep=st.sampled_from([1, 2, 10, 30, 31, 50]),
)
def test_any_weighted_terms_equal_scoring_every_paper(
    two_segments: Path, terms: dict[str, float], keep: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(first_stage, "_REDO", 0)
        with searcher(two_segments) as opened:
            assert_same_best(opened, terms, keep)
