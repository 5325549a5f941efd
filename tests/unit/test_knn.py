"""The sparse V-SKNN index against a literal reading of the data README's definition."""

import math
import random

import numpy as np
import pytest

from shoprec.knn import SessionIndex

pytestmark = pytest.mark.unit


def _literal_vsknn(train, times, prefix, catalogue, k, sample, idf=False):
    """The definition, one loop at a time (equal similarity: the more recent session wins)."""
    weight = {item: (p + 1) / len(prefix) for p, item in enumerate(prefix)}
    if idf:
        for item in weight:
            containing = sum(item in s for s in train)
            weight[item] *= math.log(len(train) / containing) if containing else 0.0
    by_recency = sorted(range(len(train)), key=lambda s: times[s], reverse=True)
    candidates = [s for s in by_recency if set(train[s]) & set(prefix)][:sample]
    similarity = {s: sum(weight[i] for i in set(train[s]) & set(prefix)) for s in candidates}
    neighbours = sorted(candidates, key=lambda s: -similarity[s])[:k]  # stable: recent first
    scores = np.zeros(catalogue)
    for s in neighbours:
        for item in set(train[s]):
            scores[item] += similarity[s]
    return scores


@pytest.mark.parametrize("idf", [False, True])
def test_matches_the_literal_definition_on_random_sessions(idf):
    rng = random.Random(3)
    catalogue = 30
    train = [[rng.randrange(1, catalogue) for _ in range(rng.randint(2, 7))] for _ in range(200)]
    times = rng.sample(range(10_000), len(train))
    index = SessionIndex.build(train, times, catalogue)
    weights = index.idf() if idf else None
    for _ in range(50):
        prefix = [rng.randrange(1, catalogue) for _ in range(rng.randint(1, 6))]
        expected = _literal_vsknn(train, times, prefix, catalogue, k=7, sample=20, idf=idf)
        np.testing.assert_allclose(index.scores(prefix, weights, k=7, sample=20), expected)


def test_idf_by_hand():
    index = SessionIndex.build([[1, 2, 1], [2, 3], [2]], [0.0, 1.0, 2.0], catalogue=5)
    expected = [0.0, math.log(3 / 1), math.log(3 / 3), math.log(3 / 1), 0.0]
    np.testing.assert_allclose(index.idf(), expected)


def test_an_item_in_no_session_scores_nothing_and_the_index_round_trips(tmp_path):
    index = SessionIndex.build([[1, 2], [2, 3]], [5.0, 1.0], catalogue=5)
    assert index.scores([4]).tolist() == [0.0] * 5
    oldest = index.session_items[index.session_indptr[0] : index.session_indptr[1]]
    assert oldest.tolist() == [2, 3]  # sessions are numbered oldest first
    index.save(tmp_path / "knn.npz")
    loaded = SessionIndex.load(tmp_path / "knn.npz")
    np.testing.assert_array_equal(loaded.scores([2, 1]), index.scores([2, 1]))


def test_co_occurrence_counts_the_sessions_that_hold_both_items():
    sessions = [[1, 2], [2, 3, 1], [4, 5], [3, 3, 1]]
    index = SessionIndex.build(sessions, range(len(sessions)), 6)
    assert index.co_occurrence([1, 4], np.arange(6)).tolist() == [
        [0, 3, 2, 2, 0, 0],
        [0, 0, 0, 0, 1, 1],
    ]
