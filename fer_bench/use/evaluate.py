"""`fer-bench eval`: a kept model scored on any labelled face set, honestly.

A set may lack classes (CK+ has no neutral): accuracy counts every face, macro-F1 and per-class
recall cover the classes present, predictions of absent classes count as errors, and the
majority-class baseline stands beside the accuracy. Faces of a class the model cannot predict
(contempt for a 7-class model) are not scored, and counted as such.
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from fer_bench.core.metrics import per_class_metrics
from fer_bench.use.faceset import FaceSet
from fer_bench.use.trained import TrainedModel, predict_probs

EVAL_SCHEMA = "fer-bench-eval/1"


def score(probs: torch.Tensor, labels: list[str], classes: tuple[str, ...]) -> dict:
    """Metrics of class probabilities against class names (all of them among `classes`)."""
    y = torch.tensor([classes.index(c) for c in labels], dtype=torch.long)
    k = len(classes)
    conf = torch.bincount(y * k + probs.argmax(1), minlength=k * k).reshape(k, k)
    per_class = {c: m for c, m in per_class_metrics(conf, classes).items() if m["support"]}
    majority = max(per_class, key=lambda c: per_class[c]["support"])
    return {
        "accuracy": float(conf.diag().sum() / len(y)),
        "macro_f1": float(np.mean([m["f1"] for m in per_class.values()])),
        "macro_f1_over": list(per_class),
        "majority_baseline": {"class": majority, "accuracy": per_class[majority]["support"] / len(y)},
        "n": int(len(y)),
        "per_class": per_class,
        "confusion": conf.tolist(),
        "confusion_axes": "rows = true class, columns = predicted class, in the model's class order",
    }


def evaluate(tm: TrainedModel, faces: FaceSet, precision: str | None = None) -> dict:
    """The eval record of one (model, set) pair."""
    from fer_bench.core.runinfo import environment, portable_paths
    keep = [i for i, c in enumerate(faces.labels) if c in tm.classes]
    skipped = Counter(faces.skipped)
    for c, n in Counter(c for c in faces.labels if c not in tm.classes).items():
        skipped[f"class {c!r} is not one the model predicts"] += n
    if not keep:
        from fer_bench.core.errors import FerBenchError
        raise FerBenchError(f"{faces.source}: no face of a class the model predicts ({', '.join(tm.classes)})")
    idx = torch.tensor(keep)
    probs = predict_probs(tm, faces.images[idx], precision)
    labels = [faces.labels[i] for i in keep]
    return {
        "schema": EVAL_SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["fer-bench", *sys.argv[1:]]) if sys.argv else "",
        "model": {"run_id": tm.name, "architecture": tm.card["architecture"], "classes": list(tm.classes),
                  "folder": portable_paths(str(tm.folder)), "eval_protocol": tm.card["input"].get("eval_protocol"),
                  "record_test_accuracy": tm.card["test"].get("accuracy")},
        "set": {"name": faces.name, "source": portable_paths(faces.source), "photos": faces.photos,
                "scored": len(keep), "skipped": dict(skipped.most_common()),
                "preprocessing": faces.preprocessing},
        "precision": precision or tm.precision,
        "device": tm.device,
        "metrics": score(probs, labels, tm.classes),
        "predictions": probs.argmax(1).tolist(),
        "ids": [faces.ids[i] for i in keep],
        "environment": environment(),
    }


def eval_record_path(results: Path, rec: dict) -> Path:
    """RESULTS/eval/<run id>__<set>.json. Both names come from what a user may edit (card.json) or type (--name):
    a name that is a path is refused, so the record lands inside RESULTS/eval/ and nowhere else."""
    from fer_bench.core.errors import FerBenchError
    for what, name in (("the model's run_id (card.json)", rec["model"]["run_id"]),
                       ("the set's name (--name)", rec["set"]["name"])):
        name = str(name)
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise FerBenchError(f"{what} {name!r} is a path, not a name; the eval record is named after it and "
                                "must stay inside the results folder")
    return results / "eval" / f"{rec['model']['run_id']}__{rec['set']['name']}.json"


def format_eval(rec: dict) -> str:
    """The short table printed on stdout."""
    m, s = rec["metrics"], rec["set"]
    skipped = ", ".join(f"{n} {why}" for why, n in s["skipped"].items())
    lines = [f"{rec['model']['run_id']} on {s['name']}: {s['scored']} faces scored of {s['photos']} "
             f"images" + (f" (not scored: {skipped})" if skipped else ""),
             f"accuracy {m['accuracy']:.2%}   majority baseline {m['majority_baseline']['accuracy']:.2%} "
             f"({m['majority_baseline']['class']})   macro-F1 {m['macro_f1']:.2%} over the "
             f"{len(m['macro_f1_over'])} classes present   [{rec['precision']}]",
             f"{'class':<10} {'n':>5} {'recall':>7} {'precision':>9} {'F1':>6}"]
    for c, v in m["per_class"].items():
        lines.append(f"{c:<10} {v['support']:>5} {v['recall']:>7.1%} {v['precision']:>9.1%} {v['f1']:>6.1%}")
    return "\n".join(lines)
