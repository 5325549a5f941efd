"""SageMaker script-mode training of the session model.

Hyperparameters arrive as ``--name value`` (``shoprec.contracts.TrainingHyperparameters``);
paths come from the ``SM_*`` variables, with local defaults so ``python train.py`` also runs
on a laptop. Writes to the model dir: the SavedModel (``saved_model/1/``), the NumPy
serving artifact, the vocabulary and ``manifest.json`` (version, metrics, lineage).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from shoprec import logs
from shoprec.baselines import BASELINES, Baselines, top_k
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import evaluate
from shoprec.layout import MANIFEST_FILE, VOCABULARY_FILE, WEIGHTS_FILE
from shoprec.model import build_model, left_pad, serving_weights

POPULAR_ITEMS_KEPT = 100


def _channel(name: str) -> Path:
    return Path(os.environ.get(f"SM_CHANNEL_{name.upper()}", f"data/{name}"))


def _sessions(directory: Path, index: dict[str, int]) -> tuple[list[list[int]], np.ndarray]:
    """Sessions as item indices, and each session's end time (seconds; recency for V-SKNN)."""
    table = pq.read_table(directory)
    sessions = [[index[i] for i in items] for items in table.column("items").to_pylist()]
    ends = table.column("end_time").cast("int64").to_numpy() / 1e6  # microseconds → seconds
    return sessions, ends


def _examples(sessions: list[list[int]], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    prefixes = [s[:t] for s in sessions for t in range(1, len(s))]
    targets = [s[t] for s in sessions for t in range(1, len(s))]
    return left_pad(prefixes, max_length), np.asarray(targets, dtype=np.int32)


def main(argv: list[str]) -> dict[str, object]:
    import keras
    import tensorflow as tf

    hp = TrainingHyperparameters.from_argv(argv)
    logger = logs.configure("train", hp.model_version)
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "model"))
    keras.utils.set_random_seed(hp.seed)

    vocabulary = pq.read_table(_channel("vocabulary")).sort_by("item_index")
    item_ids = ["<pad>"] + [str(i) for i in vocabulary.column("item_id").to_pylist()]
    index = {item: i for i, item in enumerate(item_ids)}
    train, train_ends = _sessions(_channel("train"), index)
    validation, _ = _sessions(_channel("validation"), index)
    x, y = _examples(train, hp.max_length)
    logs.log(
        logger,
        "data loaded",
        items=len(item_ids) - 1,
        train_sessions=len(train),
        validation_sessions=len(validation),
        examples=len(y),
    )

    model = build_model(len(item_ids), hp.embedding_dim, hp.max_length)
    model.compile(
        optimizer=keras.optimizers.Adam(hp.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    started = time.perf_counter()
    history = model.fit(x, y, batch_size=hp.batch_size, epochs=hp.epochs, shuffle=True, verbose=2)
    seconds = time.perf_counter() - started

    def recommend(prefixes: list, k: int) -> np.ndarray:
        logits = model.predict_on_batch(left_pad(prefixes, hp.max_length))
        return top_k(logits, baselines.popularity_order, k)

    started = time.perf_counter()
    baselines = Baselines(train, len(item_ids), train_ends)
    metrics = {"model": evaluate(recommend, validation, baselines.clicks)}
    for name in BASELINES:
        metrics[name] = evaluate(
            lambda p, k, n=name: baselines.recommend(n, p, k), validation, baselines.clicks
        )
    evaluation_seconds = round(time.perf_counter() - started, 1)
    logs.log(logger, "evaluated", **metrics)

    model_dir.mkdir(parents=True, exist_ok=True)
    model.export(str(model_dir / "saved_model" / "1"), format="tf_saved_model", verbose=False)
    np.savez(model_dir / WEIGHTS_FILE, **serving_weights(model))
    (model_dir / VOCABULARY_FILE).write_text(json.dumps(item_ids))
    popular = [item_ids[i] for i in baselines.popularity_order[:POPULAR_ITEMS_KEPT]]
    manifest = {
        "model_version": hp.model_version,
        "data_run": hp.data_run,
        "hyperparameters": hp.to_hyperparameters(),
        "metrics": metrics,
        "loss": [float(v) for v in history.history["loss"]],
        "train_seconds": round(seconds, 2),
        "evaluation_seconds": evaluation_seconds,
        "examples": int(len(y)),
        "catalogue_size": len(item_ids) - 1,
        "popular_items": popular,
        "framework": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "code_version": os.environ.get("SHOPREC_CODE_VERSION", "unknown"),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    sample = [item_ids[i] for i in validation[0][:3]] if validation else popular[:3]
    print(
        json.dumps(
            {
                "train": {
                    "model_version": hp.model_version,
                    "metrics": metrics,
                    "sample_session": sample,
                }
            }
        )
    )
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
