"""How the session model learns: the training set's sessions, the examples built from them,
and the epochs of the ensemble's members (Keras is imported only where members are built).

A cycle trains the members twice with the same recipe (``sagemaker/training/train.py``):
first on the training side of the time split, which the gate judges on the held-out latest
day against the champion and the V-SKNN floor; then, if the model is to serve, afresh (from
the same starting weights) on every session up to the cycle, the latest day and its new
items included. Continuing the judged members on the latest day instead was cheaper but
much worse on the next day (README, "the trail"): after a learning rate that decays to
zero, any further steps on one day pull the members away from what they learned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from shoprec.contracts import TrainingHyperparameters
from shoprec.model import MASKED, build_member, fits, left_pad, sampled_trainer, warm_start
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
    reading teaches which items go together whatever their order (README, "The model")."""
    readings = [*sessions, *(s[::-1] for s in sessions)]
    pairs = [(s[:t], s[t]) for s in readings for t in range(1, len(s))]
    x = left_pad([context for context, _ in pairs], max_length)
    return x, np.asarray([target for _, target in pairs], dtype=np.int32)


def can_warm_start(hp: TrainingHyperparameters, champion: dict[str, np.ndarray]) -> bool:
    """Whether every member of these hyperparameters that the champion has a member for can
    start from it (``shoprec.model.fits``, on a probe member: shapes do not depend on the
    catalogue's size but for the rows per item)."""
    probe = build_member(2, hp.embedding_dim, hp.max_length, hp.dropout)
    numbers = [n for n in range(hp.members) if f"member{n}.embedding" in champion]
    return all(fits(probe, number, champion) for number in numbers)


def build_members(
    hp: TrainingHyperparameters,
    catalogue_size: int,
    champion: tuple[dict[str, np.ndarray], np.ndarray] | None,
) -> list[Any]:
    """The members, each with its own seed, warm-started from the champion's member of the
    same number where there is one (``champion``: its weights, and its row of each of this
    run's items, as ``shoprec.model.warm_start`` takes them)."""
    import keras

    members = []
    for number in range(hp.members):
        keras.utils.set_random_seed(hp.seed + 1000 * number)
        member = build_member(catalogue_size, hp.embedding_dim, hp.max_length, hp.dropout)
        if champion and f"member{number}.embedding" in champion[0]:
            warm_start(member, number, *champion)
        members.append(member)
    return members


def smoothed_cross_entropy(smoothing: float, sampled: bool = False) -> Callable:
    """Cross-entropy against the next item smoothed by a uniform share ``smoothing`` over the
    catalogue (index 0, padding, is no item): the members stop chasing certainty on a few
    thousand examples of each item, which ranks the runners-up better (HR@20). With the
    sampled softmax (``sampled``) the next item is column 0 and the share goes to the sampled
    negatives (a masked one, ``MASKED``, takes none); the full softmax keeps the plain mean,
    so its numbers are those measured before the sampled loss existed."""
    from keras import ops

    def spread(log_p: Any, logits: Any) -> Any:
        if not sampled:
            return ops.mean(log_p[:, 1:], axis=1)
        kept = ops.cast(ops.greater(logits[:, 1:], MASKED / 2), "float32")
        return ops.sum(log_p[:, 1:] * kept, axis=1) / ops.maximum(ops.sum(kept, axis=1), 1.0)

    def loss(targets: Any, logits: Any) -> Any:
        log_p = ops.log_softmax(logits)
        target = ops.cast(ops.reshape(targets, (-1, 1)), "int32")
        nll = -ops.take_along_axis(log_p, target, axis=1)[:, 0]
        return (1.0 - smoothing) * nll - smoothing * spread(log_p, logits)

    return loss


def trainer(member: Any, data: Examples, hp: TrainingHyperparameters, seed: int) -> tuple:
    """The model that ``fit`` trains for ``member`` and its data: the member itself on a
    softmax over the whole catalogue, or, above ``hp.full_softmax_items`` items, its
    sampled-softmax trainer (``shoprec.model.sampled_trainer``) on (items, next item) with
    the next item in column 0."""
    catalogue = member.output_shape[-1]
    if not hp.sampled_softmax(catalogue):
        return member, data
    x, y = data
    clicks = np.bincount(y, minlength=catalogue)
    model = sampled_trainer(member, clicks, hp.sampled_negatives, seed)
    return model, ((x, y), np.zeros(len(y), dtype=np.int32))


def fit(
    members: Sequence[Any],
    data: Examples,
    hp: TrainingHyperparameters,
    after_epoch: Callable[[int], dict[str, float]] = lambda epoch: {},
) -> dict[str, list[float]]:
    """``hp.epochs`` epochs of every member on the same examples (each member shuffles them
    its own way), Adam with a learning rate that decays along a cosine from
    ``hp.learning_rate`` to zero; per epoch: mean training loss, seconds, and whatever
    ``after_epoch`` measures (e.g. validation metrics), also printed as one progress line."""
    import keras

    steps = hp.epochs * -(-len(data[1]) // hp.batch_size)
    trained = [trainer(member, data, hp, hp.seed + n) for n, member in enumerate(members)]
    for member, (model, _) in zip(members, trained, strict=True):
        schedule = keras.optimizers.schedules.CosineDecay(hp.learning_rate, steps)
        model.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=smoothed_cross_entropy(hp.label_smoothing, sampled=model is not member),
            jit_compile=True,
        )
    curves: dict[str, list[float]] = {"loss": [], "seconds": []}
    for epoch in range(1, hp.epochs + 1):
        started = time.perf_counter()
        losses = [
            model.fit(*inputs, batch_size=hp.batch_size, epochs=1, shuffle=True, verbose=0)
            for model, inputs in trained
        ]
        curves["seconds"].append(round(time.perf_counter() - started, 2))
        curves["loss"].append(float(np.mean([h.history["loss"][0] for h in losses])))
        measured = after_epoch(epoch)
        for name, value in measured.items():
            curves.setdefault(name, []).append(value)
        shown = "".join(f", {name} {value:.3f}" for name, value in measured.items())
        print(
            f"epoch {epoch}/{hp.epochs}: loss {curves['loss'][-1]:.3f}{shown} "
            f"({curves['seconds'][-1]:.0f}s)",
            flush=True,
        )
    return curves


def ensemble_recommender(model: Any, max_length: int, popularity: np.ndarray) -> Callable:
    """The ensemble as the evaluation protocol calls a recommender (top-k per prefix)."""

    def recommend(prefixes: list, k: int) -> np.ndarray:
        logits = model.predict_on_batch(left_pad(prefixes, max_length))
        return top_k(logits, popularity, k)

    return recommend
