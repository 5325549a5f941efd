"""Benchmark: the protocol's baselines on YooChoose train_tr → train_valid, JSON on stdout.

HR@20 / MRR@20 over the whole catalogue with the reference figures of the data README beside
them, and the seconds each baseline took (fit once, then every prefix). Skips cleanly when
``../shared/data`` is absent (a user's fresh clone).
"""

from __future__ import annotations

import json
import sys
import time

from yoochoose import load_split

from shoprec.baselines import BASELINES, Baselines
from shoprec.evaluation import evaluate

REFERENCE = {
    "pop": (0.090, 0.018),
    "spop": (0.397, 0.269),
    "sr": (0.568, 0.317),
    "vsknn": (0.636, 0.334),
    "vsknn_idf": (0.641, 0.337),
}


def main() -> None:
    split = load_split()
    if split is None:
        return
    started = time.perf_counter()
    baselines = Baselines(split.train, len(split.item_ids), split.train_ends)
    results = {"fit_seconds": round(time.perf_counter() - started, 2), "baselines": {}}
    for name in BASELINES:
        started = time.perf_counter()
        metrics = evaluate(
            lambda p, k, n=name: baselines.recommend(n, p, k), split.validation, baselines.clicks
        )
        hr, mrr = REFERENCE[name]
        results["baselines"][name] = metrics | {
            "seconds": round(time.perf_counter() - started, 2),
            "reference_hr@20": hr,
            "reference_mrr@20": mrr,
            "within_0.01": abs(metrics["hr@20"] - hr) <= 0.01
            and abs(metrics["mrr@20"] - mrr) <= 0.01,
        }
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
