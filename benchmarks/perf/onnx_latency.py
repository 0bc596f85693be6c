"""Deployment latency: ONNX Runtime (CPU) against PyTorch eager, for every registered architecture.

Each model is exported exactly as `fer-bench export` does (fer_bench.use.export.to_onnx, fp32) in the
evaluated view of the arena (one crop), then timed on the same random 48x48 inputs at batch 1 and
batch 64 in the same process: PyTorch eager fp32 (channels_last, no_grad) and ONNX Runtime's CPU
provider with default session options, both on this machine's threads. The ratio is the result; the
milliseconds depend on the machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from _common import time_it, write_report

from fer_bench.models import list_models
from fer_bench.training.scoring import eval_view_model
from fer_bench.use.export import to_onnx

BATCHES = (1, 64)


def main() -> None:
    load = os.getloadavg()[0]  # said in the report: a busy machine slows both runtimes, not equally
    rows = []
    ratios = {b: [] for b in BATCHES}
    with tempfile.TemporaryDirectory() as tmp:
        for name in list_models():
            model = eval_view_model(name, 7, "single").eval()
            path = Path(tmp) / f"{name}.onnx"
            to_onnx(model, path)
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            fast = model.to(memory_format=torch.channels_last)
            row = [name]
            for b in BATCHES:
                x = torch.rand(b, 1, 48, 48)
                xc, xn = x.contiguous(memory_format=torch.channels_last), x.numpy()

                def eager(xc=xc, fast=fast):
                    with torch.no_grad():
                        fast(xc)

                t_torch = time_it(eager, warmup=3, repeats=20, min_seconds=1.0)
                t_ort = time_it(lambda xn=xn, s=session: s.run(None, {"image": xn}), warmup=3, repeats=20,
                                min_seconds=1.0)
                ratios[b].append(t_torch / t_ort)
                row += [f"{t_torch * 1000:.2f}", f"{t_ort * 1000:.2f}", f"{t_torch / t_ort:.2f}x"]
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    geo = {b: float(np.exp(np.mean(np.log(r)))) for b, r in ratios.items()}
    write_report(
        "onnx_latency", "ONNX Runtime against PyTorch eager: inference latency on the CPU",
        f"Median milliseconds per call on random 1x48x48 inputs, fp32, one crop per image, threads as set by each "
        f"runtime's defaults; speed-up = PyTorch ms / ONNX Runtime ms (above 1: ONNX Runtime is faster). "
        f"Geometric mean over {len(rows)} architectures: **{geo[1]:.2f}x at batch 1, {geo[64]:.2f}x at batch 64**. "
        f"onnxruntime {ort.__version__}.",
        ["model", "torch ms (b1)", "ORT ms (b1)", "speed-up (b1)", "torch ms (b64)", "ORT ms (b64)", "speed-up (b64)"],
        rows, notes=[f"Load average when the measurement started: {load:.1f} on {os.cpu_count()} cores "
                     "(the 1-minute average, so it includes the minute before the run; a value near the core count "
                     "for the whole run would mean another job shared the cores)."],
    )


if __name__ == "__main__":
    main()
