"""FER+ (Barsoum et al. 2016): ten crowd votes per FER-2013 image, read beside a FERData, and turned into
labels by the reference protocol's rule (majority, the default) or the plurality rule, or into vote
distributions for soft-target training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fer_bench.core.errors import FerBenchError
from fer_bench.data.fer2013 import USAGE_TO_SPLIT, FERData

FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear",
                   "contempt", "unknown", "NF")
# FER+ emotion order -> FER-2013 class index; contempt becomes an 8th class.
_FERPLUS_TO_FER = {"neutral": 6, "happiness": 3, "surprise": 5, "sadness": 4, "anger": 0,
                   "disgust": 1, "fear": 2, "contempt": 7}
FERPLUS_MODES = ("majority", "plurality")


def ferplus_labels(path: str | Path, data: FERData, contempt: bool = True, mode: str = "majority"
                   ) -> tuple[torch.Tensor, dict[str, int]]:
    """FER+ labels for the rows of a CSV-read `data` (same row order).

    mode "majority" is the FER+ reference protocol (Barsoum et al. 2016, FERPlus `majority` mode): every
    category with a single vote is removed first (outlier removal), then an image keeps its top
    category only if it holds more than half of the remaining votes; images whose top category is
    'unknown' or 'NF' (not a face) are dropped. mode "plurality" (fer-bench before 2026-11-25) keeps the
    top category unless the top is tied.

    Returns labels (-1 = dropped) and the number of rows dropped per reason.
    """
    if mode not in FERPLUS_MODES:     # before reading the file: the option is what is wrong
        raise FerBenchError(f"unknown FER+ label mode {mode!r} (choose from {', '.join(FERPLUS_MODES)})")
    return ferplus_labels_from_votes(read_ferplus_votes(path, data), contempt, mode)


def read_ferplus_votes(path: str | Path, data: FERData) -> np.ndarray:
    """The votes of fer2013new.csv as int64 (N, 10) in FERPLUS_COLUMNS order, checked against `data`'s rows."""
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise FerBenchError(f"{path}: cannot read FER+ votes ({str(e).strip().splitlines()[0]})") from None
    missing = [c for c in ("Usage", *FERPLUS_COLUMNS) if c not in df.columns]
    if missing:
        raise FerBenchError(f"{path}: FER+ file lacks columns {', '.join(missing)}")
    if data.info.get("format") != "csv" or len(df) != len(data):
        raise FerBenchError(
            f"{path}: FER+ votes need the fer2013.csv rows they were made for "
            f"({len(df)} vote rows, {len(data)} images from {data.info.get('format')})"
        )
    split = df["Usage"].map(USAGE_TO_SPLIT).to_numpy()
    mismatch = np.nonzero(split != data.splits.numpy())[0]
    if len(mismatch):
        raise FerBenchError(f"{path}: row {mismatch[0]}: Usage differs from the CSV's")
    raw = df[list(FERPLUS_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = raw.isna() | (raw < 0) | (raw != raw.round())
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        value = df[FERPLUS_COLUMNS[col]].iloc[row]
        value = "" if pd.isna(value) else (value.item() if hasattr(value, "item") else value)
        raise FerBenchError(f"{path}: row {row + 2}, column {FERPLUS_COLUMNS[col]}: vote {value!r} is not a "
                            "non-negative whole number")
    return raw.to_numpy().astype(np.int64)


def ferplus_labels_from_votes(votes: np.ndarray, contempt: bool = True, mode: str = "majority"
                              ) -> tuple[torch.Tensor, dict[str, int]]:
    """ferplus_labels on votes already read (read_ferplus_votes)."""
    if mode not in FERPLUS_MODES:
        raise FerBenchError(f"unknown FER+ label mode {mode!r} (choose from {', '.join(FERPLUS_MODES)})")
    if mode == "majority":
        votes = np.where(votes <= 1, 0, votes)       # outlier removal: single votes do not count
    top = votes.max(axis=1)
    n_top = (votes == top[:, None]).sum(axis=1)
    arg = votes.argmax(axis=1)
    names = np.array(FERPLUS_COLUMNS)[arg]
    if mode == "majority":
        undecided = (top > 0) & (2 * top <= votes.sum(axis=1))     # the top holds at most half
        undecided_reason = "no_majority"
    else:
        undecided = (n_top > 1) & (top > 0)
        undecided_reason = "tie"
    decided = (top > 0) & ~undecided
    dropped = {
        undecided_reason: int(undecided.sum()),
        "unknown": int((decided & (names == "unknown")).sum()),
        "not_a_face": int((decided & (names == "NF")).sum()),
        "no_votes": int((top == 0).sum()),
        "contempt": 0,
    }
    labels = np.array([_FERPLUS_TO_FER.get(n, -1) for n in names], dtype=np.int64)
    labels[~decided] = -1
    if not contempt:
        dropped["contempt"] = int((labels == 7).sum())
        labels[labels == 7] = -1
    return torch.from_numpy(labels), dropped


def vote_distribution(votes: np.ndarray, classes: tuple[str, ...]) -> torch.Tensor:
    """Per image, its emotion votes with single votes removed (the FER+ reference's outlier removal),
    over `classes` (FER-2013 order, contempt last when kept) and normalised to sum 1; 'unknown' and
    not-a-face votes are not emotions and do not count. An image left with no emotion vote gets zeros
    (it has no FER+ label either and is dropped)."""
    kept = np.where(votes <= 1, 0, votes).astype(np.float64)
    out = np.zeros((len(votes), len(classes)))
    for j, name in enumerate(FERPLUS_COLUMNS):
        c = _FERPLUS_TO_FER.get(name)
        if c is not None and c < len(classes):
            out[:, c] = kept[:, j]
    total = out.sum(axis=1, keepdims=True)
    return torch.from_numpy(np.divide(out, total, out=np.zeros_like(out), where=total > 0)).float()
