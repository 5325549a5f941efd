import numpy as np
import pytest

from shoprec import baselines as baselines_module
from shoprec.baselines import Baselines
from shoprec.ranking import SORTED_WIDTH, top_k

pytestmark = pytest.mark.unit
# Items 1..5 (0 is padding). Popularity: 2 (4 clicks) > 1 (3) > 3 (3, later id) > 4 (1) > 5 (0).
TRAIN = [[1, 2, 3], [2, 1, 2], [3, 2, 4], [1, 3]]
TIMES = [10.0, 20.0, 30.0, 40.0]


@pytest.fixture(scope="module")
def baselines():
    return Baselines(TRAIN, catalogue=6, session_times=TIMES, knn_k=2, knn_sample=3)


def test_top_k_breaks_ties_by_popularity_and_pads():
    scores = np.array([[0.0, 0.0, 0.0, 1.0, 1.0, 0.0]])
    assert top_k(scores, np.array([2, 1, 3, 4, 5]), 4).tolist() == [[3, 4, 2, 1]]


def test_pop_and_spop(baselines):
    assert baselines.recommend("pop", [[5]], 5).tolist() == [[2, 1, 3, 4, 5]]
    assert baselines.recommend("spop", [[4, 5, 5]], 3).tolist() == [[5, 4, 2]]


def test_sequential_rules_weigh_by_distance(baselines):
    # After 1: 2 at d=1 (s1) + 3 at d=2 (s1) + 2 at d=1 (s2) + 3 at d=1 (s4) → 2: 2.0, 3: 1.5.
    scores = baselines.scores("sr", [[4, 1]])[0]
    assert scores[2] == pytest.approx(2.0) and scores[3] == pytest.approx(1.5)
    assert baselines.recommend("sr", [[4, 1]], 2).tolist() == [[2, 3]]


def test_vsknn_by_hand():
    # Prefix [3, 4] weighs 3 → 1/2 and 4 → 2/2. Sessions sharing an item: s1 (t=10, {1,2,3},
    # sim .5), s3 (t=30, {2,3,4}, sim 1.5), s4 (t=40, {1,3}, sim .5); the 2 most recent are
    # s4 and s3, both neighbours (k=2): item 1 ← .5, item 2 ← 1.5, item 3 ← 2.0, item 4 ← 1.5.
    knn = Baselines(TRAIN, catalogue=6, session_times=TIMES, knn_k=2, knn_sample=2)
    scores = knn.scores("vsknn", [[3, 4]])[0]
    assert scores.tolist() == pytest.approx([0.0, 0.5, 1.5, 2.0, 1.5, 0.0])
    assert knn.recommend("vsknn", [[3, 4]], 5).tolist() == [[3, 2, 4, 1, 5]]


def test_vsknn_keeps_only_the_k_most_similar_neighbours():
    knn = Baselines(TRAIN, catalogue=6, session_times=TIMES, knn_k=1, knn_sample=10)
    assert knn.scores("vsknn", [[3, 4]])[0].tolist() == pytest.approx([0, 0, 1.5, 1.5, 1.5, 0])


def _dense_rules(train, catalogue, steps):
    """SR's rules as the definition reads, one pair at a time into a dense matrix."""
    rules = np.zeros((catalogue, catalogue))
    for session in train:
        for d in range(1, steps + 1):
            for a, b in zip(session[:-d], session[d:], strict=False):
                rules[a, b] += 1.0 / d
    return rules


def test_sparse_rules_equal_the_dense_definition_exactly(monkeypatch):
    rng = np.random.default_rng(5)
    train = [rng.integers(1, 40, rng.integers(1, 15)).tolist() for _ in range(300)]
    monkeypatch.setattr(baselines_module, "RULE_PAIRS", 200)  # many reductions
    knn = Baselines(train, catalogue=40, session_times=range(300), sr_steps=4)
    assert 0 < knn.rules.nonzeros < 40 * 40
    expected = _dense_rules(train, 40, 4)
    np.testing.assert_array_equal(knn.scores("sr", [[i] for i in range(40)]), expected)


def test_top_k_of_a_wide_catalogue_equals_a_stable_sort_of_every_column():
    rng = np.random.default_rng(1)
    width = 3 * SORTED_WIDTH
    scores = rng.integers(0, 3, (4, width + 1)).astype(np.float64)  # many ties
    scores[0] = 0.0
    scores[1, rng.integers(0, width, 5)] = 9.0
    popularity = rng.permutation(width) + 1
    expected = popularity[np.argsort(-scores[:, popularity], axis=1, kind="stable")[:, :20]]
    np.testing.assert_array_equal(top_k(scores, popularity, 20), expected)


@pytest.mark.parametrize("scored", [3, 50])  # fewer and more than k scored items per row
def test_top_k_of_sparse_scores_equals_a_stable_sort_of_every_column(scored):
    rng = np.random.default_rng(scored)
    width = 3 * SORTED_WIDTH
    scores = np.zeros((6, width + 1))
    for row in range(1, 6):  # row 0 scores nothing: the popular order
        scores[row, rng.integers(1, width + 1, scored)] = rng.integers(1, 4, scored)
    popularity = rng.permutation(width) + 1
    expected = popularity[np.argsort(-scores[:, popularity], axis=1, kind="stable")[:, :20]]
    np.testing.assert_array_equal(top_k(scores, popularity, 20), expected)
