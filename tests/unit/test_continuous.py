import pytest

from shoprec.continuous import TrainingPolicy, decide, jensen_shannon

pytestmark = pytest.mark.unit
POLICY = TrainingPolicy(min_new_sessions=100, min_item_drift=0.1, max_training_minutes_per_day=60)


def test_jensen_shannon_is_zero_for_the_same_shape_and_one_for_disjoint_items():
    assert jensen_shannon({"a": 2, "b": 2}, {"a": 5, "b": 5}) == 0
    assert jensen_shannon({"a": 3}, {"b": 4}) == pytest.approx(1.0)
    assert 0 < jensen_shannon({"a": 9, "b": 1}, {"a": 5, "b": 5}) < 0.5
    assert jensen_shannon({}, {}) == 0 and jensen_shannon({}, {"a": 1}) == 1.0


@pytest.mark.parametrize(
    ("novelty", "champion", "minutes", "train", "words"),
    [
        ({"new_sessions": 5, "item_drift": 0.0}, None, 0, True, "no model serves yet"),
        ({"new_sessions": 150, "item_drift": 0.0}, "v1", 10, True, "150 new sessions"),
        ({"new_sessions": 60, "item_drift": 0.3}, "v1", 10, True, "item drift 0.300"),
        ({"new_sessions": 60, "item_drift": 0.01}, "v1", 10, False, "only 60 new sessions"),
        ({"new_sessions": 4, "item_drift": 0.97}, "v1", 10, False, "too few to train on"),
        ({"new_sessions": 900, "item_drift": 0.9}, "v1", 60, False, "budget is spent"),
    ],
)
def test_a_cycle_trains_for_new_data_or_drift_within_the_days_budget(
    novelty, champion, minutes, train, words
):
    decision = decide(POLICY, novelty, champion, minutes)
    assert decision.train is train and words in decision.reason
    assert decision.budget_seconds == max(60 - minutes, 0) * 60


def test_the_policy_reads_the_environments_options():
    options = {"min_new_sessions": "7", "max_training_minutes_per_day": "15"}
    policy = TrainingPolicy.from_options(lambda name, default: options.get(name, default))
    assert policy == TrainingPolicy(7, 0.1, 15.0, 50, window_days=30)


def test_the_options_cdk_sets_are_the_ones_the_dag_reads_back():
    policy = TrainingPolicy(min_item_drift=0.25, window_days=3)
    options = policy.to_options("shoprec")
    assert options["shoprec.window_days"] == "3"
    read = TrainingPolicy.from_options(lambda name, default: options[f"shoprec.{name}"])
    assert read == policy
