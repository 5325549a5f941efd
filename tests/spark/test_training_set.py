from datetime import datetime, timedelta

import pytest

from shoprec.spark.sessions import assign_sessions
from shoprec.spark.training_set import build, novelty, sessions

pytestmark = [pytest.mark.spark]
T0 = datetime(2026, 11, 1, 0, 0)


def _events(spark, rows):
    columns = (
        "session_id string, item_id string, event_time timestamp, origin string, "
        "event_type string, status int, user_agent_class string, client_id string, "
        "session_source string"
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
        "client_id": None,
        "session_source": "cookie",
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


def _cookieless(client, item, minutes, offset=0):
    return _view(None, item, minutes, offset, client_id=client, session_source="inferred")


def test_cookieless_clicks_become_sessions_split_by_a_pause_of_the_client(spark):
    rows = [
        _cookieless("c1", "a", 0),
        _cookieless("c1", "b", 10),
        _cookieless("c1", "c", 39),  # 29 minutes later: same session
        _cookieless("c1", "d", 70),  # 31 minutes later: a new one
        _cookieless("c1", "e", 71),
        _cookieless("c2", "a", 5),  # another client at the same time: its own session
        _cookieless("c2", "b", 6),
        _view("cookie", "x", 1),  # cookie sessions are kept as they are
        _view("cookie", "y", 200),
        _view("version1", "p", 2, session_source=None),  # no session source: its cookie's
        _view("version1", "q", 3, session_source=None),
    ]
    events = _events(spark, rows)
    with_sessions = assign_sessions(events, gap_minutes=30)
    grouped = sorted(r["items"] for r in sessions(with_sessions).collect())
    assert grouped == [["a", "b"], ["a", "b", "c"], ["d", "e"], ["p", "q"], ["x", "y"]]
    again = {r["session_id"] for r in assign_sessions(events, 30).collect()}
    assert again == {r["session_id"] for r in with_sessions.collect()}  # stable ids
    assert all(s.startswith("inferred-") for s in again - {"cookie", "version1"})


def test_novelty_counts_sessions_after_the_champions_data_and_their_drift(spark):
    day = 24 * 60
    rows = [
        _view("old", "a", 0),
        _view("old", "b", 1),
        _view("new1", "a", day),
        _view("new1", "b", day + 1),
        _view("new2", "c", day + 5),
        _view("new2", "d", day + 6),
    ]
    all_sessions = sessions(_events(spark, rows))
    since = (T0 + timedelta(minutes=10)).isoformat()
    measured = novelty(all_sessions, since)
    assert measured["new_sessions"] == 2
    assert 0 < measured["item_drift"] < 1  # a and b again, c and d new
    assert novelty(all_sessions, None) == {"since": None, "new_sessions": 3, "item_drift": 1.0}


def test_a_first_day_alone_is_split_in_half_so_a_model_still_trains(spark):
    rows = [_view(f"s{n}", item, n * 60 + k) for n in range(4) for k, item in enumerate("ab")]
    dataset = build(_events(spark, rows), validation_days=1.0, min_item_support=1)
    assert dataset.train.count() == 2 and dataset.validation.count() == 2


def test_search_result_clicks_are_session_clicks_unless_views_alone_are_asked_for(spark):
    rows = [
        _view("s1", "a", 0),
        _view("s1", "b", 1, event_type="search_click"),
        _view("s1", "c", 2),
        _view("s1", None, 3, event_type="search"),  # the search itself names no item
        _view("s2", "b", 4, event_type="search_click"),
        _view("s2", "a", 5),
    ]
    events = _events(spark, rows)
    learned = build(events, validation_days=1.0, min_item_support=1).train.collect()
    assert sorted(r["items"] for r in learned) == [["a", "b", "c"]]  # s2 validates
    views = build(events, validation_days=1.0, min_item_support=1, interactions=("view",))
    clicks = views.latest.collect() + views.train.collect()
    assert sorted(r["items"] for r in clicks) == [["a", "c"]]
