"""Does the detector change a model's natural-set score? Each kept model is scored by `fer-bench eval`
on the natural photos cropped by each detector, and compared on the photos both detectors find.

    python benchmarks/detectors/scores.py ../shared/data/natural MODEL [MODEL ...]
"""

from __future__ import annotations

import sys

from fer_bench.core.stats import mcnemar_p
from fer_bench.use.evaluate import evaluate
from fer_bench.use.faceset import read_face_set
from fer_bench.use.trained import load_trained


def main(photos: str, models: list[str]) -> None:
    sets = {d: read_face_set(photos, detector=d) for d in ("haar", "blazeface")}
    print("| model | Haar crops | BlazeFace crops | right only on Haar / only on BlazeFace | McNemar p | "
          "full sets: Haar / BlazeFace |")
    print("|---|---:|---:|---:|---:|---|")
    for name in models:
        tm = load_trained(name)
        right = {}
        full = {}
        for d, faces in sets.items():
            rec = evaluate(tm, faces)
            full[d] = f"{100 * rec['metrics']['accuracy']:.1f}% of {rec['metrics']['n']}"
            right[d] = {i: tm.classes[p] == i.split("/")[0] for i, p in zip(rec["ids"], rec["predictions"])}
        common = sorted(set(right["haar"]) & set(right["blazeface"]))
        h = sum(right["haar"][i] for i in common)
        b = sum(right["blazeface"][i] for i in common)
        h_only = sum(right["haar"][i] and not right["blazeface"][i] for i in common)
        b_only = sum(right["blazeface"][i] and not right["haar"][i] for i in common)
        print(f"| {name} | {100 * h / len(common):.1f}% | {100 * b / len(common):.1f}% | {h_only} / {b_only} | "
              f"{mcnemar_p(h_only, b_only):.2f} | {full['haar']} / {full['blazeface']} |  ({len(common)} common)",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
