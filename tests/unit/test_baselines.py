import numpy as np
import pytest

from shoprec.baselines import Baselines
from shoprec.ranking import top_k

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
