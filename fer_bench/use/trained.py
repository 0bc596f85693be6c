"""A kept model (model.safetensors + card.json, written by every run) loaded for use:
class probabilities for 48x48 face crops, in the view and precision its record was scored in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.core.runinfo import AUTOCAST
from fer_bench.core.validate import is_number
from fer_bench.data.augment import to_float
from fer_bench.models import CropAveraging, create_model


@dataclass
class TrainedModel:
    folder: Path
    card: dict
    model: torch.nn.Module
    classes: tuple[str, ...]
    precision: str
    channels_last: bool
    device: str = "cpu"      # where the model runs: its inputs go there and autocast is that device's

    @property
    def name(self) -> str:
        return self.card["run_id"]


def shipped_dir() -> Path:
    """Where the package's shipped models live ($FER_BENCH_SHIPPED overrides it, for tests)."""
    import os
    return Path(os.environ.get("FER_BENCH_SHIPPED") or Path(__file__).resolve().parents[1] / "assets" / "models")


def find_model_folder(where: str | Path) -> Path:
    """A model folder from what a user is likely to type: the folder, its model.safetensors or
    card.json, a run record (its model_file), a shipped model's name (best), or a run id kept under
    results/*/models/."""
    p = Path(where)
    if not p.exists() and p.name == str(where) and (shipped_dir() / p.name / "card.json").is_file():
        return shipped_dir() / p.name
    if p.is_dir() and (p / "card.json").is_file():
        return p
    if p.is_file() and p.name in ("model.safetensors", "card.json"):
        return p.parent
    if p.is_file() and p.suffix == ".json":
        try:
            model_file = json.loads(p.read_text()).get("model_file")
        except (OSError, ValueError, AttributeError):
            model_file = None
        if not model_file:
            raise FerBenchError(f"{p}: not a run record with a kept model (no model_file)")
        from fer_bench.core.runinfo import local_path
        return find_model_folder(local_path(model_file))
    if not p.exists():
        hits = sorted(Path("results").glob(f"*/models/{where}/card.json"))
        if len(hits) == 1:
            return hits[0].parent
        raise FerBenchError(f"{where}: no such model (give a shipped model's name, a kept model's folder, its run "
                            "record, or a run id under results/*/models/; `fer-bench models --trained` lists them)")
    raise FerBenchError(f"{p}: not a kept model (expected a folder with model.safetensors and card.json)")


def kept_cards(folder: Path) -> tuple[list[tuple[float, dict, Path]], list[Path]]:
    """(test accuracy, card, model folder) of every kept model under `folder`, best first, and the card
    files that could not be read: one malformed card must not hide the good ones."""
    cards, skipped = [], []
    for path in sorted(folder.rglob("card.json")):
        try:
            card = json.loads(path.read_text())
            acc, val = float(card["test"]["accuracy"]), float(card["val"]["accuracy"])
            card = {**card, "architecture": str(card["architecture"]), "recipe": str(card["recipe"]),
                    "val": {"accuracy": val}, "test": {"scored_on": str(card["test"].get("scored_on", ""))}}
            cards.append((acc, card, path.parent))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            skipped.append(path)
    return sorted(cards, key=lambda c: -c[0]), skipped


def load_trained(where: str | Path, device: str = "cpu") -> TrainedModel:
    """The kept model at `where` on `device` (auto | cpu | cuda, as `--device` takes it)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from fer_bench.core.runinfo import resolve_device
    device = resolve_device(device)
    folder = find_model_folder(where)
    try:
        card = json.loads((folder / "card.json").read_text())
    except (OSError, ValueError) as e:
        raise FerBenchError(f"{folder / 'card.json'}: not a model card ({e})") from None
    check_card(card, folder / "card.json")
    arch, classes = card["architecture"], tuple(card["classes"])
    model = create_model(arch, num_classes=len(classes))
    try:
        state = load_file(str(folder / "model.safetensors"))
    except (OSError, SafetensorError) as e:
        raise FerBenchError(f"{folder / 'model.safetensors'}: cannot read the weights ({e})") from None
    # A diverged run's weights predict one class with NaN scores: refuse them rather than report an accuracy.
    bad = next((k for k, t in state.items() if t.is_floating_point() and not torch.isfinite(t).all()), None)
    if bad is not None:
        raise FerBenchError(f"{folder / 'model.safetensors'}: tensor {bad!r} holds NaN or infinite values "
                            "(a diverged run?); these weights cannot predict")
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise FerBenchError(f"{folder / 'model.safetensors'}: does not fit {arch} with {len(classes)} classes "
                            f"({str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else e})") from None
    # The evaluated view of a crop-averaging model (ten-crop) is part of what its numbers mean.
    if card["input"].get("eval_protocol") == "single" and isinstance(model, CropAveraging):
        model.eval_crops = 1
    channels_last = bool(card.get("channels_last", False))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return TrainedModel(folder, card, model.to(device).eval(), classes, card.get("precision", "32-true"),
                        channels_last, device)


def check_card(card: object, path: Path) -> None:
    """A card is edited by hand at times: every field the commands read is checked here, once, so a wrong
    type is one line naming the key. `input` and `test` may be absent (a card from outside a run); they
    become empty sections."""
    def bad(key: str, want: str) -> FerBenchError:
        return FerBenchError(f"{path}: key {key!r} must be {want}")
    if not isinstance(card, dict):
        raise FerBenchError(f"{path}: not a model card (a JSON object is expected)")
    for key in ("architecture", "run_id"):
        if not isinstance(card.get(key), str) or not card[key]:
            raise bad(key, "a non-empty string")
    classes = card.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise bad("classes", "a non-empty list of class names")
    for key in ("input", "test", "val"):
        card.setdefault(key, {})
        if not isinstance(card[key], dict):
            raise bad(key, "an object")
    for key in ("test", "val"):
        acc = card[key].get("accuracy")
        if acc is not None and not is_number(acc):
            raise bad(f"{key}.accuracy", "a number")
    if card.get("precision", "32-true") not in ("32-true", *AUTOCAST):
        raise bad("precision", f"one of 32-true, {', '.join(AUTOCAST)}")


@torch.no_grad()
def predict_probs(tm: TrainedModel, images: torch.Tensor, precision: str | None = None,
                  batch_size: int = 512) -> torch.Tensor:
    """uint8 (N, 48, 48) face crops -> softmax (N, classes), float32 on the CPU, computed on the model's device
    with that device's autocast.

    Batches of 512 in order, as a run's evaluation loader feeds them, so that a record's numbers
    are reproduced exactly in its own precision (on the device type it was scored on)."""
    precision = precision or tm.precision
    dtype = AUTOCAST.get(precision)
    out = []
    with torch.autocast(tm.device, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        for s in range(0, len(images), batch_size):
            x = to_float(images[s:s + batch_size]).to(tm.device)
            if tm.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            out.append(tm.model(x).float().softmax(1).cpu())
    return torch.cat(out) if out else torch.zeros(0, len(tm.classes))
