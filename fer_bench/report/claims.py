"""The claims audit: each paper's own number beside what a suite measured for the same model and
recipe, judged only at the paper's own training budget; and, for a per-class table, the evidence of
how it was scored."""

from __future__ import annotations

from collections.abc import Mapping
from statistics import mean

import numpy as np

from fer_bench.errors import FerBenchError
from fer_bench.models import Claim, get_card
from fer_bench.report.rows import Row, pm
from fer_bench.stats import mean_std_ci

TOLERANCE = 0.01  # one accuracy point: closer than this counts as reproduced
_WHERE = {"test": "PrivateTest", "val": "PublicTest (val)", "natural": "natural set"}


def claim_verdict(claim: float, seeds: list[float], budget: int | None = None,
                  claim_epochs: int | None = None) -> str:
    """'reproduced' (measured mean within one point of the claim, or above it), 'not reproduced'
    (every seed more than one point below), else 'inconclusive' (seeds straddle the claim).
    A run whose epoch budget is below the one the claim was made at cannot refute or confirm it:
    'untested at budget (ran N of M epochs)'."""
    if claim_epochs is not None and budget is not None and budget < claim_epochs:
        return _untested(budget, claim_epochs)
    if mean(seeds) >= claim - TOLERANCE:
        return "reproduced"
    if max(seeds) < claim - TOLERANCE:
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
           f"**reproduced**: the measured mean is within {100 * TOLERANCE:.0f} point of the claim or above it; "
           f"**not reproduced**: every seed is more than {100 * TOLERANCE:.0f} point below it; **inconclusive**: "
           "the seeds straddle it. These three verdicts come only from runs whose epoch budget is at least the "
           "one the claim was made at; a shorter run is **untested at budget (ran N of M epochs)**, with its "
           "measured number beside it. A claim measured on another split is flagged in the note.", "",
           "| model | paper's claim | on | measured | verdict | note |", "|---|---:|---|---:|---|---|"]
    for r in audited:
        for claim in get_card(r.model).claims:
            out.append(_claim_line(r, claim))
    for model, why in not_run.items():
        for claim in get_card(model).claims:
            verdict = _untested(0, claim.epochs) if claim.epochs else "untested (not run)"
            out.append(_claim_what(model, claim) + f"not run in this suite | **{verdict}** | {why}"
                       f"{'; ' + claim.note if claim.note else ''} |")
    for r in audited:
        for claim in get_card(r.model).claims:
            if claim.per_class is not None:
                out += per_class_evidence(r, claim)
    return out


def _metric(claim: Claim) -> str:
    return "accuracy" if claim.metric == "accuracy" else "macro_f1"


def _claim_what(model: str, claim: Claim) -> str:
    """The audit row's first three cells: the model, the paper's number, what it was measured on."""
    return f"| {model} | {100 * claim.value:.2f}% {_metric(claim).replace('_', '-')} | {claim.split} | "


def _claim_line(r: Row, claim: Claim) -> str:
    metric, split = _metric(claim), claim.measured
    scored = [getattr(x.metrics, split) for x in r.records]
    seeds = [getattr(s, metric) for s in scored if s is not None]
    what = _claim_what(r.model, claim)
    if not seeds:
        return what + f"not measured in this suite ({_WHERE[split]}) | – | {claim.note} |"
    m, s, _ = mean_std_ci(seeds)
    paper = f"the paper's {claim.epochs}" if claim.epochs else "the paper's budget unknown"
    budget = f"budget {r.epoch_budget} epochs ({paper}; ran {r.epochs_run:.0f})"
    verdict = claim_verdict(claim.value, seeds, r.epoch_budget, claim.epochs)
    if r.records[0].recipe.get("pretrained") and not r.pretrained:
        # The paper fine-tuned pretrained weights; a run from scratch tests another method.
        verdict = f"untested as published (trained from scratch; {verdict})"
    return (what + f"{pm(m, s)} on {_WHERE[split]}, {len(seeds)} seed(s) | **{verdict}** | "
            f"{100 * (m - claim.value):+.1f} points; {budget}{'; ' + claim.note if claim.note else ''} |")


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
