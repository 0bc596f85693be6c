"""Face detection for photos: MediaPipe's BlazeFace on ONNX Runtime (the default) or OpenCV's Haar
cascades, both returning (x, y, w, h) boxes in the Haar framing the natural set was built with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from fer_bench.core.errors import FerBenchError

# benchmarks/detectors/ and results/natural/README.md: on the 379 natural photos BlazeFace finds 372 faces
# (Haar 363) and gives no crop that is not a whole face (Haar 4), so it is the default.
DETECTORS = {
    "blazeface": "MediaPipe BlazeFace short-range (ONNX Runtime) on the photo edge-padded by 1/4 (wide photos also in "
                 "square tiles); box scaled "
                 "x1.15 and moved up 0.126 box heights to the Haar cascade's framing",
    "haar": "opencv haarcascade_frontalface_default on the photo edge-padded by 1/4 and scaled to ~320 px "
            "(fallback: alt2 on the equalised image)",
}
DEFAULT_DETECTOR = "blazeface"
# BlazeFace's boxes are tighter and sit lower on the face than the Haar cascade's (median over the 348
# natural photos where both agree, IoU > 0.5: Haar's box is 1.153x as large, its centre 0.126 box
# heights higher). Crops keep the Haar framing the natural set was first built with, which also
# resembles FER-2013's (whole face, some forehead).
BLAZE_TO_HAAR_SCALE = 1.153
BLAZE_TO_HAAR_SHIFT = -0.126


def face_cascades():
    import cv2
    root = Path(cv2.data.haarcascades)
    default = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_default.xml"))
    alt2 = cv2.CascadeClassifier(str(root / "haarcascade_frontalface_alt2.xml"))
    if default.empty() or alt2.empty():
        raise FerBenchError(f"{root}: OpenCV's face cascades are missing (opencv-python-headless 4.x ships them)")
    return default, alt2


DETECT_SIZE = 320   # photos are scaled so that their shorter side is about this before detection
Box = tuple[int, int, int, int]


def face_detector(name: str = DEFAULT_DETECTOR) -> Callable[[np.ndarray], list[Box]]:
    """A detector by name (see DETECTORS): gray uint8 photo -> face boxes (x, y, w, h), largest first."""
    if name == "haar":
        cascades = face_cascades()
        return lambda gray: detect_faces(gray, cascades)
    if name == "blazeface":
        return detect_faces_blazeface
    raise FerBenchError(f"unknown face detector {name!r} (choose from {', '.join(DETECTORS)})")


def _edge_padded(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """Detectors need a face that fits well inside the frame: a photo that is already a tight face
    crop (common in film-still collections) is padded with its own edge pixels by a quarter."""
    import cv2
    pad = max(gray.shape) // 4
    return cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE), pad


TILE_ASPECT = 1.5   # wider (or taller) photos are also searched in square tiles
MAX_TILES = 16      # per axis: a 1x30000 strip made one tile per pixel (82 s for a 112-byte PNG)
MIN_FACE_SIDE = 24  # pixels: a photo whose shorter side is smaller cannot hold a face worth a 48x48 crop


def _tiles(h: int, w: int) -> list[tuple[int, int, int]]:
    """(x0, y0, side): squares of the shorter side, overlapping by half (less when more than MAX_TILES
    would be needed along the long side), covering the photo."""
    side = min(h, w)

    def starts(n: int) -> list[int]:
        step = max(1, side // 2, -(-(n - side) // MAX_TILES))
        return sorted({*range(0, n - side + 1, step), n - side})
    return [(x0, y0, side) for y0 in starts(h) for x0 in starts(w)]


def detect_faces_blazeface(gray: np.ndarray) -> list[Box]:
    """BlazeFace boxes, reframed like the Haar cascade's, largest first.

    BlazeFace sees the photo letterboxed to 128x128: in a wide group photo every face becomes too small.
    Such photos are also searched in overlapping square tiles; duplicates are merged (IoU > 0.3, the
    higher score stays)."""
    from fer_bench.core.blazeface import NMS_IOU, detect
    h, w = gray.shape
    if min(h, w) < MIN_FACE_SIDE:
        return []
    regions = [(0, 0, gray)]
    if max(h, w) >= TILE_ASPECT * min(h, w):
        regions += [(x0, y0, gray[y0:y0 + side, x0:x0 + side]) for x0, y0, side in _tiles(h, w)]
    found = []
    for x0, y0, region in regions:
        big, pad = _edge_padded(region)
        found += [((x - pad + x0, y - pad + y0, bw, bh), score) for (x, y, bw, bh), score in detect(big)]
    kept: list[Box] = []
    for box, _ in sorted(found, key=lambda f: -f[1]):
        if all(_box_iou(box, k) <= NMS_IOU for k in kept):
            kept.append(box)
    boxes = []
    for x, y, bw, bh in kept:
        side = max(bw, bh) * BLAZE_TO_HAAR_SCALE
        cx, cy = x + bw / 2, y + bh / 2 + BLAZE_TO_HAAR_SHIFT * bh
        boxes.append((round(cx - side / 2), round(cy - side / 2), round(side), round(side)))
    return sorted(boxes, key=lambda b: (-b[2] * b[3], b))


def _box_iou(a: Box, b: Box) -> float:
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def detect_faces(gray: np.ndarray, cascades=None) -> list[Box]:
    """Haar cascade face boxes (x, y, w, h) in the photo's coordinates, largest first.

    Haar cascades need a face of at least ~24 px: small photos are scaled up.
    """
    import cv2
    default, alt2 = cascades or face_cascades()
    big, pad = _edge_padded(gray)
    scale = DETECT_SIZE / min(big.shape)
    big = cv2.resize(big, None, fx=scale, fy=scale,
                     interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    min_size = (max(24, min(big.shape) // 8),) * 2
    faces = default.detectMultiScale(big, scaleFactor=1.1, minNeighbors=5, minSize=min_size)
    if len(faces) == 0:
        faces = alt2.detectMultiScale(cv2.equalizeHist(big), scaleFactor=1.05, minNeighbors=3, minSize=min_size)
    boxes = [tuple(int(round(v / scale)) for v in f) for f in faces]
    boxes = [(x - pad, y - pad, w, h) for x, y, w, h in boxes]
    return sorted(boxes, key=lambda b: (-b[2] * b[3], b))
