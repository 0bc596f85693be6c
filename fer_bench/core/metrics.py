"""Classification metrics (torchmetrics) and their plain-JSON form for run records."""

from __future__ import annotations

import torch
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassPrecision,
    MulticlassRecall,
)


def make_metrics(num_classes: int) -> MetricCollection:
    """Accuracy, macro-F1, per-class precision / recall / F1 and the confusion matrix.

    All share one set of stat-score states (torchmetrics compute groups), so an update
    per batch is a few bincounts. Argument validation is off: it calls torch.unique on every
    update (a host sync), and the labels come from readers that already rejected bad ones.
    """
    kw = {"validate_args": False}
    return MetricCollection({
        "acc": MulticlassAccuracy(num_classes, average="micro", **kw),
        "f1_macro": MulticlassF1Score(num_classes, average="macro", **kw),
        "precision": MulticlassPrecision(num_classes, average=None, **kw),
        "recall": MulticlassRecall(num_classes, average=None, **kw),
        "f1": MulticlassF1Score(num_classes, average=None, **kw),
        "confusion": MulticlassConfusionMatrix(num_classes, validate_args=False),
    })


def per_class_metrics(confusion: torch.Tensor, classes: tuple[str, ...]) -> dict:
    """{class: {precision, recall, f1, support}} from a confusion matrix (rows = true class); 0 where a
    ratio has nothing to divide (torchmetrics' zero_division)."""
    conf = confusion.double()
    hits, support, predicted = conf.diag(), conf.sum(1), conf.sum(0)
    precision = torch.where(predicted > 0, hits / predicted.clamp(min=1), 0.0)
    recall = torch.where(support > 0, hits / support.clamp(min=1), 0.0)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    return {c: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                "support": int(support[i])} for i, c in enumerate(classes)}


def metrics_to_json(values: dict[str, torch.Tensor], classes: tuple[str, ...]) -> dict:
    """{'accuracy', 'macro_f1', 'per_class': {class: {precision, recall, f1, support}},
    'confusion': rows = true class, columns = predicted class}."""
    conf = values["confusion"].long()
    return {
        "accuracy": float(values["acc"]),
        "macro_f1": float(values["f1_macro"]),
        "n": int(conf.sum()),
        "per_class": per_class_metrics(conf, classes),
        "confusion": conf.tolist(),
    }


def summary_metrics(probs: torch.Tensor, labels: torch.Tensor, num_classes: int) -> dict:
    """Accuracy and macro-F1 of class probabilities (TTA variants, ensembles)."""
    from torchmetrics.functional.classification import multiclass_accuracy, multiclass_f1_score
    pred = probs.argmax(1)
    return {
        "accuracy": float(multiclass_accuracy(pred, labels, num_classes, average="micro")),
        "macro_f1": float(multiclass_f1_score(pred, labels, num_classes, average="macro")),
    }
