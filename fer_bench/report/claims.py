"""The claims audit: each paper's own number beside what a suite measured for the same model and
recipe, judged only at the paper's own training budget; and, for a per-class table, the evidence of
how it was scored."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from fer_bench.core.errors import FerBenchError
from fer_bench.core.stats import mean_std_ci
from fer_bench.core.table import table
from fer_bench.models import Claim, get_card
from fer_bench.report.rows import ONE_POINT, Row, pm

TOLERANCE = ONE_POINT  # one accuracy point below the claim still reproduces it
_WHERE = {"test": "PrivateTest", "val": "PublicTest (val)", "val+test": "PublicTest + PrivateTest",
          "natural": "natural set"}


def claim_verdict(claim: float, seeds: list[float], budget: int | None = None,
                  claim_epochs: int | None = None, not_comparable: str = "") -> str:
    """The claim against the 95% CI of the seed mean, with a one-point margin: 'reproduced' when the whole
    interval lies at or above claim - 1 point, 'not reproduced' when it lies wholly below, else 'inconclusive'.
    One seed has no interval: never more than 'inconclusive (1 seed)'. Only a run on the paper's split and
    data, at no less than its epoch budget, gets one of these: otherwise 'not comparable (why)', or
    'untested at budget (ran N of M epochs)'."""
    if not_comparable:
        return f"not comparable ({not_comparable})"
    if claim_epochs is not None and budget is not None and budget < claim_epochs:
        return _untested(budget, claim_epochs)
    m, _, ci = mean_std_ci(seeds)
    if ci is None:
        return "inconclusive (1 seed)"
    if m - ci >= claim - TOLERANCE:
        return "reproduced"
    if m + ci < claim - TOLERANCE:
        return "not reproduced"
    return "inconclusive"


def _untested(ran: int, claim_epochs: int) -> str:
    return f"untested at budget (ran {ran} of {claim_epochs} epochs)"


def _audited(rows: list[Row]) -> list[Row]:
    """Only rows that train a model with its own paper's recipe can test the paper's claim."""
    out = []
    for r in rows:
        try:
            if not r.label and get_card(r.model).recipe == r.recipe:
                out.append(r)
        except FerBenchError:
            continue
    return out


def claims_audit(rows: list[Row], not_run: Mapping[str, str] | None = None) -> list[str]:
    """`not_run`: paper models the suite leaves out on purpose (model -> why); their claims are listed as
    untested, so that a reader sees the gap instead of a missing row."""
    audited, not_run = _audited(rows), not_run or {}
    if not audited and not not_run:
        return ["", "## Claims audit", "", "No row here trains a paper's model with its paper's recipe, so no claim "
                "is audited (see results/paper-repro/LEADERBOARD.md)."]
    out = ["", "## Claims audit", "",
           "Each paper's own number beside what this suite measured for the same model and recipe. "
           f"Measured: mean ± 95% CI half-width of the seed mean (Student t), with the seed count. **reproduced**: "
           f"the whole interval lies at or above the claim minus {100 * TOLERANCE:.0f} point; **not reproduced**: "
           "it lies wholly below; **inconclusive**: it straddles that line, or there is one seed (no interval). "
           "These verdicts come only from runs on the paper's split and data (PublicTest + PrivateTest rebuilt "
           "from each record's two confusion matrices where the paper scored both) at no less than the paper's "
           "epoch budget (a budget the paper does not state cannot be matched or missed: the note says so); "
           "otherwise the verdict is **not comparable** with the reason, or **untested at budget (ran N of M "
           "epochs)**, with the measured number beside it.", ""]
    lines = [_claim_line(r, claim) for r in audited for claim in get_card(r.model).claims]
    for model, why in not_run.items():
        for claim in get_card(model).claims:
            verdict = _untested(0, claim.epochs) if claim.epochs else "untested (not run)"
            lines.append([*_claim_what(model, claim), "not run in this suite", f"**{verdict}**",
                          f"{why}{'; ' + claim.note if claim.note else ''}"])
    out += table(["model", "paper's claim", "on", "measured", "verdict", "note"], "lrlrll", lines)
    for r in audited:
        for claim in get_card(r.model).claims:
            if claim.per_class is not None:
                out += per_class_evidence(r, claim)
    return out


def _metric(claim: Claim) -> str:
    return "accuracy" if claim.metric == "accuracy" else "macro_f1"


def _claim_what(model: str, claim: Claim) -> list[str]:
    """The audit row's first three cells: the model, the paper's number, what it was measured on."""
    return [model, f"{100 * claim.value:.2f}% {_metric(claim).replace('_', '-')}", claim.split]


def _claim_line(r: Row, claim: Claim) -> list[str]:
    metric, split = _metric(claim), claim.measured
    seeds = [v for x in r.records if (v := split_score(x, split, metric)) is not None]
    what = _claim_what(r.model, claim)
    if not seeds:
        return [*what, f"not measured in this suite ({_WHERE[split]})", "–", claim.note]
    m, _, ci = mean_std_ci(seeds)
    paper = f"the paper's {claim.epochs}" if claim.epochs else "the paper states no budget"
    budget = f"budget {r.epoch_budget} epochs ({paper}; ran {r.epochs_run:.0f})"
    why = claim.not_comparable
    if not why and r.records[0].recipe.get("pretrained") and not r.pretrained:
        why = "the paper fine-tuned pretrained weights; this run trained from scratch"
    verdict = claim_verdict(claim.value, seeds, r.epoch_budget, claim.epochs, why)
    return [*what, f"{pm(m, ci)} on {_WHERE[split]}, {len(seeds)} seed(s)", f"**{verdict}**",
            f"{100 * (m - claim.value):+.1f} points; {budget}{'; ' + claim.note if claim.note else ''}"]


def split_score(rec, split: str, metric: str) -> float | None:
    """A record's score on a claim's split; 'val+test' pools the two splits' confusion matrices (accuracy;
    macro-F1 from the summed matrix)."""
    if split != "val+test":
        s = getattr(rec.metrics, split)
        return None if s is None else getattr(s, metric)
    parts = [rec.metrics.val.confusion, rec.metrics.test.confusion]
    if any(c is None for c in parts):
        return None
    conf = np.asarray(parts[0]) + np.asarray(parts[1])
    if metric == "accuracy":
        return float(np.trace(conf) / conf.sum())
    tp = np.diag(conf).astype(float)
    f1 = 2 * tp / np.maximum(conf.sum(0) + conf.sum(1), 1)
    return float(f1.mean())


def _precision_recall(labels: np.ndarray, preds: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    conf = np.bincount(labels * k + preds, minlength=k * k).reshape(k, k)
    tp = np.diag(conf).astype(float)
    return tp / np.maximum(conf.sum(0), 1), tp / np.maximum(conf.sum(1), 1)


def per_class_evidence(row: Row, claim) -> list[str]:
    """A paper's per-class table beside (a) the prior of its own supports, (b) this suite's honest
    per-class numbers and (c) this suite's predictions scored against the same labels shuffled.
    Predictions independent of the labels have precision = the label prior and recall = the
    prediction share; a table matching (a) and (c) rather than (b) was not scored image by image."""
    t = claim.per_class
    recs = row.records
    ours = recs[0].classes
    k = len(ours)
    labels = np.concatenate([np.asarray(r.test_labels) for r in recs])
    preds = np.concatenate([np.asarray(r.test_predictions) for r in recs])
    rng = np.random.default_rng(0)
    shuffled = np.concatenate([rng.permutation(np.asarray(r.test_labels)) for r in recs])
    prec, rec = _precision_recall(labels, preds, k)
    sprec, srec = _precision_recall(shuffled, preds, k)
    n = sum(t.support)
    prior = [s / n for s in t.support]
    implied = sum(rc * s for rc, s in zip(t.recall, t.support, strict=True)) / n
    ours_prior = np.bincount(labels, minlength=k) / len(labels)
    out = ["", f"### Evidence: {row.model}, the paper's {t.source}", "",
           f"The paper's precision / recall per class beside the class prior of its own supports (which sum to "
           f"{n:,}), this suite's PrivateTest numbers for the same model ({len(recs)} seed(s) pooled), and the "
           "same predictions scored against the labels in shuffled order (seeded). Precision, recall and prior "
           "in %.", ""]
    gaps_paper, gaps_ours, gaps_shuffled, lines = [], [], [], []
    for j, name in enumerate(t.classes):
        c = ours.index(name.lower())
        gaps_paper.append(abs(t.precision[j] - prior[j]))
        gaps_ours.append(abs(prec[c] - ours_prior[c]))
        gaps_shuffled.append(abs(sprec[c] - ours_prior[c]))
        lines.append([name, f"{100 * t.precision[j]:.0f}", f"{100 * t.recall[j]:.0f}", f"{t.support[j]:,}",
                      *(f"{100 * v:.1f}" for v in (prior[j], prec[c], rec[c], sprec[c], srec[c]))])
    out += table(["class", "paper precision", "paper recall", "paper support", "prior of paper's supports",
                  "ours: precision", "ours: recall", "ours, labels shuffled: precision",
                  "ours, labels shuffled: recall"], "lrrrrrrrr", lines)
    sizes = recs[0].data.sizes
    out += ["", f"The paper's precision is within {100 * max(gaps_paper):.1f} points of its class prior in every "
            f"class; this suite's model, scored image by image, is up to {100 * max(gaps_ours):.1f} points from "
            f"the PrivateTest prior, and scored against shuffled labels within {100 * max(gaps_shuffled):.1f} "
            f"points of it. The paper's own recall and supports imply an accuracy of {100 * implied:.1f}%"
            + (f", not the claimed {100 * claim.value:.2f}%" if abs(implied - claim.value) >= TOLERANCE else
               f", as claimed ({100 * claim.value:.2f}%)") + "; " + _support_sentence(n, sizes)
            + _shuffle_sentence(max(gaps_paper), max(gaps_ours), max(gaps_shuffled))]
    return out


def _support_sentence(n: int, sizes: dict[str, int]) -> str:
    """Which of this data's splits the paper's support total is closest to (sizes from the records)."""
    names = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
    known = {s: v for s, v in sizes.items() if s in names and v}
    if not known:
        return f"its supports sum to {n:,}."
    nearest = min(known, key=lambda s: abs(known[s] - n))
    listed = ", ".join(f"{names[s]} {v:,}" for s, v in known.items())
    if nearest == "test":
        return f"its supports ({n:,}) match the size of a test split here ({listed})."
    return (f"its supports ({n:,}) are closest to {names[nearest]}'s size, not the {known.get('test', 0):,} "
            f"test images this suite scored ({listed}).")


def _shuffle_sentence(paper_gap: float, ours_gap: float, shuffled_gap: float) -> str:
    """A per-class table whose precision sits on the class prior, as shuffled-label scoring does and
    image-by-image scoring does not, points to predictions scored against labels in another order."""
    if paper_gap <= shuffled_gap < ours_gap:
        return (" Precision that close to the prior is what scoring predictions against labels in a different "
                "order (e.g. a shuffled data generator) produces.")
    return " The table's distance from the prior does not single out shuffled-label scoring."
