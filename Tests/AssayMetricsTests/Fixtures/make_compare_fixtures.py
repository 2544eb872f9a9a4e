#!/usr/bin/env python3
"""Writes compare.json: the run-against-run statistics from the reference tools.

    pip install scikit-learn statsmodels scipy numpy
    python3 Tests/AssayMetricsTests/Fixtures/make_compare_fixtures.py

- kappa: sklearn.metrics.cohen_kappa_score(a, b, weights=None|"linear"|"quadratic"); NaN
  (undefined) is written as the string "NaN", infinity as "Infinity".
- mcnemar: statsmodels.stats.contingency_tables.mcnemar on [[n00, b], [c, n11]] with
  exact=True (its default) and exact=False with correction True and False.
- bootstrap: the paired bootstrap of AssayMetrics' PairedBootstrap, reimplemented here from its
  documentation (SplitMix64, multiply-shift indices, np.percentile), with sklearn computing the
  metric of each resample, so the Swift side must reproduce both the resampling and the metric.
Floats are written with repr precision.
"""
import json
import math
import os
import random
import warnings

import numpy as np
import sklearn
import statsmodels
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score
from statsmodels.stats.contingency_tables import mcnemar

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def index(self, n):
        return (self.next() * n) >> 64


def nan_to_none(x):
    """NaN and infinities as the strings "NaN", "Infinity" (JSON has no such numbers)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def kappa_cases(rng):
    cases = []
    labels = ["cat", "dog", "bird", "none"]
    def add(name, a, b):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cases.append({
                "name": name, "a": a, "b": b,
                "none": nan_to_none(cohen_kappa_score(a, b)),
                "linear": nan_to_none(cohen_kappa_score(a, b, weights="linear")),
                "quadratic": nan_to_none(cohen_kappa_score(a, b, weights="quadratic")),
            })
    add("sklearn doc example", ["negative", "positive", "negative", "neutral", "positive"],
        ["negative", "positive", "negative", "neutral", "negative"])
    add("perfect agreement", ["a", "b", "c", "a"], ["a", "b", "c", "a"])
    add("one shared label (undefined)", ["x", "x", "x"], ["x", "x", "x"])
    add("complete disagreement", ["a", "b", "a", "b"], ["b", "a", "b", "a"])
    add("disjoint labels", ["a", "a", "b"], ["c", "d", "d"])
    for i in range(6):
        n = rng.randint(5, 300)
        a = [rng.choice(labels) for _ in range(n)]
        b = [x if rng.random() < 0.6 + 0.05 * i else rng.choice(labels) for x in a]
        add(f"random {i} ({n} rows)", a, b)
    return cases


def mcnemar_cases():
    pairs = [(0, 0), (0, 1), (1, 0), (3, 3), (5, 1), (1, 9), (12, 12), (24, 0), (10, 14), (13, 12),
             (25, 10), (40, 60), (100, 140), (700, 650), (1500, 1400), (3, 40), (0, 30)]
    cases = []
    for b, c in pairs:
        table = [[17, b], [c, 31]]
        exact = mcnemar(table, exact=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            chi = mcnemar(table, exact=False, correction=True)
            plain = mcnemar(table, exact=False, correction=False)
        cases.append({
            "b": b, "c": c,
            "exactStatistic": float(exact.statistic), "exactP": float(exact.pvalue),
            "chiStatistic": nan_to_none(float(chi.statistic)), "chiP": nan_to_none(float(chi.pvalue)),
            "plainStatistic": nan_to_none(float(plain.statistic)), "plainP": nan_to_none(float(plain.pvalue)),
        })
    return cases


def bootstrap(first_metric, rows, seed, resamples, confidence=0.95):
    gen = SplitMix64(seed)
    n = len(rows)
    whole = first_metric(list(range(n)))
    deltas = []
    for _ in range(resamples):
        idx = [gen.index(n) for _ in range(n)]
        a, b = first_metric(idx)
        deltas.append(b - a)
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(np.array(deltas), [tail, 100 - tail])
    return {"first": whole[0], "second": whole[1], "delta": whole[1] - whole[0],
            "lower": float(lo), "upper": float(hi)}


def bootstrap_cases(rng):
    labels = ["cat", "dog", "bird", "fish"]
    cases = []
    for i, (n, seed) in enumerate([(40, 7), (200, 12345), (500, 2**63 + 11)]):
        truth = [rng.choice(labels) for _ in range(n)]
        a = [t if rng.random() < 0.7 else rng.choice(labels) for t in truth]
        b = [t if rng.random() < 0.78 else rng.choice(labels) for t in truth]
        def accuracy(idx):
            t = [truth[j] for j in idx]
            return (float(accuracy_score(t, [a[j] for j in idx])), float(accuracy_score(t, [b[j] for j in idx])))
        def macro_f1(idx):
            t = [truth[j] for j in idx]
            return (float(f1_score(t, [a[j] for j in idx], average="macro", zero_division=0)),
                    float(f1_score(t, [b[j] for j in idx], average="macro", zero_division=0)))
        resamples = 200
        cases.append({"name": f"case {i} ({n} rows, seed {seed})", "seed": seed, "resamples": resamples,
                      "truth": truth, "a": a, "b": b,
                      "accuracy": bootstrap(accuracy, truth, seed, resamples),
                      "macroF1": bootstrap(macro_f1, truth, seed, resamples)})
    gen = SplitMix64(0)
    first = [gen.next() for _ in range(5)]
    return cases, [str(x) for x in first]


def main():
    rng = random.Random(20240607)
    boot, stream = bootstrap_cases(rng)
    out = {
        "versions": {"sklearn": sklearn.__version__, "statsmodels": statsmodels.__version__, "numpy": np.__version__},
        "kappa": kappa_cases(rng),
        "mcnemar": mcnemar_cases(),
        "splitmix64Seed0": stream,
        "bootstrap": boot,
    }
    with open(os.path.join(HERE, "compare.json"), "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
