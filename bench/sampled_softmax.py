"""Benchmark: the quality cost of the sampled softmax on the real sample (issue 13).

YooChoose train_tr → train_valid with ``bench/next_day.py``'s protocol and functions: the
training-set job's channels of train_tr (its window: the training sessions and the latest
day), the next day's cases in the index space of the window's items, HR@20 / MRR@20 over the
whole catalogue, V-SKNN (and V-SKNN idf) fitted on the window in the same run. The model is
trained on the window with the pipeline's hyperparameters twice per seed: a softmax over the
whole catalogue (what the sample's 2.9k items get by default) and the sampled softmax forced
on (``full_softmax_items`` 0, ``sampled_negatives`` as given). ``--members``: fewer members
than the pipeline's 2 to fit a loaded machine (each member is trained and scored the same
way; the served mean of two is better than one). JSON on stdout, progress on stderr.

    PYTHONPATH=. .venvs/ml/bin/python bench/sampled_softmax.py [--seeds 1 2] [--members 1]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from next_day import METRICS, NextDay, training_set
from yoochoose import DATA, TRAIN_FILE, VALID_FILE, read_sessions

from shoprec.baselines import Baselines
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import evaluate
from shoprec.model import build_ensemble
from shoprec.tiers import VSKNN_VARIANTS
from shoprec.training import build_members, ensemble_recommender, examples, fit
from shoprec.training import read_sessions as read_channel


def _progress(message: str) -> None:
    print(f"[bench sampled_softmax] {message}", file=sys.stderr, flush=True)


def _trained(hp: TrainingHyperparameters, window: list, day: NextDay, baselines) -> dict:
    started = time.perf_counter()
    members = build_members(hp, len(day.item_ids), None)
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
        curves = fit(members, examples(window, hp.max_length), hp)
    model = build_ensemble(members)
    recommend = ensemble_recommender(model, hp.max_length, baselines.popularity_order)
    scores = evaluate(recommend, day.sessions, baselines.clicks)
    return {m: round(scores[m], 4) for m in METRICS} | {
        "seconds": round(time.perf_counter() - started, 1),
        "epoch_seconds": curves["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--members", type=int, default=1)
    parser.add_argument("--negatives", type=int, default=TrainingHyperparameters.sampled_negatives)
    args = parser.parse_args()
    if not TRAIN_FILE.exists():
        print(json.dumps({"skipped": f"{DATA} is absent (the data is not redistributed)"}))
        return
    with tempfile.TemporaryDirectory() as scratch:
        channels = training_set(Path(scratch), 0)
        trained, trained_ends = read_channel(channels / "train")
        latest, latest_ends = read_channel(channels / "latest")
    day = NextDay(trained + latest, read_sessions(VALID_FILE)[0])
    window = [[day.index[i] for i in s] for s in trained + latest]
    baselines = Baselines(window, len(day.item_ids), trained_ends + latest_ends)
    floors = {
        b: evaluate(lambda p, k, b=b: baselines.recommend(b, p, k), day.sessions, baselines.clicks)
        for b in VSKNN_VARIANTS
    }
    base = TrainingHyperparameters(model_version="-", data_run="-", members=args.members)
    losses = {
        "full": base,
        "sampled": dataclasses.replace(
            base, full_softmax_items=0, sampled_negatives=args.negatives
        ),
    }
    runs = []
    for seed in args.seeds:
        for name, hp in losses.items():
            _progress(f"seed {seed}, {name} softmax")
            result = _trained(dataclasses.replace(hp, seed=seed), window, day, baselines)
            runs.append({"seed": seed, "loss": name} | result)
            _progress(json.dumps(runs[-1]))
    summary = {}
    for name in losses:
        for m in METRICS:
            values = [r[m] for r in runs if r["loss"] == name]
            summary.setdefault(name, {})[m] = {
                "mean": round(float(np.mean(values)), 4),
                "std": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else None,
            }
    result = {
        "split": "train_tr -> train_valid",
        "catalogue": len(day.item_ids) - 1,
        "predictions": floors[VSKNN_VARIANTS[0]]["predictions"],
        "members": args.members,
        "epochs": base.epochs,
        "sampled_negatives": args.negatives,
        "baselines": {b: {m: round(v[m], 4) for m in METRICS} for b, v in floors.items()},
        "by_loss": summary,
        "sampled_over_full": {
            m: round(summary["sampled"][m]["mean"] / summary["full"][m]["mean"], 3) for m in METRICS
        },
        "runs": runs,
    }
    json.dump({"sampled_softmax": result}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
