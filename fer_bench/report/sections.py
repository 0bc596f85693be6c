"""Leaderboard sections computed from the per-image predictions and the other test sets: result
validity (leak-free and label-noise columns), the natural photos, other face sets, own protocols."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from statistics import mean

import numpy as np

from fer_bench.core.errors import FerBenchError
from fer_bench.core.record import RunRecord
from fer_bench.core.stats import cohen_kappa, mean_std_ci
from fer_bench.core.table import table
from fer_bench.core.validate import is_number
from fer_bench.report.rows import Row, pm


def validity_section(rows: list[Row], annotations_path: Path) -> list[str]:
    """The same per-image predictions scored (a) on the PrivateTest images that never occur in Training
    and (b) against the FER+ crowd labels, from `fer-bench data report`'s split_annotations.json."""
    if not annotations_path.is_file():
        return []
    ann = json.loads(annotations_path.read_text())
    test = ann["test"]
    dup = np.array(test["train_duplicate"])
    fp = np.array(test["ferplus_label"]) if "ferplus_label" in test else None
    title = ["", "## Result validity: leak-free and label-noise columns", ""]
    out = [*title,
           f"From the same per-image PrivateTest predictions. **Leak-free**: PrivateTest has {int(dup.sum())} images "
           f"whose pixels also occur in Training (`results/data-report`); the column scores the other "
           f"{int((~dup).sum())}. The validation split used for selection (PublicTest) holds "
           f"{sum(ann['val']['train_duplicate'])} such images of {ann['val']['n']}."]
    if fp is not None:
        keep = fp >= 0
        out[-1] += (f" **FER+ labels**: the {int(keep.sum())} PrivateTest images FER+ keeps ({ann['ferplus']}), "
                    "scored against the original FER-2013 labels and against the FER+ labels, raw and as Cohen's "
                    "kappa (agreement corrected for chance, from each side's own class frequencies). The raw gap "
                    "alone says little: the two label sets have different class shares (FER+ says 'neutral' far "
                    "more often), so a model that often answers 'neutral' gains against FER+ by chance; a "
                    "kappa gap is the one that says a model agrees more with the crowd than the chance of its "
                    "own answer shares predicts.")
    out += [""]
    lines = []
    tracks = {mode: np.array(lab) for mode, lab in test.get("ferplus_track_label", {}).items()}
    skipped, on_track = [], {}
    for r in rows:
        recs = [x for x in r.records if len(x.test_labels) == test["n"]
                and x.classes[:len(ann["classes"])] == ann["classes"]]
        preds = [np.array(x.test_predictions) for x in r.records]
        if len(recs) == r.n:
            labels = np.array(recs[0].test_labels)
            leak_free = mean(float((p[~dup] == labels[~dup]).mean()) for p in preds)
            cells = [f"{100 * leak_free:.2f}"]
            if fp is not None:
                orig = mean(float((p[keep] == labels[keep]).mean()) for p in preds)
                crowd = mean(float((p[keep] == fp[keep]).mean()) for p in preds)
                k_orig = mean(cohen_kappa(p[keep], labels[keep]) for p in preds)
                k_crowd = mean(cohen_kappa(p[keep], fp[keep]) for p in preds)
                cells += [f"{100 * orig:.2f}", f"{100 * crowd:.2f}", f"{100 * (crowd - orig):+.2f}",
                          f"{k_orig:.3f}", f"{k_crowd:.3f}", f"{k_crowd - k_orig:+.3f}"]
            else:
                cells += ["–"] * 6
        elif (track := ferplus_track(r.records, tracks)) is not None:
            # A FER+ run tests on the PrivateTest images its mode keeps: drop the training duplicates among them.
            mode, on = track
            clean = ~dup[on]
            labels = np.array(r.records[0].test_labels)
            leak_free = mean(float((p[clean] == labels[clean]).mean()) for p in preds)
            on_track[mode] = (int(on.sum()), int((~clean).sum()))
            cells = [f"{100 * leak_free:.2f}", *["–"] * 6]
        else:
            skipped.append(r.name)
            continue
        lines.append([r.name, r.recipe, str(r.n), f"{100 * r.test_acc:.2f}", *cells])
    if len(skipped) == len(rows):
        return [*title, "No row of this leaderboard was tested on the full FER-2013 PrivateTest with its original "
                "labels or on a FER+ mode's PrivateTest images (a limit or blank images dropped), so neither "
                "column applies."]
    for mode, (n, leaked) in sorted(on_track.items()):
        val_on = np.array(ann["val"]["ferplus_track_label"][mode]) >= 0
        val_leaked = int(np.array(ann["val"]["train_duplicate"])[val_on].sum())
        out[len(title)] += (f" Rows trained on FER+ {mode} labels are tested on the {n} PrivateTest images that "
                            f"mode keeps (found by matching their records' labels with the FER+ votes), {leaked} "
                            f"of which occur in Training: their leak-free column scores the other {n - leaked} "
                            f"(their validation split, {int(val_on.sum())} PublicTest images, holds {val_leaked}); "
                            "the FER+-label columns do not apply to them (their labels already are FER+'s).")
    out += ([""] if out[-1] else []) + table(
        ["model", "recipe", "seeds", "PrivateTest acc", "without train duplicates",
         "on FER+-kept images: FER-2013 labels", "same images: FER+ labels", "FER+ minus FER-2013 (points)",
         "kappa, FER-2013 labels", "kappa, FER+ labels", "kappa gap"], "llrrrrrrrrr", lines)
    if skipped:
        out += ["", f"Not scored here (their test images are another subset or another label set: a limit or "
                f"blank images dropped): {', '.join(skipped)}."]
    return out


def ferplus_track(records: list[RunRecord], tracks: dict[str, np.ndarray]) -> tuple[str, np.ndarray] | None:
    """The FER+ mode whose kept PrivateTest images are exactly these records' test images, and the mask of
    them among PrivateTest's, or None. The records hold labels, not image ids: every record's labels must
    equal that mode's labels of the kept images, in order."""
    for mode, lab in tracks.items():
        on = lab >= 0
        if all(len(x.test_labels) == int(on.sum()) and np.array_equal(np.array(x.test_labels), lab[on])
               for x in records):
            return mode, on
    return None


def native_protocols(rows: list[Row]) -> list[str]:
    """A model's own evaluation protocol (ten-crop) under a single-view recipe: reported, never ranked."""
    out = []
    for r in rows:
        nat = [x.metrics.test_native for x in r.records if x.metrics.test_native is not None]
        if nat:
            m, _, ci = mean_std_ci([n.accuracy for n in nat])
            out.append(f"- {r.model} with its own protocol ({nat[0].extra['protocol']}): {pm(m, ci)}% PrivateTest "
                       f"over {len(nat)} seed(s), against {pm(r.test_acc, r.test_acc_ci95)}% single view (± 95% CI "
                       "of the seed mean).")
    return ["", "Own evaluation protocols (an extra column, never the ranking number):", "", *out] if out else []


def natural_section(rows: list[Row]) -> list[str]:
    nat = [r for r in rows if r.natural]
    if not nat:
        return []
    classes = list(nat[0].natural.recall)
    out = ["", "## Natural photos (cross-dataset test)", "",
           f"The selected checkpoint of every run, tested on the natural-expression set ({nat[0].natural.images} "
           "face crops built by `fer-bench natural build` from ordinary photos; never trained or selected on). "
           "Accuracy and macro-F1 in %, mean over seeds (± 95% CI of the seed mean); per class: recognition rate "
           "(recall), as in seed 002's "
           "Table III.", ""]
    cells = [[r.name, r.recipe, pm(r.natural.acc, r.natural.acc_ci95), f"{100 * r.natural.f1:.2f}",
              f"{100 * r.test_acc:.2f}", *(f"{100 * r.natural.recall[c]:.1f}" for c in classes)]
             for r in sorted(nat, key=lambda r: -r.natural.acc)]
    return out + table(["model", "recipe", "natural acc", "natural macro-F1", "PrivateTest acc", *classes],
                       "llrrr" + "r" * len(classes), cells)


def external_section(rows: list[Row], eval_dir: Path) -> list[str]:
    """Cross-dataset columns: the suite's external sets (eval records written by the runner or by
    `fer-bench eval --results`), mean ± sd over the seeds that have one."""
    by_run: dict[str, dict[str, dict]] = defaultdict(dict)
    for p in sorted(eval_dir.glob("*.json")) if eval_dir.is_dir() else []:
        try:
            ev = json.loads(p.read_text())
            m = ev["metrics"]
            bad = next((k for k, v in (("metrics.accuracy", m["accuracy"]), ("metrics.macro_f1", m["macro_f1"]),
                                       ("metrics.majority_baseline", m["majority_baseline"]["accuracy"]),
                                       ("set.scored", ev["set"]["scored"])) if not is_number(v)), None)
            if bad or not isinstance(ev["set"]["skipped"], dict):
                raise FerBenchError(f"{p}: key {bad or 'set.skipped'!r} of the eval record has a wrong type")
            by_run[ev["model"]["run_id"]][ev["set"]["name"]] = ev
        except (ValueError, KeyError, TypeError, AttributeError):
            raise FerBenchError(f"{p}: not a valid eval record") from None
    sets = sorted({name for evs in by_run.values() for name in evs})
    if not sets:
        return []
    out = ["", "## Other face sets (cross-dataset)", "",
           "Each run's kept model scored by `fer-bench eval` on face sets it never saw. Accuracy in %, mean ± sd "
           "over the seeds scored (n); macro-F1 over the classes the set has; baseline = always guessing the "
           "set's most frequent class. Faces of a class the model cannot predict are not scored.", ""]
    for name in sets:
        evs = [e for e in (by_run.get(x.run_id, {}).get(name) for r in rows for x in r.records) if e]
        first = evs[0]
        skipped = ", ".join(f"{n} {why}" for why, n in first["set"]["skipped"].items()) or "none"
        base = first["metrics"]["majority_baseline"]
        out += [f"**{name}**: {first['set']['scored']} faces scored of {first['set']['photos']} images "
                f"(not scored: {skipped}); {first['set']['preprocessing']}; majority baseline "
                f"{100 * base['accuracy']:.2f}% ({base['class']}).", ""]
        scored = []
        for r in rows:
            e = [by_run[x.run_id][name] for x in r.records if name in by_run.get(x.run_id, {})]
            if e:
                scored.append((mean_std_ci([v["metrics"]["accuracy"] for v in e]), r, e))
        cells = [[r.name, r.recipe, pm(acc, ci), f"{100 * mean(v['metrics']['macro_f1'] for v in e):.2f}",
                  str(len(e)), f"{100 * r.test_acc:.2f}"]
                 for (acc, _, ci), r, e in sorted(scored, key=lambda t: -t[0][0])]
        out += [*table(["model", "recipe", "acc", "macro-F1", "n", "PrivateTest acc"], "llrrrr", cells), ""]
    return out
