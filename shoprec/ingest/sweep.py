"""The reconcile sweep: what no notification brought, and tails that have waited long enough.

Notifications can be lost (a misconfigured rule, a queue purged, an object put while the
notification was off). The sweep lists the incoming prefix, and every object version
without a ledger entry, older than ``min_age`` (younger ones are left to their
notification), is sent to the collector's queue as if notified. Partial entries (an
unterminated last line waiting for a longer copy) are sent again once ``grace`` has passed,
so their tail is quarantined. Both paths end in the same handler, under the same leases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from shoprec.ingest.notifications import SWEEP, message_for
from shoprec.ingest.reader import ObjectRef
from shoprec.ingest.streams import Ledger


def incoming_objects(s3: Any, bucket: str, prefix: str) -> Iterator[ObjectRef]:
    """The current version of every object under ``prefix`` (versioned or not)."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if version["IsLatest"]:
                yield ObjectRef(
                    key=version["Key"],
                    etag=version["ETag"].strip('"'),
                    size=version["Size"],
                    version=None
                    if version["VersionId"] in (None, "null")
                    else version["VersionId"],
                    modified=version["LastModified"].timestamp(),
                )


def enqueue(sqs: Any, queue_url: str, bucket: str, refs: list[ObjectRef], reason: str) -> None:
    for start in range(0, len(refs), 10):
        entries = [
            {"Id": str(n), "MessageBody": message_for(ref, bucket, reason)}
            for n, ref in enumerate(refs[start : start + 10])
        ]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"could not enqueue {failed}")


def sweep(
    s3: Any,
    sqs: Any,
    ledger: Ledger,
    *,
    bucket: str,
    prefix: str,
    queue_url: str,
    min_age: float,
    grace: float,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    known = ledger.names()
    unseen = [
        ref
        for ref in incoming_objects(s3, bucket, prefix)
        if ref.ledger_name not in known and now - ref.modified >= min_age
    ]
    due = []
    for ref in ledger.pending():
        entry = ledger.get(ref)
        if entry is not None and entry.body["state"] == "done":
            ledger.forget_pending(ref)  # a stale marker (its entry completed meanwhile)
        elif now - ref.modified >= grace:
            due.append(ref)
    enqueue(sqs, queue_url, bucket, unseen + due, SWEEP)
    return {"unnotified": [r.key for r in unseen], "tails_due": [r.key for r in due]}
