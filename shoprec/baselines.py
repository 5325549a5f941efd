"""Baselines of the evaluation protocol: POP, S-POP, SR and V-SKNN, vectorised with NumPy.

Every recommender scores the whole catalogue for a batch of prefixes; ``top_k`` breaks ties
by training popularity, which also pads a short list with the most popular items not in it.
Items are indices 1..V (0 is padding and never recommended).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Sessions = Sequence[Sequence[int]]
BASELINES = ("pop", "spop", "sr", "vsknn")


def item_counts(train: Sessions, catalogue: int) -> np.ndarray:
    counts = np.bincount(np.concatenate([np.asarray(s) for s in train]), minlength=catalogue)
    return counts.astype(np.float64)


def top_k(scores: np.ndarray, popularity_order: np.ndarray, k: int) -> np.ndarray:
    """Best k columns per row; equal scores fall back to popularity order (stable sort)."""
    permuted = scores[:, popularity_order]
    best = np.argsort(-permuted, axis=1, kind="stable")[:, :k]
    return popularity_order[best]


class Baselines:
    """All four baselines over one training set; ``recommender(name)`` fits the protocol."""

    def __init__(
        self,
        train: Sessions,
        catalogue: int,
        session_times: Sequence[float],
        sr_steps: int = 10,
        knn_k: int = 100,
        knn_sample: int = 1000,
    ):
        self.catalogue = catalogue
        self.clicks = item_counts(train, catalogue)  # training clicks per item
        counts = self.clicks.copy()
        counts[0] = -1
        self.popularity_order = np.argsort(-counts, kind="stable")
        self.popularity_order = self.popularity_order[self.popularity_order != 0]
        self.rules = self._sequential_rules(train, sr_steps)
        self.knn_k, self.knn_sample = knn_k, knn_sample
        order = np.argsort(np.asarray(session_times), kind="stable")  # oldest first
        self.sessions = np.zeros((len(train), catalogue), dtype=np.float32)
        for row, index in enumerate(order):
            self.sessions[row, np.asarray(train[index])] = 1.0
        self.sessions_by_item = np.ascontiguousarray(self.sessions.T)

    def _sequential_rules(self, train: Sessions, steps: int) -> np.ndarray:
        """rules[a, b] = sum over training sessions of 1/d where b follows a at distance d."""
        rules = np.zeros((self.catalogue, self.catalogue), dtype=np.float64)
        for session in train:
            items = np.asarray(session)
            for d in range(1, min(steps, len(items) - 1) + 1):
                np.add.at(rules, (items[:-d], items[d:]), 1.0 / d)
        return rules

    def scores(self, name: str, prefixes: list[Sequence[int]]) -> np.ndarray:
        scores = np.zeros((len(prefixes), self.catalogue), dtype=np.float64)
        if name == "pop":
            pass  # all zero: the popularity tie-break is the ranking
        elif name == "spop":
            for row, prefix in enumerate(prefixes):
                np.add.at(scores[row], np.asarray(prefix), 1.0)
        elif name == "sr":
            scores = self.rules[[prefix[-1] for prefix in prefixes]].copy()
        elif name == "vsknn":
            scores = self._vsknn(prefixes)
        else:
            raise ValueError(f"unknown baseline {name!r}")
        return scores

    def _vsknn(self, prefixes: list[Sequence[int]]) -> np.ndarray:
        weights = np.zeros((len(prefixes), self.catalogue), dtype=np.float32)
        for row, prefix in enumerate(prefixes):
            # Linear decay: position p of n weighs (p+1)/n; a repeated item keeps its last.
            weights[row, np.asarray(prefix)] = (np.arange(len(prefix)) + 1) / len(prefix)
        used = np.flatnonzero(weights.any(axis=0))  # only the prefixes' items matter
        similarity = weights[:, used] @ self.sessions_by_item[used]  # sessions oldest first
        shares = similarity > 0  # every prefix item weighs more than 0
        # The knn_sample most recent sessions that share an item with the prefix.
        recent_rank = np.cumsum(shares[:, ::-1], axis=1)[:, ::-1]
        similarity[~shares | (recent_rank > self.knn_sample)] = 0.0
        k = min(self.knn_k, similarity.shape[1])
        neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        kept = np.take_along_axis(similarity, neighbours, axis=1)
        return np.einsum("bn,bnv->bv", kept, self.sessions[neighbours], dtype=np.float64)

    def recommend(self, name: str, prefixes: list[Sequence[int]], k: int) -> np.ndarray:
        batch_size = 48 if name == "vsknn" else 512  # bounds the (batch, k, V) neighbour block
        return np.concatenate(
            [
                top_k(self.scores(name, prefixes[i : i + batch_size]), self.popularity_order, k)
                for i in range(0, len(prefixes), batch_size)
            ]
        )
