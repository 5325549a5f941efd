"""The staging Glue job on local Spark: real Kafka in, Parquet on LocalStack S3 out."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shop_events import view

from shoprec.contracts import StagingJobArgs
from shoprec.schema import Event
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
    topic = f"test.stage.{unique}"
    _publish(spark, cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic, payloads + payloads[:3] + bad)

    args = StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="r1",
        topic=topic,
        database=f"test_{unique}",
    )
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
    assert first["table_rows"] == {"weblog": len(payloads)}
    assert first["search_labels"] == 0


def test_search_events_are_staged_by_engine_and_labelled(spark, cloud, bucket, unique):
    topic = f"test.stage.search.{unique}"
    _publish(spark, cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic, [e.to_json() for e in search_events()])
    args = StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="r1",
        topic=topic,
        database=f"test_{unique}",
    )
    summary = _job().main(args.to_argv())
    assert summary["table_rows"] == {"solr": 1, "weblog": 2, "opensearch": 3}
    assert summary["search_labels"] == 3
    partitions = [r[0] for r in spark.sql(f"SHOW PARTITIONS test_{unique}.events").collect()]
    assert "source=solr/event_type=search/event_date=2026-11-02" in partitions
    assert "source=opensearch/event_type=zero_result/event_date=2026-11-02" in partitions
    labels = spark.table(f"test_{unique}.search_labels").where("query_id = 's1-0'").first()
    assert (labels["engine"], labels["clicked_item"], labels["position"]) == ("solr", "100003", 2)


def test_kafka_lag_is_what_the_topic_holds_beyond_the_last_progress():
    from shoprec.spark.staging import kafka_lag

    parsed = {"sources": [{"latestOffset": {"t": {"0": 10, "1": 7}}, "endOffset": {"t": {"0": 4}}}]}
    assert kafka_lag(parsed) == 6 + 7
    as_text = {"sources": [{"latestOffset": '{"t": {"0": 3}}', "endOffset": '{"t": {"0": 3}}'}]}
    assert kafka_lag(as_text) == 0 and kafka_lag(None) == 0
