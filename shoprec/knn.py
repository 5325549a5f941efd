"""Vector session-kNN (V-SKNN) over a sparse index of training sessions, in NumPy.

One implementation serves twice: as the evaluation protocol's baseline (``shoprec.baselines``)
and as the API's floor tier (``shoprec.tiers``), so the floor the gate measures is the floor
that serves. The protocol (data README): candidates are the ``sample`` most recent training
sessions that share an item with the prefix; prefix item weight (position+1)/length (a
repeated item keeps its last position), times log(#sessions / #sessions with the item) in the
idf variant; similarity = sum of the weights of the shared items; an item scores the sum of
the similarities of the ``k`` most similar candidates that contain it.

The index is two CSR layouts of the same 0/1 session × item matrix (sessions oldest first,
so a larger session number is a more recent session) and the items' click counts; it saves
to one ``.npz`` of integer arrays that a Lambda loads in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NEIGHBOURS = 100  # k
SAMPLE = 1000  # most recent candidate sessions


def _csr(rows: np.ndarray, columns: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the pairs, grouped by row; columns ascending within a row."""
    order = np.lexsort((columns, rows))
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=count), out=indptr[1:])
    return indptr, columns[order].astype(np.int32)


def row_positions(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The positions (into a CSR layout's column and value arrays) of rows ``rows``, in turn."""
    starts, lengths = indptr[rows], indptr[rows + 1] - indptr[rows]
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return np.arange(lengths.sum()) + offsets


def _gather(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The concatenated CSR rows ``rows``."""
    return indices[row_positions(indptr, rows)]


@dataclass(frozen=True)
class SessionIndex:
    session_indptr: np.ndarray  # session → its distinct items
    session_items: np.ndarray
    item_indptr: np.ndarray  # item → the sessions that contain it, oldest first
    item_sessions: np.ndarray
    clicks: np.ndarray  # training clicks per item: the popularity that breaks ties

    @classmethod
    def build(
        cls, sessions: Sequence[Sequence[int]], end_times: Sequence[float], catalogue: int
    ) -> SessionIndex:
        """``catalogue`` counts index 0 (padding); sessions are ordered by their end time."""
        order = np.argsort(np.asarray(end_times, dtype=np.float64), kind="stable")
        rows = np.repeat(np.arange(len(order)), [len(sessions[s]) for s in order])
        items = np.fromiter((i for s in order for i in sessions[s]), np.int64, len(rows))
        clicks = np.bincount(items, minlength=catalogue)
        distinct = np.unique(rows * catalogue + items)  # each item once per session
        rows, items = distinct // catalogue, distinct % catalogue
        return cls(*_csr(rows, items, len(order)), *_csr(items, rows, catalogue), clicks)

    @property
    def sessions(self) -> int:
        return len(self.session_indptr) - 1

    @property
    def catalogue(self) -> int:
        return len(self.item_indptr) - 1

    def idf(self) -> np.ndarray:
        """log(#sessions / #sessions containing the item); 0 for items in no session."""
        containing = np.diff(self.item_indptr).astype(np.float64)
        with np.errstate(divide="ignore"):
            return np.where(containing > 0, np.log(self.sessions / containing), 0.0)

    def scores(
        self,
        prefix: Sequence[int],
        item_weights: np.ndarray | None = None,
        k: int = NEIGHBOURS,
        sample: int = SAMPLE,
    ) -> np.ndarray:
        """V-SKNN score of every item (index 0 included, always 0) for one prefix;
        ``item_weights`` (e.g. ``idf()``) multiplies each prefix item's weight."""
        positions = {item: p for p, item in enumerate(prefix)}  # a repeated item keeps its last
        items = np.fromiter(positions, dtype=np.int64, count=len(positions))
        weights = (np.fromiter(positions.values(), dtype=np.float64) + 1) / len(prefix)
        if item_weights is not None:
            weights = weights * item_weights[items]
        lengths = np.diff(self.item_indptr)[items]
        containing = _gather(self.item_indptr, self.item_sessions, items)
        similarity = np.bincount(
            containing, weights=np.repeat(weights, lengths), minlength=self.sessions
        )
        candidates = np.unique(containing)[-sample:]  # the most recent sessions sharing an item
        recent_first = candidates[::-1]  # equal similarity: the more recent session wins
        candidates = recent_first[np.argsort(-similarity[recent_first], kind="stable")[:k]]
        neighbour_items = _gather(self.session_indptr, self.session_items, candidates)
        kept = np.repeat(similarity[candidates], np.diff(self.session_indptr)[candidates])
        return np.bincount(neighbour_items, weights=kept, minlength=self.catalogue)

    def co_occurrence(self, items: Sequence[int], among: np.ndarray) -> np.ndarray:
        """How many training sessions hold both an item of ``items`` (rows) and an item of
        ``among`` (columns); an item with itself: the sessions that hold it."""
        counts = np.zeros((len(items), len(among)), dtype=np.int64)
        for row, item in enumerate(items):
            sessions = _gather(self.item_indptr, self.item_sessions, np.asarray([item]))
            held = np.sort(_gather(self.session_indptr, self.session_items, sessions))
            counts[row] = np.searchsorted(held, among, "right") - np.searchsorted(held, among)
        return counts

    def save(self, path: Path) -> None:
        np.savez(path, **{name: getattr(self, name) for name in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: Path) -> SessionIndex:
        with np.load(path) as data:
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
