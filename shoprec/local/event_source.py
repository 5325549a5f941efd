"""What Lambda's SQS event source mapping does, for a handler run in-process here.

Receives batches (up to 10 messages) from the queue, invokes the handler with Lambda's SQS
event, deletes the messages that succeeded (``batchItemFailures`` names the others; an
exception fails the whole batch), and leaves failed ones to reappear after the visibility
timeout, so the queue's redrive policy moves a message that keeps failing to its dead-letter
queue. Stops when nothing is visible, in flight or delayed. Written here because what it
stands in for is a service of AWS's own, which LocalStack runs only with Docker.

``python -m shoprec.local.event_source <handler.py> --queue-url URL [--sweep]`` prints
``{"event_source": {...}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from shoprec import aws
from shoprec.local.invoke import Handler, LocalContext, load_handler

_BACKLOG = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    region = queue_arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def backlog(sqs: Any, queue_url: str) -> int:
    """Messages visible, in flight or delayed."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(_BACKLOG))
    return sum(int(attributes["Attributes"].get(name, 0)) for name in _BACKLOG)


def drain(
    handler: Handler,
    queue_url: str,
    *,
    function_name: str,
    batch_size: int = 10,
    max_seconds: float = 3600,
) -> dict[str, int]:
    sqs = aws.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    queue_arn = arn["Attributes"]["QueueArn"]
    totals = {"invocations": 0, "messages": 0, "failed": 0}
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            if backlog(sqs, queue_url) == 0:
                break
            continue
        try:
            response = handler(sqs_event(received, queue_arn), LocalContext(function_name)) or {}
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:  # the whole batch failed, as Lambda reports it
            traceback.print_exc(file=sys.stderr)
            failed = {m["MessageId"] for m in received}
        succeeded = [m for m in received if m["MessageId"] not in failed]
        if succeeded:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(succeeded)
                ],
            )
        totals["invocations"] += 1
        totals["messages"] += len(received)
        totals["failed"] += len(failed)
    return totals | {"backlog": backlog(sqs, queue_url)}


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``: of this program alone, unlike
    ``getrusage``'s maxrss, which Linux carries over from the parent across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("handler", type=Path)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--sweep", action="store_true", help="run the reconcile sweep first")
    parser.add_argument("--max-seconds", type=float, default=3600)
    args = parser.parse_args(argv)
    handler, name = load_handler(args.handler), args.handler.parent.name
    summary: dict[str, Any] = {}
    started = time.monotonic()
    if args.sweep:
        summary["sweep"] = handler({"action": "sweep"}, LocalContext(name))
    summary |= drain(handler, args.queue_url, function_name=name, max_seconds=args.max_seconds)
    summary["seconds"] = round(time.monotonic() - started, 2)
    summary["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps({"event_source": summary}), flush=True)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
