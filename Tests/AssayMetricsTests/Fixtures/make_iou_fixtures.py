#!/usr/bin/env python3
"""Writes iou.json: box IoU matrices computed by pycocotools' maskUtils.iou.

Run from this folder with pycocotools installed (pip install pycocotools):
    python3 make_iou_fixtures.py
"""
import json
import random

import numpy as np
import pycocotools.mask as mask_utils

random.seed(7)


def case(name, detections, truth, crowd):
    d = np.array(detections, dtype=np.float64).reshape(-1, 4)
    g = np.array(truth, dtype=np.float64).reshape(-1, 4)
    iou = mask_utils.iou(d, g, [int(c) for c in crowd]) if len(detections) and len(truth) else []
    return {"name": name, "detections": detections, "truth": truth, "crowd": [bool(c) for c in crowd],
            "iou": [[float(v) for v in row] for row in np.asarray(iou).reshape(len(detections), len(truth))]}


cases = [
    case("overlap and crowd", [[0, 0, 10, 10]], [[5, 5, 10, 10], [0, 0, 5, 5]], [0, 1]),
    case("touching edges and disjoint", [[0, 0, 10, 10], [20, 20, 1, 1]], [[10, 0, 5, 5], [0, 10, 3, 3], [30, 30, 2, 2]], [0, 0, 0]),
    case("identical and contained", [[1.5, 2.25, 3.75, 4.125], [2, 3, 1, 1]], [[1.5, 2.25, 3.75, 4.125]], [0]),
    case("zero-area boxes", [[5, 5, 0, 10], [1, 1, 2, 2]], [[5, 5, 10, 0], [0, 0, 4, 4]], [0, 1]),
]
detections = [[round(random.uniform(0, 600), 3), round(random.uniform(0, 400), 3),
               round(random.uniform(1, 200), 3), round(random.uniform(1, 200), 3)] for _ in range(60)]
truth = [[round(random.uniform(0, 600), 3), round(random.uniform(0, 400), 3),
          round(random.uniform(1, 200), 3), round(random.uniform(1, 200), 3)] for _ in range(25)]
cases.append(case("random 60 x 25 with crowds", detections, truth, [random.random() < 0.2 for _ in truth]))

with open("iou.json", "w") as f:
    json.dump({"pycocotools": "maskUtils.iou", "cases": cases}, f, indent=1)
