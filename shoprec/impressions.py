"""Impressions: what the recommendation API showed, as a source of its own.

Every answer is an impression: one JSON line per item shown (recommendation_id, model_version,
tier, route, position from 1, item_id, time). The API buffers the lines in memory and puts
them as one object under ``incoming/source=impressions/<instance>/`` when ``batch`` lines
wait or the oldest has waited ``flush_seconds`` (``ImpressionLog``); from there they take
the clickstream's path: ObjectCreated → SQS → collector (``ImpressionParser``) → landing →
Kafka → staging, where views that followed a ``rec=`` link meet them (``shoprec.feedback``).

Why batched S3 puts from the Lambda: an S3 put per answer (or a synchronous Firehose
``PutRecord``) adds a network round trip to every request; a buffer adds none, and the put
runs on a background thread. The price is durability: a Lambda environment that is shut down
loses what it still buffers (at most ``flush_seconds`` of answers; a frozen environment
flushes on its next request). The managed alternative with the same object layout is a
Firehose delivery stream with an S3 destination under the same prefix.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shoprec.ingest.lines import Parsed, Rejection
from shoprec.layout import LakeLayout
from shoprec.schema import (
    Event,
    EventType,
    SessionSource,
    Source,
    UserAgentClass,
    event_id,
    format_time,
)

logger = logging.getLogger(__name__)

_FIELDS = ("recommendation_id", "model_version", "tier", "route", "position", "item_id", "time")


def impression_lines(
    recommendation_id: str,
    model_version: str,
    tier: str,
    route: str,
    items: Sequence[str],
    when: datetime,
) -> list[str]:
    """One line per item shown, positions from 1."""
    shown = format_time(when)
    return [
        json.dumps(
            {
                "recommendation_id": recommendation_id,
                "model_version": model_version,
                "tier": tier,
                "route": route,
                "position": position,
                "item_id": item,
                "time": shown,
            },
            separators=(",", ":"),
        )
        for position, item in enumerate(items, start=1)
    ]


@dataclass(frozen=True)
class ImpressionParser:
    """The impressions ``LineParser``: one line, one ``impression`` event (no shopper's)."""

    source: str = Source.IMPRESSIONS.value

    def __call__(self, line: str, origin: str, position: str) -> Parsed:
        try:
            record = json.loads(line)
        except ValueError:
            return Rejection("malformed_line", "not JSON")
        if not isinstance(record, dict) or any(record.get(f) in (None, "") for f in _FIELDS):
            return Rejection("malformed_line", f"an impression has {', '.join(_FIELDS)}")
        try:
            when = datetime.fromisoformat(str(record["time"])).astimezone(UTC)
        except ValueError:
            return Rejection("bad_timestamp", str(record["time"])[:40])
        shown_at = record["position"]
        if not isinstance(shown_at, int) or shown_at < 1:
            return Rejection("malformed_line", f"position {str(shown_at)[:20]!r}")
        return Event(
            event_id=event_id(self.source, position, line),
            event_time=when,
            source=self.source,
            event_type=EventType.IMPRESSION.value,
            session_id=None,
            user_id=None,
            item_id=str(record["item_id"]),
            query=None,
            url=str(record["route"]),
            status=200,
            referrer=None,
            user_agent_class=UserAgentClass.OTHER.value,
            origin=origin,
            session_source=SessionSource.NONE.value,
            position=shown_at,
            recommendation_id=str(record["recommendation_id"]),
            model_version=str(record["model_version"]),
            tier=str(record["tier"]),
        )


class ImpressionLog:
    """The API's buffer of impression lines, put to the lake in batches off the request path."""

    def __init__(
        self, s3: Any, layout: LakeLayout, batch: int, flush_seconds: float, instance: str = ""
    ):
        self.s3, self.layout = s3, layout
        self.batch, self.flush_seconds = batch, flush_seconds
        self.instance = instance or uuid.uuid4().hex[:12]
        self._lines: list[str] = []
        self._oldest = 0.0
        self._sequence = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(target=self._flusher, name="impressions", daemon=True).start()

    def record(self, lines: list[str]) -> None:
        with self._lock:
            if not self._lines:
                self._oldest = time.monotonic()
            self._lines.extend(lines)
            full = len(self._lines) >= self.batch
        if full:
            self._wake.set()

    def flush(self) -> str | None:
        """Put what waits as one object; its key, or None when nothing waited."""
        with self._lock:
            lines, self._lines = self._lines, []
            self._sequence += 1
            sequence = self._sequence
        if not lines:
            return None
        now = datetime.now(UTC)
        key = (
            f"{self.layout.incoming_prefix(Source.IMPRESSIONS.value)}{self.instance}/"
            f"{now:%Y-%m-%d}/{now:%H%M%S%f}-{sequence:06d}.jsonl"
        )
        body = ("\n".join(lines) + "\n").encode()
        self.s3.put_object(Bucket=self.layout.bucket, Key=key, Body=body)
        return key

    def _flusher(self) -> None:
        while True:
            with self._lock:
                waited = time.monotonic() - self._oldest if self._lines else 0.0
            self._wake.wait(max(self.flush_seconds - waited, 0.05))
            self._wake.clear()
            with self._lock:
                due = self._lines and (
                    len(self._lines) >= self.batch
                    or time.monotonic() - self._oldest >= self.flush_seconds
                )
            if due:
                try:
                    self.flush()
                except Exception:  # the batch is lost (and logged); the API keeps answering
                    logger.exception("a batch of impressions could not be put to the lake")
