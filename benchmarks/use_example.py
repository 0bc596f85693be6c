"""The README's "Use a trained model" example, run for real: results/use/.

Builds one group photo from three photos of ../shared/data/natural (the first happy, surprise and
angry photo in file order, no choosing), then runs the three commands a user would run on a kept
model: `predict` (annotated PNG + JSON lines), `eval` on the natural photos, `export` to ONNX.

    python benchmarks/use_example.py MODEL [NATURAL_PHOTOS]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PIL import Image

from fer_bench.cli import main as fer_bench

REPO = Path(__file__).resolve().parents[1]
OUT = Path("results/use")                # relative: the logs are committed and name no machine's paths
NATURAL = Path("../shared/data/natural")


def group_photo(photos: Path, out: Path) -> Path:
    """Three faces at three sizes on one canvas: several faces, some small, as in a user's photo."""
    canvas = Image.new("RGB", (1100, 420), (200, 200, 200))
    x = 20
    for cls, size in (("happy", 380), ("surprise", 300), ("angry", 240)):
        first = sorted(p for p in (photos / cls).iterdir() if p.suffix.lower() in (".jpg", ".png"))[0]
        with Image.open(first) as im:
            face = im.convert("RGB").resize((size, size), Image.LANCZOS)
        canvas.paste(face, (x, 420 - size - 20))
        x += size + 40
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, format="JPEG", quality=92)
    return out


def run(model: str, photos: Path = NATURAL) -> None:
    os.chdir(REPO)
    photo = group_photo(photos, OUT / "group.jpg")
    for argv, log in (
        (["predict", model, str(photo), "--annotate", str(OUT / "annotated")], "predict.txt"),
        (["predict", model, str(photo), "--json"], "predict.jsonl"),
        (["eval", model, "--on", str(photos), "--out", str(OUT / "eval_natural.json")], "eval_natural.txt"),
        (["export", model, "--out", str(OUT / "model.onnx")], "export.txt"),
    ):
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = fer_bench(argv)
        text = f"$ fer-bench {' '.join(argv)}\n{buf.getvalue()}"
        (OUT / log).write_text(text)
        print(text)
        if code not in (0,):
            sys.exit(f"fer-bench {argv[0]} exited with {code}")


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) > 2 else NATURAL)
