"""Next-item evaluation (the protocol of the data README): HR@K and MRR@K over the catalogue.

For every evaluation session (i1..in) and every t = 1..n-1 the recommender ranks the whole
catalogue from the prefix (i1..it); the single relevant item is i(t+1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

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


def ranking_metrics(top_k: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """HR, MRR and NDCG of ranked lists (rows) against one relevant item each."""
    if len(targets) == 0:
        return {"hr": 0.0, "mrr": 0.0, "ndcg": 0.0}
    hits = top_k == targets[:, None]
    found = hits.any(axis=1)
    ranks = hits.argmax(axis=1) + 1
    return {
        "hr": float(found.mean()),
        "mrr": float(np.where(found, 1.0 / ranks, 0.0).mean()),
        "ndcg": float(np.where(found, 1.0 / np.log2(ranks + 1), 0.0).mean()),
    }


def beyond_accuracy(top_k: np.ndarray, clicks: np.ndarray) -> dict[str, float]:
    """Catalogue coverage (share of items 1..V ever recommended) and popularity bias (mean
    training clicks of recommended items relative to the most clicked item)."""
    catalogue = len(clicks) - 1  # index 0 is padding
    recommended = np.unique(top_k)
    return {
        "coverage": float(len(recommended[recommended > 0]) / catalogue) if catalogue else 0.0,
        "popularity": float(clicks[top_k].mean() / clicks[1:].max()) if top_k.size else 0.0,
    }


def evaluate(
    recommend: Recommender,
    sessions: Sequence[Sequence[int]],
    clicks: np.ndarray,
    k: int = 20,
    batch_size: int = 2048,
) -> dict[str, float]:
    """Every metric of one recommender; ``clicks[i]`` = training clicks of item i."""
    prefixes, targets = next_item_cases(sessions)
    ranked = [
        recommend(prefixes[i : i + batch_size], k) for i in range(0, len(prefixes), batch_size)
    ]
    top_k = np.concatenate(ranked) if ranked else np.zeros((0, k), dtype=np.int64)
    metrics = ranking_metrics(top_k, targets) | beyond_accuracy(top_k, clicks)
    return {f"{name}@{k}": value for name, value in metrics.items()} | {"predictions": len(targets)}


def ending_after(
    sessions: Sequence[Sequence[int]], ends: Sequence[float], until: str | None
) -> list[Sequence[int]]:
    """The sessions that end after ``until`` (an ISO time, UTC when it names no zone; ``ends``
    in unix seconds): what a model whose data ended then has not seen, so it can be judged on
    them fairly. All of them when ``until`` is None."""
    if until is None:
        return list(sessions)
    moment = datetime.fromisoformat(until)
    cut = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return [session for session, end in zip(sessions, ends, strict=True) if end > cut]
