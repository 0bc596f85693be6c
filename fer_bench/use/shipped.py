"""Shipping a kept model with the package: its weights stored in float16 (half the size) beside its card, under
fer_bench/assets/models/<name>/, so that `fer-bench predict <name> photo.jpg` works right after install.

A model is shipped only when the float16 copy predicts what the kept float32 model predicts: on every
FER-2013 PrivateTest image, at most 0.1% of the predicted classes may change, which bounds the change of any
accuracy on those images (FER-2013's labels or FER+'s) by 0.1 point. Maintainers run it:

    python -m fer_bench.use.shipped results/best/models/<run id> --name best     (or `make ship`)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import write_json
from fer_bench.data.fer2013 import TEST, default_data_path
from fer_bench.data.load import load_dataset
from fer_bench.use.trained import load_trained, predict_probs, shipped_dir

MAX_CHANGED = 0.001      # share of test predictions the float16 copy may change (0.1 point of accuracy)


def ship(model: str | Path, name: str, data: str | Path, into: Path | None = None, force: bool = False) -> Path:
    """The kept model `model` as shipped model `name`; returns its folder. Refuses to replace a shipped model
    without `force`, and writes nothing when the float16 copy does not reproduce the kept model."""
    from safetensors.torch import load_file, save_file
    into = into or shipped_dir()
    target = into / name
    if not name.replace("-", "").replace("_", "").isalnum():
        raise FerBenchError(f"--name {name!r}: use letters, digits, - and _ only")
    if target.exists() and not force:
        raise FerBenchError(f"{target}: a shipped model of that name exists (--force replaces it)")
    kept = load_trained(model)
    ds = load_dataset(data)
    images = ds.images[ds.splits == TEST]
    with tempfile.TemporaryDirectory(dir=into.parent if into.parent.is_dir() else None) as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        state = load_file(str(kept.folder / "model.safetensors"))
        save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()},
                  str(folder / "model.safetensors"))
        card = {**kept.card, "shipped": {"name": name, "storage": "float16", "max_changed_predictions": MAX_CHANGED}}
        write_json(folder / "card.json", card)
        half = load_trained(folder)
        a, b = predict_probs(kept, images).argmax(1), predict_probs(half, images).argmax(1)
        changed = float((a != b).float().mean())
        if changed > MAX_CHANGED:
            raise FerBenchError(f"{kept.folder}: its float16 copy changes {changed:.2%} of the PrivateTest "
                                f"predictions (at most {MAX_CHANGED:.1%} allowed); not shipped")
        card["shipped"]["changed_predictions"] = round(changed, 6)
        write_json(folder / "card.json", card)
        into.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(folder), target)
    print(f"shipped {name}: {target} ({(target / 'model.safetensors').stat().st_size / 2**20:.1f} MiB, "
          f"{changed:.3%} of {len(images):,} PrivateTest predictions changed by float16)")
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fer_bench.use.shipped", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a kept model: its folder, its run record, or its run id")
    p.add_argument("--name", required=True, help="the name users will type: best, best-ferplus, ...")
    p.add_argument("--data", default=None, help="FER-2013 (default: as `fer-bench train` finds it)")
    p.add_argument("--force", action="store_true", help="replace a shipped model of the same name")
    a = p.parse_args(argv)
    try:
        ship(a.model, a.name, a.data or default_data_path(), force=a.force)
    except FerBenchError as e:
        print(f"fer-bench: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
