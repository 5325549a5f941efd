"""Next-item evaluation (the protocol of the data README): HR@K and MRR@K over the catalogue.

For every evaluation session (i1..in) and every t = 1..n-1 the recommender ranks the whole
catalogue from the prefix (i1..it); the single relevant item is i(t+1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# Given a batch of prefixes, the top-K item indices per prefix, best first.
Recommender = Callable[[list[Sequence[int]], int], np.ndarray]


def next_item_cases(sessions: Sequence[Sequence[int]]) -> tuple[list[Sequence[int]], np.ndarray]:
    prefixes, targets = [], []
    for items in sessions:
        for t in range(1, len(items)):
            prefixes.append(items[:t])
            targets.append(items[t])
    return prefixes, np.asarray(targets, dtype=np.int64)


def hit_rate_and_mrr(top_k: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """HR@K and MRR@K of ranked lists (rows) against one target each."""
    if len(targets) == 0:
        return 0.0, 0.0
    hits = top_k == targets[:, None]
    found = hits.any(axis=1)
    ranks = hits.argmax(axis=1) + 1
    return float(found.mean()), float(np.where(found, 1.0 / ranks, 0.0).mean())


def evaluate(
    recommend: Recommender, sessions: Sequence[Sequence[int]], k: int = 20, batch_size: int = 2048
) -> dict[str, float]:
    prefixes, targets = next_item_cases(sessions)
    ranked = [
        recommend(prefixes[i : i + batch_size], k) for i in range(0, len(prefixes), batch_size)
    ]
    top_k = np.concatenate(ranked) if ranked else np.zeros((0, k), dtype=np.int64)
    hr, mrr = hit_rate_and_mrr(top_k, targets)
    return {f"hr@{k}": hr, f"mrr@{k}": mrr, "predictions": len(targets)}
