"""Each alarm condition raised on the local cloud: the stages' own emitters put breaching
values into LocalStack's CloudWatch, LocalStack evaluates the alarms of ``shoprec.alarms``,
publishes each change to the SNS topic, and the status report names the stage."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from shoprec import aws, emf, metrics
from shoprec.alarms import LOCAL_THRESHOLDS, alarm_specs
from shoprec.local import emf as local_emf
from shoprec.local import health

pytestmark = [pytest.mark.integration]

FIRING = {
    "quarantine-ratio-weblog",
    "oldest-pending-weblog",
    "silent-source-solr",
    "kafka-lag",
    "dag-run-failed",
    "no-new-champion",
    "api-latency-p99",
    "api-5xx-rate",
}
SOURCES = ("weblog", "solr", "opensearch")


def _collect_summary(lines: int, quarantined: int, pending: int, oldest: float) -> dict:
    return {  # the shape of shoprec.ingest.status.summary
        "lines": lines,
        "events": lines - quarantined,
        "quarantined": {"unparsable": quarantined} if quarantined else {},
        "filtered": {},
        "objects": {"ingested": 1, "pending": pending},
        "oldest_pending_seconds": oldest,
    }


def _emit_breaches(env: str, t, capsys) -> None:
    """Each stage's emitter, with values that cross the environment's bounds (weblog: 20 %
    quarantined, an object pending for an hour; solr: a run without a line)."""
    runs = {
        "weblog": _collect_summary(100, 20, 1, 3600),
        "solr": _collect_summary(0, 0, 0, 0),
        "opensearch": _collect_summary(50, 0, 0, 0),
    }
    for source, summary in runs.items():
        metrics.publish(metrics.collect_values(summary), metrics.COLLECT, source, env=env)
    staged = {"read": 10, "staged": 10, "duplicates": 0, "quarantined": 0, "kafka_lag": 10**6}
    metrics.publish(metrics.staging_values(staged), metrics.STAGING, env=env)
    stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600 * 24 * 30))
    gate = metrics.gate_values({"promoted": False}, {"promoted_at": stale})
    metrics.publish(gate, metrics.GATE, env=env)
    metrics.publish({"RunFailed": 1}, metrics.DAG, env=env)
    # The API's path: Powertools' EMF on stdout, extracted as CloudWatch Logs would.
    from api.chalicelib.observability import request_values

    recorder = emf.lambda_metrics(metrics.API, metrics.ALL_SOURCES)
    emf.add(recorder, request_values(503, t.api_p99_ms * 3, None))
    emf.flush(recorder)
    documents = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert documents and all(local_emf.forward(line) for line in documents)


def _notified(sqs, queue_url: str) -> set[str]:
    names = set()
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        alarm = json.loads(json.loads(message["Body"])["Message"])
        if alarm["NewStateValue"] == health.ALARM:
            names.add(alarm["AlarmName"])
    return names


def test_each_alarm_condition_fires_notifies_and_shows_in_the_status(
    cloud, unique, monkeypatch, capsys
):
    env = f"test{unique}"
    monkeypatch.setenv(metrics.ENV_VARIABLE, env)  # the Lambdas' dimension (their environment)
    thresholds = replace(LOCAL_THRESHOLDS, period_seconds=10, silent_source_seconds=10)
    specs = alarm_specs(thresholds, SOURCES)
    cloudwatch, sns, sqs = aws.client("cloudwatch"), aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name=f"alarms-{unique}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"alarms-{unique}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])

    _emit_breaches(env, thresholds, capsys)
    health.put_alarms(cloudwatch, specs, env, topic)  # LocalStack evaluates a new alarm at once

    expected = {spec.alarm_name(env) for spec in specs if spec.name in FIRING}
    notified: set[str] = set()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        notified |= _notified(sqs, queue)
        if set(health.firing(cloudwatch, env)) == expected and notified >= expected:
            break
        time.sleep(1)
    assert set(health.firing(cloudwatch, env)) == expected
    assert notified == expected

    report = health.report(cloudwatch, env, specs, SOURCES)
    print("\n".join(report))
    lines = {line[:20].strip(): line for line in report}
    assert "quarantine-ratio-weblog" in lines["collect weblog"]
    assert "oldest-pending-weblog" in lines["collect weblog"]
    assert "silent-source-solr" in lines["collect solr"]
    assert "healthy" in lines["collect opensearch"] and "RunLines 50" in lines["collect opensearch"]
    assert "kafka-lag" in lines["stage"] and "KafkaLag 1e+06" in lines["stage"]
    assert "dag-run-failed" in lines["dag"]
    assert "no-new-champion" in lines["gate"] and "Promoted 0" in lines["gate"]
    assert "api-latency-p99" in lines["api"] and "api-5xx-rate" in lines["api"]
    assert "healthy" in lines["train"]
