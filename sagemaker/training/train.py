"""SageMaker script-mode training of the session model.

Hyperparameters arrive as ``--name value`` (``shoprec.contracts.TrainingHyperparameters``);
paths come from the ``SM_*`` variables, with local defaults so ``python train.py`` also runs
on a laptop. Channels: ``train``, ``validation``, ``latest``, ``vocabulary`` (the training
set), ``lineage`` (its manifest) and, when a model serves, ``champion`` (its folder): the gate
compares against it on this run's validation data, and with ``--warm_start true`` the members
start from its weights.

A cycle (``shoprec.training``): the members learn from ``train``; the gate compares them,
the champion and the V-SKNN variants on ``validation`` (the latest day, items known to
``train``: like with like); a model that is to serve is then trained again, same recipe and
starting weights, on ``train`` and ``latest`` (every session and item of the latest day), so
that it has seen every day up to the cycle. The V-SKNN floor's index covers the same sessions.

Writes to the model dir: the SavedModel (``saved_model/1/``), the NumPy serving artifacts
(model weights, V-SKNN index), the vocabulary, ``metrics.json``, ``report.html`` and
``manifest.json`` (metrics, gate decision, lineage).
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

from shoprec import logs, registry, report, tiers
from shoprec.baselines import BASELINES, Baselines
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import ending_after, evaluate
from shoprec.knn import SessionIndex
from shoprec.layout import (
    CATEGORIES_FILE,
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
    PADDING,
    WEIGHTS,
    build_ensemble,
    champion_rows,
    left_pad,
    serving_weights,
    weight_name,
    windowed_vocabulary,
)
from shoprec.ranking import popularity_order, top_k
from shoprec.serving import SessionRecommender
from shoprec.training import (
    build_members,
    can_warm_start,
    ensemble_recommender,
    examples,
    fit,
    read_sessions,
)

POPULAR_ITEMS_KEPT = 100


def _channel(name: str) -> Path:
    return Path(os.environ.get(f"SM_CHANNEL_{name.upper()}", f"data/{name}"))


def _sessions(name: str, index: dict[str, int]) -> tuple[list[list[int]], list[float]]:
    """A channel's sessions as item indices, and their end times."""
    sessions, ends = read_sessions(_channel(name))
    return [[index[i] for i in s] for s in sessions], ends


def _latest_items() -> list[str]:
    """Every item of the latest day; none from a training set built before that channel."""
    if not _channel("latest").exists():
        return []
    return sorted({i for s in read_sessions(_channel("latest"))[0] for i in s})


def _item_ids(champion: SessionRecommender | None) -> list[str]:
    """The window's items: the training set's vocabulary and the items first seen in the
    latest day, those the champion knows first in its order (``windowed_vocabulary``)."""
    vocabulary = pq.read_table(_channel("vocabulary")).sort_by("item_index")
    trained = [str(i) for i in vocabulary.column("item_id").to_pylist()]
    return windowed_vocabulary(
        champion.item_ids if champion else [PADDING], trained + _latest_items()
    )


def _categories(item_ids: list[str]) -> list[str | None]:
    """Each item's category from the staged product feed (null where the feed does not list
    it, and for every item of a training set built before the products channel)."""
    folder = _channel("products")
    if not any(folder.glob("*.parquet")):
        return [None] * len(item_ids)
    products = pq.read_table(folder, columns=["item_id", "category"]).to_pydict()
    category = dict(zip(map(str, products["item_id"]), products["category"], strict=True))
    return [category.get(item) for item in item_ids]


def _champion() -> tuple[str | None, SessionRecommender | None]:
    """The serving champion's version, and its deep model where this code can run it: a
    champion of an earlier architecture (other weight arrays) is neither warm-started from
    nor judged, but the gate still records that it was the champion."""
    folder = _channel("champion")
    if not (folder / MANIFEST_FILE).exists():
        return None, None
    version = json.loads((folder / MANIFEST_FILE).read_text())["model_version"]
    with np.load(folder / WEIGHTS_FILE) as weights:
        runnable = all(weight_name(0, name) in weights.files for name in WEIGHTS)
    return version, SessionRecommender.load(folder) if runnable else None


def _code_version() -> str:
    """The git commit of this code: written beside train.py by the deployment's bundle, else
    asked of git (a checkout)."""
    written = Path(__file__).with_name(CODE_VERSION_FILE)
    return written.read_text().strip() if written.exists() else code_version()


def _champion_recommender(
    champion: SessionRecommender, item_ids: list[str], baselines: Baselines, batch: int = 256
):
    """The champion on this run's index space: prefixes keep the items it knows, its scores
    land on this run's indices, and items it has never seen are never proposed."""
    rows = champion_rows(champion.item_ids, item_ids)
    known = rows >= 0

    def recommend(prefixes: list, k: int) -> np.ndarray:
        kept = [[rows[i] for i in p if rows[i] > 0][-champion.max_length :] for p in prefixes]
        scores = np.full((len(prefixes), len(item_ids)), -np.inf, dtype=np.float32)
        for start in range(0, len(kept), batch):
            rows_of_batch = left_pad(kept[start : start + batch], champion.max_length)
            scores[start : start + batch, known] = champion.scorer.scores(rows_of_batch)[
                :, rows[known]
            ]
        return top_k(scores, baselines.popularity_order, k)

    return recommend


def _judged(
    validation: list, ends: list[float], champion: SessionRecommender | None
) -> dict[str, Any]:
    """The validation sessions the gate judges on: those that end after the champion's data,
    which it has not trained on (a cycle that brings less than a day shares its validation
    day with the champion's training). All of them without a champion, or where none ends
    after its data (then the champion's score flatters it: said in the summary)."""
    until = registry.data_until(champion.manifest) if champion else None
    unseen = ending_after(validation, ends, until)
    sessions = unseen or validation
    summary = {"sessions": len(sessions), "of": len(validation), "after": until}
    if until and not unseen:
        summary["after"] = None
        summary["note"] = f"no validation session ends after the champion's data ({until})"
    return {"sessions": sessions, "summary": summary}


def _judge(
    recommend: Any,
    validation: list,
    baselines: Baselines,
    champion: SessionRecommender | None,
    item_ids: list[str],
) -> dict[str, dict[str, float]]:
    """The challenger, every baseline and a champion that serves its deep model, on the
    validation day."""
    metrics = {"model": evaluate(recommend, validation, baselines.clicks)}
    for name in BASELINES:
        metrics[name] = evaluate(
            lambda p, k, n=name: baselines.recommend(n, p, k), validation, baselines.clicks
        )
    if champion and registry.served_tier(champion.manifest) == tiers.MODEL:
        recommend_champion = _champion_recommender(champion, item_ids, baselines)
        metrics["champion"] = evaluate(recommend_champion, validation, baselines.clicks)
    return metrics


def main(argv: list[str]) -> dict[str, object]:
    import keras
    import tensorflow as tf

    hp = TrainingHyperparameters.from_argv(argv)
    logger = logs.configure("train", hp.model_version)
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "model"))

    champion_version, champion = _champion()
    item_ids = _item_ids(champion)
    index = {item: i for i, item in enumerate(item_ids)}
    before = set(champion.item_ids if champion else [PADDING])
    vocabulary_change = {
        "new_items": len(set(item_ids) - before),
        "aged_out": len(before - set(item_ids)),  # the champion's items outside the window
    }
    train, train_ends = _sessions("train", index)
    validation, validation_ends = _sessions("validation", index)
    latest, latest_ends = _sessions("latest", index) if _channel("latest").exists() else ([], [])
    data = examples(train, hp.max_length)
    baselines = Baselines(train, len(item_ids), train_ends)
    # the champion is always judged; started from only when asked (hp.warm_start) and when its
    # shapes fit (not a champion of another embedding size)
    wanted = hp.warm_start and champion
    warm = champion if wanted and can_warm_start(hp, champion.scorer.weights) else None
    logs.log(
        logger,
        "data loaded",
        items=len(item_ids) - 1,
        **vocabulary_change,
        champion=champion_version,
        warm_start_from=warm.version if warm else None,
        train_sessions=len(train),
        validation_sessions=len(validation),
        latest_sessions=len(latest),
        examples=len(data[1]),
    )

    starting_weights = (
        (warm.scorer.weights, champion_rows(warm.item_ids, item_ids)) if warm else None
    )
    members = build_members(hp, len(item_ids), starting_weights)
    model = build_ensemble(members)
    recommend = ensemble_recommender(model, hp.max_length, baselines.popularity_order)

    def validate(epoch: int) -> dict[str, float]:
        validated = evaluate(recommend, validation, baselines.clicks)
        logs.log(logger, "epoch", epoch=epoch, **{m: validated[m] for m in ("hr@20", "mrr@20")})
        return {m: validated[m] for m in ("hr@20", "mrr@20")}

    curves = fit(members, data, hp, validate)
    started = time.perf_counter()
    judged = _judged(validation, validation_ends, champion)
    logs.log(logger, "judging", **judged["summary"])
    metrics = _judge(recommend, judged["sessions"], baselines, champion, item_ids)
    evaluation_seconds = round(time.perf_counter() - started, 1)
    gate = registry.gate(metrics, champion_version)
    logs.log(logger, "evaluated", metrics=metrics, gate=gate)

    window, window_ends = train + latest, train_ends + latest_ends
    serves_model = gate["decision"] == "promote" and gate["serve"] == tiers.MODEL
    refit: dict[str, list[float]] = {"loss": [], "seconds": []}
    if serves_model and latest:
        members = build_members(hp, len(item_ids), starting_weights)
        model = build_ensemble(members)
        refit = fit(members, examples(window, hp.max_length), hp)
        logs.log(logger, "trained again with the latest day", sessions=len(window), **refit)

    model_dir.mkdir(parents=True, exist_ok=True)
    model.export(str(model_dir / "saved_model" / "1"), format="tf_saved_model", verbose=False)
    np.savez(model_dir / WEIGHTS_FILE, **serving_weights(members))
    sessions = SessionIndex.build(window, window_ends, len(item_ids))
    sessions.save(model_dir / KNN_FILE)
    (model_dir / VOCABULARY_FILE).write_text(json.dumps(item_ids))
    categories = _categories(item_ids)
    (model_dir / CATEGORIES_FILE).write_text(json.dumps(categories))
    (model_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    lineage_file = _channel("lineage") / TRAINING_SET_MANIFEST
    popular = [item_ids[i] for i in popularity_order(sessions.clicks)[:POPULAR_ITEMS_KEPT]]
    manifest: dict[str, Any] = {
        "model_version": hp.model_version,
        "data_run": hp.data_run,
        "hyperparameters": hp.to_hyperparameters(),
        "metrics": metrics,  # the gate's: of the members trained without the latest day
        "gate": gate,
        "judged": judged["summary"],  # the validation sessions the gate's metrics are on
        "learning_curves": curves,
        "served_training": {  # the served members' own training, after the gate
            "with_latest_day": bool(refit["seconds"]),
            "sessions": len(window) if refit["seconds"] else len(train),
            "latest_sessions": len(latest),
            "loss": refit["loss"],
            "seconds": refit["seconds"],
            "trained_through": max(window_ends if refit["seconds"] else train_ends, default=None),
        },
        "lineage": {
            "data_run": hp.data_run,
            "training_set": json.loads(lineage_file.read_text()) if lineage_file.exists() else None,
            "code_version": _code_version(),
            "seed": hp.seed,
            "warm_start_from": warm.version if warm else None,
            "framework": {"tensorflow": tf.__version__, "keras": keras.__version__},
        },
        "train_seconds": round(sum(curves["seconds"]) + sum(refit["seconds"]), 2),
        "evaluation_seconds": evaluation_seconds,
        "examples": int(len(data[1])),  # per epoch and member
        "catalogue_size": len(item_ids) - 1,
        "categorised_items": sum(c is not None for c in categories),  # of the product feed
        "vocabulary_change": vocabulary_change,  # against the champion's
        "popular_items": popular,  # over every session up to the cycle
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (model_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    (model_dir / REPORT_FILE).write_text(report.render(manifest))
    sample = [item_ids[i] for i in validation[0][:3]] if validation else popular[:3]
    summary = {"model_version": hp.model_version, "metrics": metrics, "gate": gate}
    summary["served_training"] = manifest["served_training"]
    summary |= {k: manifest[k] for k in ("examples", "train_seconds")} | {"epochs": hp.epochs}
    summary["sample_session"] = sample  # a real session prefix, for the demo's sample request
    print(json.dumps({"train": summary}))
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
