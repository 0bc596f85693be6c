"""What a suite adds to finished cells without retraining: the natural set from a kept checkpoint, and
eval records on the suite's external face sets."""

from __future__ import annotations

import sys
from pathlib import Path

from fer_bench.core.io import write_json
from fer_bench.core.record import read_record
from fer_bench.runner.cells import cell_status, record_path, suite_dir
from fer_bench.runner.suite import Cell, Suite
from fer_bench.training.scoring import add_natural_to_record


def backfill_natural(suite: Suite, cells: list[Cell], data: str, natural: str, results: str) -> int:
    """Finished records without natural-set numbers get them from their kept checkpoint."""
    n = 0
    for cell in cells:
        path = record_path(suite, cell, results)
        if cell_status(path) != "finished" or read_record(path).metrics.natural is not None:
            continue
        best = sorted((suite_dir(suite, results) / "checkpoints" / cell.key).glob("best-*.ckpt"))
        if best:
            print(f"[{suite.name}] natural set for {cell.key} (from its kept checkpoint)", file=sys.stderr)
            add_natural_to_record(path, best[-1], natural, data)
            n += 1
    return n


def eval_external(suite: Suite, cells: list[Cell], results: str) -> int:
    """Every finished cell's kept model on each of the suite's external sets: one eval record per pair
    in <suite>/eval/, made once. A set that is not on this machine is skipped with one line."""
    from fer_bench.use.evaluate import eval_record_path, evaluate
    from fer_bench.use.faceset import read_face_set
    from fer_bench.use.trained import load_trained
    out, n = suite_dir(suite, results), 0
    for ext in suite.external:
        path = Path(ext.path).expanduser()
        if not path.exists():
            print(f"[{suite.name}] external set {ext.name}: {path} not found on this machine, skipped",
                  file=sys.stderr)
            continue
        faces = None
        for cell in cells:
            model = out / "models" / cell.key
            target = out / "eval" / f"{cell.key}__{ext.name}.json"
            if cell_status(record_path(suite, cell, results)) != "finished" or target.exists() or not model.is_dir():
                continue
            if faces is None:   # read (and detect faces) once per set
                faces = read_face_set(path, faces=ext.faces, label_from_name=ext.label_from_name, split=ext.split)
                faces.name = ext.name
            rec = evaluate(load_trained(model), faces)
            write_json(eval_record_path(out, rec), rec)
            print(f"[{suite.name}] {ext.name}: {cell.key} acc {rec['metrics']['accuracy']:.2%}", file=sys.stderr)
            n += 1
    return n
