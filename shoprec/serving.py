"""Serving without TensorFlow: the tiers a model folder can serve, in NumPy.

* ``model``: the session model (``shoprec.model``). The GRU follows Keras' ``reset_after=True``
  equations with gate order z | r | h, masked (left) padding keeps the state, and the content
  and repeat logits add up as in the trained model, so the scores equal TensorFlow's (a
  parity test checks it).
* ``vsknn``: the V-SKNN floor (``shoprec.knn``) over the folder's session index, served when
  no deep model beat it at the gate (``shoprec.registry.gate``).
* ``popular``: the most popular items, for a session without a known item (either tier),
  and everything the packaged fallback (``PopularRecommender``) answers while no champion
  can be loaded.
* ``category_popular``: the popular order restricted to the categories asked for.

Every tier takes the same filters: items to exclude, categories to keep (an item in one of
them) and categories to exclude; an answer holds k items while k eligible items exist. The
categories are the product feed's (``categories.json``, optional): an item the feed does
not list is in no category, and so is every item of a folder without the file and of the
packaged fallback, where a category filter to keep leaves no item eligible (an empty answer,
not an error).

``load`` reads which tier a folder serves from the gate decision in its manifest. A request
goes down a chain: the session model; where it fails (an error, scores that are not
numbers), the V-SKNN floor of the same training run; where that has no answer (no
neighbour voted for an eligible item), the popular items of the session items' categories;
then the popular items.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from shoprec.knn import SessionIndex
from shoprec.layout import (
    CATEGORIES_FILE,
    KNN_FILE,
    MANIFEST_FILE,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
)
from shoprec.model import PADDING, left_pad
from shoprec.ranking import popularity_order, top_k
from shoprec.registry import served_tier
from shoprec.tiers import CATEGORY_POPULAR, MODEL, POPULAR, VSKNN, VSKNN_IDF

logger = logging.getLogger(__name__)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _member_logits(w: dict[str, np.ndarray], batch: np.ndarray) -> np.ndarray:
    """One member's logits for each row of left-padded item indices (0 = padding)."""
    units = w["gru_recurrent"].shape[0]
    h = np.zeros((len(batch), units), dtype=np.float32)
    for step in batch.T:
        x = w["embedding"][step] @ w["gru_kernel"] + w["gru_bias"][0]
        r_in = h @ w["gru_recurrent"] + w["gru_bias"][1]
        z = _sigmoid(x[:, :units] + r_in[:, :units])
        r = _sigmoid(x[:, units : 2 * units] + r_in[:, units : 2 * units])
        candidate = np.tanh(x[:, 2 * units :] + r * r_in[:, 2 * units :])
        h = np.where((step > 0)[:, None], z * h + (1.0 - z) * candidate, h)
    query = h @ w["projection_kernel"] + w["projection_bias"]
    logits = query @ w["embedding"].T + w["item_bias"]
    repeat = _softplus(h @ w["repeat_kernel"] + w["repeat_bias"]) * _softplus(w["repeat_position"])
    repeat *= batch > 0
    np.add.at(logits, (np.arange(len(batch))[:, None], batch), repeat)
    return logits


@dataclass(frozen=True)
class SessionScorer:
    weights: dict[str, np.ndarray]  # "member<i>.<name>" (shoprec.model.serving_weights)

    @cached_property  # grouped once per loaded model, not per request
    def members(self) -> list[dict[str, np.ndarray]]:
        grouped: dict[str, dict[str, np.ndarray]] = {}
        for key, value in self.weights.items():
            member, name = key.split(".", 1)
            grouped.setdefault(member, {})[name] = value
        return [grouped[m] for m in sorted(grouped)]

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """Log of the members' mean next-item probability, for each row of left-padded item
        indices; the padding column is -inf."""
        mean = np.zeros((len(batch), self.weights["member0.item_bias"].shape[0]))
        members = self.members
        for weights in members:
            logits = _member_logits(weights, batch)
            logits[:, 0] = -np.inf  # padding
            logits -= logits.max(axis=1, keepdims=True)
            probabilities = np.exp(logits)
            mean += probabilities / probabilities.sum(axis=1, keepdims=True) / len(members)
        with np.errstate(divide="ignore"):
            return np.log(mean)


@dataclass(frozen=True)
class Recommendation:
    items: list[tuple[str, float]]
    tier: str  # one of shoprec.tiers.SERVED
    # Per item: the session item that explains it most, or None for a popular item (a session
    # without a known item, or a tier's list filled from the popular order).
    because: list[str | None]


class Recommender:
    """What the tiers share: the folder's vocabulary, manifest and categories (each item's,
    None where unknown), the filters, and the popular order for a session without a known
    item (the manifest's popular items, then the rest of the catalogue). A tier implements
    ``_ranked``, ``_because`` and ``_similar``."""

    tier = ""

    def __init__(
        self,
        item_ids: list[str],
        manifest: dict[str, Any],
        categories: list[str | None] | None = None,
    ):
        self.item_ids, self.manifest = item_ids, manifest
        self.index = {item: i for i, item in enumerate(item_ids) if i > 0}
        self.categories = categories or [None] * len(item_ids)
        self.category_items = _items_by_category(self.categories)
        self.backup: Recommender | None = None  # the next tier of the chain (``load``)
        popular = [self.index[i] for i in manifest["popular_items"] if i in self.index]
        rest = np.ones(len(item_ids), dtype=bool)
        rest[[0, *popular]] = False
        self.popular = np.concatenate([np.asarray(popular, dtype=np.int64), np.flatnonzero(rest)])

    @property
    def version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def catalogue_size(self) -> int:
        return len(self.item_ids) - 1

    def _indices(self, items: Collection[str]) -> list[int]:
        return [self.index[i] for i in items if i in self.index]

    def _in_categories(self, categories: Collection[str]) -> np.ndarray:
        none = np.empty(0, dtype=np.int64)
        return np.concatenate([none, *(self.category_items.get(c, none) for c in set(categories))])

    def _eligible(
        self,
        exclude: Collection[str],
        categories: Collection[str],
        exclude_categories: Collection[str],
    ) -> np.ndarray:
        """Per item index, whether an answer may hold it: in one of ``categories`` (where
        any are given), in none of ``exclude_categories`` and not in ``exclude``; never the
        padding."""
        eligible = np.full(len(self.item_ids), not categories)
        eligible[self._in_categories(categories)] = True
        eligible[self._in_categories(exclude_categories)] = False
        eligible[[0, *self._indices(set(exclude))]] = False
        return eligible

    def recommend(
        self,
        session_items: list[str],
        k: int,
        exclude: Collection[str] = (),
        categories: Collection[str] = (),
        exclude_categories: Collection[str] = (),
    ) -> Recommendation:
        """The k best items not in ``exclude``, in one of ``categories`` where any are given
        and in none of ``exclude_categories`` (fewer only where fewer are eligible).

        The chain of tiers: where this tier fails (an error, scores that are not numbers),
        its ``backup`` answers, logged; where it has no answer (no neighbour voted for an
        eligible item), the popular items of the session's categories, where k are
        eligible; else the popular items."""
        known = self._indices(session_items)
        eligible = self._eligible(exclude, categories, exclude_categories)
        if not known:
            return self._popular_answer(k, eligible, categories)
        try:
            ranked = self._ranked(known, min(k, int(np.count_nonzero(eligible))), eligible)
        except Exception:  # whatever broke in this tier, the next one answers
            if self.backup is None:
                raise
            logger.exception("the %s tier failed; the %s tier answers", self.tier, self.backup.tier)
            return self.backup.recommend(session_items, k, exclude, categories, exclude_categories)
        if ranked is None:
            return self._popular_of_session(known, k, eligible, categories)
        top, scores = ranked
        because = [self.item_ids[known[i]] if i >= 0 else None for i in self._because(known, top)]
        return Recommendation(self._named(top, scores), self.tier, because)

    def _popular_of_session(
        self, known: list[int], k: int, eligible: np.ndarray, categories: Collection[str]
    ) -> Recommendation:
        """The popular items of the session items' categories where k of them are eligible,
        else of every eligible item."""
        session_categories = {self.categories[i] for i in known} - {None}
        within = np.zeros_like(eligible)
        within[self._in_categories(session_categories)] = True
        within &= eligible
        if np.count_nonzero(within) >= min(k, np.count_nonzero(eligible)) and within.any():
            return self._popular_answer(k, within, session_categories)
        return self._popular_answer(k, eligible, categories)

    def popular_items(self, k: int, categories: Collection[str] = ()) -> Recommendation:
        """The k most popular items (of ``categories`` where any are given: tier
        ``category_popular``); rank-based scores, best first."""
        return self._popular_answer(k, self._eligible((), categories, ()), categories)

    def _popular_answer(
        self, k: int, eligible: np.ndarray, categories: Collection[str]
    ) -> Recommendation:
        top, scores = self._popular(k, eligible)
        tier = CATEGORY_POPULAR if categories else POPULAR
        return Recommendation(self._named(top, scores), tier, [None] * len(top))

    def _popular(self, k: int, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The k most popular eligible items, and rank-based scores."""
        ineligible = len(eligible) - int(np.count_nonzero(eligible))
        head = self.popular[: k + ineligible]  # the first k eligible items are in it
        top = head[eligible[head]][:k]
        return top, 1.0 / (np.arange(len(top)) + 1.0)

    def _all_but(self, item: int) -> np.ndarray:
        """Every item eligible but ``item`` (and the padding)."""
        eligible = np.ones(len(self.item_ids), dtype=bool)
        eligible[[0, item]] = False
        return eligible

    def similar(self, item_id: str, k: int) -> Recommendation | None:
        """The k items most like ``item_id`` (None: not in the catalogue)."""
        item = self.index.get(item_id)
        if item is None:
            return None
        top, scores, explained = self._similar(item, min(k, self.catalogue_size - 1))
        because = [item_id if e else None for e in explained]
        return Recommendation(self._named(top, scores), self.tier, because)

    def _named(self, top: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
        return [(self.item_ids[i], float(s)) for i, s in zip(top, scores, strict=True)]

    def _ranked(
        self, known: list[int], k: int, eligible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The k best eligible item indices for a session of known items, best first, and
        their scores (k: at most the eligible items); None where the tier has no answer."""
        raise NotImplementedError

    def _because(self, known: list[int], top: np.ndarray) -> np.ndarray:
        """Per top item, the position in ``known`` of the session item that explains it
        most, or -1 where none does (a popular item)."""
        raise NotImplementedError

    def _similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k items most like ``item`` (itself excluded), best first, their scores, and
        whether the item explains each (False: filled from the popular order)."""
        raise NotImplementedError


class SessionRecommender(Recommender):
    """The session model; scores are next-item probabilities. Explanations and similar items
    come from the members' item embeddings (cosine, averaged over the members)."""

    tier = MODEL

    def __init__(
        self,
        scorer: SessionScorer,
        item_ids: list[str],
        manifest: dict[str, Any],
        categories: list[str | None] | None = None,
    ):
        super().__init__(item_ids, manifest, categories)
        self.scorer = scorer
        self.max_length = int(manifest["hyperparameters"]["max_length"])

    @classmethod
    def load(cls, directory: Path) -> SessionRecommender:
        with np.load(directory / WEIGHTS_FILE) as data:
            weights = {name: data[name] for name in data.files}
        return cls(SessionScorer(weights), *_catalogue(directory))

    @cached_property
    def unit_embeddings(self) -> list[np.ndarray]:
        """Each member's item embeddings scaled to length 1 (padding stays 0)."""
        units = []
        for member in self.scorer.members:
            norms = np.linalg.norm(member["embedding"], axis=1, keepdims=True)
            units.append(member["embedding"] / np.maximum(norms, 1e-12))
        return units

    def _cosine(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        units = self.unit_embeddings
        return sum(u[rows] @ u[columns].T for u in units) / len(units)

    def _ranked(
        self, known: list[int], k: int, eligible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        logits = self.scorer.scores(left_pad([known[-self.max_length :]], self.max_length))[0]
        best = logits.max()
        total = np.exp(logits[1:] - best).sum()  # probabilities over the whole catalogue
        logits[~eligible] = -np.inf
        top = np.argpartition(-logits, k - 1)[:k]
        top = top[np.argsort(-logits[top], kind="stable")]
        scores = np.exp(logits[top] - best) / total
        if not np.isfinite(scores).all():
            raise FloatingPointError("the model's scores are not all finite numbers")
        return top, scores

    def _because(self, known: list[int], top: np.ndarray) -> np.ndarray:
        return np.argmax(self._cosine(top, np.asarray(known)), axis=1)

    def _similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cosine = self._cosine(np.asarray([item]), np.arange(len(self.item_ids)))[0]
        cosine[[0, item]] = -np.inf
        top = np.argpartition(-cosine, k - 1)[:k]
        top = top[np.argsort(-cosine[top], kind="stable")]
        return top, cosine[top], np.ones(len(top), dtype=bool)


class KnnRecommender(Recommender):
    """The V-SKNN floor; scores are each item's share of the neighbours' votes, ties by
    training popularity (the evaluation protocol's order). Items without a vote are the
    popular fill; explanations and similar items come from co-occurrence in the index."""

    tier = VSKNN

    def __init__(
        self,
        index: SessionIndex,
        idf: bool,
        item_ids: list[str],
        manifest: dict[str, Any],
        categories: list[str | None] | None = None,
    ):
        super().__init__(item_ids, manifest, categories)
        self.sessions = index
        self.weights = index.idf() if idf else None
        self.popularity = popularity_order(index.clicks)

    @classmethod
    def load(cls, directory: Path, idf: bool) -> KnnRecommender:
        return cls(SessionIndex.load(directory / KNN_FILE), idf, *_catalogue(directory))

    def _top(self, scores: np.ndarray, k: int, eligible: np.ndarray) -> np.ndarray:
        ranked = scores.copy()
        ranked[~eligible] = -1.0  # after every eligible item, even those without a vote
        return top_k(ranked[None, :], self.popularity, k)[0]

    def _ranked(
        self, known: list[int], k: int, eligible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        scores = self.sessions.scores(known, self.weights)
        if not scores[eligible].any():  # no neighbour voted for an eligible item
            return None
        top = self._top(scores, k, eligible)
        return top, scores[top] / max(scores.sum(), 1e-12)

    def _because(self, known: list[int], top: np.ndarray) -> np.ndarray:
        together = self.sessions.co_occurrence(known, top)  # known × top
        return np.where(together.max(axis=0) > 0, np.argmax(together, axis=0), -1)

    def _similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        together = self.sessions.co_occurrence([item], np.arange(self.sessions.catalogue))[0]
        share = together / max(together[item], 1)  # of the sessions that hold the item
        top = self._top(share, k, self._all_but(item))
        return top, share[top], share[top] > 0


class PopularRecommender(Recommender):
    """The API's packaged fallback (``chalicelib.fallback``): a list of popular items that
    answers every request while no champion can be loaded (a cold start with S3 unreachable,
    or before the first promotion). Every answer, similar items included, is that order.
    It knows no categories: a category filter to keep leaves no item eligible."""

    tier = POPULAR

    @classmethod
    def load(cls, path: Path) -> PopularRecommender:
        """Raises ValueError, naming the file, unless it holds ``{"from": ..., "popular_items":
        [<item id>, ...]}`` with at least one item."""
        try:
            fallback = json.loads(path.read_text())
            items, source = [str(item) for item in fallback["popular_items"]], fallback["from"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path}: not a fallback list ({type(error).__name__}: {error})"
            ) from None
        if not items:
            raise ValueError(f"{path}: popular_items is empty")
        manifest = {"model_version": f"fallback:{source}", "popular_items": items}
        return cls([PADDING, *items], manifest)

    def _ranked(
        self, known: list[int], k: int, eligible: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._popular(k, eligible)

    def _because(self, known: list[int], top: np.ndarray) -> np.ndarray:
        return np.full(len(top), -1)

    def _similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        top, scores = self._popular(k, self._all_but(item))
        return top, scores, np.zeros(len(top), dtype=bool)


def _items_by_category(categories: list[str | None]) -> dict[str, np.ndarray]:
    """Each category's item indices (built once per loaded model: a filter costs a lookup)."""
    by_category: dict[str, list[int]] = {}
    for index, category in enumerate(categories):
        if index > 0 and category is not None:
            by_category.setdefault(category, []).append(index)
    return {c: np.asarray(items, dtype=np.int64) for c, items in by_category.items()}


def _catalogue(directory: Path) -> tuple[list[str], dict[str, Any], list[str | None] | None]:
    """A folder's vocabulary, manifest and, where it has them, the items' categories."""
    item_ids = json.loads((directory / VOCABULARY_FILE).read_text())
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    path = directory / CATEGORIES_FILE
    if not path.exists():  # trained before the product feed: no item has a category
        return item_ids, manifest, None
    categories = json.loads(path.read_text())
    if len(categories) != len(item_ids):
        raise ValueError(
            f"{path}: {len(categories)} categories for a vocabulary of {len(item_ids)} items"
        )
    return item_ids, manifest, categories


def load(directory: Path) -> Recommender:
    """The tier a model folder serves: its deep model, backed by the V-SKNN floor of the same
    training run (the variant that scored better) where it fails, or the V-SKNN floor (plain
    or idf) where the gate let the floor serve."""
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    served = served_tier(manifest)
    if served != MODEL:
        return KnnRecommender.load(directory, idf=served == VSKNN_IDF)
    model = SessionRecommender.load(directory)
    model.backup = KnnRecommender.load(directory, idf=_better_floor(manifest) == VSKNN_IDF)
    return model


def _better_floor(manifest: dict[str, Any]) -> str:
    """The V-SKNN variant with the higher MRR@20 at the gate (plain where unmeasured)."""
    metrics = manifest.get("metrics", {})

    def mrr(variant: str) -> float:
        return float(metrics.get(variant, {}).get("mrr@20", 0.0))

    return VSKNN_IDF if mrr(VSKNN_IDF) > mrr(VSKNN) else VSKNN
