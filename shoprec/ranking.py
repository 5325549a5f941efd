"""Top-k lists as the evaluation protocol ranks them: ties by training popularity.

Shared by the baselines, the evaluation of the model and the serving tiers (NumPy only).
"""

from __future__ import annotations

import numpy as np


def popularity_order(clicks: np.ndarray) -> np.ndarray:
    """Item indices 1..V, most clicked first (equal clicks: lower index first)."""
    order = np.argsort(-np.asarray(clicks), kind="stable")
    return order[order != 0]


SORTED_WIDTH = 8192


def top_k(scores: np.ndarray, popularity: np.ndarray, k: int) -> np.ndarray:
    """Best k columns per row; equal scores fall back to ``popularity`` order, which also pads
    a short list with the most popular items not in it. A wide catalogue is not sorted whole: a
    partition finds each row's k-th score and the k columns above it (ties at it: the most
    popular first) are sorted, as a stable sort of the whole row would order them (2x faster
    at 100k items; a whole sort is faster below ``SORTED_WIDTH``)."""
    permuted = scores[:, popularity]
    rows, width = permuted.shape
    if k >= width or width <= SORTED_WIDTH:
        return popularity[np.argsort(-permuted, axis=1, kind="stable")[:, :k]]
    threshold = -np.partition(-permuted, k - 1, axis=1)[:, k - 1 : k]
    above = permuted > threshold
    tied = permuted == threshold
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room))
    columns = np.nonzero(chosen)[1].reshape(rows, k)  # ascending: popularity order
    order = np.argsort(-np.take_along_axis(permuted, columns, axis=1), axis=1, kind="stable")
    return popularity[np.take_along_axis(columns, order, axis=1)]
