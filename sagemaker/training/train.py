"""SageMaker script-mode training of the session model.

Hyperparameters arrive as ``--name value`` (``shoprec.contracts.TrainingHyperparameters``);
paths come from the ``SM_*`` variables, with local defaults so ``python train.py`` also runs
on a laptop. Channels: ``train``, ``validation``, ``vocabulary`` (the training set),
``lineage`` (its manifest) and, when a model serves, ``champion`` (its folder): the run
warm-starts from it and the gate compares against it on this run's validation data.

Writes to the model dir: the SavedModel (``saved_model/1/``), the NumPy serving artifacts
(the model's weights and the V-SKNN floor's session index), the vocabulary, ``metrics.json``,
``report.html`` and ``manifest.json`` (metrics, gate decision: which tier the folder serves,
lineage).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from shoprec import logs, registry, report
from shoprec.baselines import BASELINES, Baselines
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import evaluate
from shoprec.knn import SessionIndex
from shoprec.layout import (
    KNN_FILE,
    MANIFEST_FILE,
    METRICS_FILE,
    REPORT_FILE,
    TRAINING_SET_MANIFEST,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
)
from shoprec.lineage import CODE_VERSION_FILE, code_version
from shoprec.model import (
    build_ensemble,
    build_member,
    grown_vocabulary,
    left_pad,
    serving_weights,
    warm_start,
)
from shoprec.ranking import top_k
from shoprec.serving import SessionRecommender

POPULAR_ITEMS_KEPT = 100


def _channel(name: str) -> Path:
    return Path(os.environ.get(f"SM_CHANNEL_{name.upper()}", f"data/{name}"))


def _sessions(directory: Path, index: dict[str, int]) -> tuple[list[list[int]], np.ndarray]:
    """Sessions as item indices, and each session's end time (seconds; recency for V-SKNN)."""
    table = pq.read_table(directory)
    sessions = [[index[i] for i in items] for items in table.column("items").to_pylist()]
    ends = table.column("end_time").cast("int64").to_numpy() / 1e6  # microseconds → seconds
    return sessions, ends


def _examples(
    sessions: list[list[int]], max_length: int, short_contexts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each session read forwards and backwards; for every next item, its whole prefix and
    the last ``short_contexts`` shorter contexts before it. The backward reading teaches
    which items go together whatever their order, the short contexts what follows an item
    wherever it sits (README, "Model quality")."""
    readings = [*sessions, *(s[::-1] for s in sessions)]
    pairs = [
        (s[start:t], s[t])
        for s in readings
        for t in range(1, len(s))
        for start in sorted({0, *range(max(0, t - short_contexts), t)})
    ]
    x = left_pad([context for context, _ in pairs], max_length)
    return x, np.asarray([target for _, target in pairs], dtype=np.int32)


def _champion() -> SessionRecommender | None:
    folder = _channel("champion")
    return SessionRecommender.load(folder) if (folder / WEIGHTS_FILE).exists() else None


def _code_version() -> str:
    """The git commit of this code: written beside train.py by the deployment's bundle, else
    asked of git (a checkout)."""
    written = Path(__file__).with_name(CODE_VERSION_FILE)
    return written.read_text().strip() if written.exists() else code_version()


def _champion_recommender(champion: SessionRecommender, baselines: Baselines, batch: int = 256):
    """The champion on this run's index space: its vocabulary is a prefix of this run's, so
    indices agree; items it has never seen are left out of its prefixes and never proposed."""
    known = len(champion.item_ids)

    def recommend(prefixes: list, k: int) -> np.ndarray:
        kept = [[i for i in p if i < known][-champion.max_length :] for p in prefixes]
        scores = np.full((len(prefixes), len(baselines.clicks)), -np.inf, dtype=np.float32)
        for start in range(0, len(kept), batch):
            rows = left_pad(kept[start : start + batch], champion.max_length)
            scores[start : start + batch, :known] = champion.scorer.scores(rows)
        return top_k(scores, baselines.popularity_order, k)

    return recommend


def main(argv: list[str]) -> dict[str, object]:
    import keras
    import tensorflow as tf

    hp = TrainingHyperparameters.from_argv(argv)
    logger = logs.configure("train", hp.model_version)
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "model"))

    vocabulary = pq.read_table(_channel("vocabulary")).sort_by("item_index")
    current = ["<pad>"] + [str(i) for i in vocabulary.column("item_id").to_pylist()]
    champion = _champion()
    item_ids = grown_vocabulary(champion.item_ids, current) if champion else current
    index = {item: i for i, item in enumerate(item_ids)}
    train, train_ends = _sessions(_channel("train"), index)
    validation, _ = _sessions(_channel("validation"), index)
    # Members alternate two readings of the same sessions, for diversity: even members also
    # learn from short contexts (the stronger HR@20), odd ones from whole prefixes only (MRR@20).
    readings = (hp.short_contexts, 0)[: hp.members]  # built only for the members there are
    views = [_examples(train, hp.max_length, contexts) for contexts in readings]
    baselines = Baselines(train, len(item_ids), train_ends)
    logs.log(
        logger,
        "data loaded",
        items=len(item_ids) - 1,
        new_items=len(item_ids) - len(champion.item_ids) if champion else len(item_ids) - 1,
        warm_start_from=champion.version if champion else None,
        train_sessions=len(train),
        validation_sessions=len(validation),
        examples=[len(y) for _, y in views],
    )

    members = []
    for number in range(hp.members):
        keras.utils.set_random_seed(hp.seed + 1000 * number)
        member = build_member(len(item_ids), hp.embedding_dim, hp.max_length, hp.dropout)
        if champion and number < len(champion.scorer.members):
            warm_start(member, number, champion.scorer.weights)
        member.compile(
            optimizer=keras.optimizers.Adam(hp.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        members.append(member)
    model = build_ensemble(members)

    def recommend(prefixes: list, k: int) -> np.ndarray:
        logits = model.predict_on_batch(left_pad(prefixes, hp.max_length))
        return top_k(logits, baselines.popularity_order, k)

    curves: dict[str, list[float]] = {"loss": [], "hr@20": [], "mrr@20": [], "seconds": []}
    for epoch in range(1, hp.epochs + 1):
        started = time.perf_counter()
        losses = [
            m.fit(*views[n % 2], batch_size=hp.batch_size, epochs=1, shuffle=True, verbose=0)
            for n, m in enumerate(members)
        ]
        curves["seconds"].append(round(time.perf_counter() - started, 2))
        curves["loss"].append(float(np.mean([h.history["loss"][0] for h in losses])))
        validated = evaluate(recommend, validation, baselines.clicks)
        for name in ("hr@20", "mrr@20"):
            curves[name].append(validated[name])
        logs.log(logger, "epoch", epoch=epoch, **{k: v[-1] for k, v in curves.items()})

    started = time.perf_counter()
    metrics = {"model": evaluate(recommend, validation, baselines.clicks)}
    for name in BASELINES:
        metrics[name] = evaluate(
            lambda p, k, n=name: baselines.recommend(n, p, k), validation, baselines.clicks
        )
    if champion and registry.served_tier(champion.manifest) == registry.MODEL_TIER:
        metrics["champion"] = evaluate(
            _champion_recommender(champion, baselines),
            validation,
            baselines.clicks,
        )
    evaluation_seconds = round(time.perf_counter() - started, 1)
    gate = registry.gate(metrics, champion.version if champion else None)
    logs.log(logger, "evaluated", metrics=metrics, gate=gate)

    model_dir.mkdir(parents=True, exist_ok=True)
    model.export(str(model_dir / "saved_model" / "1"), format="tf_saved_model", verbose=False)
    np.savez(model_dir / WEIGHTS_FILE, **serving_weights(members))
    SessionIndex.build(train, train_ends, len(item_ids)).save(model_dir / KNN_FILE)
    (model_dir / VOCABULARY_FILE).write_text(json.dumps(item_ids))
    (model_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    lineage_file = _channel("lineage") / TRAINING_SET_MANIFEST
    popular = [item_ids[i] for i in baselines.popularity_order[:POPULAR_ITEMS_KEPT]]
    manifest: dict[str, Any] = {
        "model_version": hp.model_version,
        "data_run": hp.data_run,
        "hyperparameters": hp.to_hyperparameters(),
        "metrics": metrics,
        "gate": gate,
        "learning_curves": curves,
        "lineage": {
            "data_run": hp.data_run,
            "training_set": json.loads(lineage_file.read_text()) if lineage_file.exists() else None,
            "code_version": _code_version(),
            "seed": hp.seed,
            "warm_start_from": champion.version if champion else None,
            "framework": {"tensorflow": tf.__version__, "keras": keras.__version__},
        },
        "train_seconds": round(sum(curves["seconds"]), 2),
        "evaluation_seconds": evaluation_seconds,
        "examples": [int(len(y)) for _, y in views],  # per epoch: even, odd members
        "catalogue_size": len(item_ids) - 1,
        "popular_items": popular,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    (model_dir / REPORT_FILE).write_text(report.render(manifest))
    sample = [item_ids[i] for i in validation[0][:3]] if validation else popular[:3]
    summary = {"model_version": hp.model_version, "metrics": metrics, "gate": gate}
    summary["sample_session"] = sample  # a real session prefix, for the demo's sample request
    print(json.dumps({"train": summary}))
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
