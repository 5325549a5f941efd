"""Exactly once through faults: the real collector process killed at the worst moments, the
broker stopped mid-batch, two collectors racing, a message delivered twice, a notification
lost. Each scenario writes under its own host prefix of one lake and topic; after all of
them, the real staging job (Spark) runs once and each scenario's staged rows are counted:
exactly its lines, no fewer, no more.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoprec import aws
from shoprec.contracts import StagingJobArgs
from shoprec.local import process, services, stages
from shoprec.local.runtime import REPO, Ports, venv_python
from tests.integration.ingestion import Ingestion, ingestion, text, view_lines

pytestmark = [pytest.mark.integration, pytest.mark.slow]
LINES = 60  # ~ 10 KiB: several 2 KiB batches per object
STAGED: dict[str, int] = {}  # host prefix → events it must have staged


@pytest.fixture(scope="module")
def lake(cloud) -> Ingestion:
    import uuid

    return ingestion(cloud, uuid.uuid4().hex[:10], publish_timeout_seconds=5)


class Collector:
    """A collector process whose output is read as it runs (fail point markers, logs)."""

    def __init__(self, lake: Ingestion, failpoints: str = "", resume: str = "") -> None:
        self.process = lake.run(
            failpoints=failpoints, resume=resume, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.fresh: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.fresh.put(line)

    def wait_for(self, marker: str, timeout: float = 90) -> None:
        while marker not in self.fresh.get(timeout=timeout):
            pass

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self, timeout: float = 120) -> list[dict]:
        assert self.process.wait(timeout=timeout) == 0, "".join(self.output[-30:])
        return [json.loads(line) for line in self.output if line.startswith("{")]


def _recover(lake: Ingestion) -> list[dict]:
    """A healthy collector, run to the end (sweep, then the whole queue)."""
    return Collector(lake).finish()


def _check(lake: Ingestion, host: str, key: str, published_at_least: int = LINES) -> None:
    entry = lake.entry(key)
    assert (entry["state"], entry["outcome"], entry["counts"]["events"]) == (
        "done",
        "ingested",
        LINES,
    )
    records = [r for r in lake.published() if f"/{host}/" in r["origin"]]
    assert len({r["event_id"] for r in records}) == LINES and len(records) >= published_at_least
    STAGED[host] = LINES


def test_killed_after_landing_before_publishing(lake):
    key = lake.put("killed-landed/access.log", text(view_lines(LINES, "a")))
    collector = Collector(lake, failpoints="landed")
    collector.wait_for("FAILPOINT landed")
    collector.kill()
    assert not [r for r in lake.published() if "/killed-landed/" in r["origin"]]
    _recover(lake)
    _check(lake, "killed-landed", key)


def test_killed_after_publishing_before_its_state_update(lake):
    key = lake.put("killed-published/access.log", text(view_lines(LINES, "b")))
    collector = Collector(lake, failpoints="published")
    collector.wait_for("FAILPOINT published")
    collector.kill()
    first_batch = [r for r in lake.published() if "/killed-published/" in r["origin"]]
    assert 0 < len(first_batch) < LINES
    _recover(lake)
    _check(lake, "killed-published", key, published_at_least=LINES + len(first_batch))


def test_broker_stopped_mid_batch_and_restarted(lake, tmp_path: Path):
    kafka = services.kafka(Ports.from_env())
    key = lake.put("broker-down/access.log", text(view_lines(LINES, "c")))
    resume = tmp_path / "resume"
    collector = Collector(lake, failpoints="mid_publish", resume=str(resume))
    collector.wait_for("FAILPOINT mid_publish")
    process.stop(kafka, quiet=True)
    try:
        resume.touch()
        collector.wait_for("PublishError")
        collector.kill()
    finally:
        process.start(kafka)
    _recover(lake)
    _check(lake, "broker-down", key)


def test_two_collectors_on_the_same_object_at_once(lake, tmp_path: Path):
    key = lake.put("two-collectors/access.log", text(view_lines(LINES, "d")))
    resume = tmp_path / "resume"
    first = Collector(lake, failpoints="landed", resume=str(resume))
    first.wait_for("FAILPOINT landed")  # holds the stream's lease, mid-object
    second = Collector(lake)  # its sweep announces the same object again
    second.wait_for('"state":"busy"')
    resume.touch()
    logs = first.finish() + second.finish()
    states = [log.get("state") for log in logs if log.get("key") == key]
    assert states.count("done") == 1 and "busy" in states
    _check(lake, "two-collectors", key, published_at_least=LINES)
    records = [r for r in lake.published() if "/two-collectors/" in r["origin"]]
    assert len(records) == LINES  # not one event published twice


def _notified(lake: Ingestion, name: str, session: str) -> tuple[str, dict]:
    """Put an object and take its notification off the queue (the test decides its fate)."""
    key = lake.put(name, text(view_lines(LINES, session)))
    queue = lake.settings.queue_url
    (message,) = aws.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"]
    return key, message


def test_a_message_delivered_twice(lake):
    sqs, queue = aws.client("sqs"), lake.settings.queue_url
    key, message = _notified(lake, "delivered-twice/access.log", "e")
    sqs.send_message(QueueUrl=queue, MessageBody=message["Body"])
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    logs = _recover(lake)
    states = [log.get("state") for log in logs if log.get("key") == key]
    assert states.count("done") == 1 and states.count("redelivered") >= 1  # (+ the sweep's)
    assert set(states) == {"done", "redelivered"}
    _check(lake, "delivered-twice", key)
    assert len([r for r in lake.published() if "/delivered-twice/" in r["origin"]]) == LINES


def test_a_lost_notification_is_found_by_the_sweep(lake):
    key, message = _notified(lake, "notification-lost/access.log", "f")
    aws.client("sqs").delete_message(
        QueueUrl=lake.settings.queue_url, ReceiptHandle=message["ReceiptHandle"]
    )
    logs = _recover(lake)
    assert key in logs[-1]["event_source"]["sweep"]["unnotified"]
    _check(lake, "notification-lost", key)


def _staged_by_host(lake: Ingestion, database: str) -> Iterator[tuple[str, int]]:
    query = (
        f"select split(origin, '/')[2] as host, count(*) as n, count(distinct event_id) as ids "
        f"from {database}.events group by 1"
    )
    done = subprocess.run(
        [venv_python("glue"), "-m", "shoprec.local.sql", "--json", query],
        env=stages.stage_env(), cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    for line in done.stdout.splitlines():
        row = json.loads(line)
        assert row["n"] == row["ids"]
        yield row["host"], row["n"]


def test_every_scenario_staged_exactly_its_lines(lake):
    if len(STAGED) < 6:
        pytest.skip("runs after the six fault scenarios of this module")
    database = f"faults_{lake.settings.topic.rsplit('.', 1)[-1]}"
    args = StagingJobArgs(
        lake_bucket=lake.lake.bucket,
        kafka_bootstrap=lake.settings.kafka_bootstrap,
        topic=lake.settings.topic,
        run_id="faults",
        database=database,
    )
    summary = stages.run_glue_job("stage_events", args.to_argv())
    assert summary["staged"] == sum(STAGED.values())
    assert summary["read"] == summary["staged"] + summary["duplicates"] + summary["quarantined"]
    assert summary["duplicates"] > 0  # the re-published batches, dropped by event id
    assert dict(_staged_by_host(lake, database)) == STAGED
