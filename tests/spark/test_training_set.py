from datetime import datetime, timedelta

import pytest

from shoprec.spark.training_set import build, sessions

pytestmark = [pytest.mark.spark]
T0 = datetime(2026, 11, 1, 0, 0)


def _events(spark, rows):
    columns = (
        "session_id string, item_id string, event_time timestamp, origin string, "
        "event_type string, status int, user_agent_class string"
    )
    return spark.createDataFrame(rows, columns)


def _view(session, item, minutes, offset=0, **overrides):
    row = {
        "session_id": session,
        "item_id": item,
        "event_time": T0 + timedelta(minutes=minutes),
        "origin": f"incoming/a.log@{offset}",
        "event_type": "view",
        "status": 200,
        "user_agent_class": "browser",
    } | overrides
    return tuple(row.values())


def test_sessions_are_ordered_by_time_then_log_position(spark):
    rows = [_view("s", "b", 1, offset=200), _view("s", "a", 1, offset=100), _view("s", "c", 0)]
    result = sessions(_events(spark, rows)).collect()
    assert result[0]["items"] == ["c", "a", "b"]


def test_time_split_vocabulary_and_filters(spark):
    day = 24 * 60
    rows = [
        _view("t1", "a", 0),
        _view("t1", "b", 1),
        _view("t1", "a", 2),
        _view("t2", "b", 10),
        _view("t2", "c", 11),
        _view("bot", "a", 12, user_agent_class="bot"),
        _view("bot", "b", 13, user_agent_class="bot"),
        _view("err", "a", 14, status=404),
        _view("err", "b", 15),
        _view("v1", "a", 2 * day),
        _view("v1", "new", 2 * day + 1),
        _view("v1", "c", 2 * day + 2),
        _view("v2", "new", 2 * day + 3),
        _view("v2", "b", 2 * day + 4),
        _view("one", "a", 5),
    ]
    dataset = build(_events(spark, rows), validation_days=1.0, min_item_support=1)
    train = {r["session_id"]: r["items"] for r in dataset.train.collect()}
    validation = {r["session_id"]: r["items"] for r in dataset.validation.collect()}
    latest = {r["session_id"]: r["items"] for r in dataset.latest.collect()}
    vocabulary = {
        r["item_id"]: (r["item_index"], r["clicks"]) for r in dataset.vocabulary.collect()
    }
    assert train == {"t1": ["a", "b", "a"], "t2": ["b", "c"]}
    assert validation == {"v1": ["a", "c"]}  # unknown item dropped; v2 too short after that
    assert latest == {"v1": ["a", "new", "c"], "v2": ["new", "b"]}  # every item, for training
    assert vocabulary == {"a": (1, 2), "b": (2, 2), "c": (3, 1)}
