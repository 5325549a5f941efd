"""Erasure of one person's events from the object zones of the lake.

A person is a session cookie or a keyed client hash (``shoprec.privacy``). The eraser
rewrites every object that holds one of their events without them, and deletes every older
version of each object it rewrote or deleted (the bucket is versioned), zone by zone:

* landing CSVs: rows whose ``session_id``/``client_id`` is theirs (their event ids are kept
  in the erasure list, below);
* incoming raw logs: the lines those rows came from (their ``origin``), and every other line
  the source's parser reads as theirs, filtered lines (bots, assets) and rejected ones too,
  overwritten with spaces, so that every ``origin`` (``<key>@<offset>``) stays true.
  The rewritten object carries ``ERASED_METADATA``, and its version is entered in the
  collector's ledger as ``erased``: the collector never reads it (no duplicate, no conflict);
* quarantine: collected lines read from their incoming lines, or carrying their session
  cookie (kept by the redaction), and staging's rejected records that name them.

The staging table and the training sets are Parquet: the ``erase_events`` Spark job rewrites
their affected files (``shoprec.spark.erasure``), from the request written here, which names
the person only by the SHA-256 of the id. Kafka keeps the events until its retention ends:
the *erasure list* (the erased event ids, ``LakeLayout.ERASED_IDS_PREFIX``) makes the staging job drop
them, so a rewind or an old checkpoint cannot stage them again; a replay reads the rewritten
landing zone. The audit record counts what went, per zone, with the digest, never the id.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shoprec.contracts import DEFAULT_DATABASE, ErasureJobArgs
from shoprec.ingest.engine import csv_text
from shoprec.ingest.lines import LineParser
from shoprec.ingest.reader import ERASED_METADATA, GZIP_MAGIC, ObjectRef
from shoprec.ingest.status import state_store
from shoprec.ingest.streams import Ledger
from shoprec.layout import LakeLayout
from shoprec.schema import Event

KINDS = ("session", "client")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


Rewrite = Callable[[str, bytes], tuple[bytes | None, int]]  # (key, bytes) → (kept, erased)
Written = Callable[[str, dict[str, Any], int], None] | None  # (key, new version's head, size)


def object_versions(s3: Any, bucket: str, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """Every version and delete marker under ``prefix``, by key (``Size``: a version)."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            by_key.setdefault(entry["Key"], []).append(entry)
    return by_key


def delete_versions(s3: Any, bucket: str, entries: list[dict[str, Any]]) -> int:
    """Delete these versions and delete markers (1,000 a request); how many."""
    listed = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
    for start in range(0, len(listed), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": listed[start : start + 1000]})
    return len(listed)


@dataclass(frozen=True)
class Person:
    kind: str  # session | client
    value: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS or not self.value:
            raise ValueError(f"a person is a non-empty {' or '.join(KINDS)} id")

    @property
    def column(self) -> str:
        return f"{self.kind}_id"

    @property
    def digest(self) -> str:
        """What the records name the person by (Spark's ``sha2(<column>, 256)`` matches it)."""
        return sha256(self.value)

    def owns(self, record: Mapping[str, Any]) -> bool:
        return record.get(self.column) == self.value

    def named_in(self, text: str) -> bool:
        """The session id as a whole token of a raw line (a cookie, a Solr parameter)."""
        if self.kind != "session":
            return False  # a client is a keyed hash: raw lines hold the address instead
        return re.search(rf"(?<![\w.-]){re.escape(self.value)}(?![\w.-])", text) is not None


@dataclass
class ZoneCounts:
    records: int = 0  # rows, lines or records erased
    rewritten: int = 0  # objects written again without them
    deleted: int = 0  # objects that held nothing else
    versions: int = 0  # older versions deleted

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class Eraser:
    s3: Any
    layout: LakeLayout
    person: Person
    request: str  # the request's id: names its state files and marks what it rewrote
    parsers: Mapping[str, LineParser]  # per collected source, to read raw lines
    event_ids: set[str] = field(default_factory=set)
    origins: set[str] = field(default_factory=set)  # "<incoming key>@<offset>" erased
    counts: dict[str, ZoneCounts] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        return self.layout.bucket

    def erase(self) -> dict[str, dict[str, int]]:
        """Every object zone, in the order that lets each find the next one's records."""
        self._zone("landing", "landing/", self._landing)
        for source, parser in self.parsers.items():
            prefix = self.layout.incoming_prefix(source)
            self._zone("incoming", prefix, partial(self._incoming, parser), self._ledger(source))
        self._zone("quarantine", self.layout.quarantine_prefix("collect"), self._collected)
        self._zone("quarantine", self.layout.quarantine_prefix("stage"), self._rejected)
        self._temporaries(self.layout.quarantine_prefix("stage"))
        self._temporaries("staging/")
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{self.layout.ERASED_IDS_PREFIX}{self.request}.txt",
            Body="".join(f"{i}\n" for i in sorted(self.event_ids)).encode(),
        )
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{self.layout.ERASURE_REQUESTS_PREFIX}{self.request}.json",
            Body=json.dumps({"column": self.person.column, "digest": self.person.digest}).encode(),
        )
        return {zone: counts.to_dict() for zone, counts in self.counts.items()}

    # Objects -----------------------------------------------------------------------------
    def _read(self, key: str, version: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=version)["Body"].read()

    def _zone(self, zone: str, prefix: str, rewrite: Rewrite, written: Written = None) -> None:
        """Each object without the person's records (deleted when nothing else was in it) and
        its other versions deleted; of objects they are not in now, or that were deleted, the
        versions that hold them deleted."""
        counts = self.counts.setdefault(zone, ZoneCounts())
        for key, versions in object_versions(self.s3, self.bucket, prefix).items():
            latest = next(v for v in versions if v["IsLatest"])
            if "Size" in latest:  # a current object
                body, erased = rewrite(key, self._read(key, latest["VersionId"]))
                if erased:
                    counts.records += erased
                    head = self._replace(key, body)
                    counts.rewritten += bool(head)
                    counts.deleted += not head
                    if not head or head["VersionId"]:  # (unversioned: the write replaced it)
                        delete_versions(self.s3, self.bucket, versions)
                        counts.versions += len(versions)  # the current one replaced, and older
                    if head and written:
                        written(key, head, len(body or b""))
                    continue
            older = [
                v
                for v in versions
                if "Size" in v
                and not v["IsLatest"]
                and rewrite(key, self._read(key, v["VersionId"]))[1]
            ]
            counts.versions += delete_versions(self.s3, self.bucket, older)

    def _replace(self, key: str, body: bytes | None) -> dict[str, Any]:
        """Write the object's new version (marked as the eraser's): its head, {} for none."""
        if not body:
            return {}
        metadata = {ERASED_METADATA: self.request}
        written = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata)
        return {"VersionId": written.get("VersionId"), "ETag": written["ETag"].strip('"')}

    def _temporaries(self, prefix: str) -> None:
        """Spark's deleted temporary files (its commit copies them, then deletes them): every
        version goes, as they hold copies of what the job wrote."""
        counts = self.counts.setdefault("spark_temporaries", ZoneCounts())
        for key, versions in object_versions(self.s3, self.bucket, prefix).items():
            if "/_temporary/" in key and not any("Size" in v and v["IsLatest"] for v in versions):
                counts.versions += delete_versions(self.s3, self.bucket, versions)

    # Zones: (key, stored bytes) -> (bytes without the person, records erased) ------------
    def _landing(self, key: str, stored: bytes) -> tuple[bytes | None, int]:
        rows = list(csv.DictReader(io.StringIO(stored.decode())))
        theirs = [row for row in rows if self.person.owns(row)]
        self.event_ids.update(row["event_id"] for row in theirs)
        self.origins.update(row["origin"] for row in theirs)
        kept = [Event.from_record(row) for row in rows if not self.person.owns(row)]
        return (csv_text(kept).encode() if kept else None), len(theirs)

    def _incoming(self, parser: LineParser, key: str, stored: bytes) -> tuple[bytes | None, int]:
        compressed = stored.startswith(GZIP_MAGIC)
        content = gzip.decompress(stored) if compressed else stored
        kept, erased, offset = [], 0, 0
        for line in content.splitlines(keepends=True):
            if self._theirs(parser, key, offset, line):
                self.origins.add(f"{key}@{offset}")
                erased += 1
                text = line.rstrip(b"\r\n")  # spaces: every other line keeps its offset
                line = b" " * len(text) + line[len(text) :]
            kept.append(line)
            offset += len(line)
        body = b"".join(kept)
        if not body.strip():
            return None, erased
        return (gzip.compress(body, mtime=0) if compressed else body), erased

    def _ledger(self, source: str) -> Written:
        """The collector's ledger: the eraser's version is accounted for, never read."""
        ledger = Ledger(state_store(self.s3, self.bucket, source))

        def record(key: str, head: dict[str, Any], size: int) -> None:
            ref = ObjectRef(key, head["ETag"], size, head["VersionId"])
            ledger.record(ref, {"state": "done", "outcome": "erased"}, None)

        return record

    def _theirs(self, parser: LineParser, key: str, offset: int, raw: bytes) -> bool:
        origin = f"{key}@{offset}"
        if origin in self.origins:
            return True
        text = raw.decode("utf-8", "replace").rstrip("\n")
        parsed = parser(text, origin, origin)
        if isinstance(parsed, Event):
            return self.person.owns(parsed.to_record())
        identity = getattr(parser, "identity", None)  # filtered and rejected lines too
        if identity and self.person.kind == "client":
            return identity(text)[1] == self.person.value
        return self.person.named_in(text)

    def _lines(self, stored: bytes, theirs: Callable[[dict], bool]) -> tuple[bytes | None, int]:
        lines = [line for line in stored.decode().splitlines() if line.strip()]
        kept = [line for line in lines if not theirs(json.loads(line))]
        return "".join(f"{line}\n" for line in kept).encode() or None, len(lines) - len(kept)

    def _collected(self, key: str, stored: bytes) -> tuple[bytes | None, int]:
        return self._lines(stored, self._collected_theirs)

    def _rejected(self, key: str, stored: bytes) -> tuple[bytes | None, int]:
        return self._lines(stored, self._rejected_theirs)

    def _collected_theirs(self, record: dict[str, Any]) -> bool:
        """A collected line set aside: read from one of their lines, or naming their session."""
        if record.get("origin") in self.origins:
            return True
        raw = record.get("raw") or base64.b64decode(record.get("raw_base64", "")).decode("latin-1")
        return self.person.named_in(raw)

    def _rejected_theirs(self, record: dict[str, Any]) -> bool:
        """A Kafka record staging rejected: its JSON names them, or its text their session."""
        raw = record.get("raw") or ""
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        return (isinstance(parsed, dict) and self.person.owns(parsed)) or self.person.named_in(raw)


def erase(
    s3: Any,
    layout: LakeLayout,
    person: Person,
    parsers: Mapping[str, LineParser],
    run_spark: Callable[[list[str]], dict[str, Any]],
    database: str = DEFAULT_DATABASE,
) -> dict[str, Any]:
    """The whole erasure: object zones, then the Parquet zones (``run_spark``: the
    ``erase_events`` job's arguments → its summary), then the audit record and the retrain
    marker. The audit record names the person by digest only; it is the request's summary."""
    now = datetime.now(UTC)
    request = f"{now:%Y%m%dT%H%M%S%fZ}-{person.digest[:12]}"
    eraser = Eraser(s3, layout, person, request, parsers)
    zones = eraser.erase()
    parquet = run_spark(ErasureJobArgs(layout.bucket, request, database=database).to_argv())
    record = {
        "request": request,
        "at": now.isoformat(timespec="seconds"),
        "kind": person.kind,
        "sha256": person.digest,
        "zones": zones | {k: v for k, v in parquet.items() if k != "versions"},
        "parquet_versions_deleted": parquet["versions"],
        "erasure_list": f"{layout.ERASED_IDS_PREFIX}{request}.txt",
    }
    body = json.dumps(record, indent=2).encode()
    s3.put_object(
        Bucket=layout.bucket, Key=f"{layout.ERASURE_AUDIT_PREFIX}{request}.json", Body=body
    )
    marker = {"requested": record["at"], "requested_at": now.timestamp(), "request": request}
    s3.put_object(Bucket=layout.bucket, Key=layout.RETRAIN_KEY, Body=json.dumps(marker).encode())
    return record
