"""Messages on a collector's queue → the object versions they announce, and back.

Three shapes arrive: S3 event notifications (S3 → SQS, keys URL-encoded; what LocalStack
delivers here), EventBridge "Object Created" events (S3 → EventBridge → SQS, what the AWS
deployment routes), and the collector's own messages (a continuation, or the sweep's
find), written in the S3 notification shape so one parser reads them all. S3's test event
and objects outside the source's incoming prefix announce nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from shoprec.ingest.reader import ObjectRef

CONTINUE = "shoprec:continue"
SWEEP = "shoprec:sweep"


class MalformedMessage(ValueError):
    """Not a message this collector understands (it goes to the dead-letter queue)."""


def _seconds(timestamp: str | None) -> float:
    return (
        datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() if timestamp else 0.0
    )


def _ref(key: str, obj: dict[str, Any], version_field: str, etag_field: str, when: str | None):
    version = obj.get(version_field)
    return ObjectRef(
        key=key,
        etag=str(obj.get(etag_field) or "").strip('"'),
        size=int(obj.get("size") or 0),
        version=None if version in (None, "", "null") else str(version),
        modified=_seconds(when),
    )


def refs_from_message(body: str, bucket: str, prefix: str) -> list[ObjectRef]:
    """The object versions under ``prefix`` of ``bucket`` that a queue message announces."""
    try:
        message = json.loads(body)
    except ValueError:
        raise MalformedMessage(f"not JSON: {body[:100]!r}") from None
    if not isinstance(message, dict):
        raise MalformedMessage(f"not an object: {body[:100]!r}")
    if message.get("Event") == "s3:TestEvent":
        return []
    try:
        refs = _announced(message)
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedMessage(f"{type(error).__name__} {error}: {body[:100]!r}") from None
    return [ref for name, ref in refs if name == bucket and ref.key.startswith(prefix)]


def _announced(message: dict[str, Any]) -> list[tuple[str, ObjectRef]]:
    """(bucket, object version) pairs of a notification."""
    refs: list[tuple[str, ObjectRef]] = []
    if message.get("source") == "aws.s3" and "detail" in message:  # EventBridge
        detail = message["detail"]
        key = detail["object"]["key"]
        ref = _ref(key, detail["object"], "version-id", "etag", message.get("time"))
        refs.append((detail["bucket"]["name"], ref))
    elif isinstance(message.get("Records"), list):
        for record in message["Records"]:
            s3 = record.get("s3") or {}
            if not str(record.get("eventName", "")).startswith(("ObjectCreated", "shoprec")):
                continue
            key = unquote_plus(s3["object"]["key"])
            ref = _ref(key, s3["object"], "versionId", "eTag", record.get("eventTime"))
            refs.append((s3["bucket"]["name"], ref))
    else:
        raise ValueError("neither an S3 nor an EventBridge notification")
    return refs


def message_for(ref: ObjectRef, bucket: str, reason: str) -> str:
    """The collector's own message for an object version (``reason``: CONTINUE or SWEEP)."""
    when = datetime.fromtimestamp(ref.modified).astimezone().isoformat()
    obj = {"key": quote_plus(ref.key), "size": ref.size, "eTag": ref.etag}
    if ref.version:
        obj["versionId"] = ref.version
    record = {"eventSource": reason, "eventName": reason, "eventTime": when}
    return json.dumps({"Records": [record | {"s3": {"bucket": {"name": bucket}, "object": obj}}]})
