"""A collector: its settings wired to the engine, the queue and the sweep (one per source).

``handle`` takes one queue message: each object version it announces is ingested within the
invocation's budget; what the budget leaves unread, and objects whose stream another
invocation holds, go back on the queue as continuation messages (with a delay for the
latter), so a large object never exhausts a message's receive count. A failure (Kafka down,
S3 error) raises: the message returns after its visibility timeout, and after
``maxReceiveCount`` tries waits in the dead-letter queue, while the sweep still finds the
object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from shoprec import aws, emf
from shoprec.contracts import CollectorSettings
from shoprec.ingest.engine import Budget, IngestConfig, Ingestor, Result
from shoprec.ingest.lines import LineParser
from shoprec.ingest.notifications import CONTINUE, message_for, refs_from_message
from shoprec.ingest.reader import ObjectRef
from shoprec.ingest.store import JsonStore
from shoprec.ingest.streams import Ledger, Streams
from shoprec.ingest.sweep import sweep
from shoprec.kafka import Publisher
from shoprec.layout import LakeLayout
from shoprec.metrics import COLLECT

log = Logger(service="collector")
BUSY_RETRY_SECONDS = 60  # a stream held by another invocation is tried again after this
SAFETY_SECONDS = 60  # left of the function's timeout to finish and commit the last batch


@dataclass
class Collector:
    settings: CollectorSettings
    parse: LineParser
    redact: Callable[[str], str]
    s3: Any = None
    sqs: Any = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.s3 = self.s3 or aws.client("s3")
        self.sqs = self.sqs or aws.client("sqs")
        self.layout = LakeLayout(self.settings.lake_bucket)
        self.prefix = self.layout.incoming_prefix(self.settings.source)
        self.store = JsonStore(
            self.s3,
            self.settings.lake_bucket,
            self.layout.collector_state_prefix(self.settings.source),
        )
        self.ledger = Ledger(self.store)
        self.publisher = Publisher(self.settings, self.settings.publish_timeout_seconds)
        self.metrics = emf.lambda_metrics(COLLECT, self.settings.source, self.settings.env)

    def streams(self, owner: str) -> Streams:
        return Streams(self.store, owner, self.settings.lease_seconds)

    def ingestor(self, owner: str) -> Ingestor:
        s = self.settings
        return Ingestor(
            s3=self.s3,
            layout=self.layout,
            parse=self.parse,
            publish=self.publisher,
            streams=self.streams(owner),
            ledger=self.ledger,
            config=IngestConfig(s.source, s.batch_bytes, tail_grace_seconds=s.tail_grace_seconds),
            redact=self.redact,
            clock=self.clock,
        )

    def budget(self, seconds_left: float | None = None) -> Budget:
        deadline = float("inf") if seconds_left is None else time.monotonic() + seconds_left
        return Budget(self.settings.budget_bytes, deadline)

    def handle_event(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """A Lambda event: the scheduled sweep, or an SQS batch (partial failures reported
        with Powertools' batch processor, so one failing object does not retry the others)."""
        if event.get("action") == "sweep" or event.get("detail-type") == "Scheduled Event":
            found = self.sweep()
            log.info("swept", extra=found)
            return found
        owner = context.aws_request_id
        log.append_keys(run_id=owner, source=self.settings.source)
        budget = self.budget(context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS)

        def ingest(record: Any) -> None:
            try:
                results = self.handle(record.body, owner, budget)
            except Exception:
                log.exception("message failed", extra={"message_id": record.message_id})
                raise  # the batch processor reports it: the message returns later
            for result in results:
                log.info("object", extra=result.to_dict())
                emf.add_counts(
                    self.metrics, result.counts.to_dict(), self.settings.source, self.settings.env
                )

        try:
            return process_partial_response(
                event=event,
                record_handler=ingest,
                processor=BatchProcessor(EventType.SQS),
                context=context,
            )
        finally:
            emf.flush(self.metrics)

    def handle(self, body: str, owner: str, budget: Budget) -> list[Result]:
        """Ingest the object versions one message announces (raises on failure)."""
        ingestor, results = self.ingestor(owner), []
        for ref in refs_from_message(body, self.settings.lake_bucket, self.prefix):
            ref = self._complete(ref)
            result = ingestor.ingest(ref, budget) if not budget.exhausted else Result(ref, "more")
            if result.state in ("more", "busy"):
                wait = min(BUSY_RETRY_SECONDS, self.settings.lease_seconds)
                delay = wait if result.state == "busy" else 0
                self.requeue(ref, delay)
            results.append(result)
        return results

    def _complete(self, ref: ObjectRef) -> ObjectRef:
        """Notifications without an ETag (some event types) are completed from S3."""
        if ref.etag:
            return ref
        head = self.s3.head_object(Bucket=self.settings.lake_bucket, Key=ref.key)
        return ObjectRef(
            ref.key,
            head["ETag"].strip('"'),
            head["ContentLength"],
            head.get("VersionId"),
            head["LastModified"].timestamp(),
        )

    def requeue(self, ref: ObjectRef, delay: int = 0) -> None:
        self.sqs.send_message(
            QueueUrl=self.settings.queue_url,
            MessageBody=message_for(ref, self.settings.lake_bucket, CONTINUE),
            DelaySeconds=min(delay, 900),
        )

    def sweep(self) -> dict[str, Any]:
        s = self.settings
        return sweep(
            self.s3,
            self.sqs,
            self.ledger,
            bucket=s.lake_bucket,
            prefix=self.prefix,
            queue_url=s.queue_url,
            min_age=s.sweep_min_age_seconds,
            grace=s.tail_grace_seconds,
            now=self.clock(),
        )
