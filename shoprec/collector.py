"""The web-log collector: new log data since the watermark → landing CSV + Kafka.

The watermark (an SSM parameter) is the last object read and how many of its bytes were
consumed; log objects are read in key order, so a growing or newly delivered file is picked
up where the previous run stopped. Order of effects makes reruns safe: the landing batch and
quarantine file have deterministic names (rewritten, not duplicated), events keep their
deterministic ids (the staging job drops repeats), and the watermark moves last.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from shoprec.contracts import CollectorSettings
from shoprec.layout import LakeLayout
from shoprec.schema import FIELD_NAMES, Event
from shoprec.weblog import Rejection, parse_line

Publisher = Callable[[CollectorSettings, Iterable[Event]], int]


@dataclass(frozen=True)
class Watermark:
    key: str = ""
    offset: int = 0


@dataclass
class CollectResult:
    objects: int = 0
    lines: int = 0
    events: int = 0
    published: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    landing_key: str | None = None
    quarantine_key: str | None = None
    watermark: dict[str, Any] = field(default_factory=dict)
    more: bool = False  # objects left for the next invocation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Batch:
    events: list[Event] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    lines: int = 0


def split_lines(data: bytes, start: int) -> Iterable[tuple[int, str, bool]]:
    """(byte offset, text, complete) per line; the last may lack its newline (truncated)."""
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        complete = end != -1
        stop = end if complete else len(data)
        yield start + position, data[position:stop].decode("utf-8", "replace"), complete
        position = stop + 1


def _parse_object(batch: _Batch, key: str, data: bytes, start: int, source: str) -> None:
    for offset, text, complete in split_lines(data, start):
        if not text.strip():
            continue
        batch.lines += 1
        origin = f"{key}@{offset}"
        parsed = parse_line(text.rstrip("\r"), source, origin)
        if isinstance(parsed, Event):
            batch.events.append(parsed)
            continue
        reason = parsed.reason if complete else "truncated_line"
        batch.rejected.append(
            asdict(Rejection(reason, parsed.detail)) | {"origin": origin, "raw": text}
        )


def _pending_objects(s3: Any, layout: LakeLayout, source: str, mark: Watermark) -> list[dict]:
    paginator = s3.get_paginator("list_objects_v2")
    listed = [
        obj
        for page in paginator.paginate(Bucket=layout.bucket, Prefix=layout.incoming_prefix(source))
        for obj in page.get("Contents", [])
    ]
    return sorted(
        (
            o
            for o in listed
            if o["Key"] > mark.key or (o["Key"] == mark.key and o["Size"] > mark.offset)
        ),
        key=lambda o: o["Key"],
    )


def _csv_text(events: list[Event]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELD_NAMES, lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow({k: ("" if v is None else v) for k, v in event.to_record().items()})
    return buffer.getvalue()


def load_watermark(ssm: Any, name: str) -> Watermark:
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return Watermark()
    return Watermark(**json.loads(value))


def collect(
    settings: CollectorSettings, s3: Any, ssm: Any, publish: Publisher, now: datetime | None = None
) -> CollectResult:
    """One invocation: read what is new, land it, publish it, then move the watermark."""
    layout = LakeLayout(settings.lake_bucket)
    mark = load_watermark(ssm, settings.watermark_parameter)
    pending = _pending_objects(s3, layout, settings.source, mark)
    todo, later = pending[: settings.max_objects], pending[settings.max_objects :]
    result = CollectResult(more=bool(later))
    if not todo:
        result.watermark = asdict(mark)
        return result

    batch = _Batch()
    for obj in todo:
        start = mark.offset if obj["Key"] == mark.key else 0
        body = s3.get_object(Bucket=layout.bucket, Key=obj["Key"], Range=f"bytes={start}-")[
            "Body"
        ].read()
        _parse_object(batch, obj["Key"], body, start, settings.source)
        batch.ranges.append(f"{obj['Key']}:{start}-{start + len(body)}")
        mark = Watermark(obj["Key"], start + len(body))

    batch_id = hashlib.sha256("|".join(batch.ranges).encode()).hexdigest()[:20]
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    if batch.events:
        result.landing_key = layout.landing_key(settings.source, day, batch_id)
        s3.put_object(
            Bucket=layout.bucket,
            Key=result.landing_key,
            Body=_csv_text(batch.events).encode(),
            ContentType="text/csv",
        )
    if batch.rejected:
        result.quarantine_key = layout.quarantine_key("collect", settings.source, day, batch_id)
        body = "".join(json.dumps(r) + "\n" for r in batch.rejected)
        s3.put_object(Bucket=layout.bucket, Key=result.quarantine_key, Body=body.encode())
    result.published = publish(settings, batch.events) if batch.events else 0
    ssm.put_parameter(
        Name=settings.watermark_parameter,
        Value=json.dumps(asdict(mark)),
        Type="String",
        Overwrite=True,
    )

    result.objects, result.lines, result.events = len(todo), batch.lines, len(batch.events)
    result.quarantined = len(batch.rejected)
    result.reasons = dict(Counter(r["reason"] for r in batch.rejected))
    result.watermark = asdict(mark)
    return result
