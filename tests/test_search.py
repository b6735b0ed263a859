"""Search as users judge it: ranking on the sample, the query language, corrections,
acronyms, snippets, similar papers, --explain, and queries that must never fail."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperidx.errors import ExitCode
from paperidx.search.plan import plan_query, syntax_problem

from .conftest import REPO, SAMPLE, invoke

run = invoke


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> str:
    home = str(tmp_path_factory.mktemp("search-library"))
    result = invoke("--home", home, "ingest", str(SAMPLE), "--year", "2024")
    assert result.exit_code == 0
    return home


def search(home: str, *words: str, limit: int = 10) -> tuple[list[dict[str, Any]], str]:
    result = run("--home", home, "search", *words, "--format", "json", "--limit", str(limit))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def titles(home: str, *words: str, limit: int = 10) -> list[str]:
    return [hit["title"] for hit in search(home, *words, limit=limit)[0]]


# A small judged set over the sample: query -> words one of the top results' titles must hold.
JUDGED = {
    "gaussian splatting": ["Gaussian Splatting", "Gaussian Splatting", "Gaussian"],
    "neural radiance fields": ["Radiance", "Radiance"],
    "lora": ["LoRA", "Low-Rank Adaptation"],
    "low-rank adaptation": ["LoRA|Low-Rank", "LoRA|Low-Rank", "LoRA|Low-Rank"],
    "tensor completion": ["Tensor Completion"],
    "text-to-3d generation": ["3D", "3D"],
    "diffusion models for materials": ["Materials"],
    "gpu architecture benchmark": ["Hopper GPU"],
    "serving many adapters concurrently": ["S-LoRA"],
    "federated learning": ["Federated Learning"],
    "pruning": ["Prun"],
    # Natural-language questions and acronyms (issue 11), checked against the sample's
    # abstracts by hand; these already rank well today.
    "turning a single photo into a 3D model": ["Single Image-to-3D"],
    "learning to simulate physics faster than traditional solvers": [
        "Neural Operator",
        "Neural Operator|Simulator",
    ],
    "making nerf rendering faster": ["NeRF|Radiance", "NeRF|Radiance"],
    "running large language models on phones": ["eDKM"],
    "serving many fine-tuned models at once": ["S-LoRA"],
    "generating 3d objects from a text prompt": ["Text-to-3D", "3D"],
    "predicting extreme weather with neural networks": ["Atlantic blocking"],
    "fixing blurry 3d scenes": ["Deblurring"],
    # S3IM's title says "Neural Fields"; its abstract is about NeRF ("Neural Radiance Field").
    "nerfs": ["NeRF|Radiance|Neural Fields"] * 5,
    "gans": ["GAN|Adversarial|GIFD"] * 5,
    "3dgs": ["Gaussian"] * 4,
    "gnn": ["Graph"] * 3,
    "pde": ["PDE"],
    "llm": ["LLM|Language Model"] * 2,
}

# Judged the same way; the library never spells these acronyms out, or a plural acronym does
# not match its singular: they need the field's knowledge (the shipped lexicon, issue 11).
JUDGED_ISSUE_11 = {
    # MoS, FLoRA and S-LoRA are all parameter-efficient LoRA papers; only S-LoRA says "PEFT".
    "peft": ["LoRA|Low-Rank Adaptation"] * 3,
    # EpiGRAF and LFS-GAN only write "GAN(s)", never "generative adversarial network".
    "generative adversarial network": ["GAN|Adversarial|GIFD"] * 5,
    # Reduced-Order Neural Operators writes "graph neural networks" but never "GNN".
    "gnns": ["Graph"] * 3,
    # Flash-LLM writes "LLM"; only eDKM writes "LLMs".
    "llms": ["LLM|Language Model"] * 2,
    # DreamCraft3D and DreamPolish use score distillation (sampling) but never write "SDS".
    "sds": ["Dream", "Dream"],
}


@pytest.mark.parametrize(("query", "expected"), JUDGED.items())
def test_judged_queries_rank_relevant_titles_first(
    library: str, query: str, expected: list[str]
) -> None:
    top = titles(library, query, limit=len(expected))
    for position, needles in enumerate(expected):
        title = top[position].lower()
        assert any(n.lower() in title for n in needles.split("|")), (query, position, top)


@pytest.mark.parametrize(("query", "expected"), JUDGED_ISSUE_11.items())
def test_judged_acronym_queries_need_field_knowledge(
    library: str, query: str, expected: list[str]
) -> None:
    top = titles(library, query, limit=len(expected))
    assert len(top) == len(expected), (query, top)
    for position, needles in enumerate(expected):
        title = top[position].lower()
        assert any(n.lower() in title for n in needles.split("|")), (query, position, top)


@pytest.mark.parametrize(
    "query",
    [
        "turning a single photo into a 3D model",  # searched as "tuning ..."
        "learning to simulate physics faster than traditional solvers",  # as "... solves"
    ],
)
def test_natural_language_queries_keep_their_words(library: str, query: str) -> None:
    _, stderr = search(library, query)
    assert "showing results for" not in stderr, stderr


def test_the_issue_queries_keep_turning_and_solvers_and_explain_why(library: str) -> None:
    for query, word in [
        ("turning a single photo into a 3D model", "turning"),
        ("learning to simulate physics faster than traditional solvers", "solvers"),
    ]:
        result = run("--home", library, "search", query, "--explain", "--format", "json")
        assert "showing results for" not in result.stderr
        assert f"kept as typed: {word} (lexicon)" in result.stderr, result.stderr
        assert word in result.stderr.split("parsed:")[0]  # the query as typed, not "tuning"


def _ndcg_at_10(found: list[str], grades: dict[str, int]) -> float:
    def dcg(gains: list[int]) -> float:
        return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))

    gains = [max((g for needle, g in grades.items() if needle in t), default=0) for t in found]
    return dcg(gains[:10]) / dcg(sorted(grades.values(), reverse=True)[:10])


def test_peft_finds_the_parameter_efficient_lora_papers(library: str) -> None:
    # Graded by reading the sample's abstracts: three parameter-efficient LoRA papers (only
    # S-LoRA writes "PEFT"), and FedIns, which fine-tunes with a parameter-efficient method.
    grades = {"S-LoRA:": 2, "MoS:": 2, "FLoRA:": 2, "Towards Instance-adaptive Inference": 1}
    assert _ndcg_at_10(titles(library, "PEFT"), grades) > 0.8  # 0.43 without the lexicon
    explain = run("--home", library, "search", "PEFT", "--explain").stderr
    assert "peft → parameter efficient fine tuning (lexicon)" in explain


def test_explain_says_where_expansions_and_corrections_come_from(library: str) -> None:
    explain = run("--home", library, "search", "LoRA", "--explain").stderr
    assert "lora → low rank adaptation (library)" in explain.lower()
    explain = run("--home", library, "search", "gausian", "--explain").stderr
    assert "corrections: gausian → gaussian (library)" in explain
    # A plural acronym is looked up as its singular; the library's own long forms win.
    explain = run("--home", library, "search", "MoEs", "--explain").stderr
    assert "moes → mixture of experts (library)" in explain.lower()


def test_a_question_expands_only_what_it_types_as_an_acronym(library: str) -> None:
    # "more" is not MoRE and "large language models" is not "LLM" in a sentence; "PEFT" and
    # "LoRA", typed as acronyms, still expand; `--explain` shows what was searched.
    question = "how can large language models be made to reason more reliably about math"
    explain = run("--home", library, "search", question, "--explain").stderr
    assert "expansions" not in explain
    explain = run(
        "--home", library, "search", "how do agents use PEFT and LoRA adapters", "--explain"
    ).stderr.lower()
    assert "peft → parameter efficient fine tuning" in explain
    assert "lora → low rank adaptation" in explain
    # Short queries are typed in any case: "lora" still expands there.
    explain = run("--home", library, "search", "lora", "--explain").stderr.lower()
    assert "lora → low rank adaptation" in explain


def test_partial_matches_still_appear_after_full_matches(library: str) -> None:
    hits = titles(library, "gaussian splatting deblurring", limit=20)
    assert hits[0] == "Deblurring 3D Gaussian Splatting"
    assert any("Gaussian" in t and "Deblurring" not in t for t in hits)


def test_stemming_matches_inflections(library: str) -> None:
    assert any("Diffusion" in t for t in titles(library, "diffusing", limit=5))


def test_phrase_and_boolean_operators(library: str) -> None:
    phrase, _ = search(library, '"neural radiance field"', limit=100)
    assert phrase
    for hit in phrase:  # the words in this order, or the acronym the library defines for them
        shown = json.loads(run("--home", library, "show", hit["id"], "-f", "json").stdout)
        text = " ".join(f"{shown['title']} {shown['abstract']}".lower().split())
        assert re.search(r"neural[\s-]+radiance[\s-]+field|\bnerfs?\b", text), shown["title"]
    excluded = titles(library, "gaussian -splatting")
    assert excluded and not any("Splatting" in t for t in excluded)
    both = titles(library, "gaussian AND deblurring")
    assert both == ["Deblurring 3D Gaussian Splatting"]
    assert not any("Splatting" in t for t in titles(library, "NOT splatting", limit=100))
    either = titles(library, "hopper OR federated")
    assert {"Benchmarking and Dissecting the Nvidia Hopper GPU Architecture"} <= set(either)


def test_fields_prefix_and_fuzzy(library: str) -> None:
    assert titles(library, "title:hecate")[0].startswith("Hecate")
    assert all("neural" in t.lower() for t in titles(library, "title:neural"))
    assert titles(library, "title:hecat*")[0].startswith("Hecate")
    assert titles(library, "title:hecatee~")[0].startswith("Hecate")
    hit = search(library, "deblurring")[0][0]
    assert titles(library, f"id:{hit['id'][:5]}") == [hit["title"]]


def test_date_filters_in_query_and_options(library: str) -> None:
    assert titles(library, "lora date:2024-05")
    assert titles(library, "lora date:2023") == []
    assert titles(library, "lora", "--since", "2024-05-07") == titles(library, "lora")
    assert titles(library, "lora", "--until", "2024-05-06") == []


def test_misspellings_are_corrected_and_announced(library: str) -> None:
    hits, stderr = search(library, "gausian splating")
    assert "showing results for 'gaussian splatting'" in stderr
    assert "Gaussian Splatting" in hits[0]["title"]
    hits, stderr = search(library, "difusion models")
    assert "diffusion models" in stderr and "Diffusion" in hits[0]["title"]


def test_correct_words_are_not_corrected(library: str) -> None:
    _, stderr = search(library, "gaussian splatting")
    assert "showing results" not in stderr


def test_acronyms_expand_both_ways(library: str) -> None:
    moe = titles(library, "MoE", limit=3)
    assert any(t.startswith("Hecate") for t in moe)  # writes "Mixture-of-Experts (MoE)"
    long_form = titles(library, "mixture of experts", limit=3)
    assert set(moe[:2]) == set(long_form[:2])
    explain = run("--home", library, "search", "LoRA", "--explain", "--format", "json").stderr
    assert "lora → low rank adaptation" in explain.lower()


def test_snippets_show_matches(library: str) -> None:
    hit = search(library, "gaussian splatting")[0][0]
    assert "Gaussian" in hit["snippet"] or "gaussian" in hit["snippet"]
    rows = run("--home", library, "search", "gaussian splatting").stdout.splitlines()
    assert rows and all(len(row.split("\t")) == 5 for row in rows)


def test_sort_by_date_and_explain(library: str) -> None:
    result = run("--home", library, "search", "lora", "--sort", "date", "--explain")
    assert result.exit_code == 0
    assert "parsed:" in result.stderr
    assert run("--home", library, "search", "x", "--sort", "size").exit_code == ExitCode.USAGE


def test_similar_papers(library: str) -> None:
    target = search(library, "deblurring gaussian splatting")[0][0]
    result = run("--home", library, "similar", target["id"], "--format", "json", "--limit", "5")
    similar = json.loads(result.stdout)
    assert len(similar) == 5 and target["id"] not in [s["id"] for s in similar]
    assert sum("Gaussian" in s["title"] for s in similar) >= 3


@pytest.mark.parametrize(
    "query",
    [
        "title:(",
        '"unbalanced',
        "((",
        ")",
        "AND",
        "OR OR",
        "NOT",
        "title:",
        "*",
        "~",
        "-",
        "^",
        "date:",
        "date:[2024 TO",
        "id:",
        "author:",
        "a:b:c",
        "[",
        "{",
        "\\",
        "\x1b[31m",
        "\x00",
    ],
)
def test_malformed_queries_never_fail(library: str, query: str) -> None:
    result = invoke("--home", library, "search", "--", query)
    assert result.exit_code == 0, (query, result.stderr)
    assert "Traceback" not in result.output + result.stderr


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=40))
def test_any_query_string_is_safe(library: str, query: str) -> None:
    result = invoke("--home", library, "search", "--format", "json", "--", query)
    assert result.exit_code == 0, (query, result.stderr, result.exception)
    json.loads(result.stdout)


def test_plan_query_extracts_dates_and_detects_syntax() -> None:
    plan = plan_query("lora date:>=2024-05-01 date:<2024-06")
    assert plan.text == "lora"
    assert str(plan.since) == "2024-05-01" and str(plan.until) == "2024-05-31"
    assert syntax_problem('"open') == "an unbalanced quote"
    assert syntax_problem("title:(gauss") == "an unbalanced parenthesis"
    assert syntax_problem('title:"a b" AND c') is None
    fallback = plan_query("title:(gaussian")
    assert fallback.plain and fallback.text == "gaussian" and fallback.notices


@pytest.mark.parametrize(
    "query",
    ['"gaussian splatting" OR 3dgs', "gaussian AND splatting", "lora", "nerf NOT gaussian"],
)
def test_narrowing_to_a_few_papers_matches_what_the_whole_search_finds_there(
    library: str, query: str
) -> None:
    """Watches and `is:` filters narrow matching to a few documents (DocumentsQuery): the
    same papers, with the same scores, as the whole search restricted afterwards."""
    from pathlib import Path

    from paperidx.library import Library
    from paperidx.search import ranking
    from paperidx.search.plan import plan_query
    from paperidx.search.ranking import PaperSet

    with Library.open(Path(library)) as opened:
        index = opened._sync.index()
        every = [p.id for p in opened.list_papers()]
        plan = plan_query(query)
        whole = ranking.run(index, plan, limit=100, strict=True, expansions=None)
        some = {h.paper_id for h in whole.hits[::2]} | set(every[::5])
        narrowed = ranking.run(
            index, plan, limit=100, strict=True, expansions=None, only=PaperSet(some, allow=True)
        )
    expected = [(h.paper_id, round(h.score, 6)) for h in whole.hits if h.paper_id in some]
    assert [(h.paper_id, round(h.score, 6)) for h in narrowed.hits] == expected
    assert expected  # the query finds some of them


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str]]:
    """The sample, then a later digest in a second commit (a second Whoosh segment): the
    library of a user the day after, and the ids that day added."""
    home = str(tmp_path_factory.mktemp("two-segments"))
    for digest in (SAMPLE, REPO / "tests" / "fixtures" / "hf-digest-three-days.txt"):
        done = invoke("--home", home, "ingest", str(digest), "--year", "2024")
        assert done.exit_code == 0, done.stderr
    added = invoke("--home", home, "list", "--since", "2024-05-27", "--format", "jsonl")
    return home, {json.loads(line)["id"] for line in added.stdout.splitlines()}


@pytest.mark.parametrize("query", ['"multimodal models"', "language AND models", "visual OR video"])
def test_narrowing_to_the_newest_segment_skips_the_others(
    two_segments: tuple[str, set[str]], query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watch after an ingest looks at the new papers only, all in the newest segment: the
    query is never matched in the older one, and finds what the whole search finds there."""
    from pathlib import Path

    from whoosh.query import Term

    from paperidx.library import Library
    from paperidx.search import ranking
    from paperidx.search.ranking import PaperSet

    home, added = two_segments
    with Library.open(Path(home)) as opened:
        index = opened._sync.index()
        plan = plan_query(query)
        whole = ranking.run(index, plan, limit=100, strict=True, expansions=None)
        segments: list[int] = []
        term_matcher = Term.matcher

        def spied(self: Term, searcher: Any, context: Any = None) -> Any:
            segments.append(searcher.doc_count_all())
            return term_matcher(self, searcher, context)

        monkeypatch.setattr(Term, "matcher", spied)
        narrowed = ranking.run(
            index, plan, limit=100, strict=True, expansions=None, only=PaperSet(added, allow=True)
        )
    expected = [(h.paper_id, round(h.score, 6)) for h in whole.hits if h.paper_id in added]
    assert [(h.paper_id, round(h.score, 6)) for h in narrowed.hits] == expected
    assert expected
    assert segments and set(segments) == {len(added)}  # only the newest segment was read


def test_narrowing_to_papers_of_both_segments_finds_them_in_each(
    two_segments: tuple[str, set[str]],
) -> None:
    """`is:` filters name papers of any age: each is found in its own segment (the newest is
    looked in first), with the scores the whole search gives it."""
    from pathlib import Path

    from paperidx.library import Library
    from paperidx.search import ranking
    from paperidx.search.ranking import PaperSet

    home, added = two_segments
    with Library.open(Path(home)) as opened:
        index = opened._sync.index()
        older = {p.id for p in opened.list_papers()} - added
        plan = plan_query("models OR learning")
        whole = ranking.run(index, plan, limit=500, strict=True, expansions=None)
        some = set(sorted(added)[::2]) | set(sorted(older)[::3])
        narrowed = ranking.run(
            index, plan, limit=500, strict=True, expansions=None, only=PaperSet(some, allow=True)
        )
    expected = [(h.paper_id, round(h.score, 6)) for h in whole.hits if h.paper_id in some]
    assert [(h.paper_id, round(h.score, 6)) for h in narrowed.hits] == expected
    found = {h.paper_id for h in narrowed.hits}
    assert found & added and found & older
