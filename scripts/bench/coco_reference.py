#!/usr/bin/env python3
"""Times pycocotools' COCOeval (iouType "bbox", default params) on a ground-truth file and a
results file, for `make bench` to set beside Assay's own numbers.

    python3 scripts/bench/coco_reference.py GT.json PRED.json

Prints one JSON object: load_seconds (COCO(gt) + loadRes), eval_seconds (evaluate +
accumulate + summarize), stats (the 12 numbers, repr precision) and the pycocotools version.
"""
import contextlib
import io
import json
import sys
import time

from importlib.metadata import version
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main():
    gt_path, pred_path = sys.argv[1], sys.argv[2]
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        gt = COCO(gt_path)
        dt = gt.loadRes(pred_path)
        t1 = time.perf_counter()
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        t2 = time.perf_counter()
    print(json.dumps({
        "load_seconds": t1 - t0,
        "eval_seconds": t2 - t1,
        "stats": [float(x) for x in ev.stats],
        "pycocotools": version("pycocotools"),
    }))


if __name__ == "__main__":
    main()
