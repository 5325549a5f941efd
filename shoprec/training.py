"""How the session model learns: the training set's sessions, the examples built from them,
and the epochs of the ensemble's members (Keras is imported only where members are built).

A cycle trains the same members twice (``sagemaker/training/train.py``): first on the training
side of the time split, which the gate judges on the held-out latest day against the champion
and the V-SKNN floor; then, if the model is to serve, a few epochs at a lower learning rate on
the latest day's sessions alone (every item, new ones included), so that the served model has
seen every day up to the cycle and weighs the newest day most, as the next day resembles it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from shoprec.contracts import TrainingHyperparameters
from shoprec.model import build_member, left_pad, warm_start
from shoprec.ranking import top_k

Examples = tuple[np.ndarray, np.ndarray]


def read_sessions(directory: Path) -> tuple[list[list[str]], list[float]]:
    """A channel's sessions (item ids in click order) and each one's end, in unix seconds
    (Spark writes nanosecond timestamps, other writers microseconds: both read the same)."""
    table = pq.read_table(directory)
    ends = table.column("end_time").to_numpy().astype("datetime64[us]").astype(np.int64)
    return table.column("items").to_pylist(), (ends / 1e6).tolist()


def examples(sessions: Sequence[Sequence[int]], max_length: int) -> Examples:
    """Every prefix → next item of each session read forwards and backwards: the backward
    reading teaches which items go together whatever their order (README, "Model quality")."""
    readings = [*sessions, *(s[::-1] for s in sessions)]
    pairs = [(s[:t], s[t]) for s in readings for t in range(1, len(s))]
    x = left_pad([context for context, _ in pairs], max_length)
    return x, np.asarray([target for _, target in pairs], dtype=np.int32)


def build_members(
    hp: TrainingHyperparameters, catalogue_size: int, champion: dict[str, np.ndarray] | None
) -> list[Any]:
    """The compiled members, each with its own seed, warm-started from the champion's member
    of the same number where there is one."""
    import keras

    members = []
    for number in range(hp.members):
        keras.utils.set_random_seed(hp.seed + 1000 * number)
        member = build_member(catalogue_size, hp.embedding_dim, hp.max_length, hp.dropout)
        if champion and f"member{number}.embedding" in champion:
            warm_start(member, number, champion)
        member.compile(
            optimizer=keras.optimizers.Adam(hp.learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        members.append(member)
    return members


def fit(
    members: Sequence[Any],
    data: Examples,
    epochs: int,
    batch_size: int,
    after_epoch: Callable[[int], dict[str, float]] = lambda epoch: {},
) -> dict[str, list[float]]:
    """``epochs`` more epochs of every member on the same examples (each member shuffles them
    its own way); per epoch: mean training loss, seconds, and whatever ``after_epoch``
    measures (e.g. validation metrics)."""
    curves: dict[str, list[float]] = {"loss": [], "seconds": []}
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        losses = [
            member.fit(*data, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)
            for member in members
        ]
        curves["seconds"].append(round(time.perf_counter() - started, 2))
        curves["loss"].append(float(np.mean([h.history["loss"][0] for h in losses])))
        for name, value in after_epoch(epoch).items():
            curves.setdefault(name, []).append(value)
    return curves


def set_learning_rate(members: Sequence[Any], rate: float) -> None:
    for member in members:
        member.optimizer.learning_rate.assign(rate)


def ensemble_recommender(model: Any, max_length: int, popularity: np.ndarray) -> Callable:
    """The ensemble as the evaluation protocol calls a recommender (top-k per prefix)."""

    def recommend(prefixes: list, k: int) -> np.ndarray:
        logits = model.predict_on_batch(left_pad(prefixes, max_length))
        return top_k(logits, popularity, k)

    return recommend
