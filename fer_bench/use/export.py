"""`fer-bench export`: a kept model as ONNX, checked against PyTorch before it is written.

The file's metadata says how to feed it (input layout, scaling, face crop, class order), so it
can be used without this package. The export is refused unless ONNX Runtime reproduces
PyTorch's fp32 softmax on real PrivateTest faces to within PARITY_TOLERANCE.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.core.io import atomic_path
from fer_bench.data.augment import to_float
from fer_bench.data.faces import DEFAULT_DETECTOR, DETECTORS
from fer_bench.data.natural import CONTRAST
from fer_bench.use.trained import TrainedModel, predict_probs

PARITY_TOLERANCE = 1e-4
PARITY_IMAGES = 512


def onnx_metadata(tm: TrainedModel) -> dict[str, str]:
    card = tm.card
    return {
        "fer_bench.architecture": card["architecture"],
        "fer_bench.run_id": card["run_id"],
        "fer_bench.classes": json.dumps(list(tm.classes)),
        "fer_bench.input": "image: float32 (N, 1, 48, 48), gray, pixel / 255 (no mean/std normalisation)",
        "fer_bench.output": "logits: float32 (N, classes); softmax gives class probabilities",
        "fer_bench.face_crop": f"a face found by {DETECTORS[DEFAULT_DETECTOR]}; square crop with 15% margin; "
                               f"{CONTRAST}",
        "fer_bench.eval_protocol": card["input"].get("eval_protocol", "native"),
        "fer_bench.test_accuracy": ("not recorded" if card["test"].get("accuracy") is None else
                                   f"{card['test']['accuracy']:.4f} "
                                   f"({card['test'].get('scored_on', 'FER-2013 PrivateTest')}, from the run record)"),
    }


def to_onnx(model: torch.nn.Module, path: Path) -> None:
    """torch.export-based exporter (the maintained one), batch dimension dynamic."""
    x = torch.rand(2, 1, 48, 48, device=next(model.parameters()).device)
    batch = torch.export.Dim("batch", min=1, max=65536)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=True, verbose=False, input_names=["image"],
                          output_names=["logits"], dynamic_shapes=({0: batch},), opset_version=18,
                          external_data=False)  # one self-contained file (our models are far below 2 GB)


def parity(onnx_path: Path, tm: TrainedModel, images: torch.Tensor) -> float:
    """max |softmax(ONNX Runtime) - softmax(PyTorch fp32)| over the images."""
    import onnxruntime as ort
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = to_float(images).numpy()
    logits = np.concatenate([session.run(None, {"image": x[s:s + 256]})[0] for s in range(0, len(x), 256)])
    ort_probs = torch.from_numpy(logits).softmax(1)
    return float((ort_probs - predict_probs(tm, images, precision="32-true")).abs().max())


def export_onnx(tm: TrainedModel, out: Path, parity_images: torch.Tensor) -> dict:
    """Write out (atomically) if parity holds; returns what was measured."""
    import onnx
    model = tm.model.to(memory_format=torch.contiguous_format).float().eval()
    with atomic_path(out) as tmp:
        try:
            to_onnx(model, tmp)
        except Exception as e:  # the exporter raises many types; the user needs the one line
            raise FerBenchError(f"{tm.card['architecture']}: ONNX export failed "
                                f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
        proto = onnx.load(str(tmp))
        for k, v in onnx_metadata(tm).items():
            proto.metadata_props.add(key=k, value=v)
        onnx.save(proto, str(tmp))
        delta = parity(tmp, tm, parity_images)
        if not delta <= PARITY_TOLERANCE:
            raise FerBenchError(f"{out}: not written: ONNX Runtime differs from PyTorch by {delta:.2e} in softmax "
                                f"on {len(parity_images)} PrivateTest images (allowed {PARITY_TOLERANCE:.0e})")
    return {"path": str(out), "max_abs_softmax_delta": delta, "parity_images": len(parity_images),
            "bytes": out.stat().st_size}


def privatetest_images(data: str | Path, n: int = PARITY_IMAGES) -> torch.Tensor:
    """The first n PrivateTest images of FER-2013 (the parity check's real faces)."""
    from fer_bench.data.fer2013 import TEST
    from fer_bench.data.load import load_dataset
    d = load_dataset(data)
    images = d.images[d.splits == TEST][:n]
    if len(images) == 0:
        raise FerBenchError(f"{data}: no PrivateTest images for the parity check")
    return images
