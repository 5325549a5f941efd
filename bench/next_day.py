"""Benchmark: the served model on the day after its data, against baselines fitted on all of it.

Two splits, run as two cycles in the order of their days: train_tr minus its last day → that
day (a first cycle: no champion), then train_tr → train_valid, whose champion is the first
cycle's served folder of the same seed (the gate judges it). Each runs the
pipeline's own defaults: the training-set job's split (``bench/training_set.py``, the Glue
transform on local Spark), ``train.py`` as SageMaker runs it, the gate. What the gate serves
(the new folder, or the champion it keeps) is served through ``shoprec.serving`` in process,
one request per prefix as the API answers it, on the next day with the data README's
protocol: next item over the whole catalogue of the training file (next-day items unknown
to it are dropped, sessions keep two or more), HR@20 / MRR@20. POP,
S-POP, SR, V-SKNN and V-SKNN with idf are fitted on every session of the training file and
scored on the same cases; so is the champion of the second cycle, which is what serves if
the gate keeps it: the measured worth of serving the fresher model (``FRESHNESS_MARGIN``).
Three seeds per split (mean ± sample std). JSON on stdout,
progress on stderr; skips when ``../shared/data`` is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from yoochoose import DATA, TRAIN_FILE, VALID_FILE, read_sessions

from shoprec import serving, tiers
from shoprec.baselines import BASELINES, Baselines
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import evaluate, next_item_cases, ranking_metrics
from shoprec.layout import TRAINING_SET_CHANNELS, TRAINING_SET_MANIFEST
from shoprec.training import read_sessions as read_channel

REPO = Path(__file__).resolve().parents[1]
GLUE_PYTHON = REPO / ".venvs" / "glue" / "bin" / "python"
SEEDS = (1, 2, 3)
METRICS = ("hr@20", "mrr@20")
K = 20
SPLITS = {  # name → (cuts of train_tr before the pipeline runs, the next day), in day order
    "train_tr minus its last day -> that day": (1, "next_day"),
    "train_tr -> train_valid": (0, "train_valid"),
}


def _progress(message: str) -> None:
    print(f"[bench next_day] {message}", file=sys.stderr, flush=True)


def run_step(args: Sequence[str], log: Path, **env: str) -> None:
    """A pipeline step in its own runtime; its output goes to ``log`` (shown if it fails)."""
    with log.open("w") as out:
        done = subprocess.run(
            [str(a) for a in args],
            env=os.environ | {"PYTHONPATH": str(REPO)} | env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if done.returncode != 0:
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"{args[1]} failed (exit {done.returncode}); log {log}")


def training_set(root: Path, cuts: int, source: Path = TRAIN_FILE, *options: object) -> Path:
    """The training-set job's channels of ``source`` (train_tr) minus its last ``cuts`` days;
    ``options``: bench/training_set.py's others."""
    channels = root / "training-set"
    run_step([GLUE_PYTHON, REPO / "bench" / "training_set.py", source, channels,
          "--cut-days", cuts, *options], root / "training-set.log")  # fmt: skip
    return channels


def train(channels: Path, root: Path, seed: int, champion: Path | None = None) -> Path:
    """train.py as SageMaker runs it: hyperparameters as arguments, channels as folders."""
    model_dir = root / f"seed-{seed}"
    version = f"bench-{root.name}-seed-{seed}"
    hp = TrainingHyperparameters(model_version=version, data_run="bench", seed=seed)
    env = {f"SM_CHANNEL_{name.upper()}": str(channels / name) for name in TRAINING_SET_CHANNELS}
    env |= {"SM_CHANNEL_LINEAGE": str(channels), "SM_MODEL_DIR": str(model_dir)}
    env |= {"SM_CHANNEL_CHAMPION": str(champion)} if champion else {}
    train_py = REPO / "sagemaker" / "training" / "train.py"
    run_step([sys.executable, train_py, *hp.to_argv()], root / f"train-{seed}.log", **env)
    return model_dir


def training_window(channels: Path) -> tuple[list[list[str]], list[float]]:
    """The sessions the served model learned from (train, then latest) and their end times."""
    trained, trained_ends = read_channel(channels / "train")
    latest, latest_ends = read_channel(channels / "latest")
    return trained + latest, trained_ends + latest_ends


class NextDay:
    """The next day's cases in the index space of the training file's items."""

    def __init__(self, window: list[list[str]], next_day: list[list[str]]):
        self.item_ids = ["<pad>", *sorted({i for s in window for i in s})]
        self.index = {item: n for n, item in enumerate(self.item_ids)}
        known = ([self.index[i] for i in s if i in self.index] for s in next_day)
        self.sessions = [s for s in known if len(s) >= 2]

    def served(self, recommender: serving.Recommender) -> dict[str, float]:
        """The served folder, one request per prefix, as the API answers it."""
        prefixes, targets = next_item_cases(self.sessions)
        top = np.zeros((len(prefixes), K), dtype=np.int64)  # 0: an id outside the file
        for row, prefix in enumerate(prefixes):
            answer = recommender.recommend([self.item_ids[i] for i in prefix], K).items
            ids = [self.index.get(item, 0) for item, _ in answer]
            top[row, : len(ids)] = ids
        return ranking_metrics(top, targets) | {"predictions": len(targets)}


def _scores(scores: dict[str, float]) -> dict[str, float]:
    return {m: scores[m.split("@")[0]] for m in METRICS}


def _split(
    name: str, cuts: int, next_day_source: str, scratch: Path, champions: dict[int, Path]
) -> tuple[dict, dict[int, Path]]:
    """One cycle per seed on the split; returns its summary and the folder each seed serves."""
    root = scratch / f"cut-{cuts}"
    root.mkdir()
    started = time.perf_counter()
    channels = training_set(root, cuts)
    job = {"seconds": round(time.perf_counter() - started, 1)}
    job |= json.loads((channels / TRAINING_SET_MANIFEST).read_text())
    window, ends = training_window(channels)
    if next_day_source == "train_valid":
        next_day = read_sessions(VALID_FILE)[0]
    else:
        next_day = read_channel(channels / "next_day")[0]
    day = NextDay(window, next_day)
    _progress(f"{name}: {len(window)} training sessions, {len(day.sessions)} next-day sessions")

    started = time.perf_counter()
    indexed = [[day.index[i] for i in s] for s in window]
    baselines = Baselines(indexed, len(day.item_ids), ends)
    results = {
        b: evaluate(lambda p, k, b=b: baselines.recommend(b, p, k), day.sessions, baselines.clicks)
        for b in BASELINES
    }
    baseline_seconds = round(time.perf_counter() - started, 1)

    runs, serving_folders = [], {}
    for seed in SEEDS:
        _progress(f"{name}: training seed {seed} ({len(runs) + 1}/{len(SEEDS)})")
        started = time.perf_counter()
        champion = champions.get(seed)
        model_dir = train(channels, root, seed, champion)
        seconds = round(time.perf_counter() - started, 1)
        manifest = json.loads((model_dir / "manifest.json").read_text())
        gate = manifest["gate"]
        serving_folders[seed] = model_dir if gate["decision"] == "promote" else champion
        served = serving.load(serving_folders[seed])
        scores = day.served(served)
        runs.append(
            {"seed": seed, "tier": served.tier, "decision": gate["decision"]}
            | {"gate": gate["reason"], "gate_scores": gate["scores"]}
            | _scores(scores)
            | {"predictions": scores["predictions"], "train_py_seconds": seconds}
            | {"phases_seconds": manifest["train_seconds"]}
        )
        if champion:  # what serves tomorrow if the gate keeps the champion
            runs[-1]["champion_kept"] = _scores(day.served(serving.load(champion)))
        _progress(f"{name}: seed {seed}: {runs[-1]}")
    return _summary(name, job, results, runs, baseline_seconds), serving_folders


def mean_std(runs: list[dict]) -> tuple[dict[str, float], dict[str, float]]:
    mean = {m: float(np.mean([r[m] for r in runs])) for m in METRICS}
    std = {m: float(np.std([r[m] for r in runs], ddof=1)) for m in METRICS}
    return mean, std


def rounded(mean: dict[str, float], std: dict[str, float]) -> dict[str, dict[str, float]]:
    return {m: {"mean": round(mean[m], 4), "std": round(std[m], 4)} for m in METRICS}


def _summary(name: str, job: dict, baselines: dict, runs: list[dict], seconds: float) -> dict:
    """Means and sample stds over the seeds; comparisons on unrounded figures."""
    mean, std = mean_std(runs)
    floor = max(tiers.VSKNN_VARIANTS, key=lambda b: baselines[b]["mrr@20"])
    summary = {
        "split": name,
        "training_set_job": job,
        "predictions": runs[0]["predictions"],
        "baselines": {
            b: {m: round(v[m], 4) for m in METRICS} | {"predictions": v["predictions"]}
            for b, v in baselines.items()
        },
        "baseline_seconds": seconds,
        "served": rounded(mean, std),
        "runs": [r | {m: round(r[m], 4) for m in METRICS} for r in runs],
        "better_vsknn": floor,
        "ratio_to_better_vsknn": {m: round(mean[m] / baselines[floor][m], 3) for m in METRICS},
        "beats_better_vsknn_by_more_than_std": {
            m: mean[m] - baselines[floor][m] > std[m] for m in METRICS
        },
    }
    kept = [r["champion_kept"] for r in runs if "champion_kept" in r]
    if kept:  # the second cycle: the worth of serving the fresher model, on the next day
        kept_mean, kept_std = mean_std(kept)
        summary["champion_kept"] = rounded(kept_mean, kept_std)
        summary["served_over_champion_kept"] = {
            m: round(mean[m] / kept_mean[m], 3) for m in METRICS
        }
    return summary


def main() -> None:
    if not TRAIN_FILE.exists():
        print(json.dumps({"skipped": f"{DATA} is absent (the data is not redistributed)"}))
        return
    splits, champions = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (cuts, source) in SPLITS.items():
            summary, champions = _split(name, cuts, source, Path(scratch), champions)
            splits.append(summary)
    hp = TrainingHyperparameters(model_version="-", data_run="-").to_hyperparameters()
    json.dump({"next_day": {"hyperparameters": hp, "splits": splits}}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
