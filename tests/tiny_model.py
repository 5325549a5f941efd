"""A tiny random session model in the serving format (5 items), for tests that need one."""

import json
from pathlib import Path

import numpy as np


def write_tiny_model(directory: Path, version: str) -> Path:
    rng = np.random.default_rng(0)
    units, items = 4, 6  # 5 items + padding
    weights = {
        "embedding": rng.normal(size=(items, units)).astype(np.float32),
        "gru_kernel": rng.normal(size=(units, 3 * units)).astype(np.float32),
        "gru_recurrent": rng.normal(size=(units, 3 * units)).astype(np.float32),
        "gru_bias": rng.normal(size=(2, 3 * units)).astype(np.float32),
        "dense_kernel": rng.normal(size=(units, items)).astype(np.float32),
        "dense_bias": np.zeros(items, dtype=np.float32),
    }
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / "weights.npz", **weights)
    (directory / "vocabulary.json").write_text(json.dumps(["<pad>", "a", "b", "c", "d", "e"]))
    manifest = {
        "model_version": version,
        "hyperparameters": {"max_length": "20"},
        "popular_items": ["c", "a", "b", "e", "d"],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory
