"""What the collector remembers: content streams, the object ledger, and leases.

A *content stream* is one log file's content, whatever key or compression it arrives under:
its id is the fingerprint of its first line (as Vector and Fluent Bit fingerprint files).
Its document records how far it has been ingested (``committed``, always at a line end), an
*anchor* (a digest of the last lines ingested, to recognise the same content at the point
where a longer copy continues), cumulative counts, the object versions that contributed,
and a lease: one invocation at a time reads a stream, so two copies of a file delivered at
once, or one object notified twice, cannot both be ingested.

The *ledger* has one document per object version once it is accounted for: what it
contributed (counts by reason) and how it ended (ingested, duplicate_object, conflict, ...).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shoprec.ingest.reader import ObjectRef
from shoprec.ingest.store import Conflict, Document, JsonStore

STREAMS = "streams/"
LEDGER = "objects/"
PENDING = "pending/"  # markers of ledger entries still partial (their tail waits)
WATERMARKS = "watermark-"  # a pulled source's position per index (shoprec.search.ubi_collector)


class LeaseLost(Exception):
    """Another invocation took over the stream (this one overran its lease): stop, change
    nothing more. Whatever this one published is repeated, with the same ids, by the next."""


def fingerprint(first_line: bytes) -> str:
    return hashlib.sha256(first_line).hexdigest()[:32]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Counts:
    """Lines read = events + quarantined + filtered, each by reason."""

    lines: int = 0
    events: int = 0
    published: int = 0
    bytes: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    filtered: Counter[str] = field(default_factory=Counter)

    def add(self, other: Counts) -> Counts:
        self.lines += other.lines
        self.events += other.events
        self.published += other.published
        self.bytes += other.bytes
        self.quarantined.update(other.quarantined)
        self.filtered.update(other.filtered)
        return self

    @property
    def balanced(self) -> bool:
        return self.lines == self.events + sum(self.quarantined.values()) + sum(
            self.filtered.values()
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "events": self.events,
            "published": self.published,
            "bytes": self.bytes,
            "quarantined": dict(self.quarantined),
            "filtered": dict(self.filtered),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Counts:
        data = data or {}
        return cls(
            lines=data.get("lines", 0),
            events=data.get("events", 0),
            published=data.get("published", 0),
            bytes=data.get("bytes", 0),
            quarantined=Counter(data.get("quarantined", {})),
            filtered=Counter(data.get("filtered", {})),
        )


def new_stream(stream: str, source: str) -> dict[str, Any]:
    return {
        "stream": stream,
        "source": source,
        "committed": 0,
        "anchor": None,
        "totals": Counts().to_dict(),
        "objects": [],
        "reading": {},  # ledger name → counts so far, for objects read over several runs
        "tail_quarantined": None,
        "lease": None,
    }


@dataclass
class Streams:
    store: JsonStore
    owner: str
    lease_seconds: float
    clock: Callable[[], float] = time.time

    def acquire(self, stream: str, source: str) -> Document | None:
        """The stream's document under this owner's lease, or None while another holds it."""
        name = STREAMS + stream + ".json"
        document = self.store.get(name)
        if document is None:
            try:
                return self.store.create(name, new_stream(stream, source) | self._lease())
            except Conflict:
                document = self.store.get(name)
                if document is None:
                    return None
        lease = document.body.get("lease")
        if lease and lease["owner"] != self.owner and lease["until"] > self.clock():
            return None
        try:
            return self.store.replace(document, document.body | self._lease())
        except Conflict:
            return None

    def _lease(self) -> dict[str, Any]:
        return {"lease": {"owner": self.owner, "until": self.clock() + self.lease_seconds}}

    def commit(
        self, document: Document, body: dict[str, Any], *, release: bool = False
    ) -> Document:
        """Write the stream's new state, renewing (or releasing) the lease; LeaseLost if another
        invocation has written since."""
        body = body | (self._lease() if not release else {"lease": None})
        try:
            return self.store.replace(document, body)
        except Conflict:
            raise LeaseLost(document.name) from None

    def get(self, stream: str) -> Document | None:
        return self.store.get(STREAMS + stream + ".json")

    def all(self) -> list[dict[str, Any]]:
        return [
            doc.body
            for name in self.store.names(STREAMS)
            if (doc := self.store.get(name)) is not None
        ]


@dataclass(frozen=True)
class Ledger:
    store: JsonStore

    def get(self, ref: ObjectRef) -> Document | None:
        return self.store.get(LEDGER + ref.ledger_name + ".json")

    def record(self, ref: ObjectRef, entry: dict[str, Any], previous: Document | None) -> None:
        """Write an object's entry: created once, or replacing the partial one read before.
        A partial entry has a marker in ``pending/`` (written first, removed after the entry
        is done), so the sweep finds every tail still waiting without reading the ledger."""
        body = {"object": ref.to_dict()} | entry
        marker = PENDING + ref.ledger_name + ".json"
        if entry["state"] == "partial":
            self.store.put(marker, {"object": ref.to_dict()})
        try:
            if previous is None:
                self.store.create(LEDGER + ref.ledger_name + ".json", body)
            else:
                self.store.replace(previous, body)
        except Conflict:
            return  # another invocation accounted for it meanwhile (same content, same counts)
        if entry["state"] == "done" and previous is not None:
            self.store.delete(marker)

    def pending(self) -> list[ObjectRef]:
        """Object versions whose entry is (or may still be) partial."""
        return [
            ObjectRef.from_dict(doc.body["object"])
            for name in self.store.names(PENDING)
            if (doc := self.store.get(name)) is not None
        ]

    def forget_pending(self, ref: ObjectRef) -> None:
        self.store.delete(PENDING + ref.ledger_name + ".json")

    def names(self) -> set[str]:
        return {n.removeprefix(LEDGER).removesuffix(".json") for n in self.store.names(LEDGER)}
