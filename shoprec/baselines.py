"""Baselines of the evaluation protocol: POP, S-POP, SR, V-SKNN and V-SKNN with idf weights.

Every recommender scores the whole catalogue for a batch of prefixes; ``ranking.top_k``
breaks ties by training popularity and pads a short list with the most popular items.
Items are indices 1..V (0 is padding and never recommended). V-SKNN runs on the sparse
session index that also serves as the API's floor tier (``shoprec.knn``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shoprec.knn import NEIGHBOURS, SAMPLE, SessionIndex
from shoprec.ranking import popularity_order, top_k
from shoprec.tiers import VSKNN_VARIANTS

Sessions = Sequence[Sequence[int]]
BASELINES = ("pop", "spop", "sr", *VSKNN_VARIANTS)


class Baselines:
    """Every baseline over one training set; ``recommend(name, ...)`` follows the protocol."""

    def __init__(
        self,
        train: Sessions,
        catalogue: int,
        session_times: Sequence[float],
        sr_steps: int = 10,
        knn_k: int = NEIGHBOURS,
        knn_sample: int = SAMPLE,
    ):
        self.catalogue = catalogue
        self.index = SessionIndex.build(train, session_times, catalogue)
        self.knn_weights = dict(zip(VSKNN_VARIANTS, (None, self.index.idf()), strict=True))
        self.knn_k, self.knn_sample = knn_k, knn_sample
        self.clicks = self.index.clicks.astype(np.float64)  # training clicks per item
        self.popularity_order = popularity_order(self.clicks)
        self.rules = self._sequential_rules(train, sr_steps)

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
        elif name in VSKNN_VARIANTS:
            weights = self.knn_weights[name]
            for row, prefix in enumerate(prefixes):
                scores[row] = self.index.scores(prefix, weights, self.knn_k, self.knn_sample)
        else:
            raise ValueError(f"unknown baseline {name!r}")
        return scores

    def recommend(self, name: str, prefixes: list[Sequence[int]], k: int) -> np.ndarray:
        batch = 512  # bounds the (batch, V) score block
        return np.concatenate(
            [
                top_k(self.scores(name, prefixes[i : i + batch]), self.popularity_order, k)
                for i in range(0, len(prefixes), batch)
            ]
        )
