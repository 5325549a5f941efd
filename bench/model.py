"""Benchmark: the session model against the baselines on YooChoose train_tr → train_valid.

Trains with ``sagemaker/training/train.py`` exactly as SageMaker runs it (script mode, default
hyperparameters, channels on disk) for three seeds, and reports, from this one run: every
baseline and the model (mean ± sample std over the seeds) on HR@20 / MRR@20, whether the
model beats V-SKNN on both by more than its std, training seconds per epoch and per 100k
training events, and per-request latency (p50 / p99), cold start and size of the NumPy
serving artifact against the TensorFlow SavedModel. JSON on stdout; progress on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from yoochoose import Split, load_split

from shoprec.baselines import BASELINES
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import next_item_cases
from shoprec.model import left_pad

REPO = Path(__file__).resolve().parents[1]
SEEDS = (1, 2, 3)
LATENCY_REQUESTS = 1000


def _progress(message: str) -> None:
    print(f"[bench model] {message}", file=sys.stderr, flush=True)


def _write_channels(split: Split, root: Path) -> dict[str, str]:
    def sessions(rows: list[list[int]], ends: list[float]) -> pa.Table:
        microseconds = pa.array((np.asarray(ends) * 1e6).astype(np.int64))
        items = [[split.item_ids[i] for i in s] for s in rows]
        return pa.table({"items": items, "end_time": microseconds.cast(pa.timestamp("us"))})

    counts = np.bincount(np.concatenate(split.train), minlength=len(split.item_ids))
    tables = {
        "train": sessions(split.train, split.train_ends),  # V-SKNN's recency needs end times
        "validation": sessions(split.validation, [0.0] * len(split.validation)),
        "vocabulary": pa.table(
            {
                "item_id": split.item_ids[1:],
                "item_index": range(1, len(split.item_ids)),
                "clicks": counts[1:].tolist(),
            }
        ),
    }
    env = {}
    for name, table in tables.items():
        (root / name).mkdir(parents=True)
        pq.write_table(table, root / name / "part-0.parquet")
        env[f"SM_CHANNEL_{name.upper()}"] = str(root / name)
    return env


def _train(channels: dict[str, str], root: Path, seed: int) -> dict:
    model_dir = root / f"seed-{seed}"
    hp = TrainingHyperparameters(model_version=f"bench-seed-{seed}", data_run="bench", seed=seed)
    env = os.environ | channels | {"SM_MODEL_DIR": str(model_dir), "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, str(REPO / "sagemaker" / "training" / "train.py"), *hp.to_argv()],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return json.loads((model_dir / "manifest.json").read_text()) | {"model_dir": str(model_dir)}


def _mean_std(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(float(np.mean(values)), 4),
        "std": round(float(np.std(values, ddof=1)), 4),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def _cold_start(code: str) -> float:
    """Seconds from a new interpreter's first import to its first answer (as a Lambda's)."""
    timed = f"import time; t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    env = os.environ | {"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", timed], env=env, capture_output=True, text=True, check=True
    )
    return round(float(done.stdout.strip().splitlines()[-1]), 2)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _serving(model_dir: Path, split: Split) -> dict:
    """The same validation prefixes, one request at a time, through both artifacts."""
    import tensorflow as tf

    from shoprec.layout import MODEL_FILES
    from shoprec.serving import SessionRecommender

    served = SessionRecommender.load(model_dir)
    exported = tf.saved_model.load(str(model_dir / "saved_model" / "1"))
    prefixes, _ = next_item_cases(split.validation)
    picks = np.random.default_rng(0).choice(len(prefixes), LATENCY_REQUESTS, replace=False)
    requests = [[split.item_ids[i] for i in prefixes[p]] for p in picks]
    numpy_seconds, tf_seconds = [], []
    for items in requests:
        started = time.perf_counter()
        served.recommend(items, 20)
        numpy_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        known = [served.index[i] for i in items]
        logits = exported.serve(tf.constant(left_pad([known], served.max_length))).numpy()[0]
        np.argpartition(-logits[1:], 19)[:20]
        tf_seconds.append(time.perf_counter() - started)
    first = json.dumps(requests[0])
    numpy_start = _cold_start(
        "from pathlib import Path\nfrom shoprec.serving import SessionRecommender\n"
        f"SessionRecommender.load(Path({str(model_dir)!r})).recommend({first}, 20)"
    )
    tf_start = _cold_start(
        "import tensorflow as tf\nfrom shoprec.model import left_pad\n"
        f"m = tf.saved_model.load({str(model_dir / 'saved_model' / '1')!r})\n"
        f"m.serve(tf.constant(left_pad([[1, 2]], {served.max_length})))"
    )
    return {
        "requests": LATENCY_REQUESTS,
        "numpy": _percentiles(numpy_seconds)
        | {
            "cold_start_seconds": numpy_start,
            "artifact_bytes": sum((model_dir / name).stat().st_size for name in MODEL_FILES),
        },
        "tensorflow": _percentiles(tf_seconds)
        | {
            "cold_start_seconds": tf_start,
            "artifact_bytes": _size(model_dir / "saved_model"),
            "library_bytes": _size(Path(tf.__file__).parent),
        },
    }


def main() -> None:
    split = load_split()
    if split is None:
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        channels = _write_channels(split, root / "input")
        runs = []
        for seed in SEEDS:
            _progress(f"training seed {seed} ({len(runs) + 1}/{len(SEEDS)})")
            runs.append(_train(channels, root, seed))
            _progress(f"seed {seed}: {runs[-1]['metrics']['model']}")
        _progress("serving latency and cold start")
        serving = _serving(Path(runs[-1]["model_dir"]), split)
    first = runs[0]["metrics"]
    model = {m: _mean_std([r["metrics"]["model"][m] for r in runs]) for m in ("hr@20", "mrr@20")}
    epoch_seconds = float(np.mean([s for r in runs for s in r["learning_curves"]["seconds"]]))
    results = {
        "split": "yoochoose_rsc15_100k train_tr -> train_valid",
        "predictions": first["model"]["predictions"],
        "hyperparameters": runs[0]["hyperparameters"] | {"seed": list(SEEDS)},
        "baselines": {
            n: {m: round(first[n][m], 4) for m in ("hr@20", "mrr@20")} for n in BASELINES
        },
        "model": model,
        "model_runs": [
            {
                "seed": s,
                "hr@20": round(r["metrics"]["model"]["hr@20"], 4),
                "mrr@20": round(r["metrics"]["model"]["mrr@20"], 4),
            }
            for s, r in zip(SEEDS, runs, strict=True)
        ],
        "beats_vsknn_by_more_than_std": {
            m: model[m]["mean"] - first["vsknn"][m] > model[m]["std"] for m in model
        },
        "training": {
            "seconds_per_epoch": round(epoch_seconds, 1),
            "seconds_per_epoch_per_100k_events": round(epoch_seconds * 1e5 / split.clicks, 1),
            "training_events": split.clicks,
            "examples_per_epoch": runs[0]["examples"],
        },
        "serving": serving,
    }
    json.dump({"model": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
