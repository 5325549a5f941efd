"""Top-k lists as the evaluation protocol ranks them: ties by training popularity.

Shared by the baselines, the evaluation of the model and the serving tiers (NumPy only).
"""

from __future__ import annotations

import numpy as np


def popularity_order(clicks: np.ndarray) -> np.ndarray:
    """Item indices 1..V, most clicked first (equal clicks: lower index first)."""
    order = np.argsort(-np.asarray(clicks), kind="stable")
    return order[order != 0]


def top_k(scores: np.ndarray, popularity: np.ndarray, k: int) -> np.ndarray:
    """Best k columns per row; equal scores fall back to ``popularity`` order (stable sort),
    which also pads a short list with the most popular items not in it."""
    permuted = scores[:, popularity]
    best = np.argsort(-permuted, axis=1, kind="stable")[:, :k]
    return popularity[best]
