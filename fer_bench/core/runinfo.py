"""Where and with what a run was made: precision resolution, the hardware and package versions,
the fer-bench commit, and paths written so that a committed record names no machine's layout."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch


def cpu_supports_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def hardware_label(hw: dict, gpus: int = 0) -> str:
    """What measured a run's costs: the GPU model and count when `gpus` of them trained it, else the CPU, its
    model name and whether it computes bf16 natively (the name alone does not tell two machines apart: 'AMD
    EPYC' has been an AVX2-only and an AVX512-BF16 machine here)."""
    cpu = hw["cpu"] + (" + AVX512-BF16" if hw.get("bf16_cpu") else "")
    cuda = hw.get("cuda") or []
    return f"{gpus}x {cuda[0]} (host {cpu})" if gpus and cuda else cpu


# The autocast dtype of each mixed precision (32-true: no autocast).
AUTOCAST = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}


def uses_cuda(accelerator: str) -> bool:
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def resolve_precision(precision: str, accelerator: str) -> str:
    """auto: bf16-mixed on a CUDA device that computes bf16 (Ampere and later), else 16-mixed on CUDA;
    bf16-mixed on a CPU with native bf16, else 32-true."""
    if precision != "auto":
        return precision
    if uses_cuda(accelerator):
        return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if cpu_supports_bf16() else "32-true"


def resolve_device(device: str) -> str:
    """`--device` of eval, predict and export: auto (CUDA when visible), cpu or cuda; one line when the asked-for
    GPU is not on this machine."""
    from fer_bench.core.errors import FerBenchError
    if device not in ("auto", "cpu", "cuda"):
        raise FerBenchError(f"--device {device!r}: expected auto, cpu or cuda")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    check_accelerator(device, flag="--device")
    return device


def check_accelerator(accelerator: str, flag: str = "--accelerator") -> None:
    """One line, before any work, when the asked-for device is not on this machine (Lightning's own error
    is a 28-line traceback)."""
    from fer_bench.core.errors import FerBenchError
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise FerBenchError(f"{flag} {accelerator}: no CUDA GPU is visible on this machine "
                            f"(torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}); use cpu or auto")


def code_version() -> dict | None:
    """The fer-bench commit that made a record (and whether the tree had local changes)."""
    import subprocess
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "fer_bench"], cwd=root,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "local_changes": bool(dirty)}


def environment() -> dict:
    """Package versions, hardware and code version, for the run record."""
    pkgs = {}
    for p in ("torch", "torchvision", "lightning", "torchmetrics", "timm", "numpy", "wandb"):
        try:
            pkgs[p] = version(p)
        except PackageNotFoundError:
            pkgs[p] = None
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "fer_bench": code_version(),
        "packages": pkgs,
        "hardware": {
            "cpu": cpu,
            "cpu_cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "bf16_cpu": cpu_supports_bf16(),
            "cuda": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            "platform": platform.platform(),
        },
    }


def portable_paths(text: str) -> str:
    """Records are committed and shared: no machine's layout in them (venv, checkout, home)."""
    roots = ((sys.prefix, "<venv>"), (sys.base_prefix, "<python>"),
             (str(Path(__file__).resolve().parents[2]), "<fer-bench>"), (str(Path.home()), "~"))
    for root, name in sorted(roots, key=lambda r: -len(r[0])):
        if root and root != "/":
            text = text.replace(root, name)
    return text


def local_path(text: str) -> Path:
    """A path from a record, on this machine: the inverse of portable_paths for the checkout and home."""
    root = str(Path(__file__).resolve().parents[2])
    return Path(text.replace("<fer-bench>", root, 1) if text.startswith("<fer-bench>") else text).expanduser()
