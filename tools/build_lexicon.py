"""Build paperidx's shipped lexicon from public abstracts (run offline; not part of the wheel).

    .venv/bin/python tools/build_lexicon.py            # the shared data beside the repository
    .venv/bin/python tools/build_lexicon.py --report   # also print kept and dropped samples

Reads the arXiv cs abstracts (`../shared/data/arxiv_cs_75k/papers.jsonl.gz`, one JSON object
a line with `id`, `title`, `summary`) and the Hugging Face Daily Papers archive
(`../shared/data/hf_daily_papers/api_json/Paper_metadata_download/*.json`, read with
paperidx's own HF parser because some items are Python-repr strings), one paper per arXiv
id, and writes three gzip'd TSV files into `src/paperidx/search/lexicon/`:

- `acronyms.tsv.gz`: acronym -> long forms and long form -> acronyms, with the number of
  papers defining each pair ("Parameter-Efficient Fine-Tuning (PEFT)"): pairs defined in at
  least `--min-papers` papers, only long forms holding a fair share of their acronym's
  definitions.
- `words.tsv.gz`: `papers <TAB> word word ... `: the lower-case words of titles and abstracts
  that at least `--min-df` papers use, grouped by document frequency (the grouping keeps
  the file small: a count is written once for all words sharing it). A rare word one edit
  away from a far more common one is a typo ("gausian"), not vocabulary, and is left out.
- `stems.tsv.gz`: the vocabulary's most frequent words (`STEMS_WORDS`) and, on a second line,
  their Porter2 stems, so that indexing need not stem them.

The output depends only on the input: sorted, and gzip'd without a time stamp or file name.
Only the standard library and paperidx itself (its acronym matcher and HF parser, and the
Porter2 stemmer of its index) are used.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from whoosh.lang.porter2 import stem as porter2  # noqa: E402

from paperidx.parsing.base import ParseOptions, RawRecord  # noqa: E402
from paperidx.parsing.hf_api import parse as parse_hf  # noqa: E402
from paperidx.search.acronyms import find_acronyms  # noqa: E402
from paperidx.search.lexicon import (  # noqa: E402
    ACRONYMS_FILE,
    STEMS_FILE,
    WORDS_FILE,
    long_form_key,
    singular,
)

DATA = ROOT.parent / "shared" / "data"
ARXIV = DATA / "arxiv_cs_75k" / "papers.jsonl.gz"
HF = DATA / "hf_daily_papers" / "api_json" / "Paper_metadata_download"
OUT = ROOT / "src" / "paperidx" / "search" / "lexicon"

# Chosen by reading samples of kept and dropped pairs (--report): see the defaults' notes.
MIN_PAPERS = 3
# A long form is kept when it has at least this share of its acronym's definitions ...
MIN_SHARE = 0.2
# ... and at most this many per acronym ("SDS": score distillation sampling, and little else).
MAX_FORMS = 3
MIN_DF = 3
# The stem table holds the vocabulary's most frequent words, not all of it: loading an entry
# costs about as much as stemming a word it saves is likely to (the table is read whole, once
# per index write). For the 67-paper sample, 34,000 words: load 7.9 ms + 192 words left to
# Porter2 1.7 ms; 16,000: 3.6 + 2.2 ms (277 left); 8,000: 1.7 + 3.7 ms. A 200-paper arXiv
# e-mail, richer in rare words: 21 vs 19 ms.
STEMS_WORDS = 16_000
# A word in fewer papers than this is checked for being a typo of a far more common word ...
TYPO_CHECK_BELOW = 30
# ... which it is when the common word is in this many times more papers.
TYPO_RATIO = 100
LONGEST_WORD = 30

_WORD = re.compile(r"[a-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(slots=True)
class Counts:
    """Document counts gathered from the corpus."""

    papers: int = 0
    words: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    # How each acronym is written in the papers that define it ("LoRA", "LORA").
    spellings: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


# -- reading --------------------------------------------------------------------------------


def arxiv_papers(path: Path) -> Iterator[tuple[str, str]]:
    """(arXiv id, title + abstract) from the JSON Lines dump."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                item = json.loads(line)
                yield str(item["id"]), f"{item.get('title', '')}\n{item.get('summary', '')}"


def hf_papers(folder: Path) -> Iterator[tuple[str, str]]:
    """(arXiv id or file:item, title + abstract) from the Daily Papers archive."""
    for path in sorted(folder.glob("*.json")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for event in parse_hf(lines, ParseOptions(source_name=path.name)):
            if isinstance(event, RawRecord) and (event.title or event.abstract):
                key = event.arxiv_id or f"{path.name}:{event.line}"
                yield key, f"{event.title}\n{event.abstract}"


def unique(papers: Iterable[tuple[str, str]]) -> Iterator[str]:
    """Each paper's text once, however many times the sources list it."""
    seen: set[str] = set()
    for key, text in papers:
        if key not in seen:
            seen.add(key)
            yield text


# -- counting -------------------------------------------------------------------------------


def _spelling(text: str, short: str) -> str | None:
    match = re.search(rf"\(\s*({re.escape(short)})s?\s*\)", text, re.IGNORECASE)
    return match.group(1) if match else None


def count(texts: Iterable[str]) -> Counts:
    counts = Counts()
    for text in texts:
        counts.papers += 1
        flat = " ".join(text.split())
        counts.words.update(set(_WORD.findall(flat.lower())))
        for short, long_form in set(find_acronyms(flat)):
            counts.pairs[(short, long_form)] += 1
            written = _spelling(flat, short)
            if written:
                counts.spellings[short][written] += 1
    return counts


# -- choosing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    short: str  # lower case, singular: the lookup key
    display: str  # how papers write it most often
    long: str  # normalized ("parameter efficient fine tuning")
    papers: int


def _stems(long_form: str) -> tuple[str, ...]:
    return tuple(porter2(word) for word in long_form.split())


def _display(variants: Counter[str]) -> str:
    """How a folded long form is written: its most common spelling, in the singular when a
    fair share of papers write that ("generative adversarial network", but "mixture of
    experts": hardly anyone writes "mixture of expert")."""
    top = min(variants.items(), key=lambda v: (-v[1], v[0]))[0]
    words = top.split()
    single = " ".join([*words[:-1], singular(words[-1])])
    return single if variants.get(single, 0) * 10 >= sum(variants.values()) else top


def merge_variants(pairs: Counter[tuple[str, str]]) -> dict[str, Counter[str]]:
    """acronym -> long form -> papers, with plural acronyms ("GANs") and long forms that
    search cannot tell apart (the same stems: "chains of thought", "chain of thought") folded
    into one."""
    groups: dict[tuple[str, tuple[str, ...]], Counter[str]] = defaultdict(Counter)
    for (short, long_form), papers in pairs.items():
        key = short[:-1] if short.endswith("s") and (short[:-1], long_form) in pairs else short
        groups[(key, _stems(long_form))][long_form] += papers
    merged: dict[str, Counter[str]] = defaultdict(Counter)
    for (short, _), variants in groups.items():
        merged[short][_display(variants)] += sum(variants.values())
    return merged


def choose_pairs(
    counts: Counts,
    min_papers: int = MIN_PAPERS,
    min_share: float = MIN_SHARE,
    max_forms: int = MAX_FORMS,
) -> tuple[list[Pair], list[Pair]]:
    """(kept, dropped) acronym pairs, each sorted."""
    kept: list[Pair] = []
    dropped: list[Pair] = []
    for short, forms in merge_variants(counts.pairs).items():
        total = sum(forms.values())
        ranked = sorted(forms.items(), key=lambda item: (-item[1], item[0]))
        spellings = counts.spellings.get(short, Counter())
        display = min(spellings.items(), key=lambda s: (-s[1], s[0]))[0] if spellings else short
        for rank, (long_form, papers) in enumerate(ranked):
            pair = Pair(short, display, long_form, papers)
            good = papers >= min_papers and papers >= min_share * total and rank < max_forms
            (kept if good else dropped).append(pair)
    kept.sort(key=lambda p: (p.short, -p.papers, p.long))
    dropped.sort(key=lambda p: (p.short, -p.papers, p.long))
    return kept, dropped


def _slips(word: str) -> Iterator[str]:
    """Words one dropped, doubled-up or swapped letter away: the slips typists make.

    Replaced letters are left out (they turn real words into real words: "faded", "faced"),
    and so are changes at the end of the word (inflections: "recalls", "recall").
    """
    for i in range(len(word) - 1):
        head, tail = word[:i], word[i:]
        yield head + tail[1:]
        if tail[0] != tail[1]:
            yield head + tail[1] + tail[0] + tail[2:]
        for c in _LETTERS:
            yield head + c + tail


def is_typo(word: str, papers: int, words: Counter[str]) -> bool:
    """Whether a rare word is a slip for a word in TYPO_RATIO times as many papers."""
    if papers >= TYPO_CHECK_BELOW or len(word) < 6:
        return False
    return any(words.get(other, 0) >= TYPO_RATIO * papers for other in _slips(word))


def choose_words(counts: Counts, min_df: int = MIN_DF) -> dict[str, int]:
    return {
        word: papers
        for word, papers in counts.words.items()
        if papers >= min_df
        and len(word) <= LONGEST_WORD
        and not is_typo(word, papers, counts.words)
    }


# -- writing --------------------------------------------------------------------------------


def _gzip(text: str) -> bytes:
    buffer = io.BytesIO()
    # No file name and no time stamp in the header: the same input gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        out.write(text.encode("utf-8"))
    return buffer.getvalue()


def acronyms_text(pairs: list[Pair], papers: int) -> str:
    """Both directions, sorted by key, most papers first: `s` lines by acronym, `l` lines by
    long form (the loader finds a key's lines with one search of the text)."""
    lines = [f"s\t{p.short}\t{p.display}\t{p.long}\t{p.papers}" for p in pairs]
    lines += [f"l\t{long_form_key(p.long)}\t{p.display}\t{p.papers}" for p in pairs]
    lines.sort(key=lambda line: (*line.split("\t")[:2], -int(line.rsplit("\t", 1)[1]), line))
    return "\n".join([f"#papers\t{papers}", *lines]) + "\n"


def words_text(words: dict[str, int], papers: int) -> str:
    """`count <TAB> word word ... ` lines, each word between spaces: the loader finds a word
    with one search for " word " and reads the count at the start of its line."""
    by_df: dict[int, list[str]] = defaultdict(list)
    for word, df in words.items():
        by_df[df].append(word)
    lines = [f"#papers\t{papers}"]
    lines += [f"{df}\t {' '.join(sorted(by_df[df]))} " for df in sorted(by_df)]
    return "\n".join(lines) + "\n"


def stems_text(words: dict[str, int]) -> str:
    """Two lines: the `STEMS_WORDS` words of the vocabulary in the most papers, then their
    Porter2 stems (the stems the index's analyzer gives them) in the same order, each
    space-separated. Indexing looks words up here rather than stemming them: a daily
    digest's ~2,800 distinct words cost ~20 ms of pure-Python Porter2; two aligned lines
    load in ~3.6 ms (`dict(zip(...))`), a line per stem took twice that."""
    frequent = sorted(words, key=lambda word: (-words[word], word))[:STEMS_WORDS]
    ordered = sorted(frequent)
    return f"{' '.join(ordered)}\n{' '.join(porter2(word) for word in ordered)}\n"


def write(out: Path, pairs: list[Pair], words: dict[str, int], papers: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        (ACRONYMS_FILE, acronyms_text(pairs, papers)),
        (WORDS_FILE, words_text(words, papers)),
        (STEMS_FILE, stems_text(words)),
    ):
        path = out / name
        path.write_bytes(_gzip(text))
        written.append(path)
    return written


def build(
    texts: Iterable[str],
    out: Path,
    *,
    min_papers: int = MIN_PAPERS,
    min_df: int = MIN_DF,
    report: bool = False,
) -> list[Path]:
    counts = count(texts)
    kept, dropped = choose_pairs(counts, min_papers)
    words = choose_words(counts, min_df)
    if report:
        _report(counts, kept, dropped, words)
    return write(out, kept, words, counts.papers)


def _report(counts: Counts, kept: list[Pair], dropped: list[Pair], words: dict[str, int]) -> None:
    import random

    rng = random.Random(11)
    print(f"papers {counts.papers}; pairs seen {len(counts.pairs)}; kept {len(kept)}")
    print(f"words seen {len(counts.words)}; kept {len(words)}")
    print("-- kept sample")
    for p in rng.sample(kept, min(40, len(kept))):
        print(f"  {p.display:12} {p.long:50} {p.papers}")
    print("-- dropped sample (seen twice or more)")
    twice = [p for p in dropped if p.papers >= 2]
    for p in rng.sample(twice, min(40, len(twice))):
        print(f"  {p.display:12} {p.long:50} {p.papers}")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--arxiv", type=Path, default=ARXIV)
    args.add_argument("--hf", type=Path, default=HF)
    args.add_argument("--out", type=Path, default=OUT)
    args.add_argument("--min-papers", type=int, default=MIN_PAPERS)
    args.add_argument("--min-df", type=int, default=MIN_DF)
    args.add_argument("--report", action="store_true")
    options = args.parse_args(argv)
    sources: list[Iterable[tuple[str, str]]] = []
    if options.arxiv.exists():
        sources.append(arxiv_papers(options.arxiv))
    if options.hf.is_dir():
        sources.append(hf_papers(options.hf))
    if not sources:
        print("no input found", file=sys.stderr)
        return 1
    texts = unique(paper for source in sources for paper in source)
    paths = build(
        texts,
        options.out,
        min_papers=options.min_papers,
        min_df=options.min_df,
        report=options.report,
    )
    for path in paths:
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{path.stat().st_size:,} bytes"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
