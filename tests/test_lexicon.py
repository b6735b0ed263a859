"""The shipped lexicon (src/paperidx/search/lexicon/) and the script that builds it."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from paperidx.search import lexicon

from .conftest import SAMPLE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_lexicon", ROOT / "tools" / "build_lexicon.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("acronym", "long_form"),
    [
        ("PEFT", "parameter efficient fine tuning"),
        ("GAN", "generative adversarial network"),
        ("GANs", "generative adversarial network"),
        ("RLHF", "reinforcement learning from human feedback"),
        ("MoE", "mixture of experts"),
        ("ViT", "vision transformer"),
        ("SDS", "score distillation sampling"),
        ("LoRA", "low rank adaptation"),
        ("NeRF", "neural radiance field"),
        ("NeRFs", "neural radiance field"),
        ("LLMs", "large language model"),
        ("3DGS", "3d gaussian splatting"),
    ],
)
def test_acronyms_map_to_their_long_forms(acronym: str, long_form: str) -> None:
    assert lexicon.long_forms(acronym)[0] == long_form
    assert lexicon.is_acronym(acronym)


def test_long_forms_map_back_singular_or_plural() -> None:
    assert lexicon.acronyms_for("Parameter-Efficient Fine-Tuning") == ["PEFT"]
    assert lexicon.acronyms_for("generative adversarial networks") == ["GAN"]
    assert lexicon.acronyms_for("generative adversarial network") == ["GAN"]
    assert lexicon.spelled("lora") == "LoRA"
    found = lexicon.expansions(["PEFT", "mixture of experts", "turning"])
    assert found == {"peft": ["parameter efficient fine tuning"], "mixture of experts": ["moe"]}


def test_lower_case_words_are_acronyms_only_when_papers_use_them_so() -> None:
    assert lexicon.is_acronym("lora") and lexicon.is_acronym("peft")
    assert lexicon.is_acronym("CLIP") and not lexicon.is_acronym("clip")
    assert not lexicon.is_acronym("turning")
    assert not lexicon.is_acronym("It") and not lexicon.is_acronym("An")  # sentence starts
    assert not lexicon.is_acronym("am")  # "I am ...": rare in abstracts, yet no acronym


@pytest.mark.parametrize(
    "word",
    [
        "turning",
        "photo",
        "solvers",
        "phone",
        "picture",
        "telling",
        "Running",
        "tricking",
        "x-ray",
        "3D",
        "gpt-4",
    ],
)
def test_words_of_the_field_are_known(word: str) -> None:
    assert lexicon.knows(word)


@pytest.mark.parametrize("word", ["gausian", "splating", "difusion", "runing", "qwxzv"])
def test_misspellings_are_not_known(word: str) -> None:
    assert not lexicon.knows(word)


def test_document_frequencies() -> None:
    assert lexicon.papers() > 70_000
    assert lexicon.document_frequency("Gaussian") > lexicon.document_frequency("photo") > 0
    assert lexicon.document_frequency("gausian") == 0


def _corpus(folder: Path) -> tuple[Path, Path]:
    """A tiny arXiv dump and HF archive, with one paper in both and one Python-repr item."""
    define = "We fine-tune with Parameter-Efficient Fine-Tuning (PEFT) and photo solvers."
    gans = "Generative adversarial networks (GANs) turn a photo into images."
    papers = [
        {"id": f"2501.0000{i}", "title": f"Paper {i}", "summary": text}
        for i, text in enumerate([define, define, define, gans, gans, "A plain photo.", "x"])
    ]
    arxiv = folder / "papers.jsonl.gz"
    arxiv.write_bytes(gzip.compress("\n".join(map(json.dumps, papers)).encode(), mtime=0))
    hf = folder / "hf"
    hf.mkdir()
    item = {"paper": {"id": "2502.00001", "title": "HF", "summary": gans}}
    repeat = {"paper": {"id": "2501.00000", "title": "Paper 0", "summary": define}}
    as_repr = repr({"paper": {"id": "2502.00002", "title": "Repr", "summary": gans}})
    (hf / "2025-02-03.json").write_text(json.dumps([item, repeat, as_repr]))
    return arxiv, hf


def test_builder_mines_pairs_and_words_deterministically(
    builder: ModuleType, tmp_path: Path
) -> None:
    arxiv, hf = _corpus(tmp_path)
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        args = ["--arxiv", str(arxiv), "--hf", str(hf), "--out", str(out), "--min-df", "2"]
        assert builder.main(args) == 0
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {lexicon.ACRONYMS_FILE, lexicon.WORDS_FILE, lexicon.STEMS_FILE}

    built = lexicon._acronyms(tmp_path / "first")
    assert built.rows("s", "peft") == [["PEFT", "parameter efficient fine tuning", "3"]]
    # "(GANs)" is stored as GAN, from four distinct papers (the repeated HF paper counts once);
    # its long form stays plural because no paper writes it in the singular.
    assert built.rows("s", "gan") == [["GAN", "generative adversarial networks", "4"]]
    assert built.rows("l", "generative adversarial network") == [["GAN", "4"]]
    words = lexicon._words(tmp_path / "first")
    assert words.frequency("photo") == 8 and words.frequency("solvers") > 0
    assert words.frequency("plain") == 0
    assert lexicon.papers(tmp_path / "first") == 9
    stems = lexicon.stems(tmp_path / "first")
    assert stems["photo"] == "photo" and stems["solvers"] == "solver"
    assert "plain" not in stems  # only the vocabulary


def test_builder_singular_and_typo_rules(builder: ModuleType) -> None:
    assert builder.singular("networks") == "network" and builder.singular("class") == "class"
    assert builder.singular("properties") == "property"
    words = {"gaussian": 5000, "gausian": 3, "golf": 10}
    counter = builder.Counter(words)
    assert builder.is_typo("gausian", 3, counter)
    assert not builder.is_typo("gaussian", 5000, counter)


def test_a_damaged_lexicon_only_loses_its_knowledge(tmp_path: Path) -> None:
    (tmp_path / lexicon.ACRONYMS_FILE).write_bytes(b"\x1f\x8b not gzip")
    (tmp_path / lexicon.WORDS_FILE).write_bytes(gzip.compress(b"\xff\xfe"))
    (tmp_path / lexicon.STEMS_FILE).write_bytes(b"")
    assert lexicon._acronyms(tmp_path).rows("s", "peft") == []
    assert lexicon._words(tmp_path).frequency("photo") == 0
    assert lexicon.papers(tmp_path) == 0
    assert lexicon.stems(tmp_path) == {}


def test_the_shipped_stems_are_the_stems_the_index_makes() -> None:
    """Indexing trusts the table instead of stemming (`writer._stemming_from_table`): every
    entry must be what the index's Porter2 stemmer gives, and the table must cover the words
    of a day's digest, or it saves nothing."""
    from whoosh.lang.porter2 import stem

    from paperidx.search.analysis import TOKEN_PATTERN

    table = lexicon.stems()
    assert len(table) > 15_000
    wrong = {word: found for word, found in table.items() if stem(word) != found}
    assert wrong == {}
    words = {word.lower() for word in re.findall(TOKEN_PATTERN, SAMPLE.read_text())}
    covered = sum(word in table for word in words) / len(words)
    assert covered > 0.75, covered
