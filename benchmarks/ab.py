"""Before and after: one paperidx command from two installs, interleaved, beside the floor.

    python benchmarks/ab.py --before OLD/bin/paperidx --after NEW/bin/paperidx \\
        --library benchmarks/.work/library-20000 --copy --repeats 15 \\
        -- ingest data/hf-daily-papers-sample.txt --year 2024

`perf.py` measures one install against baselines of its own run; between two runs the
floor of this shared VM moves by tens of percent, so a change's effect is best read here:
both installs (e.g. a wheel of the commit before the change, one of the change) run the
same command round after round, in turns, on the same library, with the start-up floor
measured in every round too. `--copy` gives every run a fresh copy of the library (times
kept) for commands that write to it. Medians of wall and CPU time, each beside the floor,
and the change after/before. Runs each command with perf.py's runner (output piped, own
rusage); any run that fails stops the measurement.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import perf


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, measured: Any) -> None:  # a perf.Run
        self.wall.append(measured.seconds)
        self.cpu.append(measured.cpu_seconds)


def measure(
    before: Path,
    after: Path,
    library: Path,
    arguments: Sequence[str],
    *,
    repeats: int,
    copy: bool,
) -> dict[str, Timings]:
    """`repeats` rounds of before, after and the floor, after one discarded warm-up round."""
    floor = [str(after.parent / "python"), "-c", perf.FLOOR_CODE]
    timings = {"before": Timings(), "after": Timings(), "floor": Timings()}
    with tempfile.TemporaryDirectory(prefix="paperidx-ab-") as scratch:
        for number in range(repeats + 1):
            for name, executable in (("before", before), ("after", after)):
                home = library
                if copy:
                    home = Path(scratch) / "library"
                    shutil.rmtree(home, ignore_errors=True)
                    shutil.copytree(library, home)
                measured = perf.checked([str(executable), *arguments], perf.library_env(home))
                if number:
                    timings[name].add(measured)
            measured = perf.checked(floor)
            if number:
                timings["floor"].add(measured)
    return timings


def report(timings: dict[str, Timings]) -> str:
    floor_wall = perf.median(timings["floor"].wall)
    floor_cpu = perf.median(timings["floor"].cpu)
    lines = ["| | wall (median) | / floor | CPU (median) | / floor |", "|---|---|---|---|---|"]
    for name, measured in timings.items():
        wall, cpu = perf.median(measured.wall), perf.median(measured.cpu)
        lines.append(
            f"| {name} | {wall * 1000:.0f} ms | {wall / floor_wall:.2f}x "
            f"| {cpu * 1000:.0f} ms | {cpu / floor_cpu:.2f}x |"
        )
    change = perf.median(timings["after"].wall) / perf.median(timings["before"].wall)
    lines.append(f"\nafter / before: {change:.2f}x wall, {len(timings['floor'].wall)} rounds")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the old paperidx")
    parser.add_argument("--after", type=Path, required=True, help="the new paperidx")
    parser.add_argument("--library", type=Path, required=True, help="PAPERIDX_HOME to use")
    parser.add_argument("--copy", action="store_true", help="a fresh copy for every run")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="-- the command's arguments")
    options = parser.parse_args(argv)
    arguments = options.arguments[1:] if options.arguments[:1] == ["--"] else options.arguments
    if not arguments:
        parser.error("give the command to measure after --")
    timings = measure(
        options.before,
        options.after,
        options.library,
        arguments,
        repeats=options.repeats,
        copy=options.copy,
    )
    print(report(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
