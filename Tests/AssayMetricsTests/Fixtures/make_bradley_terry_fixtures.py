#!/usr/bin/env python3
"""Writes bradley_terry.json: Bradley-Terry ratings fitted by scikit-learn, as the Chatbot
Arena notebook does it (an unpenalised logistic regression without intercept).

    pip install scikit-learn numpy
    python3 Tests/AssayMetricsTests/Fixtures/make_bradley_terry_fixtures.py

The design: one row per battle, +ln(10) in model_a's column and -ln(10) in model_b's, y = 1
when model_a won. A tie is two rows (y = 1 and y = 0), each with sample weight 0.5: half a win
for each side. Fitted with LogisticRegression(penalty=None, fit_intercept=False) and a Newton
solver to 1e-12, so the coefficients are exact to far below the test's 1e-6 tolerance.
Rating = 400 * beta + 1000.

Ratings are defined up to a common shift, so the anchor's column is left out of the design
(its beta is 0, its rating 1000). The unanchored ratings ("anchor": null) are the same fit
shifted to average 1000 (the zero-sum solution scikit-learn's default lbfgs reaches from zero).
Floats are written with repr precision.
"""
import json
import math
import os
import random
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

HERE = os.path.dirname(os.path.abspath(__file__))


def fit(battles, anchor):
    models = sorted({b["model_a"] for b in battles} | {b["model_b"] for b in battles})
    free = [m for m in models if m != anchor]
    column = {m: i for i, m in enumerate(free)}
    rows, ys, weights = [], [], []
    for b in battles:
        x = np.zeros(len(free))
        if b["model_a"] in column:
            x[column[b["model_a"]]] += math.log(10)
        if b["model_b"] in column:
            x[column[b["model_b"]]] -= math.log(10)
        if b["winner"] == "tie":
            rows += [x, x]
            ys += [1, 0]
            weights += [0.5, 0.5]
        else:
            rows.append(x)
            ys.append(1 if b["winner"] == "model_a" else 0)
            weights.append(1.0)
    lr = LogisticRegression(penalty=None, fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    with warnings.catch_warnings():  # scikit-learn 1.8 deprecates penalty=None for C=np.inf
        warnings.simplefilter("ignore", FutureWarning)
        lr.fit(np.array(rows), np.array(ys), sample_weight=np.array(weights))
    beta = {m: 0.0 for m in models}
    for m, i in column.items():
        beta[m] = float(lr.coef_[0][i])
    return models, beta


def case(name, battles, anchor):
    models, beta = fit(battles, anchor or battles[0]["model_a"])
    if anchor is None:
        mean = sum(beta.values()) / len(beta)
        beta = {m: b - mean for m, b in beta.items()}
    return {"name": name, "anchor": anchor, "battles": battles,
            "ratings": {m: 400 * beta[m] + 1000 for m in models}}


def battle(a, b, w):
    return {"model_a": a, "model_b": b, "winner": w}


def random_battles(rng, models, strengths, n, tie_rate):
    out = []
    for _ in range(n):
        a, b = rng.sample(models, 2)
        p = 1 / (1 + 10 ** (-(strengths[a] - strengths[b])))
        r = rng.random()
        if r < tie_rate:
            out.append(battle(a, b, "tie"))
        elif rng.random() < p:
            out.append(battle(a, b, "model_a"))
        else:
            out.append(battle(a, b, "model_b"))
    return out


def main():
    rng = random.Random(20240817)
    cases = []
    two = [battle("alpha", "beta", "model_a")] * 7 + [battle("alpha", "beta", "model_b")] * 3 \
        + [battle("beta", "alpha", "tie")] * 2
    cases.append(case("two models, 7-3 with 2 ties", two, None))
    cases.append(case("two models anchored on beta", two, "beta"))
    cycle = [battle("a", "b", "model_a"), battle("b", "c", "model_a"), battle("c", "a", "model_a"),
             battle("a", "c", "tie"), battle("b", "a", "model_a"), battle("a", "b", "model_a"),
             battle("c", "b", "model_a")]
    cases.append(case("three models, a cycle", cycle, None))
    names = ["gemma3-270m", "smollm2-135m", "qwen-0.5b", "phi-mini", "llama-1b"]
    strengths = {"gemma3-270m": 0.2, "smollm2-135m": -0.1, "qwen-0.5b": 0.4, "phi-mini": 0.0, "llama-1b": 0.6}
    arena = random_battles(rng, names, strengths, 400, 0.15)
    cases.append(case("five models, 400 battles", arena, None))
    cases.append(case("five models, 400 battles, anchored", arena, "smollm2-135m"))
    sparse = random_battles(rng, names[:4], strengths, 40, 0.1)
    cases.append(case("four models, 40 battles, anchored", sparse, "phi-mini"))
    with open(os.path.join(HERE, "bradley_terry.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
