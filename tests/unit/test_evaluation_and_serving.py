import numpy as np
import pytest
from tiny_model import write_tiny_model

from shoprec import serving
from shoprec.evaluation import beyond_accuracy, evaluate, next_item_cases, ranking_metrics
from shoprec.model import left_pad
from shoprec.serving import SessionRecommender

pytestmark = pytest.mark.unit


def test_next_item_cases_follow_the_protocol():
    prefixes, targets = next_item_cases([[1, 2, 3], [4, 5]])
    assert prefixes == [[1], [1, 2], [4]] and targets.tolist() == [2, 3, 5]


def test_hit_rate_and_mrr_by_hand():
    top = np.array([[5, 2, 9], [1, 3, 4], [7, 8, 6]])
    metrics = ranking_metrics(top, np.array([2, 4, 0]))
    assert metrics["hr"] == pytest.approx(2 / 3)
    assert metrics["mrr"] == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)
    assert metrics["ndcg"] == pytest.approx((1 / np.log2(3) + 1 / np.log2(4) + 0) / 3)


def test_coverage_and_popularity_bias_by_hand():
    clicks = np.array([0, 10, 5, 5, 0])  # items 1..4
    top = np.array([[1, 2], [1, 3]])
    metrics = beyond_accuracy(top, clicks)
    assert metrics["coverage"] == pytest.approx(3 / 4)
    assert metrics["popularity"] == pytest.approx((10 + 5 + 10 + 5) / 4 / 10)


def test_evaluate_runs_the_protocol_over_every_prefix():
    def always(prefixes, k):
        return np.tile(np.array([3, 2, 1])[:k], (len(prefixes), 1))

    metrics = evaluate(always, [[1, 3], [3, 2]], np.array([0, 1, 1, 4]), k=1)
    assert metrics == {
        "hr@1": 0.5,
        "mrr@1": 0.5,
        "ndcg@1": 0.5,
        "coverage@1": 1 / 3,
        "popularity@1": 1.0,
        "predictions": 2,
    }


def _tiny_recommender(tmp_path):
    return SessionRecommender.load(write_tiny_model(tmp_path, "v1"))


def test_recommender_returns_k_distinct_known_items_best_first(tmp_path):
    model = _tiny_recommender(tmp_path)
    result = model.recommend(["a", "b"], 3)
    ids = [item for item, _ in result.items]
    scores = [score for _, score in result.items]
    assert result.tier == "model" and len(set(ids)) == 3 and "<pad>" not in ids
    assert scores == sorted(scores, reverse=True)
    logits = model.scorer.scores(left_pad([[1, 2]], model.max_length))[0]
    assert ids[0] == model.item_ids[int(np.argmax(logits))]


def test_unknown_or_empty_sessions_fall_back_to_popular_items(tmp_path):
    model = _tiny_recommender(tmp_path)
    for session in ([], ["nope"]):
        result = model.recommend(session, 2)
        assert result.tier == "popular"
        assert [item for item, _ in result.items] == ["c", "a"]


def test_a_folder_serves_the_tier_its_gate_chose(tmp_path):
    model = serving.load(write_tiny_model(tmp_path / "m", "v1", {"serve": "model"}))
    floor = serving.load(write_tiny_model(tmp_path / "f", "v2", {"serve": "vsknn_idf"}))
    assert (model.tier, floor.tier) == ("model", "vsknn") and floor.weights is not None
    assert serving.load(write_tiny_model(tmp_path / "old", "v0")).tier == "model"


def test_the_vsknn_tier_ranks_the_neighbours_items_with_ties_by_popularity(tmp_path):
    floor = serving.load(write_tiny_model(tmp_path, "v1", {"serve": "vsknn"}))
    # Prefix [d] (4): its one neighbour session {d, e} votes 1 for d and e; the rest tie at 0
    # and follow the index's clicks (a 3, c 3, b 2: a before c by index).
    result = floor.recommend(["d"], 4)
    assert result.tier == "vsknn"
    assert [item for item, _ in result.items] == ["d", "e", "a", "c"]
    assert [score for _, score in result.items] == [0.5, 0.5, 0.0, 0.0]
    assert floor.recommend(["nope"], 2).tier == "popular"


@pytest.mark.parametrize("gate", [{"serve": "model"}, {"serve": "vsknn"}])
def test_filtered_answers_hold_exactly_k_eligible_items_each_explained(tmp_path, gate):
    served = serving.load(write_tiny_model(tmp_path, "v1", gate))
    result = served.recommend(["a", "b"], 3, exclude={"a", "c", "unknown"})
    ids = [item for item, _ in result.items]
    assert len(ids) == 3 and not {"a", "c"} & set(ids) and "<pad>" not in ids
    assert all(because in (None, "a", "b") for because in result.because)
    assert len(served.recommend(["a"], 5, exclude={"a", "b", "c"}).items) == 2  # all eligible
    assert served.recommend(["a"], 5, exclude=set("abcde")).items == []
    popular = served.recommend([], 2, exclude={"c"})
    assert popular.tier == "popular" and [i for i, _ in popular.items] == ["a", "b"]
    assert popular.because == [None, None]


SHOP_ITEMS = [f"i{n}" for n in range(1, 31)]
SHOP_CATEGORIES = [None if n % 7 == 0 else ("shoes", "hats", "bags")[n % 3] for n in range(1, 31)]


@pytest.mark.parametrize("gate", [{"serve": "model"}, {"serve": "vsknn"}])
@pytest.mark.parametrize(
    ("filters", "keeps"),
    [
        ({"categories": ["shoes", "socks"]}, {"shoes"}),
        ({"categories": ["shoes", "bags"], "exclude_categories": ["bags"]}, {"shoes"}),
        ({"exclude_categories": ["shoes", "hats"]}, {"bags", None}),
    ],
)
def test_a_filtered_answer_is_the_whole_ranking_of_the_eligible_items(
    tmp_path, gate, filters, keeps
):
    sessions = [[n, n % 30 + 1, 3 * n % 30 + 1] for n in range(1, 31)]
    folder = write_tiny_model(
        tmp_path, "v1", gate, catalogue=(SHOP_ITEMS, sessions), categories=SHOP_CATEGORIES
    )
    served, category = serving.load(folder), dict(zip(SHOP_ITEMS, SHOP_CATEGORIES, strict=True))
    for session in (["i1", "i2"], []):
        ranking = [item for item, _ in served.recommend(session, 30).items]
        eligible = [item for item in ranking if category[item] in keeps and item != "i3"]
        answer = served.recommend(session, 5, exclude={"i3"}, **filters)
        assert [item for item, _ in answer.items] == eligible[:5]
    cold = served.recommend([], 5, **filters).tier
    assert cold == ("category_popular" if "categories" in filters else "popular")


def test_categories_that_do_not_match_the_vocabulary_are_a_damaged_folder(tmp_path):
    folder = write_tiny_model(tmp_path, "v1", categories=["shoes"])
    with pytest.raises(ValueError, match="categories.json: 2 categories for a vocabulary of 6"):
        serving.load(folder)


def test_the_vsknn_tier_fills_from_the_popular_order_and_says_so(tmp_path):
    floor = serving.load(write_tiny_model(tmp_path, "v1", {"serve": "vsknn"}))
    result = floor.recommend(["d"], 4)  # d and e have votes; a and c are the popular fill
    assert result.because == ["d", "d", None, None]


@pytest.mark.parametrize("gate", [{"serve": "model"}, {"serve": "vsknn"}])
def test_similar_items_exclude_the_item_and_unknown_items_have_none(tmp_path, gate):
    served = serving.load(write_tiny_model(tmp_path, "v1", gate))
    result = served.similar("d", 3)
    ids = [item for item, _ in result.items]
    assert len(ids) == 3 and "d" not in ids and result.tier == served.tier
    assert served.similar("nope", 3) is None


def test_vsknn_similar_items_are_those_sharing_sessions_first(tmp_path):
    floor = serving.load(write_tiny_model(tmp_path, "v1", {"serve": "vsknn"}))
    result = floor.similar("d", 2)  # d shares its one session with e only
    assert result.items[0] == ("e", 1.0) and result.because == ["d", None]


def test_the_packaged_fallback_answers_its_popular_order_to_every_request(tmp_path):
    path = tmp_path / "fallback.json"
    path.write_text('{"from": "v7", "popular_items": ["c", "a", "b", "d"]}')
    fallback = serving.PopularRecommender.load(path)
    assert (fallback.version, fallback.tier, fallback.catalogue_size) == (
        "fallback:v7",
        "popular",
        4,
    )
    answer = fallback.recommend(["a", "unknown"], 3, exclude={"c"})
    assert [i for i, _ in answer.items] == ["a", "b", "d"] and answer.tier == "popular"
    assert answer.because == [None] * 3 and answer.items[0][1] > answer.items[1][1]
    assert [i for i, _ in fallback.recommend([], 2).items] == ["c", "a"]
    similar = fallback.similar("c", 2)
    assert [i for i, _ in similar.items] == ["a", "b"] and similar.because == [None, None]
    assert fallback.recommend([], 2, categories=["shoes"]).items == []  # it knows none
    path.write_text('{"from": "hand", "popular_items": []}')
    with pytest.raises(ValueError, match="popular_items is empty"):
        serving.PopularRecommender.load(path)
    for broken in ('{"from": "hand", "popular_items": ["a"', '{"popular_items": ["a"]}', "[1]"):
        path.write_text(broken)
        with pytest.raises(ValueError, match="fallback.json: not a fallback list"):
            serving.PopularRecommender.load(path)


def test_a_model_is_judged_on_the_sessions_that_end_after_its_data():
    from shoprec.evaluation import ending_after

    sessions, ends = [[1, 2], [2, 3], [3, 4]], [100.0, 200.0, 300.0]
    assert ending_after(sessions, ends, None) == sessions
    assert ending_after(sessions, ends, "1970-01-01T00:03:20") == [[3, 4]]  # 200 s: not after
    assert ending_after(sessions, ends, "1970-01-01T00:01:40+00:00") == [[2, 3], [3, 4]]
    assert ending_after(sessions, ends, "1970-01-01T01:00:00+01:00") == sessions  # 0 s


def test_a_failing_model_tier_hands_the_request_to_the_co_occurrence_tier(tmp_path, caplog):
    """The chain model → V-SKNN of the same training run: an error or scores that are not
    numbers in the model's tier are logged, and the floor answers."""
    served = serving.load(write_tiny_model(tmp_path, "v1", {"serve": "model"}))
    floor = serving.load(write_tiny_model(tmp_path / "f", "v1", {"serve": "vsknn"}))
    assert served.tier == "model" and served.backup.tier == "vsknn"
    expected = floor.recommend(["d"], 4, exclude={"a"})
    served.scorer.weights["member0.item_bias"][:] = np.nan  # a damaged member
    answer = served.recommend(["d"], 4, exclude={"a"})
    assert (answer.tier, answer.items) == ("vsknn", expected.items)
    assert "the model tier failed; the vsknn tier answers" in caplog.text
    served.scorer = None  # any error
    assert served.recommend(["d"], 4, exclude={"a"}).items == expected.items
    assert serving.load(write_tiny_model(tmp_path / "n", "v1", {"serve": "model"})).recommend(
        ["d"], 2).tier == "model"  # fmt: skip


def test_without_a_neighbour_s_vote_the_popular_items_of_the_session_s_categories_answer(
    tmp_path,
):
    """V-SKNN has no answer when no neighbour voted for an eligible item: the session's
    categories' popular items answer while k of them are eligible, else the popular ones."""
    folder = write_tiny_model(tmp_path, "v1", {"serve": "vsknn"}, categories=list("xyxyy"))
    floor = serving.load(folder)
    # [d]'s one neighbour session {d, e} votes for d and e only, both excluded
    answer = floor.recommend(["d"], 1, exclude={"d", "e"})
    assert (answer.tier, [i for i, _ in answer.items]) == ("category_popular", ["b"])
    answer = floor.recommend(["d"], 3, exclude={"d", "e"})  # y holds one eligible item
    assert (answer.tier, [i for i, _ in answer.items]) == ("popular", ["c", "a", "b"])
