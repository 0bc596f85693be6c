"""`fer-bench data report`: what is in a dataset, as markdown plus pictures."""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from fer_bench.core.io import atomic_path, atomic_write, write_json
from fer_bench.core.plots import OKABE_ITO, pyplot, savefig
from fer_bench.core.table import table
from fer_bench.data.fer2013 import SPLITS, FERData
from fer_bench.data.load import blank_mask


def duplicate_stats(data: FERData) -> dict:
    """Exact (pixel-identical) duplicates within each split and across splits."""
    groups: dict[bytes, list[int]] = defaultdict(list)
    flat = data.images.reshape(len(data), -1).numpy()
    for i in range(len(data)):
        groups[hashlib.blake2b(flat[i].tobytes(), digest_size=16).digest()].append(i)
    splits = data.splits.numpy()
    labels = data.labels.numpy()
    within = {}
    for s, name in enumerate(SPLITS):
        sizes = [sum(splits[i] == s for i in g) for g in groups.values()]
        sizes = [n for n in sizes if n > 0]
        within[name] = {
            "rows": int(sum(sizes)),
            "distinct": len(sizes),
            "rows_in_duplicate_groups": int(sum(n for n in sizes if n > 1)),
            "redundant_rows": int(sum(n - 1 for n in sizes if n > 1)),
        }
    across = {}
    for a, b in ((0, 1), (0, 2), (1, 2)):
        rows = distinct = 0
        for g in groups.values():
            in_b = [i for i in g if splits[i] == b]
            if in_b and any(splits[i] == a for i in g):
                rows += len(in_b)
                distinct += 1
        across[f"{SPLITS[a]}&{SPLITS[b]}"] = {f"{SPLITS[b]}_rows": rows, "distinct_images": distinct}
    conflicting = [g for g in groups.values() if len(g) > 1 and len(set(labels[g])) > 1]
    return {
        "within": within,
        "across": across,
        "distinct_images": len(groups),
        "conflicting_label_images": len(conflicting),
        "conflicting_label_rows": int(sum(len(g) for g in conflicting)),
    }


def split_annotations(data: FERData, ferplus: torch.Tensor | None = None,
                      ferplus_tracks: dict[str, torch.Tensor] | None = None) -> dict:
    """Per image of val and test, in the data module's order (the order of the run records' per-image
    predictions): does its exact pixel content also occur in Training, and its FER+ label (FER-2013
    class index, -1 where FER+ drops it or calls it contempt). The leaderboards read this file to
    score the same predictions leak-free and against the crowd's labels, without reading data.
    `ferplus_tracks`: per FER+ mode, the 8-class label the FER+ track trains and tests on (-1 where that
    mode drops the image), so that a FER+ run's test images can be found among PrivateTest's."""
    flat = data.images.reshape(len(data), -1).numpy()
    keys = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]
    splits = data.splits.numpy()
    in_train = {k for k, sp in zip(keys, splits, strict=True) if sp == 0}
    out = {"source": str(data.info.get("source")), "classes": list(data.classes),
           "ferplus": "FER+ reference protocol (single votes removed, top > half of the rest); unknown / "
                      "not-a-face / contempt dropped" if ferplus is not None else None}
    for s, name in ((1, "val"), (2, "test")):
        idx = np.nonzero(splits == s)[0]
        entry = {"n": len(idx), "train_duplicate": [keys[i] in in_train for i in idx]}
        if ferplus is not None:
            entry["ferplus_label"] = ferplus[idx].tolist()
        if ferplus_tracks:
            entry["ferplus_track_label"] = {mode: lab[idx].tolist() for mode, lab in ferplus_tracks.items()}
        out[name] = entry
    return out


def _plot_counts(counts: dict[str, list[int]], classes: tuple[str, ...], path: Path) -> None:
    fig, ax = pyplot().subplots(figsize=(9, 4))
    x = np.arange(len(classes))
    w = 0.8 / len(counts)
    for k, (split, c) in enumerate(counts.items()):
        bars = ax.bar(x + (k - (len(counts) - 1) / 2) * w, c, w, label=split, color=OKABE_ITO[k % len(OKABE_ITO)])
        ax.bar_label(bars, fontsize=7)
    ax.set_xticks(x, classes)
    ax.set_xlabel("class")
    ax.set_ylabel("images")
    ax.set_title("Class counts per split")
    ax.legend()
    savefig(fig, path)


def sample_grid(images: torch.Tensor, path: Path, cols: int = 10, rows: int = 5) -> None:
    """A plain image mosaic (no axes), written with PIL: pixels as they are."""
    from PIL import Image
    n = min(len(images), cols * rows)
    size = images.shape[-1]
    canvas = np.full((rows * (size + 2), cols * (size + 2)), 255, dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        canvas[r * (size + 2):r * (size + 2) + size, c * (size + 2):c * (size + 2) + size] = images[k].numpy()
    img = Image.fromarray(canvas).resize((canvas.shape[1] * 2, canvas.shape[0] * 2), Image.NEAREST)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")


def _step(what: str) -> None:
    print(f"data report: {what}", file=sys.stderr, flush=True)


def write_report(data: FERData, out: Path, seed: int = 0) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _step(f"class counts and sample grids of {len(data.labels):,} images")
    counts = data.counts()
    _plot_counts(counts, data.classes, out / "class_counts.png")
    g = torch.Generator().manual_seed(seed)
    train = data.splits == 0
    for c, name in enumerate(data.classes):
        idx = torch.nonzero(train & (data.labels == c)).flatten()
        if len(idx):
            pick = idx[torch.randperm(len(idx), generator=g)[:50]]
            sample_grid(data.images[pick], out / f"samples_{name}.png")
    _step("blank images and pixel duplicates across splits")
    blank = blank_mask(data.images)
    dup = duplicate_stats(data)
    if data.info.get("labels") == "FER-2013 emotion":
        ferplus, tracks = None, None
        votes_path = Path(str(data.info.get("source"))).parent / "fer2013new.csv"
        if data.info.get("format") == "csv" and votes_path.is_file():
            from fer_bench.data.ferplus import FERPLUS_MODES, ferplus_labels_from_votes, read_ferplus_votes
            votes = read_ferplus_votes(votes_path, data)
            ferplus = ferplus_labels_from_votes(votes, contempt=False)[0]
            tracks = {m: ferplus_labels_from_votes(votes, contempt=True, mode=m)[0] for m in FERPLUS_MODES}
        _step("per-image annotations of the val and test splits (duplicates, FER+ labels)")
        write_json(out / "split_annotations.json", split_annotations(data, ferplus, tracks))

    lines = [
        "# Dataset report",
        "",
        f"- source: `{data.info.get('source')}` ({data.info.get('format')}), labels: {data.info.get('labels')}",
        f"- split: {data.info.get('split_method')}; train / val (PublicTest) / test (PrivateTest)",
        f"- images: {len(data):,}; generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
        "`fer-bench data report`",
    ]
    if "ferplus_dropped" in data.info:
        lines.append(f"- FER+ rows dropped: {data.info['ferplus_dropped']}")
    lines += ["", "## Class counts", "", "![class counts](class_counts.png)", "",
              *table(["split", "n", *data.classes], "lr" + "r" * len(data.classes),
                     [[split, f"{sum(c):,}", *(f"{v:,}" for v in c)] for split, c in counts.items()])]
    lines += ["", "## Blank images", "",
              f"{int(blank.sum())} images are uniform (pixel standard deviation below 2), per split: "
              + ", ".join(f"{s} {int((blank & (data.splits == k)).sum())}" for k, s in enumerate(SPLITS))
              + ". `--drop-blank` removes them.", ""]
    if blank.any():
        lines.append("Examples: " + ", ".join(f"`{data.ids[i]}`" for i in
                                              torch.nonzero(blank).flatten()[:10].tolist()))
        lines.append("")
    lines += ["## Exact duplicates", "",
              *table(["split", "rows", "distinct images", "rows in duplicate groups", "redundant rows"], "lrrrr",
                     [[s, *(f"{w[k]:,}" for k in ("rows", "distinct", "rows_in_duplicate_groups", "redundant_rows"))]
                      for s, w in dup["within"].items()]), ""]
    across = [[k.replace("&", " ∩ "), f"{next(x for n, x in v.items() if n.endswith('_rows')):,}",
               f"{v['distinct_images']:,}"] for k, v in dup["across"].items()]
    lines += table(["across splits", "rows of the second split also in the first", "distinct images"], "lrr", across)
    lines += ["", f"Distinct images overall: {dup['distinct_images']:,}; images that occur with different "
              f"labels: {dup['conflicting_label_images']} ({dup['conflicting_label_rows']} rows).", "",
              "## Samples (training split, 50 random per class)", ""]
    for name in data.classes:
        if (out / f"samples_{name}.png").exists():
            lines += [f"### {name}", "", f"![{name}](samples_{name}.png)", ""]
    md = out / "REPORT.md"
    atomic_write(md, lambda f: f.write("\n".join(lines)))
    return md
