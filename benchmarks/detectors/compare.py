"""Face detectors on the natural photos: OpenCV Haar cascades, MediaPipe's BlazeFace, and fer-bench's
ONNX Runtime port of BlazeFace (fer_bench/blazeface.py). Yield, multi-face photos, box agreement, and
contact sheets of the crops each gives, to look at.

    python benchmarks/detectors/blazeface_boxes.py ../shared/data/natural > boxes.jsonl   # mediapipe venv
    python benchmarks/detectors/compare.py ../shared/data/natural boxes.jsonl results/natural/detectors

Crops are made by fer_bench.data.natural.crop_face from each detector's largest box (for fer-bench's port,
the box natural build uses, framed like Haar's), so the sheets show what would enter the test set.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from fer_bench.core.blazeface import detect
from fer_bench.data.faces import _box_iou, _edge_padded, detect_faces_blazeface, face_detector
from fer_bench.data.natural import crop_face, list_photos, read_gray

DETECTORS = ("haar", "mediapipe", "fer-bench")


def iou(a, b) -> float:
    return _box_iou(tuple(a[:4]), tuple(b[:4]))


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


def raw_port_boxes(gray: np.ndarray) -> list[tuple]:
    """The port's boxes before the Haar framing, in photo pixels: comparable with MediaPipe's."""
    big, pad = _edge_padded(gray)
    boxes = [(x - pad, y - pad, w, h) for (x, y, w, h), _ in detect(big)]
    return sorted(boxes, key=lambda b: (-b[2] * b[3], b))


def main(root: str, blaze_jsonl: str, out: str) -> None:
    src, out_dir = Path(root), Path(out)
    mediapipe = {r["source"]: r for r in map(json.loads, Path(blaze_jsonl).read_text().splitlines())}
    haar_detect = face_detector("haar")
    rows = []
    for idx, (path, name, _) in enumerate(list_photos(src)):
        gray = read_gray(path)
        rel = str(path.relative_to(src))
        found = {"haar": haar_detect(gray), "mediapipe": [tuple(b[:4]) for b in mediapipe[rel]["boxes"]],
                 "fer-bench": detect_faces_blazeface(gray)}
        port_raw = raw_port_boxes(gray)
        row = {"idx": idx, "source": rel, "class": name, "shape": list(gray.shape),
               **{d: [list(b) for b in found[d]] for d in DETECTORS},
               "iou_haar_mediapipe": round(iou(found["haar"][0], found["mediapipe"][0]), 3)
               if found["haar"] and found["mediapipe"] else None,
               "iou_port_mediapipe": round(iou(port_raw[0], found["mediapipe"][0]), 3)
               if port_raw and found["mediapipe"] else None,
               "crops": {d: crop_face(gray, found[d][0]) for d in DETECTORS if found[d]}}
        rows.append(row)
    for d in DETECTORS:
        sheet([(r["idx"], r["crops"][d]) for r in rows if d in r["crops"]], out_dir / f"{d}.png")
    disagree = [r for r in rows if r["iou_haar_mediapipe"] is not None and r["iou_haar_mediapipe"] < 0.5]
    for d in DETECTORS:
        sheet([(r["idx"], r["crops"][d]) for r in disagree if d in r["crops"]], out_dir / f"disagree_{d}.png",
              cols=11)
    port = [r["iou_port_mediapipe"] for r in rows if r["iou_port_mediapipe"] is not None]
    summary = {
        "photos": len(rows),
        "found": {d: sum(bool(r[d]) for r in rows) for d in DETECTORS},
        "several_faces": {d: sum(len(r[d]) > 1 for r in rows) for d in DETECTORS},
        "missed": {d: [r["idx"] for r in rows if not r[d]] for d in DETECTORS},
        "missed_by_class": {d: dict(Counter(r["class"] for r in rows if not r[d])) for d in DETECTORS},
        "haar_vs_mediapipe": {"both_found": sum(r["iou_haar_mediapipe"] is not None for r in rows),
                              "iou_below_0.5": [r["idx"] for r in disagree],
                              "median_iou": float(np.median([r["iou_haar_mediapipe"] for r in rows
                                                             if r["iou_haar_mediapipe"] is not None]))},
        "port_vs_mediapipe": {"both_found": len(port), "median_iou": float(np.median(port)),
                              "min_iou": float(np.min(port)),
                              "found_by_one_only": [r["idx"] for r in rows
                                                    if bool(r["mediapipe"]) != bool(r["fer-bench"])]},
    }
    (out_dir / "boxes.json").write_text(json.dumps({"summary": summary, "photos": [
        {k: v for k, v in r.items() if k != "crops"} for r in rows]}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
