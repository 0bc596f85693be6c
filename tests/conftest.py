"""Shared fixtures: tiny datasets in the real formats, and the real FER-2013 when present."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_bench.data.fer2013 import CLASSES

REPO = Path(__file__).resolve().parents[1]
USAGES = ("Training", "PublicTest", "PrivateTest")
PREFIX = {"Training": "Training", "PublicTest": "PublicTest", "PrivateTest": "PrivateTest"}


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache folder, never the user's."""
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(autouse=True)
def _repository_results_untouched():
    """No test may leave a file or folder in the repository's results/: a stray empty folder there changes
    the generated results/README.md (commands default to ./results, so a test runs them elsewhere)."""
    results = REPO / "results"
    before = set(os.listdir(results)) if results.is_dir() else set()
    yield
    after = set(os.listdir(results)) if results.is_dir() else set()
    assert after <= before, f"the test left {sorted(after - before)} in {results}"


@pytest.fixture
def shared_cache(tmp_path_factory, monkeypatch):
    """One cache for the session's real-data tests: FER-2013 is decoded once."""
    monkeypatch.setenv("FER_BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "shared-cache"))


SHARED_NATURAL = REPO.parent / "shared" / "data" / "natural"


def copy_natural_photos(dst: Path, per_class: int = 2) -> Path:
    """The first `per_class` real photos of each class of ../shared/data/natural, as dst/<class>/*."""
    if not SHARED_NATURAL.is_dir():
        pytest.skip("../shared/data/natural not found")
    for d in sorted(p for p in SHARED_NATURAL.iterdir() if p.is_dir()):
        (dst / d.name).mkdir(parents=True)
        for f in sorted(d.iterdir())[:per_class]:
            shutil.copy(f, dst / d.name / f.name)
    return dst


def real_data_path() -> Path | None:
    """The real FER-2013 in any layout fer-bench reads (fer2013.csv[.gz], icml_face_data.csv, the image
    folders), found the way the CLI finds it: a plain CSV or the folders alone must not skip every
    real-data test."""
    from fer_bench.core.errors import FerBenchError
    from fer_bench.data.fer2013 import resolve_source
    for p in (os.environ.get("FER_BENCH_DATA"), REPO / "data" / "fer2013",
              REPO.parent / "shared" / "data" / "fer2013"):
        if not p:
            continue
        try:
            resolve_source(p)
        except FerBenchError:
            continue
        return Path(p)
    return None


@pytest.fixture
def real_data(shared_cache) -> Path:
    p = real_data_path()
    if p is None:
        pytest.skip("real FER-2013 not found (set FER_BENCH_DATA or put ../shared/data/fer2013 beside the repo)")
    return p


def tiny_images(n_per_class_split: int = 4, seed: int = 0):
    """Synthetic faces-ish images with a class-dependent pattern: (images, labels, usages)."""
    rng = np.random.default_rng(seed)
    images, labels, usages = [], [], []
    for u in USAGES:
        for c in range(len(CLASSES)):
            for _ in range(n_per_class_split):
                img = rng.integers(0, 256, (48, 48)).astype(np.uint8)
                img[c * 6:(c + 1) * 6, :] = 255  # a bright band whose row says the class
                images.append(img)
                labels.append(c)
                usages.append(u)
    return np.stack(images), np.array(labels), usages


def write_csv(path: Path, images, labels, usages, gz: bool = False) -> Path:
    lines = ["emotion,pixels,Usage"]
    for img, lab, u in zip(images, labels, usages):
        lines.append(f"{lab},{' '.join(map(str, img.flatten()))},{u}")
    text = "\n".join(lines) + "\n"
    if gz:
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def write_folder(root: Path, images, labels, usages, prefixes: bool = True) -> Path:
    for k, (img, lab, u) in enumerate(zip(images, labels, usages)):
        folder = "train" if u == "Training" else "test"
        name = f"{PREFIX[u]}_{k}.png" if prefixes else f"img_{k}.png"
        d = root / folder / CLASSES[lab]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(d / name)  # PNG: lossless, so both formats hold equal pixels
    return root


@pytest.fixture
def tiny_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "fer2013.csv", *tiny_images())


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    return write_folder(tmp_path / "images", *tiny_images())
