"""Impressions pass staging's checks, never reach a training set, and meet the views that
followed their links in the CTR counts per model version, tier and position. (The views are
written out as the web-log parser makes them, ``tests/unit/test_feedback.py``: the Glue
runtime lacks its bot patterns.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shoprec.impressions import ImpressionParser, impression_lines
from shoprec.schema import Event
from shoprec.spark.feedback import ctr_counts
from shoprec.spark.staging import parse_records
from shoprec.spark.training_set import learned_events, product_views

pytestmark = [pytest.mark.spark]
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _events():
    shown = [
        ("r1", "v1", "model", ["10", "11", "12"]),
        ("r2", "v1", "popular", ["10", "13"]),
        ("r3", "v2", "model", ["11", "10"]),
    ]
    lines = [
        line
        for rid, version, tier, items in shown
        for line in impression_lines(rid, version, tier, "/recommendations", items, WHEN)
    ]
    events = [ImpressionParser()(line, f"i@{n}", f"i@{n}") for n, line in enumerate(lines)]
    followed = [
        "/product/11?rec=r1",  # v1 model, position 2
        "/product/11?rec=r1",  # the same link again: one click
        "/product/13?rec=r2",  # v1 popular, position 2
        "/product/99?rec=r3",  # not an item r3 showed: no click
        "/product/10",  # no recommendation followed
    ]
    for n, path in enumerate(followed):
        item, _, rec = path.removeprefix("/product/").partition("?rec=")
        events.append(_view(n, item, path, rec or None))
    return events


def _view(n: int, item: str, url: str, recommendation_id: str | None) -> Event:
    return Event(
        event_id=f"view-{n}",
        event_time=WHEN + timedelta(seconds=n + 1),
        source="weblog",
        event_type="view",
        session_id="s1",
        user_id=None,
        item_id=item,
        query=None,
        url=url,
        status=200,
        referrer=None,
        user_agent_class="browser",
        origin=f"incoming/source=weblog/web-01/access.log@{n}",
        recommendation_id=recommendation_id,
    )


def test_impressions_and_clicks_per_model_version_tier_and_position(spark):
    rows = [(e.to_json(), "t", 0, n) for n, e in enumerate(_events())]
    kafka = spark.createDataFrame(rows, "value string, topic string, partition int, offset long")
    valid, rejected = parse_records(kafka)
    assert rejected.count() == 0
    counts = {
        (r["model_version"], r["tier"], r["position"]): (r["impressions"], r["clicks"])
        for r in ctr_counts(valid)
    }
    assert counts == {
        ("v1", "model", 1): (1, 0),
        ("v1", "model", 2): (1, 1),
        ("v1", "model", 3): (1, 0),
        ("v1", "popular", 1): (1, 0),
        ("v1", "popular", 2): (1, 1),
        ("v2", "model", 1): (1, 0),
        ("v2", "model", 2): (1, 0),
    }
    learned = product_views(learned_events(valid))
    assert learned.where("event_type = 'impression'").count() == 0
    assert learned.count() == 5  # the views, followed from a recommendation or not
