"""The README's scale estimates come from `benchmarks/scale.py`'s fit: it must recover a law."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType

import pytest

from .benchmark_support import load_script


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    return load_script("scale")


def test_fit_recovers_a_power_law_and_inverts_it(scale: ModuleType) -> None:
    curve = scale.fit([(n, 0.002 * n**1.2) for n in (10_000, 20_000, 75_000)])
    assert curve.b == pytest.approx(1.2)
    assert curve.at(2_600_000) == pytest.approx(0.002 * 2_600_000**1.2)
    assert curve.reaches(curve.at(300_000)) == pytest.approx(300_000)
    assert scale.fit([(10_000, 5.0), (20_000, 5.0)]).reaches(10.0) is None  # flat: never
    # Nearly flat (a daily ingest at three sizes): only past any size a float holds.
    assert scale.fit([(10_000, 0.1840), (20_000, 0.1841), (75_000, 0.1842)]).reaches(1.9) is None


def test_one_size_is_not_enough_to_fit(scale: ModuleType) -> None:
    with pytest.raises(ValueError):
        scale.fit([(20_000, 1.0), (20_000, 2.0)])


def test_the_table_extrapolates_linear_growth(scale: ModuleType, tmp_path: Path) -> None:
    def result(papers: int) -> dict[str, object]:
        seconds = papers / 400
        return {
            "papers": papers,
            "paperidx_ingest": [seconds],
            "naive_ingest": [seconds / 2],
            "paperidx_ingest_rss_mb": 300.0,
            "index_bytes": papers * 3500,
            "store_bytes": papers * 2200,
            "search_rss_mb": 40.0,
            "summary": {"floor": 0.1, "short": 0.1 + papers / 1e7, "long": 0.2, "daily": 0.5},
        }

    path = tmp_path / "perf-results.json"
    path.write_text(json.dumps({"results": [result(10_000), result(20_000)]}))
    text = scale.table(scale.load([path]), [2_600_000])
    row = next(line for line in text.splitlines() if line.startswith("| index on disk"))
    assert "| 9.1 GB |" in row  # 3.5 kB a paper
    ingest = next(line for line in text.splitlines() if line.startswith("| bulk ingest, paperidx"))
    assert "| 1.00 | 108 min | 60 min at ~1.4M |" in ingest  # 400 papers a second
    assert math.isfinite(scale.fit([(1, 1.0), (2, 2.0)]).b)
