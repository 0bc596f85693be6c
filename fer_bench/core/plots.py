"""The leaderboards' figures, made to be pasted into a paper: 300-dpi PNG plus SVG, Okabe & Ito's
colour-blind-safe palette with one colour per seed in every panel, labelled axes, 1-based epochs (as
in the tables), support counts on confusion-matrix rows and a colour bar on every heatmap.

Works on aggregated leaderboard rows; nothing here reads data or trains.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_bench.core.io import atomic_path

# Okabe & Ito's colour-blind-safe palette.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def seed_colour(seed: int) -> str:
    """The same seed has the same colour in every panel and every plot of a leaderboard."""
    return OKABE_ITO[seed % len(OKABE_ITO)]


def savefig(fig, path: Path) -> None:
    """`path` as a 300-dpi PNG and, beside it, the same figure as SVG (vector, for the paper).

    The PNG is stored with a 256-colour palette: a chart holds far fewer colours, and an RGBA PNG at 300 dpi is
    3x larger for no visible gain (the committed plots were most of the repository, which must fit the GPU
    box's 64 MiB working-tree copy with a data pack). Both files are byte-identical when the data are: the SVG
    carries no date and its element ids come from a fixed salt, so regenerating a leaderboard changes a
    committed plot only when its numbers change."""
    import io

    import matplotlib
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=300, bbox_inches="tight")
    with atomic_path(path.with_suffix(".png")) as tmp:
        palette_png(buf, tmp)
    with atomic_path(path.with_suffix(".svg")) as tmp, matplotlib.rc_context({"svg.hashsalt": "fer-bench"}):
        fig.savefig(tmp, format="svg", bbox_inches="tight", metadata={"Date": None})
    pyplot().close(fig)


def palette_png(src, dst) -> None:
    """Re-encode a PNG (path or file object) as an optimised 256-colour palette PNG, keeping its dpi."""
    from PIL import Image
    with Image.open(src) as im:
        dpi = im.info.get("dpi", (300, 300))
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    q.save(dst, format="PNG", optimize=True, dpi=tuple(round(d) for d in dpi))


def confusion_png(conf: np.ndarray, classes: list[str], title: str, path: Path) -> None:
    """Row-normalised confusion matrix; each row says how many images it holds (26 contempt images
    and 1,774 happy ones look alike once normalised)."""
    plt = pyplot()
    conf = conf.astype(float)
    support = conf.sum(1)
    norm = conf / np.maximum(support[:, None], 1)
    fig, ax = plt.subplots(figsize=(5.8, 4.6))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), [f"{c} (n={int(n):,})" for c, n in zip(classes, support, strict=True)])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class (images)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    savefig(fig, path)


def curves_png(curves: dict[int, list[dict]], title: str, path: Path) -> None:
    """Loss (train solid, val dashed) and validation accuracy per epoch, one colour per seed;
    `curves` maps each seed to its run record's per-epoch curve."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for seed, curve in sorted(curves.items()):
        colour = seed_colour(seed)
        ep = [c["epoch"] + 1 for c in curve]
        axes[0].plot(ep, [c.get("train/loss") for c in curve], color=colour, label=f"seed {seed} train")
        axes[0].plot(ep, [c.get("val/loss") for c in curve], "--", color=colour, label=f"seed {seed} val")
        axes[1].plot(ep, [100 * c["val/acc"] if c.get("val/acc") is not None else None for c in curve],
                     color=colour, marker=".", label=f"seed {seed}")
    axes[0].set_title("loss (train solid, validation dashed)", fontsize=9)
    axes[0].set_ylabel("cross-entropy loss")
    axes[1].set_title("validation (PublicTest) accuracy", fontsize=9)
    axes[1].set_ylabel("accuracy, %")
    for a in axes:
        a.set_xlabel("epoch")
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    savefig(fig, path)


def sweep_png(keys_r: list[str], keys_c: list[str], cell: dict, row_name: str, col_name: str, title: str,
              path: Path) -> None:
    """A two-parameter grid: validation accuracy as colour (with its bar), test accuracy in brackets."""
    plt = pyplot()
    val = np.array([[100 * cell[(kr, kc)]["val_acc"] if (kr, kc) in cell else np.nan for kc in keys_c]
                    for kr in keys_r])
    fig, ax = plt.subplots(figsize=(2.4 + 1.3 * len(keys_c), 1.2 + 0.6 * len(keys_r)))
    im = ax.imshow(val, cmap="viridis")
    for i, kr in enumerate(keys_r):
        for j, kc in enumerate(keys_c):
            r = cell.get((kr, kc))
            if r is not None:
                ax.text(j, i, f"{100 * r['val_acc']:.1f}\n({100 * r['test_acc']:.1f})", ha="center",
                        va="center", fontsize=8, color="white" if val[i, j] < np.nanmean(val) else "black")
    ax.set_xticks(range(len(keys_c)), keys_c)
    ax.set_yticks(range(len(keys_r)), keys_r)
    ax.set_xlabel(col_name)
    ax.set_ylabel(row_name)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, label="validation accuracy, %")
    savefig(fig, path)
