import numpy as np
import torch

from fer_bench.core.metrics import make_metrics, metrics_to_json
from fer_bench.data.fer2013 import CLASSES


def test_metrics_match_a_hand_computation():
    # 14 predictions over the 7 classes; every class occurs in targets and predictions.
    target = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6])
    pred = torch.tensor([0, 1, 1, 1, 2, 3, 3, 3, 0, 4, 6, 5, 4, 6])
    m = make_metrics(7)
    # Two batches, to check accumulation across updates.
    m.update(torch.nn.functional.one_hot(pred[:6], 7).float(), target[:6])
    m.update(torch.nn.functional.one_hot(pred[6:], 7).float(), target[6:])
    out = metrics_to_json(m.compute(), CLASSES)

    # By hand: correct = 0,2,3,4,6,7,9,11,13 -> 9 of 14.
    assert abs(out["accuracy"] - 9 / 14) < 1e-6
    # class: (tp, fp, fn) -> precision, recall, f1
    hand = {
        "angry": (1, 1, 1), "disgust": (2, 1, 0), "fear": (1, 0, 1), "happy": (2, 1, 1),
        "sad": (1, 1, 1), "surprise": (1, 0, 1), "neutral": (1, 1, 0),
    }
    f1s = []
    for c, (tp, fp, fn) in hand.items():
        p, r = tp / (tp + fp), tp / (tp + fn)
        f1 = 2 * p * r / (p + r)
        f1s.append(f1)
        got = out["per_class"][c]
        assert abs(got["precision"] - p) < 1e-6 and abs(got["recall"] - r) < 1e-6
        assert abs(got["f1"] - f1) < 1e-6
        assert got["support"] == tp + fn
    assert abs(out["macro_f1"] - sum(f1s) / 7) < 1e-6
    conf = out["confusion"]
    assert conf[3][0] == 1 and conf[1][1] == 2 and conf[4][6] == 1 and sum(map(sum, conf)) == 14


def test_cohen_kappa_by_hand_and_a_constant_answer_gets_no_credit():
    from fer_bench.core.stats import cohen_kappa
    # observed 3/4; chance .5 x .25 + .5 x .75 = .5; kappa = (.75 - .5) / (1 - .5)
    assert cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]) == 0.5
    # Always 'neutral' (6): raw agreement 35% against one label set and 18% against another, kappa 0 for both.
    rng = np.random.default_rng(0)
    crowd = np.where(rng.random(2000) < 0.35, 6, rng.integers(0, 6, 2000))
    orig = np.where(rng.random(2000) < 0.18, 6, rng.integers(0, 6, 2000))
    always = np.full(2000, 6)
    assert (always == crowd).mean() > (always == orig).mean() + 0.1
    assert cohen_kappa(always, crowd) == 0.0 and cohen_kappa(always, orig) == 0.0
