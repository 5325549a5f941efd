"""The collector Lambda against real LocalStack (S3, SSM) and a real Kafka broker."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from shoprec import aws, kafka
from shoprec.collector import collect
from shoprec.contracts import CollectorSettings
from shoprec.sources import generate_shop
from shoprec.weblog import render_line

pytestmark = [pytest.mark.integration]
WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _consume(bootstrap: str, topic: str, expected: int) -> list[dict]:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"t-{topic}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    messages, idle = [], 0
    while idle < 10 and len(messages) <= expected:
        message = consumer.poll(1.0)
        if message is None:
            idle += 1
            continue
        assert message.error() is None
        messages.append(json.loads(message.value()))
    consumer.close()
    return messages


@pytest.fixture
def settings(cloud: dict[str, str], bucket: str, unique: str) -> CollectorSettings:
    return CollectorSettings(
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        lake_bucket=bucket,
        topic=f"test.events.{unique}",
        watermark_parameter=f"/test/{unique}/watermark",
        max_objects=2,
    )


def _put(bucket: str, name: str, text: str) -> None:
    aws.client("s3").put_object(
        Bucket=bucket, Key=f"incoming/source=weblog/{name}", Body=text.encode()
    )


def _run(settings: CollectorSettings):
    return collect(settings, aws.client("s3"), aws.client("ssm"), kafka.publish, now=WHEN)


def test_collects_lands_publishes_and_quarantines(settings: CollectorSettings, bucket: str):
    logs = generate_shop(seed=5, days=2, sessions_per_day=40)
    for name, text in logs.files.items():
        _put(bucket, name, text)
    bad = "\n".join(
        [
            render_line(WHEN, "s1", "/product/7"),
            "this is not an access log line",
            render_line(WHEN, "s1", "/wp-admin/setup.php"),
            render_line(WHEN, "s1", "/product/8")[:50],  # truncated file: no newline, cut short
        ]
    )
    _put(bucket, "access-2026-11-09.log", bad)

    first = _run(settings)
    assert first.more and first.objects == 2  # max_objects bounds one invocation
    second = _run(settings)
    assert not second.more

    lines = sum(text.count("\n") for text in logs.files.values()) + 4
    assert first.lines + second.lines == lines
    events = first.events + second.events
    assert first.published + second.published == events
    assert first.quarantined + second.quarantined == lines - events
    assert second.reasons["malformed_line"] == 1 and second.reasons["truncated_line"] == 1
    assert second.reasons["unknown_url"] >= 1

    s3 = aws.client("s3")
    landed = csv.DictReader(
        io.StringIO(s3.get_object(Bucket=bucket, Key=second.landing_key)["Body"].read().decode())
    )
    assert sum(1 for _ in landed) == second.events
    quarantined = [
        json.loads(line)
        for line in s3.get_object(Bucket=bucket, Key=second.quarantine_key)["Body"]
        .read()
        .decode()
        .splitlines()
    ]
    assert {"reason", "detail", "origin", "raw"} <= set(quarantined[0])
    assert "this is not an access log line" in {q["raw"] for q in quarantined}

    messages = _consume(settings.kafka_bootstrap, settings.topic, events)
    assert len(messages) == events
    assert len({m["event_id"] for m in messages}) == events


def test_reruns_read_only_new_data_and_rewrite_the_same_batch(
    settings: CollectorSettings, bucket: str
):
    day = [render_line(WHEN, f"s{i}", f"/product/{i}") for i in range(5)]
    _put(bucket, "access-2026-11-01.log", "\n".join(day[:3]) + "\n")
    first = _run(settings)
    assert first.events == 3
    assert _run(settings).events == 0  # nothing new since the watermark

    # Lost watermark (a crash before it moved): the same batch is rewritten, not added.
    aws.client("ssm").delete_parameter(Name=settings.watermark_parameter)
    again = _run(settings)
    assert again.events == 3 and again.landing_key == first.landing_key
    landed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix="landing/")["Contents"]
    assert len(landed) == 1

    _put(bucket, "access-2026-11-01.log", "\n".join(day) + "\n")  # the file grew
    grown = _run(settings)
    assert grown.events == 2 and grown.lines == 2 and grown.landing_key != first.landing_key


def test_handler_validates_settings_at_first_invocation(monkeypatch: pytest.MonkeyPatch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "lambdas" / "weblog_collector" / "handler.py"
    spec = importlib.util.spec_from_file_location("collector_handler", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importing reads no settings
    monkeypatch.delenv("SHOPREC_KAFKA_BOOTSTRAP", raising=False)
    with pytest.raises(Exception, match="SHOPREC_KAFKA_BOOTSTRAP"):
        module.handler({}, None)
