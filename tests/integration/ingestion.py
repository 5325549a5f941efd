"""A collector on its own lake, queue, secret and topic, against real LocalStack and Kafka.

The lake is provisioned as ``make up`` provisions it (``shoprec.local.lake``); the collector
is the one the Lambda handler builds, driven in-process by the local stand-in of Lambda's
SQS event source mapping, or as a separate process (``run``) that a fault test can kill.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from shoprec import aws
from shoprec.collectors import parser_for
from shoprec.contracts import CollectorSettings
from shoprec.deployment import Deployment
from shoprec.ingest.collector import Collector
from shoprec.ingest.reader import ObjectRef
from shoprec.ingest.status import state_store
from shoprec.ingest.streams import Counts, Ledger, Streams
from shoprec.layout import LakeLayout
from shoprec.local import event_source
from shoprec.local.lake import LocalLake, provision
from shoprec.local.runtime import REPO, venv_python
from shoprec.privacy import ClientHasher, client_hash_key
from shoprec.weblog.render import render_line

PREFIX = LakeLayout.incoming_prefix("weblog")
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def view_lines(
    count: int, session: str = "s1", start: int = 0, client: str = "10.1.2.3"
) -> list[str]:
    """``count`` product views of one session, a second apart, items ``start``..."""
    return [
        render_line(START + timedelta(seconds=n), session, f"/product/{n}", client=client)
        for n in range(start, start + count)
    ]


def text(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@dataclass
class Clock:
    """The collector's clock, which a test moves forward (tail grace periods)."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Ingestion:
    settings: CollectorSettings
    lake: LocalLake
    clock: Clock = field(default_factory=Clock)

    @property
    def source(self) -> str:
        return self.settings.source

    @property
    def handler(self) -> str:
        return str(REPO / "lambdas" / f"{self.source}_collector" / "handler.py")

    @cached_property
    def collector(self) -> Collector:
        hasher = ClientHasher(client_hash_key(self.settings.client_hash_secret))
        parser = parser_for(self.settings, hasher)
        return Collector(self.settings, parser, hasher.redact, clock=self.clock)

    @property
    def s3(self) -> Any:
        return aws.client("s3")

    def put(self, name: str, body: bytes) -> str:
        key = LakeLayout.incoming_prefix(self.source) + name
        self.s3.put_object(Bucket=self.lake.bucket, Key=key, Body=body)
        return key

    def drain(self, max_seconds: float = 120) -> dict[str, int]:
        """Every queued message through the collector, as Lambda's event source would."""
        return event_source.drain(
            self.collector.handle_event,
            self.settings.queue_url,
            function_name=f"{self.source}_collector",
            max_seconds=max_seconds,
        )

    def sweep(self) -> dict[str, Any]:
        return self.collector.sweep()

    def run(self, *, failpoints: str = "", resume: str = "", **popen: Any) -> subprocess.Popen:
        """The real Lambda handler in its own process, draining the queue (sweep first)."""
        env = os.environ | self.settings.to_env() | {"PYTHONPATH": str(REPO)}
        env |= {"SHOPREC_FAILPOINTS": failpoints, "SHOPREC_FAILPOINT_RESUME": resume}
        command = [
            venv_python("lambda"), "-m", "shoprec.local.event_source", self.handler,
            "--queue-url", self.settings.queue_url, "--sweep", "--max-seconds", "120",
        ]  # fmt: skip
        return subprocess.Popen(command, env=env, cwd=REPO, text=True, **popen)

    # What the collector left behind -------------------------------------------------------
    def ref(self, key: str) -> ObjectRef:
        head = self.s3.head_object(Bucket=self.lake.bucket, Key=key)
        return ObjectRef(key, head["ETag"].strip('"'), head["ContentLength"], head.get("VersionId"))

    def entry(self, key: str, ref: ObjectRef | None = None) -> dict[str, Any]:
        document = self.ledger.get(ref or self.ref(key))
        assert document is not None, f"no ledger entry for {key}"
        return document.body

    @property
    def ledger(self) -> Ledger:
        return Ledger(state_store(self.s3, self.lake.bucket, self.source))

    def totals(self) -> Counts:
        streams = Streams(state_store(self.s3, self.lake.bucket, self.source), "test", 0)
        total = Counts()
        for body in streams.all():
            total.add(Counts.from_dict(body["totals"]))
        return total

    def _objects(self, prefix: str) -> list[bytes]:
        listed = self.s3.list_objects_v2(Bucket=self.lake.bucket, Prefix=prefix)
        return [
            self.s3.get_object(Bucket=self.lake.bucket, Key=o["Key"])["Body"].read()
            for o in listed.get("Contents", [])
        ]

    def landed(self) -> list[dict[str, str]]:
        return [
            row
            for body in self._objects(LakeLayout.landing_prefix(self.source))
            for row in csv.DictReader(io.StringIO(body.decode()))
        ]

    def quarantined(self) -> list[dict[str, Any]]:
        prefix = LakeLayout.quarantine_prefix("collect", self.source)
        return [json.loads(line) for body in self._objects(prefix) for line in body.splitlines()]

    def published(self) -> list[dict[str, Any]]:
        return consume(self.settings.kafka_bootstrap, self.settings.topic)


def consume(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """Every record on the topic: read up to each partition's end offset at the call."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{topic}"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in partitions
    }
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    records, left = [], sum(ends.values())
    deadline = time.monotonic() + 60
    while left and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        assert message.error() is None, message.error()
        records.append(json.loads(message.value()))
        left -= 1
    consumer.close()
    assert left == 0, f"{left} records not read"
    return records


def ingestion(cloud: dict[str, str], unique: str, **overrides: Any) -> Ingestion:
    deployment = Deployment(f"t{unique}")
    lake = provision(
        aws.client("s3"),
        aws.client("sqs"),
        aws.client("secretsmanager"),
        f"test-{unique}",
        deployment=deployment,
        visibility_seconds=3,
        max_receive=3,
    )
    settings = CollectorSettings(
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        lake_bucket=lake.bucket,
        topic=f"test.events.{unique}",
        queue_url=lake.queues[overrides.get("source", "weblog")],
        client_hash_secret=lake.secret,
        batch_bytes=2048,
        lease_seconds=5,
        sweep_min_age_seconds=0,
        publish_timeout_seconds=10,
    )
    return Ingestion(replace(settings, **overrides), lake)


def outcomes(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["outcome"] for e in entries)
