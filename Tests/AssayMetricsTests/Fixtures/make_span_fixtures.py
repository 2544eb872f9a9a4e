#!/usr/bin/env python3
"""Writes spans.json: span-level P/R/F1 from seqeval on random non-overlapping spans.

Spans are written as BIO tags over positions (one tag per character position) so that
seqeval extracts exactly the spans back. Run from this folder: python3 make_span_fixtures.py
(needs: pip install seqeval).
"""
import json
import random

from seqeval.metrics.sequence_labeling import precision_recall_fscore_support as prfs

LABELS = ["PER", "LOC", "ORG", "Misc"]


def spans(rng, length, count):
    out, pos = [], 0
    for _ in range(count):
        start = pos + rng.randint(0, 4)
        end = start + rng.randint(1, 5)
        if end > length:
            break
        out.append({"label": rng.choice(LABELS), "start": start, "end": end})
        pos = end + rng.randint(0, 2)
    return out


def bio(spans_, length):
    tags = ["O"] * length
    for s in spans_:
        tags[s["start"]] = "B-" + s["label"]
        for i in range(s["start"] + 1, s["end"]):
            tags[i] = "I-" + s["label"]
    return tags


def case(name, seed, docs):
    rng = random.Random(seed)
    truth, predicted, y_true, y_pred = [], [], [], []
    for _ in range(docs):
        length = 60
        gold = spans(rng, length, rng.randint(0, 6))
        guess = [dict(s) for s in gold if rng.random() < 0.6]
        for s in guess:
            if rng.random() < 0.2:
                s["label"] = rng.choice(LABELS)
            elif rng.random() < 0.2 and s["end"] - s["start"] > 1:
                s["end"] -= 1
        # extra predictions in free positions
        taken = set(i for s in guess for i in range(s["start"], s["end"]))
        for s in spans(rng, length, rng.randint(0, 3)):
            if not any(i in taken for i in range(s["start"], s["end"] + 1)) and s["start"] - 1 not in taken:
                guess.append(s)
                taken.update(range(s["start"], s["end"]))
        guess.sort(key=lambda s: s["start"])
        truth.append(gold)
        predicted.append(guess)
        y_true.append(bio(gold, length))
        y_pred.append(bio(guess, length))
    out = {"name": name, "truth": truth, "predicted": predicted}
    p, r, f, s = prfs(y_true, y_pred, average=None, zero_division=0)
    labels = sorted(set(x["label"] for d in truth + predicted for x in d))
    out["labels"] = labels
    out["perLabel"] = {l: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])} for i, l in enumerate(labels)}
    for avg in ["micro", "macro", "weighted"]:
        p, r, f, _ = prfs(y_true, y_pred, average=avg, zero_division=0)
        out[avg] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    return out


cases = [case("small", 1, 3), case("medium", 2, 40), case("large", 3, 300), case("sparse", 4, 10)]
with open("spans.json", "w") as f:
    json.dump({"seqeval": "precision_recall_fscore_support, strict BIO chunks", "cases": cases}, f, indent=1)
