"""Benchmark: the web-log collector against a raw Kafka producer, and its memory on 1 GB.

Starts its own LocalStack and Kafka (run folder and ports from the environment: ``make
bench`` gives it ``.run/bench``), then, in one run:

* throughput: one object of the synthetic shop's log (~330k lines) through the real Lambda
  handler (parse, landing CSV, quarantine, publish, commit) in its own process, beside a raw
  confluent-kafka producer sending the same events (same keys, values and producer options)
  from memory: events per second of each, and their ratio;
* memory: a 1 GB (uncompressed) object through the same handler, which reads it in budgeted
  invocations of streamed batches; the process's peak RSS, beside the small object's.

JSON on stdout; progress on stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shoprec import aws
from shoprec.contracts import CollectorSettings
from shoprec.kafka import PRODUCER_OPTIONS, ensure_topic
from shoprec.local import services
from shoprec.local.runtime import REPO, RUN_DIR, Ports, venv_python
from shoprec.local.stages import collector_settings
from shoprec.privacy import ClientHasher, client_hash_key
from shoprec.schema import Event
from shoprec.sources import generate_shop
from shoprec.weblog.parse import WebLogParser

HANDLER = REPO / "lambdas" / "weblog_collector" / "handler.py"
GIGABYTE = 1 << 30


def _progress(message: str) -> None:
    print(f"[bench collector] {message}", file=sys.stderr, flush=True)


def _collect(settings: CollectorSettings, name: str) -> dict[str, Any]:
    """The real handler in its own process, fed by the local event source; its summary (its
    logs in the run folder)."""
    env = os.environ | settings.to_env() | {"PYTHONPATH": str(REPO)}
    log = RUN_DIR / f"collector-{name}.log"
    with log.open("w") as output:
        subprocess.run(
            [venv_python("lambda"), "-m", "shoprec.local.event_source", str(HANDLER),
             "--queue-url", settings.queue_url, "--max-seconds", "3600"],
            env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT, check=True,
        )  # fmt: skip
    last = [line for line in log.read_text().splitlines() if line.startswith('{"event_source"')]
    summary = json.loads(last[-1])["event_source"]
    if summary["backlog"]:
        raise SystemExit(f"the collector left messages unprocessed: {summary}; see {log}")
    return summary


def _events(lines: list[str], settings: CollectorSettings) -> list[Event]:
    """The events the collector makes of these lines (same parser, same key)."""
    hasher = ClientHasher(client_hash_key(settings.client_hash_secret))
    parse = WebLogParser.create(settings.log_format, hasher)
    parsed = (parse(line, f"bench@{n}", f"bench@{n}") for n, line in enumerate(lines))
    return [event for event in parsed if isinstance(event, Event)]


def _raw_producer(events: list[Event], settings: CollectorSettings) -> float:
    """Seconds for a bare producer to send these events, serialised beforehand."""
    from confluent_kafka import Producer

    topic = settings.topic + ".raw"
    config = {"bootstrap.servers": settings.kafka_bootstrap} | PRODUCER_OPTIONS
    ensure_topic(config, topic, settings.topic_retention_hours)
    payloads = [(e.session_id or e.client_id, e.to_json()) for e in events]
    producer = Producer(config)
    started = time.perf_counter()
    for key, value in payloads:
        while True:
            try:
                producer.produce(topic, key=key, value=value)
                break
            except BufferError:
                producer.poll(0.5)
        producer.poll(0)
    assert producer.flush(120) == 0
    return time.perf_counter() - started


def _put(settings: CollectorSettings, key: str, path: Path) -> None:
    aws.client("s3").upload_file(str(path), settings.lake_bucket, key)


def main() -> None:
    ports = Ports.from_env()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
        os.environ.update(services.up(ports))
    try:
        results = _run(collector_settings())
    finally:
        with contextlib.redirect_stdout(sys.stderr):
            services.down(ports)
    json.dump({"collector": results}, sys.stdout, indent=2)
    print()


def _run(settings: CollectorSettings) -> dict[str, Any]:
    logs = generate_shop(seed=1, days=3, sessions_per_day=20_000)
    lines = [line for text in logs.files.values() for line in text.splitlines()]
    block = "".join(line + "\n" for line in lines).encode()
    with tempfile.TemporaryDirectory() as scratch:
        small = Path(scratch) / "small.log"
        small.write_bytes(block)
        _progress(
            f"throughput: {len(lines):,} lines ({len(block) / 1e6:.0f} MB) through the collector"
        )
        _put(settings, "incoming/source=weblog/bench-01/access.log", small)
        collected = _collect(settings, "throughput")
        events = _events(lines, settings)
        _progress(f"anchor: {len(events):,} events through a raw producer")
        raw_seconds = _raw_producer(events, settings)

        large = Path(scratch) / "large.log"
        with large.open("wb") as out:  # its own first line: another file, not a longer copy
            out.write(lines[1].replace("session=", "session=large-").encode() + b"\n")
            while out.tell() < GIGABYTE:
                out.write(block)
        size = large.stat().st_size
        _progress(f"memory: a {size / 2**30:.2f} GiB object through the collector")
        _put(settings, "incoming/source=weblog/bench-02/access.log", large)
        large_run = _collect(settings, "memory")
    collector_rate = len(events) / collected["seconds"]
    raw_rate = len(events) / raw_seconds
    return {
        "throughput": {
            "lines": len(lines),
            "events": len(events),
            "collector_seconds": collected["seconds"],
            "collector_lines_per_second": round(len(lines) / collected["seconds"]),
            "collector_events_per_second": round(collector_rate),
            "raw_producer_events_per_second": round(raw_rate),
            "ratio_to_raw_producer": round(collector_rate / raw_rate, 3),
            "goal_ratio": 0.5,
        },
        "memory": {
            "object_bytes": size,
            "seconds": large_run["seconds"],
            "invocations": large_run["invocations"],
            "peak_rss_mb": large_run["peak_rss_mb"],
            "peak_rss_mb_small_object": collected["peak_rss_mb"],
            "lambda_memory_mb": 1024,
            "batch_bytes": settings.batch_bytes,
            "budget_bytes_per_invocation": settings.budget_bytes,
        },
    }


if __name__ == "__main__":
    main()
