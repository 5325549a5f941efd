"""The staging Glue job on local Spark: real Kafka in, Parquet on LocalStack S3 out."""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shop_events import view

from shoprec.contracts import StagingJobArgs
from shoprec.layout import LakeLayout
from shoprec.schema import PARTITION_COLUMNS, Event, table_columns
from shoprec.spark.search_labels import COLUMNS as LABEL_COLUMNS
from tests.spark.search_events import search_events

pytestmark = [pytest.mark.spark, pytest.mark.integration]
JOB = Path(__file__).parents[2] / "glue_jobs" / "stage_events" / "job.py"


def _job():
    spec = importlib.util.spec_from_file_location("stage_events_job", JOB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _publish(spark, bootstrap: str, topic: str, values: list[str]) -> None:
    frame = spark.createDataFrame(
        [(str(i), v) for i, v in enumerate(values)], "key string, value string"
    )
    frame.write.format("kafka").option("kafka.bootstrap.servers", bootstrap).option(
        "topic", topic
    ).save()


def _args(cloud: dict[str, str], bucket: str, unique: str, topic: str) -> StagingJobArgs:
    return StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="r1",
        topic=topic,
        database=f"test_{unique}",
    )


def _stage(spark, cloud, bucket: str, unique: str, events: list[Event]) -> dict[str, object]:
    """Publish ``events`` on a topic of the test's own and run the job once over it."""
    topic = f"test.stage.{unique}"
    _publish(spark, cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic, [e.to_json() for e in events])
    return _job().main(_args(cloud, bucket, unique, topic).to_argv())


def _events(count: int) -> list[Event]:
    """Views of two shoppers, one with a session cookie, one known by its client only."""
    return [
        view(
            f"e{n}",
            datetime(2026, 11, 1, 8, tzinfo=UTC) + timedelta(seconds=n),
            str(n % 7),
            f"incoming/source=weblog/web-01/access.log@{n * 100}",
            session_id="s1" if n % 2 else None,
            session_source="cookie" if n % 2 else "inferred",
        )
        for n in range(count)
    ]


def test_stages_once_dedupes_quarantines_and_catalogues(spark, cloud, bucket, unique):
    payloads = [e.to_json() for e in _events(40)]
    cookie = next(json.loads(p) for p in payloads if json.loads(p)["session_source"] == "cookie")
    missing_session = cookie | {"session_id": None, "event_id": "x1"}
    bad = [
        "not json at all",
        json.dumps(cookie | {"v": 99}),
        json.dumps(missing_session),
    ]
    # a version-1 record (before client_id and session_source) is still an event
    version_one = {k: v for k, v in cookie.items() if k not in ("client_id", "session_source")}
    payloads.append(json.dumps(version_one | {"v": 1, "event_id": "from-version-1"}))
    # a version-4 record (before hits and results) too
    version_four = {k: v for k, v in cookie.items() if k not in ("hits", "results")}
    payloads.append(json.dumps(version_four | {"v": 4, "event_id": "from-version-4"}))
    topic = f"test.stage.{unique}"
    _publish(spark, cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic, payloads + payloads[:3] + bad)
    args = _args(cloud, bucket, unique, topic)
    from shoprec.spark.staging import ensure_table

    # a table catalogued before with an s3a:// location: the job moves it to s3://
    ensure_table(spark, args.database, args.table, f"s3a://{bucket}/staging/events/")
    job = _job()
    first = job.main(args.to_argv())
    assert first["read"] == len(payloads) + 6
    assert first["staged"] == len(payloads)
    assert first["duplicates"] == 3 and first["quarantined"] == 3
    assert first["kafka_lag"] == 0  # everything on the topic read (the run's last progress)

    again = job.main(args.to_argv())  # same data, same checkpoint: nothing added
    assert again["read"] == 0 and again["staged"] == 0

    # a later run with a day not staged before: its partition is registered too
    newcomer = json.loads(payloads[1]) | {
        "event_id": "brand-new-event",
        "event_time": "2026-11-02T09:00:00.000Z",
    }
    _publish(spark, cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic, [payloads[1], json.dumps(newcomer)])
    later = job.main(args.to_argv())
    assert (later["read"], later["staged"], later["duplicates"]) == (2, 1, 1)
    assert later["kafka_lag"] == 0

    table = spark.table(f"test_{unique}.events")
    assert table.count() == len(payloads) + 1
    assert table.select("event_id").distinct().count() == len(payloads) + 1
    described = spark.sql(f"DESCRIBE TABLE EXTENDED test_{unique}.events").collect()
    location = next(r.data_type for r in described if r.col_name == "Location")
    assert location.rstrip("/") == f"s3://{bucket}/staging/events"
    partitions = [r[0] for r in spark.sql(f"SHOW PARTITIONS test_{unique}.events").collect()]
    assert "source=weblog/event_type=view/event_date=2026-11-01" in partitions
    assert "source=weblog/event_type=view/event_date=2026-11-02" in partitions
    quarantined = spark.read.json(f"s3a://{bucket}/quarantine/stage=stage/")
    reasons = sorted(r["reason"] for r in quarantined.collect())
    assert reasons == ["malformed_json", "missing_fields:session_id", "unsupported_version:99"]
    old = table.where("event_id = 'from-version-1'").first()
    assert old["session_source"] == "cookie" and old["client_id"] is None
    four = table.where("event_id = 'from-version-4'").first()
    assert four["session_id"] == cookie["session_id"] and four["hits"] is None
    assert first["table_rows"] == {"weblog": len(payloads)}
    assert first["search_labels"] == 0


def _day_views(prefix: str, day: int, count: int) -> list[Event]:
    """``count`` views on day ``day`` of October 2026 (day 0 is the 1st)."""
    start = datetime(2026, 10, 1, 8, tzinfo=UTC) + timedelta(days=day)
    return [
        view(f"{prefix}{day}-{n}", start + timedelta(minutes=n), "7", f"test@{n}", "s1")
        for n in range(count)
    ]


def write_staged(spark, bucket: str, database: str, events: list[Event], appends: int) -> None:
    """``events`` staged and catalogued as the job stages them, in ``appends`` appends by its
    own writer (as many files a partition)."""
    from shoprec.spark.staging import (
        append_events,
        ensure_table,
        parse_records,
        register_partitions,
    )

    location = LakeLayout(bucket).uri(LakeLayout.STAGING_EVENTS_PREFIX)
    ensure_table(spark, database, "events", location)
    names = [n for n, _ in PARTITION_COLUMNS]
    for k in range(appends):
        records = spark.createDataFrame(
            [(e.to_json(), "history", 0, i) for i, e in enumerate(events[k::appends])],
            "value string, topic string, partition int, offset long",
        )
        staged = parse_records(records)[0]
        append_events(staged, location)
        partitions = [tuple(r) for r in staged.select(*names).distinct().collect()]
        register_partitions(spark, database, "events", location, partitions)


@pytest.mark.slow
def test_dedupe_reads_only_the_partitions_its_batch_touches(spark, cloud, bucket, unique):
    """30 days staged and catalogued, each its own partition in two files; a batch of the last day (repeats and new events) and of a day not staged yet
    reads that one partition's two files and nothing of the 29 others."""
    history = [e for day in range(30) for e in _day_views("h", day, 4)]
    write_staged(spark, bucket, f"test_{unique}", history, appends=2)
    repeats = _day_views("h", 29, 2)  # staged already
    batch = repeats + _day_views("late", 29, 3) + _day_views("new", 30, 3)
    summary = _stage(spark, cloud, bucket, unique, batch)
    assert (summary["read"], summary["staged"], summary["duplicates"]) == (8, 6, 2)
    assert (summary["partitions_read"], summary["files_read"]) == (1, 2)
    assert summary["table_rows"] == {"weblog": 120 + 6}
    partitions = [r[0] for r in spark.sql(f"SHOW PARTITIONS test_{unique}.events").collect()]
    assert len(partitions) == 31  # the new day's registered by the job
    assert "source=weblog/event_type=view/event_date=2026-10-31" in partitions


NEWER = ("hits", "results")  # the columns schema version 5 added


def catalogue_as_version_four(spark, bucket: str, database: str, old: list[Event]) -> None:
    """The events and search-labels tables as schema version 4 catalogued them (neither
    ``hits`` nor ``results``), with ``old`` staged in files of that version."""
    from shoprec.spark.staging import append_events, ddl, parse_records, register_partitions

    def before(columns):
        return ddl(tuple((name, kind) for name, kind in columns if name not in NEWER))

    layout = LakeLayout(bucket)
    events_uri = layout.uri(layout.STAGING_EVENTS_PREFIX)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(
        f"CREATE EXTERNAL TABLE `{database}`.events ({before(table_columns())}) PARTITIONED BY "
        f"({ddl(PARTITION_COLUMNS)}) STORED AS PARQUET LOCATION '{events_uri}'"
    )
    spark.sql(
        f"CREATE EXTERNAL TABLE `{database}`.search_labels ({before(LABEL_COLUMNS)}) "
        f"STORED AS PARQUET LOCATION '{layout.uri(layout.SEARCH_LABELS_PREFIX, 's3a')}'"
    )
    records = spark.createDataFrame(
        [(e.to_json(), "old", 0, i) for i, e in enumerate(old)],
        "value string, topic string, partition int, offset long",
    )
    staged = parse_records(records)[0].drop(*NEWER)
    append_events(staged, events_uri)
    names = [n for n, _ in PARTITION_COLUMNS]
    partitions = [tuple(r) for r in staged.select(*names).distinct().collect()]
    register_partitions(spark, database, "events", events_uri, partitions)


def _columns(spark, table: str) -> list[str]:
    return [field.name for field in spark.table(table).schema.fields]


def test_search_events_are_staged_by_engine_and_labelled(spark, cloud, bucket, unique):
    """Into tables catalogued by schema version 4, beside a search staged in its files: the
    tables gain ``hits`` and ``results``, the older search reads as null in both."""
    solr = search_events()[0]
    older = dataclasses.replace(solr, event_id="v4-search", query_id="s9-0", hits=None)
    catalogue_as_version_four(spark, bucket, f"test_{unique}", [older])
    summary = _stage(spark, cloud, bucket, unique, search_events())
    assert summary["table_rows"] == {"solr": 2, "weblog": 2, "opensearch": 3}
    assert summary["search_labels"] == 4
    partitions = [r[0] for r in spark.sql(f"SHOW PARTITIONS test_{unique}.events").collect()]
    assert "source=solr/event_type=search/event_date=2026-11-02" in partitions
    assert "source=opensearch/event_type=zero_result/event_date=2026-11-02" in partitions
    # the columns a table created now has, in its order (partition columns last)
    events = [*table_columns(), *PARTITION_COLUMNS]
    assert _columns(spark, f"test_{unique}.events") == [name for name, _ in events]
    assert _columns(spark, f"test_{unique}.search_labels") == [n for n, _ in LABEL_COLUMNS]
    labels = {r["query_id"]: r for r in spark.table(f"test_{unique}.search_labels").collect()}
    solr_label = labels["s1-0"]
    assert (solr_label["engine"], solr_label["clicked_item"], solr_label["position"]) == (
        "solr", "100003", 2)  # fmt: skip
    assert (solr_label["hits"], solr_label["results"]) == (12, None)  # Solr logs no ids
    assert (labels["s3-0"]["hits"], labels["s3-0"]["results"]) == (1, "100020")
    assert (labels["s2-0"]["hits"], labels["s2-0"]["results"]) == (0, None)
    assert (labels["s9-0"]["query"], labels["s9-0"]["hits"]) == ("aurora lamp", None)


def test_kafka_lag_is_what_the_topic_holds_beyond_the_last_progress():
    from shoprec.spark.staging import kafka_lag

    parsed = {"sources": [{"latestOffset": {"t": {"0": 10, "1": 7}}, "endOffset": {"t": {"0": 4}}}]}
    assert kafka_lag(parsed) == 6 + 7
    as_text = {"sources": [{"latestOffset": '{"t": {"0": 3}}', "endOffset": '{"t": {"0": 3}}'}]}
    assert kafka_lag(as_text) == 0 and kafka_lag(None) == 0


def test_product_feeds_become_the_products_table_latest_row_per_item(spark, cloud, bucket, unique):
    """Two days of feeds (the second gzipped, changing one product and dropping another),
    bad rows among them, and a file without a day in its name."""
    from shoprec import aws
    from shoprec.search.catalogue import Product, feed_csv

    s3, layout = aws.client("s3"), LakeLayout(bucket)
    first = [Product("a", "Aurora lamp", "lamp", "Aurora", 19.5), Product("b", "Brisk kettle",
             "kettle", "Brisk", 25.0), Product("c", "Corvid tent", "tent", "Corvid", 99.0)]  # fmt: skip
    second = [first[0], dataclasses.replace(first[1], category="teapot"), Product("d", "Dune",
              "sofa", "Dune", 450.0)]  # fmt: skip
    bad = "e,too,many,fields,1.0,extra\nf,No category,,Ember,2.0\ng h,Spaced id,lamp,Gale,3.0\n"
    bad += "i,Priceless,lamp,Halo,free\nj,Refund,lamp,Halo,-1\nk,Unpriced,lamp,Halo,\n"
    s3.put_object(Bucket=bucket, Key=layout.product_feed_key("2026-11-01"), Body=feed_csv(first))
    second_feed = gzip.compress((feed_csv(second) + bad).encode())
    s3.put_object(
        Bucket=bucket, Key=layout.product_feed_key("2026-11-02") + ".gz", Body=second_feed
    )
    s3.put_object(Bucket=bucket, Key=f"{layout.PRODUCT_FEED_PREFIX}notes.csv", Body=feed_csv(first))
    args = _args(cloud, bucket, unique, f"test.nothing.{unique}")  # no events: a feed alone
    for _ in range(2):  # a rerun rebuilds the same table and the same quarantine
        summary = _job().main(args.to_argv())
        assert summary["products"] == {"staged": 5, "quarantined": 5 + len(first)}
    rows = {r["item_id"]: r for r in spark.table(f"test_{unique}.products").collect()}
    assert {i: (r["category"], str(r["feed_date"])) for i, r in rows.items()} == {
        "a": ("lamp", "2026-11-02"),
        "b": ("teapot", "2026-11-02"),
        "c": ("tent", "2026-11-01"),  # no longer in the feed: its last row stays
        "d": ("sofa", "2026-11-02"),
        "k": ("lamp", "2026-11-02"),  # a product without a price is still a product
    }
    assert rows["k"]["price"] is None and rows["d"]["price"] == 450.0
    quarantined = spark.read.json(f"s3a://{bucket}/quarantine/stage=stage/source=products/")
    reasons = sorted(r["reason"] for r in quarantined.collect())
    assert reasons == [
        "bad_price", "bad_price", "feed_name_without_a_day", "feed_name_without_a_day",
        "feed_name_without_a_day", "item_id_not_a_token", "malformed_row",
        "missing_fields:category",
    ]  # fmt: skip
    from shoprec.spark.products import categories

    assert dict(categories(spark, args.database).collect()) == {
        i: r["category"] for i, r in rows.items()
    }
