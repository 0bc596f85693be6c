"""Checkpoints: whether one can be read, and the selected weights kept as a safetensors file with a
card that says how to feed the model (what `fer-bench eval`, `predict` and `export` load)."""

from __future__ import annotations

from pathlib import Path

import torch

from fer_bench.core.io import atomic_path, write_json
from fer_bench.core.record import RunRecord
from fer_bench.training.module import FERClassifier


def checkpoint_readable(path: Path) -> bool:
    """A resume checkpoint this run can continue from: a zip archive that passes its CRC check (a truncated or
    overwritten one does not), loads weights-only (a planted pickle that would run code does not) and holds
    what Lightning resumes from (a state dict, the epoch and the loops)."""
    import pickle
    import zipfile
    try:
        with zipfile.ZipFile(path) as z:
            if z.testzip() is not None:
                return False
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError, pickle.UnpicklingError, TypeError):
        return False
    return isinstance(ckpt, dict) and {"state_dict", "epoch", "loops"} <= set(ckpt)


def scored_on(record: RunRecord) -> str:
    """What the test accuracy was measured on, said wherever it is shown: a subset is never 'FER-2013 PrivateTest'."""
    n, full = record.data.sizes.get("test"), 3589
    if record.config.get("limit_eval") or (n and n != full and record.data.options.get("labels") == "fer2013"):
        return f"a subset of {n} FER-2013 PrivateTest images"
    return "FER-2013 PrivateTest" if record.data.options.get("labels", "fer2013") == "fer2013" else \
        f"FER+ {record.data.options.get('ferplus_mode', '')} PrivateTest ({n} images)".replace("  ", " ")


def keep_model(module: FERClassifier, ckpt_path: str | None, out_dir: Path, record: RunRecord) -> str:
    """The selected weights as a weights-only file (safetensors: loading it runs no code) and a small
    JSON card beside it saying how to feed the model. Returns the weights file's path."""
    from safetensors.torch import save_file
    if ckpt_path:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    weights = out_dir / "model.safetensors"
    tensors = {k: v.detach().cpu().contiguous() for k, v in module.model.state_dict().items()}
    with atomic_path(weights) as tmp:
        save_file(tensors, str(tmp))
    by_precision = record.timing.latency_ms_batch1_by_precision
    card = {
        "architecture": record.model.name, "classes": record.classes,
        "input": {"size": 48, "channels": 1, "scale": "pixel / 255", "face_crop": "fer-bench natural build",
                  "eval_protocol": record.model.eval_protocol},
        # What the record's numbers were computed in: `fer-bench eval` uses it to reproduce them exactly.
        "precision": record.precision, "channels_last": record.config["channels_last"],
        # Single faces (`fer-bench predict`) run in whichever precision was faster at batch 1 for this
        # model on the machine that trained it: bf16 autocast's casts can cost more than they save there.
        "batch1_precision": min(by_precision, key=by_precision.get) if by_precision else "32-true",
        "run_id": record.run_id, "recipe": record.recipe["name"], "seed": record.seed,
        "val": {"accuracy": record.metrics.val.accuracy, "macro_f1": record.metrics.val.macro_f1},
        "test": {"accuracy": record.metrics.test.accuracy, "macro_f1": record.metrics.test.macro_f1,
                 "scored_on": scored_on(record)},
    }
    write_json(out_dir / "card.json", card)
    return str(weights)
