"""``make replay``: the landing zone's events of a range of ingest dates published again (real
Kafka, LocalStack S3), and staged again without a row added (real Spark)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shop_events import view

from shoprec import aws
from shoprec.contracts import ReplayJobArgs, StagingJobArgs
from shoprec.ingest.engine import csv_text
from shoprec.layout import LakeLayout
from shoprec.local import stages
from shoprec.replay import main as replay_cli
from shoprec.schema import SCHEMA_VERSION
from tests.integration.ingestion import consume
from tests.integration.lake_balance import assert_balanced, serve_tiny_champion, served_version

pytestmark = [pytest.mark.integration]
# ingest date → events per landing file
LANDED = {"2026-11-01": (3, 2), "2026-11-02": (4,), "2026-11-03": (2,)}


def _land(bucket: str) -> dict[str, list]:
    s3, layout, by_day = aws.client("s3"), LakeLayout(bucket), {}
    for day, files in LANDED.items():
        by_day[day] = []
        for number, count in enumerate(files):
            start = datetime.fromisoformat(day).replace(hour=8, tzinfo=UTC)
            events = [
                view(
                    f"{day}-{number}-{n}",
                    start + timedelta(seconds=n, milliseconds=7),
                    str(n),
                    f"incoming/source=weblog/replay/access.log@{n}",
                    session_id=None if n % 2 else f"s{n}",
                    session_source="inferred" if n % 2 else "cookie",
                )
                for n in range(count)
            ]
            key = layout.landing_key("weblog", day, f"batch-{number}")
            s3.put_object(Bucket=bucket, Key=key, Body=csv_text(events).encode())
            by_day[day] += events
    return by_day


@pytest.fixture
def replayed(cloud, bucket, unique, monkeypatch):
    topic = f"test.replay.{unique}"
    monkeypatch.setenv("SHOPREC_TOPIC", topic)
    monkeypatch.setenv("SHOPREC_LAKE_BUCKET", bucket)
    by_day = _land(bucket)
    return topic, by_day


def test_a_replay_publishes_exactly_the_landed_events_of_its_dates(cloud, replayed):
    topic, by_day = replayed
    summary = replay_cli(["--from", "2026-11-01", "--to", "2026-11-02"])
    assert summary == {"from": "2026-11-01", "to": "2026-11-02", "files": 3, "events": 9}
    published = consume(cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic)
    expected = by_day["2026-11-01"] + by_day["2026-11-02"]
    # as the collector published them, to the byte of each field
    assert sorted(published, key=lambda r: r["event_id"]) == sorted(
        ({"v": SCHEMA_VERSION, **e.to_record()} for e in expected), key=lambda r: r["event_id"]
    )


def test_the_aws_job_publishes_what_make_replay_does(cloud, replayed, bucket):
    topic, by_day = replayed
    args = ReplayJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="outage-1",
        first="2026-11-02",
        last="2026-11-03",
        topic=topic,
    )
    # as Glue runs it: the script, its arguments as --name value pairs
    script = Path(__file__).parents[2] / "glue_jobs" / "replay_landing" / "job.py"
    run = subprocess.run(
        [sys.executable, str(script), *args.to_argv()],
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(run.stdout.splitlines()[-1])["replay_landing"]
    assert summary == {"from": "2026-11-02", "to": "2026-11-03", "files": 2, "events": 6}
    published = consume(cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic)
    expected = by_day["2026-11-02"] + by_day["2026-11-03"]
    assert sorted(r["event_id"] for r in published) == sorted(e.event_id for e in expected)


@pytest.mark.slow
def test_a_replay_over_staged_days_adds_no_rows(cloud, replayed, bucket, unique, tmp_path):
    topic, by_day = replayed
    serving = serve_tiny_champion(bucket, tmp_path)
    args = StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="replay",
        topic=topic,
        database=f"replay_{unique}",
    )
    every_day = ["--from", "2026-11-01", "--to", "2026-11-03"]
    total = sum(len(events) for events in by_day.values())
    assert replay_cli(every_day)["events"] == total  # the first publication: staged once
    first = stages.run_glue_job("stage_events", args.to_argv())
    assert (first["read"], first["staged"], first["duplicates"]) == (total, total, 0)

    assert replay_cli(every_day)["events"] == total  # again, over what is staged
    again = stages.run_glue_job("stage_events", args.to_argv())
    assert (again["read"], again["staged"], again["duplicates"]) == (total, 0, total)
    assert again["table_rows"] == {"weblog": total}
    assert sum(assert_balanced(bucket, args.database)["rows"].values()) == total
    assert served_version(bucket) == serving
