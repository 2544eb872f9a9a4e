#!/usr/bin/env python3
"""Writes the AssayMetrics fixtures from the reference tools.

    pip install scikit-learn jiwer
    python3 Tests/AssayMetricsTests/Fixtures/make_fixtures.py

Floats are written with repr precision (json.dump does that), so Swift can compare within 1e-9.
"""
import collections
import json
import os
import random
import re
import string

import jiwer
import sklearn
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

HERE = os.path.dirname(os.path.abspath(__file__))


def scores(y_true, y_pred, average, labels=None):
    p, r, f, _ = precision_recall_fscore_support(
        y_true, y_pred, average=average, labels=labels, zero_division=0)
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def single_label(name, y_true, y_pred):
    labels = sorted(set(y_true) | set(y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "name": name, "truth": y_true, "predicted": y_pred,
        "labels": labels,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "perClass": {l: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                         "support": int(s[i])} for i, l in enumerate(labels)},
        "micro": scores(y_true, y_pred, "micro"),
        "macro": scores(y_true, y_pred, "macro"),
        "weighted": scores(y_true, y_pred, "weighted"),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def multi_label(name, y_true, y_pred):
    mlb = MultiLabelBinarizer()
    mlb.fit(y_true + y_pred)
    t, q = mlb.transform(y_true), mlb.transform(y_pred)
    labels = [str(c) for c in mlb.classes_]
    p, r, f, s = precision_recall_fscore_support(t, q, zero_division=0)
    return {
        "name": name, "truth": y_true, "predicted": y_pred, "labels": labels,
        "perClass": {l: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                         "support": int(s[i])} for i, l in enumerate(labels)},
        **{avg: scores(t, q, avg) for avg in ["micro", "macro", "weighted", "samples"]},
    }


# SQuAD 2.0 evaluation script (normalize_answer, compute_exact, compute_f1).
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def compute_f1(a_gold, a_pred):
    gold_toks = normalize_answer(a_gold).split()
    pred_toks = normalize_answer(a_pred).split()
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return float(gold_toks == pred_toks)
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_toks)
    recall = num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


SINGLE = [
    ("basic", ["cat", "dog", "cat", "bird", "dog", "cat"], ["cat", "cat", "cat", "bird", "dog", "dog"]),
    ("never predicted", ["a", "b", "c", "a"], ["a", "b", "a", "a"]),
    ("only predicted", ["a", "a", "b"], ["a", "z", "b"]),
    ("none labels", ["spam", "none", "ham", "spam", "ham"], ["none", "none", "ham", "ham", "spam"]),
    ("single class", ["x", "x", "x"], ["x", "x", "x"]),
    ("all wrong", ["a", "b", "c"], ["b", "c", "a"]),
    ("ties", ["a", "b", "a", "b"], ["a", "a", "b", "b"]),
    ("unicode and case order", ["Zebra", "apple", "Äpfel", "émigré", "apple"],
     ["apple", "apple", "Äpfel", "Zebra", "émigré"]),
    ("imbalanced", ["p"] * 9 + ["n"], ["p"] * 10),
]

MULTI = [
    ("basic", [["a", "b"], ["b"], ["a", "c"], []], [["a"], ["b", "c"], ["a", "c"], ["b"]]),
    ("empty samples", [[], ["x"], []], [[], [], ["y"]]),
    ("label never predicted", [["a", "b"], ["b", "c"]], [["a"], ["b"]]),
    ("label only predicted", [["a"], ["a"]], [["a", "z"], ["a"]]),
    ("perfect", [["p", "q"], ["q"]], [["p", "q"], ["q"]]),
    ("no truth at all", [[], []], [["a"], ["b"]]),
]

TEXT_PAIRS = [
    ("The Cat sat.", "the cat sat"),
    ("an apple a day", "apple day"),
    ("", ""),
    ("", "something"),
    ("something", ""),
    ("Barack Obama", "Obama"),
    ("the the the", "the"),
    ("a b c", "c b a"),
    ("  leading and   trailing  ", "leading and trailing"),
    ("tab\tseparated  words", "tab separated words"),
    ("Café naïve résumé", "cafe naive resume"),
    ("東京 タワー", "東京タワー"),
    ("über-cool_stuff", "übercoolstuff"),
    ("Theatre anathema", "theatre the anathema"),
    ("«the» answer", "answer"),
    ("emoji 👍🏽 ok", "emoji 👍 ok"),
    ("red red blue", "red blue blue"),
    ("cafe\u0301 au lait", "caf\u00e9 au lait"),
    ("ΟΔΟΣ Σοφία", "οδος σοφια"),
    ("İstanbul", "istanbul"),
    ("x\u00a0y\u3000z", "x y z"),
    ("don't stop", "dont stop"),
]

WER_SETS = [
    ("single", ["the quick brown fox"], ["the quick brown dog"]),
    ("insertions", ["hello world"], ["hello big wide world"]),
    ("deletions", ["one two three four"], ["one four"]),
    ("empty hypothesis", ["some words here"], [""]),
    ("empty reference", [""], ["inserted words"]),
    ("both empty", [""], [""]),
    ("multi sentence", ["the cat sat", "on the mat", "quietly"], ["the cat sat down", "in the mat", ""]),
    ("multi with empty reference", ["", "a b c"], ["x y", "a c"]),
    ("whitespace", ["  hello   there  world "], ["hello there\tworld"]),
    ("single tab", ["a\tb c"], ["a b c"]),
    ("unicode", ["naïve café über", "日本語 テキスト"], ["naive café uber", "日本語テキスト"]),
    ("combining", ["cafe\u0301 ok"], ["caf\u00e9 ok"]),
    ("emoji", ["👍🏽 good 👋"], ["👍 good"]),
    ("case sensitive", ["Hello World"], ["hello world"]),
    ("unicode whitespace", ["x\u00a0y z", "\u3000padded\u3000 words\u2003\u2003here"], ["x y z", "padded words here"]),
    ("repeated words", ["a a a a b"], ["a b b"]),
]


def random_cases(seed=7):
    """Larger seeded cases so that sums and averages see many classes."""
    rng = random.Random(seed)
    labels = ["alpha", "beta", "gamma", "delta", "none"]
    single = []
    for n in (50, 200):
        truth = [rng.choice(labels) for _ in range(n)]
        pred = [t if rng.random() < 0.6 else rng.choice(labels + ["epsilon"]) for t in truth]
        single.append((f"random {n}", truth, pred))
    multi = []
    for n in (30, 120):
        truth = [sorted(rng.sample(labels, rng.randint(0, 3))) for _ in range(n)]
        pred = [sorted(set(t[: rng.randint(0, len(t))] + rng.sample(labels, rng.randint(0, 2)))) for t in truth]
        multi.append((f"random {n}", truth, pred))
    return single, multi


def main():
    random_single, random_multi = random_cases()
    fixtures = {
        "versions": {"sklearn": sklearn.__version__, "jiwer": getattr(jiwer, "__version__", "4.0.0")},
        "singleLabel": [single_label(*c) for c in SINGLE + random_single],
        "multiLabel": [multi_label(*c) for c in MULTI + random_multi],
        "text": [{
            "prediction": p, "reference": r,
            "exact": p == r,
            "normalizedExact": normalize_answer(p) == normalize_answer(r),
            "normalized": normalize_answer(p),
            "tokenF1": compute_f1(r, p),
        } for p, r in TEXT_PAIRS],
        "errorRates": [{
            "name": n, "references": refs, "hypotheses": hyps,
            "wer": float(jiwer.wer(refs, hyps)), "cer": float(jiwer.cer(refs, hyps)),
        } for n, refs, hyps in WER_SETS],
    }
    with open(os.path.join(HERE, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(fixtures, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
