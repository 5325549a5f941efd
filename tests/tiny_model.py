"""A tiny random session model in the serving format (5 items, or a catalogue given), with
the V-SKNN floor's session index beside it, for tests that need a model folder."""

import json
from pathlib import Path

import numpy as np

from shoprec.knn import SessionIndex
from shoprec.layout import CATEGORIES_FILE

MAX_LENGTH = 4


def write_tiny_model(
    directory: Path,
    version: str,
    gate: dict | None = None,
    data_until: str | None = None,
    catalogue: tuple[list[str], list[list[int]]] | None = None,
    categories: list[str | None] | None = None,
) -> Path:
    """``gate``: the promotion decision the manifest records (what training would write);
    ``data_until``: the end of the training set's window its lineage records; ``catalogue``:
    item ids and the V-SKNN index's sessions (of their numbers, from 1) instead of a..e;
    ``categories``: each item's category (the product feed's), written as training does."""
    item_ids, sessions = catalogue or (list("abcde"), [[1, 2], [2, 3, 1], [4, 5], [3, 3, 1]])
    rng = np.random.default_rng(0)
    units, items = 4, len(item_ids) + 1  # + padding

    def array(*shape: int) -> np.ndarray:
        return rng.normal(size=shape).astype(np.float32)

    weights = {
        "embedding": array(items, units),
        "gru_kernel": array(units, 3 * units),
        "gru_recurrent": array(units, 3 * units),
        "gru_bias": array(2, 3 * units),
        "projection_kernel": array(units, units),
        "projection_bias": array(units),
        "item_bias": np.zeros(items, dtype=np.float32),
        "repeat_kernel": array(units, MAX_LENGTH),
        "repeat_bias": array(MAX_LENGTH),
        "repeat_position": array(MAX_LENGTH),
    }
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / "weights.npz", **{f"member0.{k}": v for k, v in weights.items()})
    SessionIndex.build(sessions, range(len(sessions)), items).save(directory / "knn.npz")
    (directory / "vocabulary.json").write_text(json.dumps(["<pad>", *item_ids]))
    if categories is not None:
        (directory / CATEGORIES_FILE).write_text(json.dumps([None, *categories]))
    popular = ["c", "a", "b", "e", "d"] if catalogue is None else item_ids[:5]
    manifest = {
        "model_version": version,
        "hyperparameters": {"max_length": str(MAX_LENGTH)},
        "popular_items": popular,
    } | ({"gate": gate} if gate else {})
    if data_until:
        manifest["lineage"] = {"training_set": {"window": {"to": data_until}}}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory
