"""The OpenSearch source on the real engine: UBI documents written as the UBI client writes
them are pulled with a PIT and search_after from a durable watermark; late documents within
the lag are read once, a down engine fails the run and leaves the watermark, documents that
break the schema are quarantined."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shoprec import aws
from shoprec.ingest import status
from shoprec.ingest.store import JsonStore
from shoprec.layout import LakeLayout
from shoprec.local.search_servers import opensearch_url
from shoprec.search import ubi
from shoprec.search.http import EngineUnavailable
from shoprec.search.opensearch import OpenSearch
from shoprec.search.ubi_collector import OpenSearchCollectorSettings, UbiCollector
from tests.integration.ingestion import consume

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(ubi_engine) -> OpenSearch:
    return ubi_engine


@pytest.fixture
def settings(cloud, bucket, unique, search) -> OpenSearchCollectorSettings:
    return OpenSearchCollectorSettings(
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        topic=f"test.search.{unique}",
        lake_bucket=bucket,
        opensearch_url=opensearch_url(search),
        page_size=7,
        publish_timeout_seconds=10,
    )


def _queries(engine, first: int, count: int, start: datetime) -> None:
    engine.index(
        ubi.QUERIES,
        (
            (f"q{n}", ubi.query_document(f"q{n}", f"query {n}", [] if n % 5 == 0 else ["7"],
                                         f"s{n % 3}", start + timedelta(seconds=n)))
            for n in range(first, first + count)
        ),
    )  # fmt: skip


def _watermark(settings, index):
    store = JsonStore(aws.client("s3"), settings.lake_bucket,
                      LakeLayout.collector_state_prefix("opensearch"))  # fmt: skip
    return store.get(f"watermark-{index}.json")


def test_pages_every_document_once_and_late_ones_within_the_lag(engine, settings):
    _queries(engine, 0, 25, T0)
    click = ubi.action_document("click", "q1", "7", 1, "s1", T0 + timedelta(seconds=2))
    engine.index(ubi.EVENTS, [(None, click)])
    collector = UbiCollector(settings)
    first = collector.collect()
    assert first[ubi.QUERIES]["events"] == 25 and first[ubi.EVENTS]["events"] == 1
    assert first[ubi.QUERIES]["published"] == 25

    # a document indexed late (timestamp inside the lag window) and a new one
    late = ubi.query_document("late", "late query", ["7", "3", "12"], "s9",
                              T0 + timedelta(seconds=10.5))  # fmt: skip
    engine.index(ubi.QUERIES, [("late", late)])
    _queries(engine, 25, 1, T0)
    second = collector.collect()
    assert second[ubi.QUERIES]["events"] == 2 and second[ubi.EVENTS]["events"] == 0
    assert collector.collect()[ubi.QUERIES]["lines"] == 0

    records = consume(settings.kafka_bootstrap, settings.topic)
    assert len(records) == 28 == len({r["event_id"] for r in records})
    kinds = {(r["event_type"], r["query_id"]) for r in records}
    assert ("zero_result", "q0") in kinds and ("search", "late") in kinds
    searches = [r for r in records if r["event_type"] != "search_click"]
    shown = {r["query_id"]: (r["hits"], r["results"]) for r in searches}
    # what each query showed: its hit ids in rank order, and how many
    assert shown["late"] == (3, "7 3 12") and shown["q1"] == (1, "7")
    assert shown["q0"] == (0, None)
    (clicked,) = [r for r in records if r["event_type"] == "search_click"]
    assert (clicked["item_id"], clicked["position"], clicked["session_id"]) == ("7", 1, "s1")
    assert {r["source"] for r in records} == {"opensearch"}


def test_engine_down_fails_the_run_and_keeps_the_watermark(engine, settings):
    _queries(engine, 0, 3, T0)
    UbiCollector(settings).collect()
    before = _watermark(settings, ubi.QUERIES)
    down = UbiCollector(replace(settings, opensearch_url="http://127.0.0.1:9"))
    with pytest.raises(EngineUnavailable, match="127.0.0.1:9"):
        down.collect()
    assert _watermark(settings, ubi.QUERIES).etag == before.etag


def test_documents_that_break_the_schema_are_quarantined_once(engine, settings):
    when = T0.isoformat()
    engine.index(
        ubi.EVENTS,
        [
            ("no-query", {"action_name": "click", "session_id": "s1", "timestamp": when,
                          "event_attributes": {"object": {"object_id": "7"}}}),
            ("bad-position", ubi.action_document("click", "q1", "7", 1, "s1", T0)
             | {"event_attributes": {"object": {"object_id": "7"}, "position": {"ordinal": "3rd"}}}),
            ("no-time", {"action_name": "click", "query_id": "q1", "session_id": "s1"}),
            ("impression", ubi.action_document("impression", "q1", "7", 1, "s1", T0)),
        ],
    )  # fmt: skip
    collector = UbiCollector(settings)
    counts = collector.collect()[ubi.EVENTS]
    assert counts["quarantined"] == {"missing_field": 1, "bad_field": 1, "bad_timestamp": 1}
    assert counts["filtered"] == {"other_action": 1} and counts["events"] == 0
    assert collector.collect()[ubi.EVENTS]["lines"] == 0
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=settings.lake_bucket,
                                Prefix=LakeLayout.quarantine_prefix("collect", "opensearch"))  # fmt: skip
    assert len(listed["Contents"]) == 1


def test_a_run_reports_like_an_object_source_for_the_reconciliation(engine, settings):
    _queries(engine, 0, 4, T0)
    engine.index(ubi.EVENTS, [(None, ubi.action_document("hover", "q1", "7", 1, "s1", T0))])
    first = UbiCollector(settings).summary("r1")
    assert (first["source"], first["lines"], first["events"]) == ("opensearch", 5, 4)
    assert first["filtered"] == {"other_action": 1} and first["balanced"]
    assert first["published"] == first["events_committed"] == 4
    again = UbiCollector(settings).summary("r2")
    assert (again["lines"], again["events_committed"]) == (0, 4)
    # The reconciliation counts the source's committed events itself, from its watermarks.
    store = status.state_store(aws.client("s3"), settings.lake_bucket, settings.source)
    staged = {"table_rows": {"opensearch": 4}, "read": 4, "staged": 4}
    staged |= {"duplicates": 0, "quarantined": 0}
    assert status.reconcile(again, staged, status.events_committed(store))["ok"]
