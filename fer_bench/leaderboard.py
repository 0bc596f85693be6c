"""Run records -> LEADERBOARD.md, leaderboard.csv and PNGs. Nothing here trains or reads data:
every number comes from the JSON records of a suite."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean, median

import numpy as np
import torch

from fer_bench.arena_report import headline, idle_costs
from fer_bench.errors import FerBenchError
from fer_bench.io import atomic_write
from fer_bench.models import get_card
from fer_bench.plots import confusion_png, curves_png, sweep_png
from fer_bench.record import training_minutes
from fer_bench.stats import format_p, mcnemar_p, mean_std_ci
from fer_bench.tables import TIDY_COLUMNS, headline_frame, to_markdown, write_latex, write_tidy_csv
from fer_bench.train import decode_probs, summary_metrics


def _labels_text(data: dict) -> str:
    """The record's label source. Records made before FER+ modes existed say 'FER+ majority vote' but used
    the plurality rule (ties dropped): say what they did."""
    info = data["info"]
    if info.get("labels") == "FER+ majority vote" and "ferplus_mode" not in info:
        return "FER+ plurality vote (ties dropped; recorded before the reference protocol was the default)"
    kept = info.get("ferplus_kept")
    return info.get("labels", "") + (f", images kept train / val / test {kept['train']:,} / {kept['val']:,} / "
                                     f"{kept['test']:,}" if kept else "")


def load_records(runs_dir: Path) -> tuple[list[dict], list[dict]]:
    finished, failed = [], []
    for p in sorted(runs_dir.glob("*.json")):
        try:
            rec = json.loads(p.read_text())
        except ValueError:
            raise FerBenchError(f"{p}: not a valid run record (JSON)") from None
        (finished if rec.get("status") == "finished" else failed).append(rec)
    return finished, failed


def _row_key(rec: dict) -> tuple[str, str, str]:
    return rec["model"]["name"], rec["recipe"]["name"], rec.get("meta", {}).get("label", "")


def aggregate(records: list[dict]) -> list[dict]:
    """One row per (model, recipe, sweep point), seeds aggregated."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[_row_key(r)].append(r)
    rows = []
    for (model, recipe, label), recs in groups.items():
        recs = sorted(recs, key=lambda r: r["config"]["seed"])
        acc = [r["metrics"]["test"]["accuracy"] for r in recs]
        f1 = [r["metrics"]["test"]["macro_f1"] for r in recs]
        m, s, ci = mean_std_ci(acc)
        fm, fs, fci = mean_std_ci(f1)
        rows.append({
            "model": model, "recipe": recipe, "label": label, "records": recs,
            "seeds": [r["config"]["seed"] for r in recs], "n": len(recs),
            "test_acc": m, "test_acc_std": s, "test_acc_ci95": ci,
            "test_f1": fm, "test_f1_std": fs, "test_f1_ci95": fci,
            "val_acc": mean(r["metrics"]["val"]["accuracy"] for r in recs),
            "tta_hflip_acc": mean(r["metrics"]["test_tta"]["hflip"]["accuracy"] for r in recs),
            "params": recs[0]["model"]["params"], "macs": recs[0]["model"].get("macs"),
            "train_ips": median(r["timing"]["train_images_per_second"] for r in recs),
            "test_ips": median(r["timing"]["test_images_per_second"] for r in recs),
            "latency_ms": median(r["timing"]["latency_ms_batch1"] for r in recs),
            "epochs_run": mean(r["selection"]["epochs_run"] for r in recs),
            "best_epoch": mean(r["selection"]["best_epoch"] or 0 for r in recs),
            "epoch_budget": recs[0]["recipe"]["epochs"],
            "per_class_f1": {c: mean(r["metrics"]["test"]["per_class"][c]["f1"] for r in recs)
                             for c in recs[0]["data"]["classes"]},
            "confusion": np.sum([np.array(r["metrics"]["test"]["confusion"]) for r in recs], axis=0),
            "pretrained": any(r["model"].get("pretrained") for r in recs),
            **_natural_summary(recs),
        })
    rows.sort(key=lambda r: -r["test_acc"])
    return rows


def _natural_summary(recs: list[dict]) -> dict:
    nat = [r["metrics"]["natural"] for r in recs if "natural" in r["metrics"]]
    if not nat:
        return {"natural_n": 0}
    acc, f1 = [n["accuracy"] for n in nat], [n["macro_f1"] for n in nat]
    return {
        "natural_n": len(nat), "natural_acc": mean(acc), "natural_acc_std": mean_std_ci(acc)[1],
        "natural_f1": mean(f1), "natural_images": nat[0]["n"],
        # Recognition rate per class = recall (the paper's Table III).
        "natural_recall": {c: mean(n["per_class"][c]["recall"] for n in nat) for c in nat[0]["per_class"]},
        "natural_confusion": np.sum([np.array(n["confusion"]) for n in nat], axis=0),
    }


def paired_p_values(rows: list[dict], ref: dict) -> None:
    """McNemar p of each row against `ref`, pooled over the seeds both have."""
    ref_correct = {r["config"]["seed"]: _correct(r) for r in ref["records"]}
    for row in rows:
        if row is ref:
            row["p_vs_ref"] = None
            continue
        b = c = 0
        matched = False
        for r in row["records"]:
            other = ref_correct.get(r["config"]["seed"])
            mine = _correct(r)
            if other is None or len(other) != len(mine):
                continue
            b += int((other & ~mine).sum())
            c += int((~other & mine).sum())
            matched = True
        row["p_vs_ref"] = mcnemar_p(b, c) if matched else None


def _correct(rec: dict) -> np.ndarray:
    return np.array(rec["test_predictions"]) == np.array(rec["test_labels"])


def ensemble(row: dict) -> dict | None:
    """Softmax average over the row's seeds (they share the test images and their order)."""
    recs = [r for r in row["records"] if r.get("test_probs")]
    if len(recs) < 2:
        return None
    k = len(recs[0]["data"]["classes"])
    probs = torch.stack([decode_probs(r["test_probs"], k) for r in recs]).mean(0)
    labels = torch.tensor(recs[0]["test_labels"])
    return {"n": len(recs), **summary_metrics(probs, labels, k)}


def _pm(m: float, s: float | None) -> str:
    """'mean ± std' in percent; just the mean with one seed."""
    return f"{100 * m:.2f}" if s is None else f"{100 * m:.2f} ± {100 * s:.2f}"


def _fmt(v, spec: str = "") -> str:
    return "–" if v is None else format(v, spec)


def _plots(row: dict, out: Path, stem: str) -> tuple[str, ...]:
    classes = row["records"][0]["data"]["classes"]
    name = f"{row['model']} ({row['recipe']})"
    conf_png = f"confusion_{stem}.png"
    confusion_png(row["confusion"], classes, f"{name}\nPrivateTest, {row['n']} seed(s) summed, row-normalised",
                  out / conf_png)
    pngs = [conf_png]
    if row["natural_n"]:
        nat_png = f"confusion_natural_{stem}.png"
        confusion_png(row["natural_confusion"], classes, f"{name}\nnatural set, {row['natural_n']} seed(s) "
                      "summed, row-normalised", out / nat_png)
        pngs.append(nat_png)
    curves = f"curves_{stem}.png"
    curves_png(row["records"], name, out / curves)
    return (*pngs, curves)


def _header(records: list[dict], suite: str) -> list[str]:
    env = records[0]["environment"]
    hw = env["hardware"]
    dates = sorted(r["created"][:10] for r in records)
    data = records[0]["data"]
    sizes = data.get("sizes", {})
    precisions = sorted({r["config"]["precision"] for r in records})
    pk = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    gpu = f", GPU {', '.join(hw['cuda'])}" if hw["cuda"] else ""
    return [
        f"# Leaderboard: `{suite}`",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `fer-bench leaderboard {suite}` from "
        f"{len(records)} run records in `runs/` (runs made {dates[0]} to {dates[-1]}).",
        "",
        f"- **Data:** `{data['path']}` ({data['info'].get('format')}, labels: {_labels_text(data)}); "
        f"train / val / test sizes {sizes.get('train')} / {sizes.get('val')} / {sizes.get('test')}.",
        "- **Protocol:** validation = PublicTest (early stopping, LR schedules and checkpoint choice look only "
        "at it); test = PrivateTest, evaluated once per run with the selected checkpoint. The reference row "
        "for p-values and the ensemble is the best by *validation* accuracy.",
        f"- **Hardware:** {hw['cpu']}, {hw['cpu_cores']} cores{gpu}; precision {', '.join(precisions)}.",
        f"- **Software:** Python {env['python']}, {pk}.",
        "",
    ]


def write_leaderboard(suite_dir: Path, suite_name: str | None = None, tables: dict | None = None) -> Path:
    """Generate LEADERBOARD.md, leaderboard.csv and PNGs in `suite_dir` from `suite_dir/runs`."""
    suite_name = suite_name or suite_dir.name
    finished, failed = load_records(suite_dir / "runs")
    if not finished:
        raise FerBenchError(f"{suite_dir / 'runs'}: no finished run records to aggregate")
    all_rows = aggregate(finished)
    # A sweep's grid points are shown in their own table, not as leaderboard rows: twelve variants of
    # one model would crowd out the comparison between models (and could become the reference row).
    sweeps = {name: spec for name, spec in (tables or {}).items()
              if not {"suite", "accuracy", "arena"} & spec.keys()}
    swept = [r for r in all_rows if any(_in_sweep(r, spec) for spec in sweeps.values())]
    rows = [r for r in all_rows if r not in swept] or all_rows
    ref = max(rows, key=lambda r: r["val_acc"])
    paired_p_values(rows, ref)
    ens = ensemble(ref)
    plots_dir = suite_dir / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)

    lines = _header(finished, suite_name)
    arena = next((spec for spec in (tables or {}).values() if spec.get("arena")), None)
    seeds_wanted = int(arena.get("seeds", 3)) if arena else None
    head_rows, head_ref, cost_note = (idle_costs(rows, ref, suite_dir.parent / "perf" / "arena_budget.json")
                                      if arena else (rows, ref, None))
    compact = headline_frame(head_rows, head_ref, seeds_wanted, costs=bool(arena))
    write_latex(compact, suite_dir / "headline.tex", caption=f"fer-bench {suite_name}: PrivateTest accuracy and "
                "macro-F1 in \\%, mean $\\pm$ 95\\% CI half-width over seeds", label=f"tab:fer-bench-{suite_name}")
    if arena:
        lines += headline(head_rows, head_ref, plots_dir, seeds_wanted, cost_note)
        lines += _native_protocols(rows)
    else:
        lines += ["## Headline", "",
                  "PrivateTest accuracy and macro-F1 in %, mean over seeds ± 95% CI half-width (Student t); "
                  "MMACs: one 48x48 image, eval mode. The wide table below has every column.", "",
                  to_markdown(compact)]
    lines += ["", "As LaTeX (booktabs): [`headline.tex`](headline.tex). One row per run: "
              "[`runs.csv`](runs.csv) (columns under *Where each number comes from*).", ""]
    lines += [
        "## Leaderboard (PrivateTest)", "",
        "Accuracy and macro-F1 in %, mean ± standard deviation over seeds, with the 95% confidence "
        "interval half-width (Student t). p: exact McNemar test on per-image predictions of matched seeds "
        f"against the reference row (**{ref['model']} / {ref['recipe']}{' ' + ref['label'] if ref['label'] else ''}**"
        ", best validation accuracy); p < 0.05 = the difference is real on this test set. hflip-TTA: mean of the "
        "softmax of the image and its mirror" + _ten_crop_note(rows) + ". img/s: training (median over seeds); "
        "latency: batch 1, median ms "
        "(records with latency_ms_batch1_by_precision: the faster of the run precision and fp32).",
        "",
        "| # | model | recipe | test acc | ±95% CI | macro-F1 | seeds | p vs ref | val acc | hflip-TTA acc | "
        "params | MMACs | train img/s | test img/s | latency ms | epochs run / budget |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(rows, 1):
        name = f"{r['model']}{' (' + r['label'] + ')' if r['label'] else ''}{' †' if r['pretrained'] else ''}"
        ref_mark = " (ref)" if r is ref else ""
        lines.append(
            f"| {i} | {name}{ref_mark} | {r['recipe']} | {_pm(r['test_acc'], r['test_acc_std'])} | "
            f"{_fmt(r['test_acc_ci95'] and 100 * r['test_acc_ci95'], '.2f')} | {_pm(r['test_f1'], r['test_f1_std'])} | "
            f"{r['n']} | {format_p(r['p_vs_ref'])} | {100 * r['val_acc']:.2f} | {100 * r['tta_hflip_acc']:.2f} | "
            f"{r['params'] / 1e6:.2f}M | {_fmt(r['macs'] and r['macs'] / 1e6, ',.1f')} | {r['train_ips']:,.0f} | "
            f"{r['test_ips']:,.0f} | {r['latency_ms']:.2f} | {r['epochs_run']:.1f} / {r['epoch_budget']} |")
    if any(r["pretrained"] for r in rows):
        lines += ["", "† started from pretrained weights."]
    if ens:
        lines += ["", f"**Ensemble** of the reference row's {ens['n']} seeds (softmax average): "
                  f"test accuracy {100 * ens['accuracy']:.2f}%, macro-F1 {100 * ens['macro_f1']:.2f}%."]

    lines += validity_section(rows, suite_dir.parent / "data-report" / "split_annotations.json")
    lines += _claims_audit(rows)
    lines += ["", "## Per-class F1 on PrivateTest (mean over seeds, %)", ""]
    classes = finished[0]["data"]["classes"]
    lines += ["| model | recipe | " + " | ".join(classes) + " |", "|---|---|" + "---:|" * len(classes)]
    for r in rows:
        lab = f" ({r['label']})" if r["label"] else ""
        lines.append(f"| {r['model']}{lab} | {r['recipe']} | "
                     + " | ".join(f"{100 * r['per_class_f1'][c]:.1f}" for c in classes) + " |")

    lines += _natural_section(rows)
    lines += external_section(rows, suite_dir / "eval")
    lines += _time_to_accuracy_section(finished)

    for name, spec in (tables or {}).items():
        if spec.get("arena"):
            continue
        if "suite" in spec:
            lines += _comparison_table(spec, ref, suite_dir.parent / spec["suite"] / "runs")
        elif "accuracy" in spec:
            lines += _target_table(spec, rows)
        else:
            lines += _sweep_table(name, spec, all_rows, plots_dir)

    lines += ["", "## Confusion matrices and training curves", ""]
    for r in rows:
        stem = f"{r['model']}__{r['recipe']}{'__' + r['label'] if r['label'] else ''}"
        stem = "".join(ch if ch.isalnum() or ch in "._=-" else "-" for ch in stem)
        pngs = _plots(r, plots_dir, stem)
        lines += [f"### {r['model']} / {r['recipe']}{' (' + r['label'] + ')' if r['label'] else ''}", "",
                  " ".join(f"![{p.split('_')[0]}](plots/{p})" for p in pngs), ""]

    if failed:
        lines += ["## Failed cells", "", "| cell | reason |", "|---|---|"]
        lines += [f"| {f.get('run_id')} | {f.get('reason', '').replace('|', '/')} |" for f in failed]
        lines.append("")

    lines += ["## Where each number comes from", "",
              "Each row aggregates the records `runs/<model>__<recipe>__...__s<seed>.json`; every record holds "
              "its command, config, data, environment and the per-image test predictions used above. "
              "`runs.csv` has one row per finished record; its columns: "
              + "; ".join(f"`{k}` {v}" for k, v in TIDY_COLUMNS.items())
              + "; then `sweep_<key>` for each parameter of a sweep's grid point.", ""]
    for r in all_rows:
        lines.append(f"- {r['model']} / {r['recipe']}{' ' + r['label'] if r['label'] else ''}: "
                     + ", ".join(f"`{x['run_id']}.json`" for x in r["records"]))

    md = suite_dir / "LEADERBOARD.md"
    atomic_write(md, lambda f: f.write("\n".join(lines) + "\n"))
    # plots/ belongs to the leaderboard: a PNG it no longer links (a renamed row, a row that moved
    # to a sweep table) would otherwise linger beside the current ones and be committed as if current.
    linked = {Path(p).stem for p in re.findall(r"\(plots/([^)]+\.png)\)", "\n".join(lines))}
    for fig in [*plots_dir.glob("*.png"), *plots_dir.glob("*.svg")]:
        if fig.stem not in linked:
            fig.unlink()
    _write_csv(all_rows, suite_dir / "leaderboard.csv", classes)
    write_tidy_csv(finished, suite_dir / "runs.csv")
    return md


def _ten_crop_note(rows: list[dict]) -> str:
    """Said only where a row in the table scores with its own crop-averaging protocol."""
    native = sorted({r["model"] for r in rows if _crop_averaging(r["model"])
                     and any(x["model"].get("eval_protocol", "native") == "native" for x in r["records"])})
    return (f" ({', '.join(native)}: its own protocol already averages its test crops, so its test column is "
            "multi-crop TTA)") if native else ""


def _crop_averaging(model: str) -> bool:
    from fer_bench.models import create_model
    try:
        return getattr(create_model(model), "eval_crops", 1) > 1
    except FerBenchError:
        return False


def validity_section(rows: list[dict], annotations_path: Path) -> list[str]:
    """The same per-image predictions scored (a) on the PrivateTest images that never occur in Training
    and (b) against the FER+ crowd labels, from `fer-bench data report`'s split_annotations.json."""
    if not annotations_path.is_file():
        return []
    ann = json.loads(annotations_path.read_text())
    test = ann["test"]
    dup = np.array(test["train_duplicate"])
    fp = np.array(test["ferplus_label"]) if "ferplus_label" in test else None
    out = ["", "## Result validity: leak-free and label-noise columns", "",
           f"From the same per-image PrivateTest predictions. **Leak-free**: PrivateTest has {int(dup.sum())} images "
           f"whose pixels also occur in Training (`results/data-report`); the column scores the other "
           f"{int((~dup).sum())}. The validation split used for selection (PublicTest) holds "
           f"{sum(ann['val']['train_duplicate'])} such images of {ann['val']['n']}."]
    if fp is not None:
        keep = fp >= 0
        out[-1] += (f" **FER+ labels**: the {int(keep.sum())} PrivateTest images FER+ keeps ({ann['ferplus']}), "
                    "scored against the original FER-2013 labels and against the FER+ labels; the gap is the share "
                    "of images where the crowd agrees with the model rather than with the original label.")
    out += ["", "| model | recipe | seeds | PrivateTest acc | without train duplicates | on FER+-kept images: "
            "FER-2013 labels | same images: FER+ labels | FER+ minus FER-2013 (points) |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    skipped = []
    for r in rows:
        recs = [x for x in r["records"] if len(x["test_labels"]) == test["n"]
                and x["data"]["classes"][:len(ann["classes"])] == ann["classes"]]
        if len(recs) != r["n"]:
            skipped.append(r["model"] + (f" ({r['label']})" if r["label"] else ""))
            continue
        preds = [np.array(x["test_predictions"]) for x in recs]
        labels = np.array(recs[0]["test_labels"])
        leak_free = mean(float((p[~dup] == labels[~dup]).mean()) for p in preds)
        cells = [f"{100 * leak_free:.2f}"]
        if fp is not None:
            orig = mean(float((p[keep] == labels[keep]).mean()) for p in preds)
            crowd = mean(float((p[keep] == fp[keep]).mean()) for p in preds)
            cells += [f"{100 * orig:.2f}", f"{100 * crowd:.2f}", f"{100 * (crowd - orig):+.2f}"]
        else:
            cells += ["–", "–", "–"]
        lab = f" ({r['label']})" if r["label"] else ""
        out.append(f"| {r['model']}{lab} | {r['recipe']} | {r['n']} | {100 * r['test_acc']:.2f} | " + " | ".join(cells)
                   + " |")
    if skipped:
        out += ["", f"Not scored here (their test images are another subset or another label set: a limit, blank "
                f"images dropped, or FER+ labels): {', '.join(skipped)}."]
    if len(skipped) == len(rows):
        return ["", "## Result validity: leak-free and label-noise columns", "",
                "No row of this leaderboard was tested on the full FER-2013 PrivateTest with its original labels "
                "(a limit, blank images dropped, or FER+ labels), so neither column applies."]
    return out


def _native_protocols(rows: list[dict]) -> list[str]:
    """A model's own evaluation protocol (ten-crop) under a single-view recipe: reported, never ranked."""
    out = []
    for r in rows:
        nat = [x["metrics"]["test_native"] for x in r["records"] if "test_native" in x["metrics"]]
        if nat:
            m, s, _ = mean_std_ci([n["accuracy"] for n in nat])
            out.append(f"- {r['model']} with its own protocol ({nat[0]['protocol']}): {_pm(m, s)}% PrivateTest "
                       f"over {len(nat)} seed(s), against {_pm(r['test_acc'], r['test_acc_std'])}% single view.")
    return ["", "Own evaluation protocols (an extra column, never the ranking number):", "", *out] if out else []


def time_to_accuracy(curves: list[dict], target: float, monitor: str = "val/acc") -> dict | None:
    """When the run first reached `target` PrivateTest accuracy *with the checkpoint it would
    have selected by then*: after each epoch the selected one is the first best `monitor` so far
    (as ModelCheckpoint keeps it), scored by its observed/test_acc. None when never reached.
    Needs curves recorded with observe_test; elapsed_seconds excludes the observation itself."""
    best_val, selected = -math.inf, None
    for c in curves:
        if "observed/test_acc" not in c or monitor not in c:
            return None
        if c[monitor] > best_val:
            best_val, selected = c[monitor], c
        if selected["observed/test_acc"] >= target:
            return {"seconds": c["elapsed_seconds"], "epoch": c["epoch"], "selected_epoch": selected["epoch"],
                    "test_acc": selected["observed/test_acc"]}
    return None


def _time_to_accuracy_section(records: list[dict], targets: tuple[float, ...] = (0.60, 0.65, 0.70)) -> list[str]:
    observed = [r for r in records if r["curves"] and "observed/test_acc" in r["curves"][0]]
    if not observed:
        return []
    lines = ["", "## Time to accuracy (2-core wall clock)", "",
             "Training wall time (validation included, the observation itself excluded) until the checkpoint "
             "selected on PublicTest so far first scores the target on PrivateTest. The per-epoch PrivateTest "
             "scores are observed only (`observe_test`); nothing was selected or stopped on them. They use the "
             "per-epoch validation's evaluation (centre crop + mirror for crop models), so for ten-crop models "
             "they are a little below the final ten-crop numbers.", "",
             "| run | " + " | ".join(f"to {100 * t:.0f}%" for t in targets) + " | epochs |",
             "|---|" + "---:|" * (len(targets) + 1)]
    for r in sorted(observed, key=lambda r: r["run_id"]):
        cells = []
        for t in targets:
            hit = time_to_accuracy(r["curves"], t, r["selection"]["monitor"])
            cells.append(f"{hit['seconds'] / 60:.1f} min (epoch {hit['epoch'] + 1})" if hit else "not reached")
        lines.append(f"| `{r['run_id']}` | " + " | ".join(cells) + f" | {len(r['curves'])} |")
    return lines


TOLERANCE = 0.01  # one accuracy point: closer than this counts as reproduced


def claim_verdict(claim: float, seeds: list[float], budget: int | None = None,
                  claim_epochs: int | None = None) -> str:
    """'reproduced' (measured mean within one point of the claim, or above it), 'not reproduced'
    (every seed more than one point below), else 'inconclusive' (seeds straddle the claim).
    A run whose epoch budget is below the one the claim was made at cannot refute or confirm it:
    'untested at budget (ran N of M epochs)'."""
    if claim_epochs is not None and budget is not None and budget < claim_epochs:
        return f"untested at budget (ran {budget} of {claim_epochs} epochs)"
    if mean(seeds) >= claim - TOLERANCE:
        return "reproduced"
    if max(seeds) < claim - TOLERANCE:
        return "not reproduced"
    return "inconclusive"


def _natural_section(rows: list[dict]) -> list[str]:
    nat = [r for r in rows if r["natural_n"]]
    if not nat:
        return []
    classes = list(nat[0]["natural_recall"])
    out = ["", "## Natural photos (cross-dataset test)", "",
           f"The selected checkpoint of every run, tested on the natural-expression set ({nat[0]['natural_images']} "
           "face crops built by `fer-bench natural build` from ordinary photos; never trained or selected on). "
           "Accuracy and macro-F1 in %, mean over seeds; per class: recognition rate (recall), as in seed 002's "
           "Table III.", "",
           "| model | recipe | natural acc | natural macro-F1 | PrivateTest acc | "
           + " | ".join(classes) + " |", "|---|---|---:|---:|---:|" + "---:|" * len(classes)]
    for r in sorted(nat, key=lambda r: -r["natural_acc"]):
        lab = f" ({r['label']})" if r["label"] else ""
        out.append(f"| {r['model']}{lab} | {r['recipe']} | {_pm(r['natural_acc'], r['natural_acc_std'])} | "
                   f"{100 * r['natural_f1']:.2f} | {100 * r['test_acc']:.2f} | "
                   + " | ".join(f"{100 * r['natural_recall'][c]:.1f}" for c in classes) + " |")
    return out


def external_section(rows: list[dict], eval_dir: Path) -> list[str]:
    """Cross-dataset columns: the suite's external sets (eval records written by the runner or by
    `fer-bench eval --results`), mean ± sd over the seeds that have one."""
    by_run: dict[str, dict[str, dict]] = defaultdict(dict)
    for p in sorted(eval_dir.glob("*.json")) if eval_dir.is_dir() else []:
        try:
            ev = json.loads(p.read_text())
            by_run[ev["model"]["run_id"]][ev["set"]["name"]] = ev
        except (ValueError, KeyError, TypeError):
            raise FerBenchError(f"{p}: not a valid eval record") from None
    sets = sorted({name for evs in by_run.values() for name in evs})
    if not sets:
        return []
    out = ["", "## Other face sets (cross-dataset)", "",
           "Each run's kept model scored by `fer-bench eval` on face sets it never saw. Accuracy in %, mean ± sd "
           "over the seeds scored (n); macro-F1 over the classes the set has; baseline = always guessing the "
           "set's most frequent class. Faces of a class the model cannot predict are not scored.", ""]
    for name in sets:
        evs = [e for e in (by_run.get(r["run_id"], {}).get(name) for r in _records_of(rows)) if e]
        first = evs[0]
        skipped = ", ".join(f"{n} {why}" for why, n in first["set"]["skipped"].items()) or "none"
        out += [f"**{name}**: {first['set']['scored']} faces scored of {first['set']['photos']} images "
                f"(not scored: {skipped}); {first['set']['preprocessing']}; majority baseline "
                f"{100 * first['metrics']['majority_baseline']['accuracy']:.2f}% "
                f"({first['metrics']['majority_baseline']['class']}).", "",
                "| model | recipe | acc | macro-F1 | n | PrivateTest acc |", "|---|---|---:|---:|---:|---:|"]
        scored = []
        for r in rows:
            e = [by_run[x["run_id"]][name] for x in r["records"] if name in by_run.get(x["run_id"], {})]
            if e:
                acc, _, _ = mean_std_ci([v["metrics"]["accuracy"] for v in e])
                scored.append((acc, r, e))
        for acc, r, e in sorted(scored, key=lambda t: -t[0]):
            sd = mean_std_ci([v["metrics"]["accuracy"] for v in e])[1]
            lab = f" ({r['label']})" if r["label"] else ""
            f1 = mean(v["metrics"]["macro_f1"] for v in e)
            out.append(f"| {r['model']}{lab} | {r['recipe']} | {_pm(acc, sd)} | {100 * f1:.2f} | {len(e)} | "
                       f"{100 * r['test_acc']:.2f} |")
        out.append("")
    return out


def _records_of(rows: list[dict]) -> list[dict]:
    return [rec for r in rows for rec in r["records"]]


def _claims_audit(rows: list[dict]) -> list[str]:
    # Only rows that train a model with its own paper's recipe can test the paper's claim.
    audited = []
    for r in rows:
        try:
            if not r["label"] and get_card(r["model"]).recipe == r["recipe"]:
                audited.append(r)
        except FerBenchError:
            continue
    if not audited:
        return ["", "## Claims audit", "", "No row here trains a paper's model with its paper's recipe, so no claim "
                "is audited (see results/paper-repro/LEADERBOARD.md)."]
    out = ["", "## Claims audit", "",
           "Each paper's own number beside what this suite measured for the same model and recipe. "
           f"**reproduced**: the measured mean is within {100 * TOLERANCE:.0f} point of the claim or above it; "
           f"**not reproduced**: every seed is more than {100 * TOLERANCE:.0f} point below it; **inconclusive**: "
           "the seeds straddle it. These three verdicts come only from runs whose epoch budget is at least the "
           "one the claim was made at; a shorter run is **untested at budget (ran N of M epochs)**, with its "
           "measured number beside it. A claim measured on another split is flagged in the note.", "",
           "| model | paper's claim | on | measured | verdict | note |", "|---|---:|---|---:|---|---|"]
    for r in audited:
        card = get_card(r["model"])
        for claim in card.claims:
            metric = "accuracy" if claim.metric == "accuracy" else "macro_f1"
            split = {"test": "test", "val": "val", "natural": "natural"}[claim.measured]
            seeds = [x["metrics"].get(split, {}).get(metric) for x in r["records"]]
            seeds = [v for v in seeds if v is not None]
            where = {"test": "PrivateTest", "val": "PublicTest (val)", "natural": "natural set"}[split]
            if not seeds:
                out.append(f"| {r['model']} | {100 * claim.value:.2f}% {metric.replace('_', '-')} | {claim.split} | "
                           f"not measured in this suite ({where}) | – | {claim.note} |")
                continue
            m, s, _ = mean_std_ci(seeds)
            paper = f"the paper's {claim.epochs}" if claim.epochs else "the paper's budget unknown"
            budget = f"budget {r['epoch_budget']} epochs ({paper}; ran {r['epochs_run']:.0f})"
            verdict = claim_verdict(claim.value, seeds, r["epoch_budget"], claim.epochs)
            if r["records"][0]["recipe"].get("pretrained") and not r["pretrained"]:
                # The paper fine-tuned pretrained weights; a run from scratch tests another method.
                verdict = f"untested as published (trained from scratch; {verdict})"
            out.append(
                f"| {r['model']} | {100 * claim.value:.2f}% {metric.replace('_', '-')} | {claim.split} | "
                f"{_pm(m, s)} on {where}, {len(seeds)} seed(s) | **{verdict}** | "
                f"{100 * (m - claim.value):+.1f} points; {budget}{'; ' + claim.note if claim.note else ''} |")
    for r in audited:
        for claim in get_card(r["model"]).claims:
            if claim.per_class is not None:
                out += _per_class_evidence(r, claim)
    return out


def _precision_recall(labels: np.ndarray, preds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    conf = np.bincount(labels * k + preds, minlength=k * k).reshape(k, k)
    tp = np.diag(conf).astype(float)
    return tp / np.maximum(conf.sum(0), 1), tp / np.maximum(conf.sum(1), 1)


def _per_class_evidence(row: dict, claim) -> list[str]:
    """A paper's per-class table beside (a) the prior of its own supports, (b) this suite's honest
    per-class numbers and (c) this suite's predictions scored against the same labels shuffled.
    Predictions independent of the labels have precision = the label prior and recall = the
    prediction share; a table matching (a) and (c) rather than (b) was not scored image by image."""
    t = claim.per_class
    recs = row["records"]
    ours = recs[0]["data"]["classes"]
    k = len(ours)
    labels = np.concatenate([np.asarray(r["test_labels"]) for r in recs])
    preds = np.concatenate([np.asarray(r["test_predictions"]) for r in recs])
    rng = np.random.default_rng(0)
    shuffled = np.concatenate([rng.permutation(np.asarray(r["test_labels"])) for r in recs])
    prec, rec = _precision_recall(labels, preds, k)
    sprec, srec = _precision_recall(shuffled, preds, k)
    n = sum(t.support)
    prior = [s / n for s in t.support]
    implied = sum(rc * s for rc, s in zip(t.recall, t.support, strict=True)) / n
    ours_prior = np.bincount(labels, minlength=k) / len(labels)
    out = ["", f"### Evidence: {row['model']}, the paper's {t.source}", "",
           f"The paper's precision / recall per class beside the class prior of its own supports (which sum to "
           f"{n:,}), this suite's PrivateTest numbers for the same model ({len(recs)} seed(s) pooled), and the "
           "same predictions scored against the labels in shuffled order (seeded). Precision, recall and prior "
           "in %.", "",
           "| class | paper precision | paper recall | paper support | prior of paper's supports "
           "| ours: precision | ours: recall | ours, labels shuffled: precision | ours, labels shuffled: recall |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    gaps_paper, gaps_ours, gaps_shuffled = [], [], []
    for j, name in enumerate(t.classes):
        c = ours.index(name.lower())
        gaps_paper.append(abs(t.precision[j] - prior[j]))
        gaps_ours.append(abs(prec[c] - ours_prior[c]))
        gaps_shuffled.append(abs(sprec[c] - ours_prior[c]))
        out.append(f"| {name} | {100 * t.precision[j]:.0f} | {100 * t.recall[j]:.0f} | {t.support[j]:,} | "
                   f"{100 * prior[j]:.1f} | {100 * prec[c]:.1f} | {100 * rec[c]:.1f} | {100 * sprec[c]:.1f} | "
                   f"{100 * srec[c]:.1f} |")
    out += ["", f"The paper's precision is within {100 * max(gaps_paper):.1f} points of its class prior in every "
            f"class; this suite's model, scored image by image, is up to {100 * max(gaps_ours):.1f} points from "
            f"the PrivateTest prior, and scored against shuffled labels within {100 * max(gaps_shuffled):.1f} "
            f"points of it. The paper's own recall and supports imply an accuracy of {100 * implied:.1f}%, "
            f"not the claimed {100 * claim.value:.2f}%, and its supports ({n:,}) are a training set's size, not "
            "the 3,589 test images. That is what scoring predictions against labels in a different order (e.g. a "
            "shuffled data generator) produces."]
    return out


def _target_table(spec: dict, rows: list[dict]) -> list[str]:
    """Is a stated target met? spec = {title, recipe, model?, accuracy, minutes, seeds}: the mean
    PrivateTest accuracy over at least `seeds` seeds, each trained within `minutes`."""
    sel = [r for r in rows if r["recipe"] == spec["recipe"] and not r["label"]
           and spec.get("model", r["model"]) == r["model"]]
    goal = (f"mean PrivateTest accuracy >= {100 * spec['accuracy']:.2f}% over {spec['seeds']} seeds, each within "
            f"{spec['minutes']} minutes of training")
    out = ["", f"## {spec.get('title', 'Target')}", "", f"Target: {goal}. Training minutes: the wall clock of "
           "fitting (per-epoch validation included; the observed PrivateTest evaluations and the final test "
           "evaluation excluded).", ""]
    if not sel:
        return out + [f"No finished run uses recipe {spec['recipe']} yet."]
    for r in sel:
        recs = sorted(r["records"], key=lambda x: x["config"]["seed"])
        accs = [x["metrics"]["test"]["accuracy"] for x in recs]
        mins = [training_minutes(x) for x in recs]
        m, sd, ci = mean_std_ci(accs)
        if len(recs) < spec["seeds"]:
            verdict = f"pending ({len(recs)} of {spec['seeds']} seeds)"
        elif m >= spec["accuracy"] and max(mins) <= spec["minutes"]:
            verdict = "**met**"
        else:
            why = []
            if m < spec["accuracy"]:
                why.append(f"mean {100 * (m - spec['accuracy']):+.2f} points from the target")
            if max(mins) > spec["minutes"]:
                why.append(f"slowest seed {max(mins):.1f} min")
            verdict = f"**not met** ({'; '.join(why)})"
        name = f"{r['model']} / {r['recipe']}"
        out += [""] if out[-1] else []
        out += ["| run | seed | PrivateTest acc | training min |", "|---|---:|---:|---:|"]
        out += [f"| {name} | {x['config']['seed']} | {100 * a:.2f} | {t:.1f} |"
                for x, a, t in zip(recs, accs, mins, strict=True)]
        ci_txt = f" (95% CI ± {100 * ci:.2f})" if ci is not None else ""
        out += [f"| **{name}** | mean of {len(recs)} | **{_pm(m, sd)}**{ci_txt} | max {max(mins):.1f} |", "",
                f"Verdict for {name}: {verdict}."]
    return out


def _in_sweep(row: dict, spec: dict) -> bool:
    return row["model"] == spec.get("model") and bool(row["label"])


def _parse_label(label: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in label.split(", "))


def _same_value(a: str | None, b: str) -> bool:
    """'0.01' == '1e-2': grid values are compared as numbers where they are numbers."""
    try:
        return a is not None and float(a) == float(b)
    except ValueError:
        return a == b


def _sweep_table(name: str, spec: dict, rows: list[dict], plots_dir: Path) -> list[str]:
    """A pivot of a grid cell, spec = {model, rows, cols, title, paper?}, plus a heatmap PNG.

    `paper` (e.g. {optimizer: amsgrad, lr: 0.01}) is the grid point the paper reports as its best:
    its rank here, by validation, is the finding."""
    sel = [r for r in rows if _in_sweep(r, spec)]
    if not sel:
        return []
    keys_r = sorted({_parse_label(r["label"])[spec["rows"]] for r in sel})
    keys_c = sorted({_parse_label(r["label"])[spec["cols"]] for r in sel}, key=float)
    cell = {(_parse_label(r["label"])[spec["rows"]], _parse_label(r["label"])[spec["cols"]]): r for r in sel}
    n_seeds = sorted({r["n"] for r in sel})
    out = ["", f"## {spec.get('title', name)}", "",
           f"Val (PublicTest) / test (PrivateTest) accuracy in %, mean over {'/'.join(map(str, n_seeds))} "
           f"seed(s); rows {spec['rows']}, columns {spec['cols']}. Choose on the val number; the test number is "
           "reported, never used to choose. These grid points are not leaderboard rows.",
           "", f"| {spec['rows']} | " + " | ".join(keys_c) + " |", "|---|" + "---:|" * len(keys_c)]
    for kr in keys_r:
        vals = []
        for kc in keys_c:
            r = cell.get((kr, kc))
            vals.append("–" if r is None else f"{100 * r['val_acc']:.1f} / {100 * r['test_acc']:.1f}")
        out.append(f"| {kr} | " + " | ".join(vals) + " |")
    ranked = sorted(sel, key=lambda r: -r["val_acc"])
    best = ranked[0]
    out += ["", f"Best by validation: {best['label']} (val {100 * best['val_acc']:.2f}%, "
            f"test {100 * best['test_acc']:.2f}%)."]
    paper = {k: str(v) for k, v in (spec.get("paper") or {}).items()}
    if paper:
        hit = [r for r in ranked if all(_same_value(_parse_label(r["label"]).get(k), v) for k, v in paper.items())]
        what = ", ".join(f"{k}={v}" for k, v in paper.items())
        if hit:
            h = hit[0]
            out.append(f"The paper's reported best ({what}) ranks {ranked.index(h) + 1} of {len(ranked)} by "
                       f"validation here (val {100 * h['val_acc']:.2f}%, test {100 * h['test_acc']:.2f}%).")
        else:
            out.append(f"The paper's reported best ({what}) was not run.")
    png = f"sweep_{name}.png"
    sweep_png(keys_r, keys_c, cell, spec["rows"], spec["cols"],
              f"{spec.get('model')}: validation accuracy % (test in brackets)", plots_dir / png)
    out += ["", f"![sweep](plots/{png})"]
    return out


def _comparison_table(spec: dict, ref: dict, other_runs: Path) -> list[str]:
    """This suite's reference row against every row of another suite (e.g. the papers' models),
    with McNemar p on matched seeds: does the best recipe beat them, and is it real?"""
    finished, _ = load_records(other_runs)
    title = spec.get("title", f"Against {other_runs.parent.name}")
    if not finished:
        return ["", f"## {title}", "", f"No finished records in `{other_runs}` yet."]
    others = [r for r in aggregate(finished) if not r["label"]]   # sweep points are not models
    paired_p_values(others, ref)
    lines = ["", f"## {title}", "",
             f"PrivateTest accuracy, mean over seeds (records in `{other_runs}`), against this suite's reference "
             f"row **{ref['model']} / {ref['recipe']}** ({100 * ref['test_acc']:.2f}%, {ref['n']} seeds). "
             "p: exact McNemar on per-image predictions of matched seeds.", "",
             "| model | recipe | test acc | seeds | this suite's ref minus it (points) | p |",
             "|---|---|---:|---:|---:|---:|"]
    for r in others:
        lines.append(f"| {r['model']} | {r['recipe']} | {_pm(r['test_acc'], r['test_acc_std'])} | {r['n']} | "
                     f"{100 * (ref['test_acc'] - r['test_acc']):+.2f} | {format_p(r['p_vs_ref'])} |")
    beaten = [r for r in others if ref["test_acc"] > r["test_acc"]]
    lines += ["", f"The reference row's mean is above {len(beaten)} of {len(others)} rows."]
    return lines


def _write_csv(rows: list[dict], path: Path, classes: list[str]) -> None:
    import csv
    cols = ["model", "recipe", "label", "n", "seeds", "test_acc", "test_acc_std", "test_acc_ci95", "test_f1",
            "test_f1_std", "test_f1_ci95", "p_vs_ref", "val_acc", "tta_hflip_acc", "params", "macs", "train_ips",
            "test_ips", "latency_ms", "epochs_run", "epoch_budget", "natural_acc", "natural_f1"]
    def write(f):
        w = csv.writer(f)
        w.writerow(cols + [f"f1_{c}" for c in classes])
        for r in rows:
            w.writerow([";".join(map(str, r[c])) if c == "seeds" else r.get(c, "") for c in cols]
                       + [r["per_class_f1"][c] for c in classes])
    atomic_write(path, write)
