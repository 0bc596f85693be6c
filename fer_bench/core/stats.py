"""The statistics behind every leaderboard (scipy.stats), and how their values are printed."""

from __future__ import annotations

import math
from statistics import mean, stdev

from scipy import stats


def mean_std_ci(values: list[float]) -> tuple[float, float | None, float | None]:
    """Mean, sample standard deviation and the 95% CI half-width of the mean (Student t; None with one value)."""
    m = mean(values)
    if len(values) < 2:
        return m, None, None
    s = stdev(values)
    return m, s, float(stats.t.ppf(0.975, len(values) - 1)) * s / math.sqrt(len(values))


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar test: b, c = discordant pairs (one model right, the other wrong); under the
    null hypothesis each discordant pair goes either way with probability 1/2."""
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5).pvalue)


def format_p(p: float | None) -> str:
    """A p-value for a table: 3 significant digits; one that underflows double precision is '< 1e-16'."""
    if p is None:
        return "–"
    return "< 1e-16" if p < 1e-16 else f"{p:.3g}"


def welch_p(a: list[float], b: list[float]) -> float | None:
    """Two-sided Welch t-test on seed-level scores (unequal variances); None with fewer than 2 seeds a side.
    Two constant samples: 1.0 when equal, 0.0 when not (scipy's nan there means a certain difference)."""
    if len(a) < 2 or len(b) < 2:
        return None
    if stdev(a) == 0 and stdev(b) == 0:
        return 1.0 if mean(a) == mean(b) else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def tiers(seed_scores: list[list[float]], alpha: float = 0.05) -> tuple[list[int], list[float | None]]:
    """Rows in ranked order (best first), each its seed-level scores -> (tier of each row, Welch p against the
    row above). A row joins the tier of the row above when the two are not separable (p >= alpha, or no test
    possible with one seed); otherwise it opens the next tier."""
    out, ps = [], []
    for i, scores in enumerate(seed_scores):
        p = welch_p(seed_scores[i - 1], scores) if i else None
        ps.append(p)
        out.append(1 if i == 0 else out[-1] + (p is not None and p < alpha))
    return out, ps


def rank_intervals(correct: list, reps: int = 2000, seed: int = 0) -> list[tuple[int, int]]:
    """95% bootstrap intervals of each row's rank (1 = best). `correct[i]` is row i's (seeds x images) boolean
    array of per-image correctness on one shared test set. Each replicate resamples the images (the same draw
    for every row: they share the test set) and, within each row, its seeds."""
    import numpy as np
    rng = np.random.default_rng(seed)
    n_img = correct[0].shape[1]
    accs = np.empty((reps, len(correct)))
    for r in range(reps):
        img = rng.integers(0, n_img, n_img)
        for i, c in enumerate(correct):
            s = rng.integers(0, c.shape[0], c.shape[0])
            accs[r, i] = c[np.ix_(s, img)].mean()
    ranks = (-accs).argsort(1).argsort(1) + 1
    return [(int(np.percentile(ranks[:, i], 2.5)), int(np.percentile(ranks[:, i], 97.5))) for i in range(len(correct))]


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two labelings of the same items: (observed - chance agreement) / (1 - chance), chance
    from each labeling's own class frequencies. Corrects raw agreement for marginals: a model that answers
    'neutral' often agrees more with a label set that says 'neutral' often, by chance alone."""
    import numpy as np
    a, b = np.asarray(a), np.asarray(b)
    k = int(max(a.max(), b.max())) + 1
    po = float((a == b).mean())
    pe = float((np.bincount(a, minlength=k) / len(a)) @ (np.bincount(b, minlength=k) / len(b)))
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)
