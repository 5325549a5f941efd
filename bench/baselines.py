"""Benchmark: the protocol's baselines on YooChoose train_tr → train_valid, JSON on stdout.

HR@20 / MRR@20 over the whole catalogue with the reference figures of the data README beside
them, and the seconds each baseline took (fit once, then every prefix). Skips cleanly when
``../shared/data`` is absent (a user's fresh clone).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from shoprec.baselines import BASELINES, Baselines
from shoprec.evaluation import evaluate
from shoprec.sources import read_yoochoose

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "yoochoose_rsc15_100k"
REFERENCE = {
    "pop": (0.090, 0.018),
    "spop": (0.397, 0.269),
    "sr": (0.568, 0.317),
    "vsknn": (0.636, 0.334),
}


def sessions(path: Path) -> tuple[dict[str, list[str]], dict[str, float]]:
    clicks: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for session, item, seconds in read_yoochoose(path):
        clicks[session].append((seconds, item))
    ordered = {s: [i for _, i in sorted(c, key=lambda pair: pair[0])] for s, c in clicks.items()}
    return ordered, {s: max(t for t, _ in c) for s, c in clicks.items()}


def main() -> None:
    train_file = DATA / "yoochoose-clicks-100k_train_tr.txt"
    if not train_file.exists():
        print(json.dumps({"skipped": f"{DATA} is absent (the data is not redistributed)"}))
        return
    train, ends = sessions(train_file)
    valid, _ = sessions(DATA / "yoochoose-clicks-100k_train_valid.txt")
    index = {item: n + 1 for n, item in enumerate(sorted({i for s in train.values() for i in s}))}
    train_ids = [[index[i] for i in s] for s in train.values()]
    valid_ids = [
        k for k in ([index[i] for i in s if i in index] for s in valid.values()) if len(k) >= 2
    ]
    started = time.perf_counter()
    baselines = Baselines(train_ids, len(index) + 1, list(ends.values()))
    results = {"fit_seconds": round(time.perf_counter() - started, 2), "baselines": {}}
    for name in BASELINES:
        started = time.perf_counter()
        metrics = evaluate(
            lambda p, k, n=name: baselines.recommend(n, p, k), valid_ids, baselines.clicks
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
