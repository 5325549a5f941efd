"""Search events of both engines pass staging's checks, and the search-labels table joins
each query, with what it showed (hits, result ids), to the result clicked (position, item)
from the web log or UBI."""

from __future__ import annotations

import pytest

from shoprec.spark.search_labels import search_labels
from shoprec.spark.staging import parse_records
from shoprec.spark.training_set import learned_events, product_views
from tests.spark.search_events import search_events

pytestmark = [pytest.mark.spark]


def test_search_events_stage_and_label_their_queries(spark):
    rows = [(e.to_json(), "t", 0, n) for n, e in enumerate(search_events())]
    kafka = spark.createDataFrame(rows, "value string, topic string, partition int, offset long")
    valid, rejected = parse_records(kafka)
    assert rejected.count() == 0
    kinds = {(r["source"], r["event_type"]) for r in valid.collect()}
    assert kinds == {("solr", "search"), ("weblog", "search_click"), ("opensearch", "zero_result"),
                     ("opensearch", "search"), ("opensearch", "search_click")}  # fmt: skip

    labels = {r["query_id"]: r.asDict() for r in search_labels(valid).collect()}
    assert len(labels) == 3
    solr = labels["s1-0"]
    assert (solr["engine"], solr["query"], solr["session_id"]) == ("solr", "aurora lamp", "s1")
    assert (solr["clicked_item"], solr["position"], solr["zero_result"]) == ("100003", 2, False)
    assert labels["s2-0"]["zero_result"] is True and labels["s2-0"]["clicked_item"] is None
    assert (labels["s3-0"]["clicked_item"], labels["s3-0"]["position"]) == ("100020", 1)
    # what each query showed: UBI names the ids in rank order, Solr's log only counts them
    shown = {q: (label["hits"], label["results"]) for q, label in labels.items()}
    assert shown == {"s1-0": (12, None), "s2-0": (0, None), "s3-0": (1, "100020")}


def test_training_learns_from_the_web_logs_clicks_only(spark):
    rows = [(e.to_json(), "t", 0, n) for n, e in enumerate(search_events())]
    kafka = spark.createDataFrame(rows, "value string, topic string, partition int, offset long")
    valid, _ = parse_records(kafka)
    learned = product_views(learned_events(valid))
    clicks = [(r["source"], r["item_id"]) for r in learned.collect()]
    # the web-04 click recorded by UBI too is one interaction, from the web log
    assert sorted(clicks) == [("weblog", "100003"), ("weblog", "100020")]
