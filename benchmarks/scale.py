"""Where paperidx goes at sizes not measured: a power law fitted to `perf.py`'s sizes.

Usage::

    python benchmarks/scale.py [benchmarks/.work/perf-results.json ...] [--at 300000,2600000]

Reads the per-size results `benchmarks/perf.py` wrote (one file or several: the sizes of all
of them are pooled; a size measured twice keeps its last run), fits ``y = a * N ** b`` to each
measurement by least squares on ``log y`` against ``log N``, and prints, as Markdown: the
measured values, the exponent ``b`` (1 is linear in the library's size), the extrapolation to
each ``--at`` size (default a heavy personal library of 300k papers and all of arXiv, 2.6M),
and the size at which each measurement would cross what a user still finds comfortable.

Search and daily-ingest times are fitted *above the start-up floor* (what grows with the
library is the work, not Python's start-up), then the floor is added back. An extrapolation
is only as good as the model: three sizes over one decade say little about effects that
set in later (memory pressure once the index outgrows the page cache, Whoosh's merge
policy), which is why the README states these as estimates.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_RESULTS = Path(__file__).resolve().parent / ".work" / "perf-results.json"
DEFAULT_AT = (300_000, 2_600_000)
# Past this (ten times all of arXiv) a crossing is not worth stating.
BEYOND = 26_000_000


@dataclass(frozen=True)
class Measure:
    name: str
    unit: str
    value: Callable[[dict[str, Any]], float]
    # What a user still finds comfortable (None: no limit worth stating).
    comfortable: float | None
    above_floor: bool = False


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def _search(kind: str) -> Callable[[dict[str, Any]], float]:
    def value(result: dict[str, Any]) -> float:
        return float(result["summary"][kind])

    return value


MEASURES = (
    Measure("bulk ingest, paperidx", "s", lambda r: _median(r["paperidx_ingest"]), 3600.0),
    Measure("bulk ingest, naive Whoosh", "s", lambda r: _median(r["naive_ingest"]), None),
    Measure("bulk ingest peak memory", "MB", lambda r: float(r["paperidx_ingest_rss_mb"]), 4096.0),
    Measure("index on disk", "MB", lambda r: r["index_bytes"] / 1e6, None),
    Measure("record store on disk", "MB", lambda r: r["store_bytes"] / 1e6, None),
    Measure("search, short queries", "s", _search("short"), 0.5, above_floor=True),
    Measure("search, long questions", "s", _search("long"), 1.0, above_floor=True),
    Measure("search peak memory", "MB", lambda r: float(r["search_rss_mb"]), 1024.0),
    Measure("daily ingest (67 papers, 5 watches)", "s", _search("daily"), 2.0, above_floor=True),
)


@dataclass(frozen=True)
class Fit:
    a: float
    b: float

    def at(self, papers: float) -> float:
        return float(self.a * papers**self.b)

    def reaches(self, value: float) -> float | None:
        """The library size at which the fitted curve reaches `value` (None: it never does,
        or only past any size a float holds, as a nearly flat curve does)."""
        if self.b <= 0 or value <= 0:
            return None
        try:
            return float((value / self.a) ** (1 / self.b))
        except OverflowError:
            return None


def fit(points: Sequence[tuple[float, float]]) -> Fit:
    """Least squares of log y on log x; at least two distinct x with positive y."""
    logs = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len({x for x, _ in logs}) < 2:
        raise ValueError("need at least two sizes with positive values to fit")
    mean_x = statistics.fmean(x for x, _ in logs)
    mean_y = statistics.fmean(y for _, y in logs)
    b = sum((x - mean_x) * (y - mean_y) for x, y in logs) / sum((x - mean_x) ** 2 for x, _ in logs)
    return Fit(math.exp(mean_y - b * mean_x), b)


def load(paths: Sequence[Path]) -> list[dict[str, Any]]:
    by_size: dict[int, dict[str, Any]] = {}
    for path in paths:
        for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
            by_size[int(result["papers"])] = result
    return [by_size[size] for size in sorted(by_size)]


def _amount(value: float, unit: str) -> str:
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.0f} ms"
        if value < 120:
            return f"{value:.1f} s"
        if value < 2 * 3600:
            return f"{value / 60:.0f} min"
        return f"{value / 3600:.1f} h"
    if value >= 1000:
        return f"{value / 1000:.1f} GB"
    return f"{value:.0f} MB"


def _papers(count: float) -> str:
    if count >= 1e6:
        return f"{count / 1e6:.1f}M"
    return f"{count / 1e3:.0f}k"


def table(results: Sequence[dict[str, Any]], at: Sequence[int]) -> str:
    sizes = [int(r["papers"]) for r in results]
    floor = _median([float(r["summary"]["floor"]) for r in results])
    head = ["measurement", *(f"{_papers(n)} (measured)" for n in sizes), "exponent"]
    head += [f"{_papers(n)} (estimate)" for n in at]
    head.append("comfortable up to")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for measure in MEASURES:
        values = [measure.value(r) for r in results]
        shift = floor if measure.above_floor else 0.0
        curve = fit([(n, v - shift) for n, v in zip(sizes, values, strict=True)])
        limit = "—"
        if measure.comfortable is not None:
            reach = curve.reaches(measure.comfortable - shift)
            if reach is None or reach > BEYOND:
                limit = f"past {_papers(BEYOND)} papers on this fit"
            else:
                limit = f"{_amount(measure.comfortable, measure.unit)} at ~{_papers(reach)}"
        row = [measure.name, *(_amount(v, measure.unit) for v in values), f"{curve.b:.2f}"]
        row += [_amount(curve.at(n) + shift, measure.unit) for n in at]
        row.append(limit)
        lines.append("| " + " | ".join(row) + " |")
    note = f"Times of search and daily ingest include the start-up floor ({floor * 1000:.0f} ms)."
    return "\n".join(lines) + "\n\n" + note


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", type=Path, default=[DEFAULT_RESULTS])
    parser.add_argument(
        "--at",
        default=",".join(str(n) for n in DEFAULT_AT),
        help="library sizes to extrapolate to, comma-separated",
    )
    options = parser.parse_args(argv)
    results = load(options.results)
    if len(results) < 2:
        sys.exit("scale.py: need perf.py results for at least two library sizes")
    print(table(results, [int(n) for n in options.at.split(",")]))


if __name__ == "__main__":
    main(sys.argv[1:])
