"""Time to accuracy: wall time on this machine for a recipe to reach 60%, 65% (and 70%)
PrivateTest accuracy with the checkpoint selected on PublicTest.

Not a new measurement: it reads the run records of suites run with `observe_test: true`
(benchmarks/best.yaml), whose curves hold each epoch's elapsed training time, PublicTest
accuracy and observed PrivateTest accuracy. Usage: python benchmarks/perf/time_to_accuracy.py
[RUNS_DIR ...] (default: every results/*/runs)."""

from __future__ import annotations

import sys
from pathlib import Path

from _common import OUT

from fer_bench.core.io import atomic_write
from fer_bench.core.record import RunRecord, read_record
from fer_bench.report import time_to_accuracy

TARGETS = (0.60, 0.65, 0.70)


def main(dirs: list[Path]) -> None:
    rows, sources = [], set()
    for d in dirs:
        for f in sorted(d.glob("*.json")):
            rec = read_record(f)
            if not isinstance(rec, RunRecord) or not rec.curves or "observed/test_acc" not in rec.curves[0]:
                continue
            curves = rec.curves
            hw = rec.environment["hardware"]
            sources.add(f"{hw['cpu']}, {hw['cpu_cores']} cores, torch {rec.environment['packages']['torch']}, "
                        f"{rec.precision}")
            hits = [time_to_accuracy(curves, t, rec.selection.monitor) for t in TARGETS]
            rows.append([f"{rec.model.name} / {rec.recipe['name']}", str(rec.seed),
                         *(f"{h['seconds'] / 60:.1f} min (epoch {h['epoch'] + 1})" if h else "not reached"
                           for h in hits),
                         f"{100 * rec.metrics.test.accuracy:.2f}% after {len(curves)} epochs, "
                         f"{curves[-1]['elapsed_seconds'] / 60:.1f} min",
                         f"`{f}` ({rec.created[:10]})"])
    if not rows:
        sys.exit("time_to_accuracy: no finished records with observed test curves (run `fer-bench bench best`)")
    lines = [
        "# Time to accuracy on 2 CPU cores", "",
        "Derived by `python benchmarks/perf/time_to_accuracy.py` from the run records named below (their "
        "commands, data and environment are inside them); hardware: " + "; ".join(sorted(sources)) + ".", "",
        "Time = training wall clock (validation included, the per-epoch PrivateTest observation excluded) "
        "until the checkpoint selected on PublicTest up to that epoch first scores the target on PrivateTest. "
        "PrivateTest is only observed: no checkpoint, schedule or stop depends on it. Per-epoch scores use the "
        "validation's evaluation (centre crop + mirror for ten-crop models), a little below the final ten-crop "
        "number in the last column.", "",
        "| recipe | seed | " + " | ".join(f"to {100 * t:.0f}%" for t in TARGETS) + " | final (ten-crop) | record |",
        "|---|---:|" + "---:|" * len(TARGETS) + "---|---|",
        *("| " + " | ".join(r) + " |" for r in rows), "",
    ]
    path = OUT / "time_to_accuracy.md"
    atomic_write(path, lambda f: f.write("\n".join(lines)))
    print("\n".join(lines))


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted(Path("results").glob("*/runs"))
    main(args)
