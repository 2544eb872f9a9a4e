"""Writes coco.json: small COCO bbox evaluations run through pycocotools' COCOeval.

Usage: python3 make_coco_fixtures.py   (needs numpy and pycocotools)

Each case holds the inputs (ground truth, detections, image and category ids) and what
COCOeval computes for iouType "bbox" with default params: the 12 `stats` and the per-category
AP (IoU .50:.95, area all, maxDets 100: mean of precision[:, :, k, 0, 2] over entries > -1,
-1 when there are none), the whole `recall` array (T x K x A x M, C order) and
`precision[:, :, :, 0, 2]` (T x R x K, C order). Floats are written by json with full (repr) precision.
"""
import contextlib
import io
import json
import os
import random

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def evaluate(images, categories, gts, dts, img_ids, cat_ids):
    coco = COCO()
    coco.dataset = {
        "images": [{"id": i} for i in images],
        "categories": [{"id": c} for c in categories],
        "annotations": gts,
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
        res = coco.loadRes([dict(d) for d in dts]) if dts else None
        ev = COCOeval(coco, res, "bbox")
        ev.params.imgIds = img_ids
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]
    per_cat = {}
    for k, c in enumerate(ev.params.catIds):
        s = prec[:, :, k, 0, 2]
        per_cat[str(int(c))] = float(np.mean(s[s > -1])) if (s > -1).any() else -1.0
    recall = [float(x) for x in ev.eval["recall"].ravel()]
    precision_all_100 = [float(x) for x in prec[:, :, :, 0, 2].ravel()]
    return [float(x) for x in ev.stats], per_cat, recall, precision_all_100


def box(rng, size):
    w = max(0.5, rng.uniform(0.6, 1.4) * size)
    h = max(0.5, rng.uniform(0.6, 1.4) * size)
    return [round(rng.uniform(0, 600), 2), round(rng.uniform(0, 400), 2), round(w, 2), round(h, 2)]


def jitter(rng, b, amount):
    return [round(b[0] + rng.uniform(-amount, amount) * b[2], 2),
            round(b[1] + rng.uniform(-amount, amount) * b[3], 2),
            round(max(0.5, b[2] * rng.uniform(1 - amount, 1 + amount)), 2),
            round(max(0.5, b[3] * rng.uniform(1 - amount, 1 + amount)), 2)]


def make_case(name, seed, n_images, n_cats, many_on):
    rng = random.Random(seed)
    images = list(range(1, n_images + 1))
    cats = list(range(1, n_cats + 1))
    # Category n_cats + 1 has detections but no ground truth; category n_cats has no detections.
    eval_cats = cats + [n_cats + 1]
    gts, dts = [], []
    ann_id = 1
    scores = [0.9, 0.8, 0.75, 0.5, 0.5, 0.3]  # repeated values give ties
    for img in images:
        if img == 1:
            continue  # an image without annotations
        for _ in range(rng.randint(1, 6)):
            cat = rng.choice(cats)
            size = rng.choice([12, 25, 40, 70, 120, 200])
            b = box(rng, size)
            crowd = 1 if rng.random() < 0.12 else 0
            # COCO's area is the annotation's own field (a polygon area), not w*h.
            area = round(b[2] * b[3] * rng.uniform(0.6, 1.0), 3)
            gts.append({"id": ann_id, "image_id": img, "category_id": cat, "bbox": b,
                        "area": area, "iscrowd": crowd})
            ann_id += 1
    for img in images:
        if img == 2:
            continue  # an image without detections
        for g in [g for g in gts if g["image_id"] == img]:
            if g["category_id"] == n_cats:
                continue
            for _ in range(rng.randint(0, 3)):
                dts.append({"image_id": img, "category_id": g["category_id"],
                            "bbox": jitter(rng, g["bbox"], rng.choice([0.02, 0.1, 0.25])),
                            "score": rng.choice(scores + [round(rng.random(), 3)])})
        for _ in range(rng.randint(0, 4)):
            dts.append({"image_id": img, "category_id": rng.choice([c for c in eval_cats if c != n_cats]),
                        "bbox": box(rng, rng.choice([10, 30, 60, 150])),
                        "score": rng.choice(scores + [round(rng.random(), 3)])})
    # More than 100 detections on one image and category.
    many = [g for g in gts if g["image_id"] == many_on and g["category_id"] != n_cats]
    cat = many[0]["category_id"] if many else 1
    base = many[0]["bbox"] if many else [50, 50, 60, 60]
    for _ in range(130):
        dts.append({"image_id": many_on, "category_id": cat,
                    "bbox": jitter(rng, base, 0.3),
                    "score": rng.choice(scores + [round(rng.random(), 2)])})
    rng.shuffle(dts)
    stats, per_cat, recall, precision = evaluate(images, eval_cats, gts, dts, images, eval_cats)
    return {"name": name, "imageIds": images, "categoryIds": eval_cats,
            "truth": gts, "detections": dts, "stats": stats, "perCategoryAP": per_cat,
            "recall": recall, "precisionAll100": precision}


def main():
    iou_thrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
    rec_thrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
    cases = [
        make_case("small", 1, 5, 3, 3),
        make_case("medium", 7, 12, 4, 5),
        make_case("larger", 42, 30, 5, 10),
        make_case("dense", 2024, 8, 2, 4),
    ]
    out = {"iouThresholds": iou_thrs.tolist(), "recallThresholds": rec_thrs.tolist(), "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coco.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    for c in cases:
        print(c["name"], len(c["truth"]), len(c["detections"]), c["stats"], c["perCategoryAP"])


if __name__ == "__main__":
    main()
