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
SPARSE_SHARE = 0.01  # scores at most this share non-zero (and none negative): ranked sparse


def top_k(scores: np.ndarray, popularity: np.ndarray, k: int) -> np.ndarray:
    """Best k columns per row; equal scores fall back to ``popularity`` order, which also pads
    a short list with the most popular items not in it. A wide catalogue is not sorted whole: a
    partition finds each row's k-th score and the k columns above it (ties at it: the most
    popular first) are sorted, as a stable sort of the whole row would order them (2x faster
    at 100k items; a whole sort is faster below ``SORTED_WIDTH``); mostly-zero non-negative
    scores, the baselines', rank only their non-zeros (``_top_k_sparse``)."""
    rows, width = len(scores), len(popularity)
    if k >= width or width <= SORTED_WIDTH:
        permuted = scores[:, popularity]
        return popularity[np.argsort(-permuted, axis=1, kind="stable")[:, :k]]
    if np.count_nonzero(scores) <= SPARSE_SHARE * scores.size and scores.min() >= 0:
        return _top_k_sparse(scores, popularity, k)
    permuted = scores[:, popularity]
    threshold = -np.partition(-permuted, k - 1, axis=1)[:, k - 1 : k]
    above = permuted > threshold
    tied = permuted == threshold
    room = k - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room))
    columns = np.nonzero(chosen)[1].reshape(rows, k)  # ascending: popularity order
    order = np.argsort(-np.take_along_axis(permuted, columns, axis=1), axis=1, kind="stable")
    return popularity[np.take_along_axis(columns, order, axis=1)]


def _top_k_sparse(scores: np.ndarray, popularity: np.ndarray, k: int) -> np.ndarray:
    """``top_k`` of non-negative scores that are mostly zero (the baselines'), without
    touching every column: the scored items in order (equal scores: the more popular first),
    then the most popular unscored items, which all tie at zero."""
    rank = np.full(scores.shape[1], len(popularity))
    rank[popularity] = np.arange(len(popularity))
    rows, columns = np.nonzero(scores)
    ranked = rank[columns] < len(popularity)  # never a column outside ``popularity``
    rows, columns = rows[ranked], columns[ranked]
    order = np.lexsort((rank[columns], -scores[rows, columns], rows))
    rows, columns = rows[order], columns[order]
    starts = np.searchsorted(rows, np.arange(len(scores) + 1))
    best = np.empty((len(scores), k), dtype=popularity.dtype)
    for row in range(len(scores)):
        scored = columns[starts[row] : starts[row + 1]][:k]
        popular = popularity[: k + starts[row + 1] - starts[row]]  # k unscored among them
        unscored = popular[scores[row, popular] == 0][: k - len(scored)]
        best[row] = np.concatenate([scored, unscored])
    return best
