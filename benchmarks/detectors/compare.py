"""Haar cascades (fer-bench's detector) against BlazeFace on the natural photos: yield, multi-face
photos, box agreement, and contact sheets of the crops each detector gives, to look at.

    python benchmarks/detectors/blazeface_boxes.py ../shared/data/natural > boxes.jsonl   # mediapipe venv
    python benchmarks/detectors/compare.py ../shared/data/natural boxes.jsonl results/natural/detectors

Crops are made by fer_bench.natural.crop_face from each detector's largest box, so the sheets show
exactly what would enter the test set.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from fer_bench.natural import crop_face, detect_faces, face_cascades, list_photos, read_gray


def iou(a, b) -> float:
    ax, ay, aw, ah = a[:4]
    bx, by, bw, bh = b[:4]
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def sheet(crops: list[tuple[int, np.ndarray]], path: Path, cols: int = 20, size: int = 64) -> None:
    rows = -(-len(crops) // cols)
    img = Image.new("L", (cols * size, rows * (size + 12)), 255)
    draw = ImageDraw.Draw(img)
    for k, (idx, crop) in enumerate(crops):
        x, y = k % cols * size, k // cols * (size + 12)
        img.paste(Image.fromarray(crop).resize((size, size)), (x, y + 12))
        draw.text((x + 2, y), str(idx), fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def main(root: str, blaze_jsonl: str, out: str) -> None:
    src, out_dir = Path(root), Path(out)
    blaze = {r["source"]: r for r in map(json.loads, Path(blaze_jsonl).read_text().splitlines())}
    cascades = face_cascades()
    rows = []
    for idx, (path, name, _) in enumerate(list_photos(src)):
        gray = read_gray(path)
        rel = str(path.relative_to(src))
        haar = detect_faces(gray, cascades)
        bf = [tuple(b[:4]) for b in blaze[rel]["boxes"]]
        rows.append({"idx": idx, "source": rel, "class": name, "shape": list(gray.shape),
                     "haar": [list(b) for b in haar], "blazeface": [list(b) for b in bf],
                     "iou": round(iou(haar[0], bf[0]), 3) if haar and bf else None})
        for det, boxes in (("haar", haar), ("blazeface", bf)):
            if boxes:
                rows[-1].setdefault("crops", {})[det] = crop_face(gray, boxes[0])
    for det in ("haar", "blazeface"):
        sheet([(r["idx"], r["crops"][det]) for r in rows if det in r.get("crops", {})], out_dir / f"{det}.png")
    both = [r for r in rows if r["iou"] is not None]
    disagree = [r for r in both if r["iou"] < 0.5]
    for det in ("haar", "blazeface"):
        sheet([(r["idx"], r["crops"][det]) for r in disagree], out_dir / f"disagree_{det}.png", cols=10)
    summary = {
        "photos": len(rows),
        "found": {d: sum(bool(r[d]) for r in rows) for d in ("haar", "blazeface")},
        "several_faces": {d: sum(len(r[d]) > 1 for r in rows) for d in ("haar", "blazeface")},
        "missed_by": {d: [r["idx"] for r in rows if not r[d]] for d in ("haar", "blazeface")},
        "both_found": len(both), "iou_below_0.5": [r["idx"] for r in disagree],
        "median_iou": float(np.median([r["iou"] for r in both])),
        "missed_by_class": {d: dict(Counter(r["class"] for r in rows if not r[d])) for d in ("haar", "blazeface")},
    }
    (out_dir / "boxes.json").write_text(json.dumps({"summary": summary, "photos": [
        {k: v for k, v in r.items() if k != "crops"} for r in rows]}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
