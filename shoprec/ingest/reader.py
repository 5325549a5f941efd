"""One version of one S3 object, streamed: ranged reads for plain text, streaming gunzip.

Compression is recognised by content (the gzip magic bytes), never by name. Reads are pinned
to the version that was notified (its version id, or ``If-Match`` on its ETag where the
bucket keeps no versions), so a key overwritten meanwhile is never read half old, half new.
Decompressed output is produced in bounded pieces, so a small gzip member that expands to
gigabytes still costs one chunk of memory at a time.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from botocore.exceptions import (
    ClientError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from urllib3.exceptions import ProtocolError

GZIP_MAGIC = b"\x1f\x8b"
# User metadata (x-amz-meta-…) of a version the eraser wrote (shoprec.erasure): never read.
ERASED_METADATA = "shoprec-erasure"
CHUNK = 1 << 20
# A large object is read as consecutive ranged GETs of this size, not as one long response
# (S3 and LocalStack may cut a long-lived connection; a range is retried on its own).
RANGE = 64 << 20
RANGE_TRIES = 3
_GONE = {"NoSuchKey", "NoSuchVersion", "PreconditionFailed", "InvalidRange", "404", "412"}


class ObjectGone(Exception):
    """The object version no longer exists (deleted, or overwritten on an unversioned bucket)."""


@dataclass(frozen=True)
class ObjectRef:
    key: str
    etag: str  # without quotes
    size: int
    version: str | None = None  # S3 version id; None where the bucket keeps no versions
    modified: float = 0.0  # arrival, unix seconds (LastModified / the notification's time)

    @property
    def identity(self) -> str:
        return self.version or self.etag

    @property
    def ledger_name(self) -> str:
        """The object version's name in the ledger (keys may hold any character)."""
        return hashlib.sha256(f"{self.key}\x1f{self.identity}".encode()).hexdigest()[:40]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectRef:
        return cls(**data)


class ObjectReader:
    """Decompressed bytes of one object version, from any offset, in chunks."""

    def __init__(self, s3: Any, bucket: str, ref: ObjectRef, chunk: int = CHUNK) -> None:
        self.s3, self.bucket, self.ref, self.chunk = s3, bucket, ref, chunk
        self.corrupt: str | None = None  # why decompression stopped early, if it did
        self.metadata: dict[str, str] = {}  # the version's user metadata (any read has it)

    def _get(self, **extra: Any) -> Any:
        pin = {"VersionId": self.ref.version} if self.ref.version else {"IfMatch": self.ref.etag}
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.ref.key, **pin, **extra)
        except ClientError as error:
            if error.response["Error"]["Code"] in _GONE:
                raise ObjectGone(self.ref.key) from None
            raise
        self.metadata = response.get("Metadata") or {}
        return response["Body"]

    @cached_property
    def compressed(self) -> bool:
        if self.ref.size < len(GZIP_MAGIC):
            return False
        return self._get(Range=f"bytes=0-{len(GZIP_MAGIC) - 1}").read() == GZIP_MAGIC

    def _stored(self, start: int = 0) -> Iterator[bytes]:
        """The stored bytes from ``start``, range by range; a range cut off is read again from
        where it broke (at most ``RANGE_TRIES`` times)."""
        position = start
        while position < self.ref.size:
            end = min(position + RANGE, self.ref.size)
            for attempt in range(RANGE_TRIES):
                try:
                    body = self._get(Range=f"bytes={position}-{end - 1}")
                    for piece in body.iter_chunks(self.chunk):
                        position += len(piece)
                        yield piece
                    break
                except (
                    ResponseStreamingError,
                    IncompleteReadError,
                    ReadTimeoutError,
                    ProtocolError,
                ):
                    if attempt == RANGE_TRIES - 1:
                        raise
            if position < end:
                raise ObjectGone(f"{self.ref.key}: ends at {position}, not {end}")

    def chunks(self, start: int = 0) -> Iterator[bytes]:
        """The content from (decompressed) offset ``start`` to the end."""
        if not self.compressed:
            yield from self._stored(start)
            return
        position = 0
        for piece in self._gunzip():
            if position + len(piece) > start:
                yield piece[max(0, start - position) :]
            position += len(piece)

    def _gunzip(self) -> Iterator[bytes]:
        """Every member of a (possibly multi-member) gzip object, in bounded pieces."""
        inflater, fed = zlib.decompressobj(wbits=31), False
        try:
            for data in self._stored():
                while data:
                    fed = True
                    if out := inflater.decompress(data, self.chunk):
                        yield out
                    if inflater.eof:  # next member (logrotate and `cat a.gz b.gz` make these)
                        data = inflater.unused_data
                        inflater, fed = zlib.decompressobj(wbits=31), False
                    else:
                        data = inflater.unconsumed_tail
            while not inflater.eof and (out := inflater.decompress(b"", self.chunk)):
                yield out
            if fed and not inflater.eof:
                self.corrupt = "gzip stream ends before its end marker"
        except zlib.error as error:
            self.corrupt = f"gzip: {error}"

    def read(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the content (callers keep ``end - start`` small)."""
        if not self.compressed:
            return self._get(Range=f"bytes={start}-{end - 1}").read() if end > start else b""
        out = bytearray()
        for piece in self.chunks(start):
            out += piece[: end - start - len(out)]
            if len(out) >= end - start:
                break
        return bytes(out)
