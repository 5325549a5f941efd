"""Baselines of the evaluation protocol: POP, S-POP, SR, V-SKNN and V-SKNN with idf weights.

Every recommender scores the whole catalogue for a batch of prefixes; ``ranking.top_k``
breaks ties by training popularity and pads a short list with the most popular items.
Items are indices 1..V (0 is padding and never recommended). V-SKNN runs on the sparse
session index that also serves as the API's floor tier (``shoprec.knn``); SR's rules are a
sparse item × item layout too, so every baseline's memory grows with the training clicks'
non-zeros, not with V², and scores are computed a block of prefixes at a time (at most
``SCORE_CELLS`` prefix × item cells).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shoprec.knn import NEIGHBOURS, SAMPLE, SessionIndex, row_positions
from shoprec.ranking import popularity_order, top_k
from shoprec.tiers import VSKNN_VARIANTS

Sessions = Sequence[Sequence[int]]
BASELINES = ("pop", "spop", "sr", *VSKNN_VARIANTS)
SCORE_CELLS = 1 << 24  # a block of dense scores: 128 MB of float64
RULE_PAIRS = 1 << 22  # SR's (a, b, 1/d) pairs reduced at a time


class SequentialRules:
    """SR: rules[a, b] = sum over training sessions of 1/d where b follows a at distance d ≤
    ``steps``, as CSR (row a → its followers b ascending, and their weights). The pairs of a run
    of sessions are reduced into the rules found so far, session by session in turn, so every
    weight is the same float sum as adding the pairs one at a time."""

    def __init__(self, train: Sessions, catalogue: int, steps: int):
        lengths = np.fromiter(map(len, train), np.int64, len(train))
        starts = np.concatenate([[0], np.cumsum(lengths)])
        items = np.fromiter((i for s in train for i in s), np.int64, int(starts[-1]))
        keys, weights = np.zeros(0, np.int64), np.zeros(0)
        first = 0
        while first < len(train):
            last = int(np.searchsorted(starts, starts[first] + RULE_PAIRS // steps, "right"))
            last = min(max(last - 1, first + 1), len(train))
            chunk = slice(starts[first], starts[last])
            pairs = self._pairs(
                items[chunk], np.repeat(np.arange(first, last), lengths[first:last]), steps
            )
            keys, inverse = np.unique(
                np.concatenate([keys, pairs[0] * catalogue + pairs[1]]), return_inverse=True
            )
            weights = np.bincount(inverse, weights=np.concatenate([weights, pairs[2]]))
            first = last
        self.indptr = np.zeros(catalogue + 1, np.int64)
        np.cumsum(np.bincount(keys // catalogue, minlength=catalogue), out=self.indptr[1:])
        self.followers, self.weights = (keys % catalogue).astype(np.int32), weights

    @staticmethod
    def _pairs(items: np.ndarray, sessions: np.ndarray, steps: int) -> tuple[np.ndarray, ...]:
        """(a, b, 1/d) of every b at distance d after a in one session, ordered by session,
        then d, then position: the order the rules were summed in as a dense matrix."""
        found = [
            (items[:-d][same], items[d:][same], np.full(same.sum(), 1.0 / d), sessions[:-d][same])
            for d in range(1, steps + 1)
            for same in [sessions[:-d] == sessions[d:]]
        ]
        a, b, weight, session = (np.concatenate(column) for column in zip(*found, strict=True))
        order = np.argsort(session, kind="stable")
        return a[order], b[order], weight[order]

    @property
    def nonzeros(self) -> int:
        return len(self.weights)

    def fill(self, scores: np.ndarray, last_items: Sequence[int]) -> None:
        """Row r of ``scores`` (zeros) gets the rule weights after ``last_items[r]``."""
        rows = np.asarray(last_items, dtype=np.int64)
        positions = row_positions(self.indptr, rows)
        which = np.repeat(np.arange(len(rows)), np.diff(self.indptr)[rows])
        scores[which, self.followers[positions]] = self.weights[positions]


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
        self.rules = SequentialRules(train, catalogue, sr_steps)

    def scores(self, name: str, prefixes: list[Sequence[int]]) -> np.ndarray:
        scores = np.zeros((len(prefixes), self.catalogue), dtype=np.float64)
        if name == "pop":
            pass  # all zero: the popularity tie-break is the ranking
        elif name == "spop":
            for row, prefix in enumerate(prefixes):
                np.add.at(scores[row], np.asarray(prefix), 1.0)
        elif name == "sr":
            self.rules.fill(scores, [prefix[-1] for prefix in prefixes])
        elif name in VSKNN_VARIANTS:
            weights = self.knn_weights[name]
            for row, prefix in enumerate(prefixes):
                scores[row] = self.index.scores(prefix, weights, self.knn_k, self.knn_sample)
        else:
            raise ValueError(f"unknown baseline {name!r}")
        return scores

    def recommend(self, name: str, prefixes: list[Sequence[int]], k: int) -> np.ndarray:
        batch = max(1, min(512, SCORE_CELLS // self.catalogue))  # bounds the score block
        return np.concatenate(
            [
                top_k(self.scores(name, prefixes[i : i + batch]), self.popularity_order, k)
                for i in range(0, len(prefixes), batch)
            ]
        )
