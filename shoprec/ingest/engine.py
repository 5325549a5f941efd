"""Ingest one object version: find what in it is new, then land, quarantine, publish, commit.

What is new: the object's first line names its content stream (``streams.fingerprint``).
Content already ingested is recognised whatever the key: an object whose bytes match the
stream's anchor continues after the committed offset (a file re-delivered longer); one with
nothing past it is a ``duplicate_object`` (a copy, a rename, an older shorter version); one
whose bytes differ from what was ingested is a ``conflict``, reported and left alone.

Then the new lines go through in batches of ``batch_bytes``, each in this order: landing CSV
and quarantine file (deterministic names: a retry rewrites them), publish to Kafka, then
commit the stream's offset. A crash anywhere repeats at most the last batch, with the same
event ids, which the staging job drops. Lines end at a newline: an unterminated tail waits
for a longer copy, and is quarantined as ``truncated_line`` once the object is final
(compressed, or untouched for ``tail_grace_seconds``).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shoprec.failpoints import failpoint
from shoprec.ingest.lines import Filtered, Line, LineParser, LineSplitter, Rejection
from shoprec.ingest.reader import ERASED_METADATA, ObjectGone, ObjectReader, ObjectRef
from shoprec.ingest.store import Document
from shoprec.ingest.streams import Counts, LeaseLost, Ledger, Streams, digest, fingerprint
from shoprec.layout import LakeLayout
from shoprec.schema import FIELD_NAMES, Event

ANCHOR_BYTES = 4096  # the last lines before the committed offset that a continuation must match
KNOWN_VERSIONS = 20  # versions a stream remembers (besides its longest) for byte-equal copies


@dataclass(frozen=True)
class IngestConfig:
    source: str
    batch_bytes: int = 4 << 20
    max_line: int = 64 << 10
    tail_grace_seconds: float = 3600.0


@dataclass
class Budget:
    """What one invocation may still read (bytes) and until when (monotonic clock)."""

    bytes: int
    deadline: float = float("inf")

    @property
    def exhausted(self) -> bool:
        return self.bytes <= 0 or time.monotonic() >= self.deadline


@dataclass
class Result:
    """What one invocation did with one object version."""

    ref: ObjectRef
    state: str  # done | partial (tail waits) | more (budget spent) | busy | redelivered
    outcome: str | None = None  # ingested | duplicate_object | conflict | missing | empty | erased
    stream: str | None = None
    counts: Counts = field(default_factory=Counts)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.ref.key,
            "version": self.ref.identity,
            "state": self.state,
            "outcome": self.outcome,
            "stream": self.stream,
            "counts": self.counts.to_dict(),
            "detail": self.detail,
        }


@dataclass
class _Batch:
    start: int
    end: int = 0
    events: list[Event] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    recent: deque[Line] = field(default_factory=lambda: deque(maxlen=16))  # for the anchor

    def __post_init__(self) -> None:
        self.end = self.start

    def anchor(self) -> dict[str, Any] | None:
        """Digest of the batch's last whole lines (≤ ANCHOR_BYTES, at least one)."""
        window: list[Line] = []
        for line in reversed(self.recent):
            if line.oversized or (window and window[0].end - line.offset > ANCHOR_BYTES):
                break
            window.append(line)
        if not window:
            return None
        window.reverse()
        data = b"".join(line.raw + b"\n" for line in window)
        return {"start": window[0].offset, "end": window[-1].end, "sha256": digest(data)}


def csv_text(events: list[Event]) -> str:
    """The landing CSV (header from the schema; ``None`` as an empty field)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELD_NAMES)
    writer.writerows(event.to_record().values() for event in events)
    return buffer.getvalue()


def land(
    s3: Any,
    layout: LakeLayout,
    source: str,
    day: str,
    name: str,
    events: list[Event],
    rejected: list[dict[str, Any]],
) -> None:
    """A batch's landing CSV and quarantine file (JSON lines: reason, detail, origin, raw)."""
    if events:
        s3.put_object(
            Bucket=layout.bucket,
            Key=layout.landing_key(source, day, name),
            Body=csv_text(events).encode(),
            ContentType="text/csv",
        )
    if rejected:
        s3.put_object(
            Bucket=layout.bucket,
            Key=layout.quarantine_key("collect", source, day, name),
            Body="".join(json.dumps(r) + "\n" for r in rejected).encode(),
        )


@dataclass
class Ingestor:
    s3: Any
    layout: LakeLayout
    parse: LineParser
    publish: Callable[[list[Event]], int]
    streams: Streams
    ledger: Ledger
    config: IngestConfig
    redact: Callable[[str], str]
    clock: Callable[[], float] = time.time

    def ingest(self, ref: ObjectRef, budget: Budget) -> Result:
        previous = self.ledger.get(ref)
        if previous and previous.body["state"] == "done":
            return Result(ref, "redelivered", previous.body["outcome"], previous.body.get("stream"))
        reader = ObjectReader(self.s3, self.layout.bucket, ref)
        try:
            return self._ingest(ref, reader, previous, budget)
        except ObjectGone:
            self.ledger.record(ref, {"state": "done", "outcome": "missing"}, previous)
            return Result(ref, "done", "missing", detail="the object version is gone")

    def _final(self, ref: ObjectRef, reader: ObjectReader) -> bool:
        """No longer version can follow: compressed (written whole), or left long enough."""
        waited = self.clock() - ref.modified >= self.config.tail_grace_seconds
        return reader.compressed or reader.corrupt is not None or waited

    def _ingest(
        self, ref: ObjectRef, reader: ObjectReader, previous: Document | None, budget: Budget
    ) -> Result:
        if ref.size == 0:
            self.ledger.record(ref, {"state": "done", "outcome": "empty"}, previous)
            return Result(ref, "done", "empty")
        head = reader.read(0, self.config.max_line + 1)
        if ERASED_METADATA in reader.metadata:  # the eraser's rewrite: its lines were ingested
            self.ledger.record(ref, {"state": "done", "outcome": "erased"}, previous)
            return Result(ref, "done", "erased", detail="rewritten by an erasure")
        newline = head.find(b"\n")
        if newline == -1 and len(head) <= self.config.max_line:
            return self._unterminated(ref, reader, previous, head)
        stream = fingerprint(head[: newline + 1] if newline != -1 else head[:-1])
        document = self.streams.acquire(stream, self.config.source)
        if document is None:
            return Result(ref, "busy", stream=stream, detail="another invocation holds the stream")
        try:
            start, verdict = self._resume_at(ref, reader, document.body)
            if verdict is not None:
                return self._account(ref, document, previous, verdict, Counts(), None)
            return self._read(ref, reader, document, previous, start, budget)
        except Exception:
            self._release(stream)  # a retry need not wait for the lease to expire
            raise

    def _release(self, stream: str) -> None:
        """Give up this invocation's lease on a failure, keeping everything committed."""
        current = self.streams.get(stream)
        if (
            current is not None
            and (current.body.get("lease") or {}).get("owner") == self.streams.owner
        ):
            with contextlib.suppress(LeaseLost):
                self.streams.commit(current, current.body, release=True)

    def _resume_at(
        self, ref: ObjectRef, reader: ObjectReader, body: dict[str, Any]
    ) -> tuple[int, tuple[str, str] | None]:
        """Where this object's new content starts, or (outcome, detail) when it has none."""
        committed, anchor = body["committed"], body["anchor"]
        same_bytes = any(o["etag"] == ref.etag and o["size"] == ref.size for o in body["objects"])
        if committed == 0 or anchor is None or same_bytes:
            return committed, None
        window = reader.read(anchor["start"], anchor["end"])
        if len(window) == anchor["end"] - anchor["start"]:
            if digest(window) == anchor["sha256"]:
                return committed, None
            return committed, (
                "conflict",
                f"bytes {anchor['start']}-{anchor['end']} differ from the ingested content",
            )
        return committed, self._shorter_copy(ref, reader, body)

    def _shorter_copy(
        self, ref: ObjectRef, reader: ObjectReader, body: dict[str, Any]
    ) -> tuple[str, str]:
        """An object shorter than what was ingested: a duplicate if its end matches the stream's
        content there (read from the longest version), else a conflict."""
        length = ref.size if not reader.compressed else sum(len(c) for c in reader.chunks(0))
        longest = max(body["objects"], key=lambda o: o.get("length") or 0)
        if (longest.get("length") or 0) < length:
            return "conflict", "shorter than the ingested content, but no version covers it"
        start = max(0, length - ANCHOR_BYTES)
        reference = ObjectReader(self.s3, self.layout.bucket, ObjectRef.from_dict(longest["ref"]))
        try:
            same = reference.read(start, length) == reader.read(start, length)
        except ObjectGone:
            return "conflict", f"cannot verify: {longest['ref']['key']} is gone"
        if same:
            return "duplicate_object", "an older, shorter copy of ingested content"
        return "conflict", f"bytes {start}-{length} differ from {longest['ref']['key']}"

    def _unterminated(
        self, ref: ObjectRef, reader: ObjectReader, previous: Document | None, head: bytes
    ) -> Result:
        """An object without one complete line: it waits, or, once final, is quarantined."""
        if not self._final(ref, reader):
            self.ledger.record(ref, {"state": "partial", "tail_pending": ref.size}, previous)
            return Result(ref, "partial", detail="no complete line yet")
        batch = _Batch(0)
        batch.counts.lines, batch.counts.bytes = 1, ref.size
        self._reject(batch, ref, "-", 0, head, "truncated_line", "no newline in the object")
        self._write(batch, ref, f"unterminated-{ref.ledger_name}")
        entry = {"state": "done", "outcome": "ingested", "counts": batch.counts.to_dict()}
        self.ledger.record(ref, entry, previous)
        return Result(ref, "done", "ingested", counts=batch.counts)

    def _read(
        self,
        ref: ObjectRef,
        reader: ObjectReader,
        document: Document,
        previous: Document | None,
        start: int,
        budget: Budget,
    ) -> Result:
        stream = document.body["stream"]
        splitter = LineSplitter(reader.chunks(start), start, self.config.max_line)
        batch, done, spent = _Batch(start), Counts(), False
        for line in splitter:
            self._line(batch, ref, stream, line)
            if batch.end - batch.start >= self.config.batch_bytes:
                document = self._flush(document, ref, batch)
                budget.bytes -= batch.end - batch.start
                done.add(batch.counts)
                batch = _Batch(batch.end)
                if budget.exhausted:
                    spent = True
                    break
        if batch.counts.lines:
            document = self._flush(document, ref, batch)
            done.add(batch.counts)
        if spent:
            self.streams.commit(document, document.body, release=True)
            return Result(ref, "more", stream=stream, counts=done)
        tail = self._tail(document, ref, reader, splitter)
        if tail is not None:
            document = self._flush(document, ref, tail, tail_offset=splitter.tail_offset)
            done.add(tail.counts)
        length = splitter.tail_offset + splitter.tail_bytes
        pending = splitter.tail_bytes if tail is None and splitter.tail_bytes else 0
        return self._account(ref, document, previous, None, done, length, pending)

    def _tail(
        self, document: Document, ref: ObjectRef, reader: ObjectReader, splitter: LineSplitter
    ) -> _Batch | None:
        """The quarantine batch for a final object's unterminated tail or unreadable rest."""
        if not (splitter.tail_bytes or reader.corrupt) or not self._final(ref, reader):
            return None
        done = document.body.get("tail_quarantined")
        if done and done["offset"] == splitter.tail_offset and not reader.corrupt:
            return None  # quarantined when an earlier copy became final
        batch = _Batch(splitter.tail_offset)
        batch.counts.lines, batch.counts.bytes = 1, splitter.tail_bytes
        reason = "corrupt_compression" if reader.corrupt else "truncated_line"
        detail = reader.corrupt or f"{splitter.tail_bytes} bytes after the last newline"
        position = f"{document.body['stream']}@{splitter.tail_offset}"
        self._reject(batch, ref, position, splitter.tail_offset, splitter.tail, reason, detail)
        return batch

    def _account(
        self,
        ref: ObjectRef,
        document: Document,
        previous: Document | None,
        verdict: tuple[str, str] | None,
        done: Counts,
        length: int | None,
        pending: int = 0,
    ) -> Result:
        """Close the object: its ledger entry, then the stream without its reading state."""
        body = dict(document.body)
        reading = dict(body["reading"])
        earlier = previous.body.get("counts") if previous else None  # a partial entry's lines
        counts = Counts.from_dict(earlier).add(Counts.from_dict(reading.pop(ref.ledger_name, None)))
        outcome, detail = verdict or ("duplicate_object", "")
        if outcome == "duplicate_object" and counts.lines:
            outcome = "ingested"  # its lines were read from it; only its tail came from a copy
        state = "partial" if pending else "done"
        entry = {
            "state": state,
            "outcome": outcome,
            "stream": body["stream"],
            "counts": counts.to_dict(),
            "tail_pending": pending,
            "length": length,
            "detail": detail,
            "at": self.clock(),
        }
        self.ledger.record(ref, entry, previous)
        objects = [o for o in body["objects"] if o["ref"] != ref.to_dict()]
        if outcome != "conflict":
            objects.append(
                {"ref": ref.to_dict(), "etag": ref.etag, "size": ref.size, "length": length}
            )
        longest = max(objects, key=lambda o: o.get("length") or 0, default=None)
        recent = [o for o in objects[-KNOWN_VERSIONS:] if o is not longest]
        objects = ([longest] if longest else []) + recent  # a file re-uploaded all day stays small
        self.streams.commit(document, body | {"reading": reading, "objects": objects}, release=True)
        return Result(ref, state, outcome, body["stream"], done, detail)

    def _line(self, batch: _Batch, ref: ObjectRef, stream: str, line: Line) -> None:
        batch.end = line.end
        batch.counts.lines += 1
        batch.counts.bytes += line.length + 1
        batch.recent.append(line)
        origin, position = f"{ref.key}@{line.offset}", f"{stream}@{line.offset}"
        if line.oversized:
            detail = f"{line.length} bytes, over {self.config.max_line}"
            self._reject(batch, ref, position, line.offset, line.raw, "line_too_long", detail)
            return
        try:
            text = line.raw.decode("utf-8")
        except UnicodeDecodeError as error:
            self._reject(
                batch, ref, position, line.offset, line.raw, "invalid_encoding", str(error)
            )
            return
        if not text.strip():
            batch.counts.filtered["blank"] += 1
            return
        parsed = self.parse(text, origin, position)
        if isinstance(parsed, Event):
            batch.events.append(parsed)
            batch.counts.events += 1
        elif isinstance(parsed, Filtered):
            batch.counts.filtered[parsed.reason] += 1
        else:
            self._quarantine(batch, origin, position, parsed, {"raw": self.redact(text)})

    def _reject(
        self,
        batch: _Batch,
        ref: ObjectRef,
        position: str,
        offset: int,
        raw: bytes,
        reason: str,
        detail: str,
    ) -> None:
        """Quarantine raw bytes (kept base64, redacted: they may not be valid text)."""
        redacted = self.redact(raw.decode("latin-1")).encode("latin-1")
        kept = {"raw_base64": base64.b64encode(redacted).decode()}
        self._quarantine(batch, f"{ref.key}@{offset}", position, Rejection(reason, detail), kept)

    @staticmethod
    def _quarantine(
        batch: _Batch, origin: str, position: str, rejection: Rejection, raw: dict[str, str]
    ) -> None:
        batch.counts.quarantined[rejection.reason] += 1
        record = {"reason": rejection.reason, "detail": rejection.detail}
        batch.rejected.append(record | {"origin": origin, "position": position} | raw)

    def _write(self, batch: _Batch, ref: ObjectRef, name: str) -> None:
        """The batch's landing CSV and quarantine file, named by content (rewritten on retry)."""
        day = datetime.fromtimestamp(ref.modified, UTC).strftime("%Y-%m-%d")
        land(self.s3, self.layout, self.config.source, day, name, batch.events, batch.rejected)
        failpoint("landed")

    def _flush(
        self, document: Document, ref: ObjectRef, batch: _Batch, tail_offset: int | None = None
    ) -> Document:
        stream = document.body["stream"]
        self._write(batch, ref, f"{stream}-{batch.start:015d}-{batch.end:015d}")
        batch.counts.published = self.publish(batch.events) if batch.events else 0
        failpoint("published")
        body = dict(document.body)
        if tail_offset is None:
            body["committed"] = max(body["committed"], batch.end)
            body["anchor"] = batch.anchor() or body["anchor"]
        else:
            body["tail_quarantined"] = {"offset": tail_offset, "bytes": batch.counts.bytes}
        body["totals"] = Counts.from_dict(body["totals"]).add(batch.counts).to_dict()
        reading = dict(body["reading"])
        so_far = Counts.from_dict(reading.get(ref.ledger_name)).add(batch.counts)
        body["reading"] = reading | {ref.ledger_name: so_far.to_dict()}
        return self.streams.commit(document, body)
