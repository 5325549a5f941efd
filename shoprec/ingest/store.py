"""JSON documents in S3 with conditional writes: the collectors' state store.

``create`` succeeds only where no document exists (``If-None-Match: *``) and ``replace`` only
where the document is still the version that was read (``If-Match: <ETag>``), so two writers
can never both believe they won. Why S3 and not DynamoDB: the same code runs on AWS and on
LocalStack here (DynamoDB Local, which LocalStack's DynamoDB needs, may not be used), the
state lives beside the data it describes, and a collector writes it a few times per batch of
megabytes, far below S3's request rates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

_CONFLICTS = {"PreconditionFailed", "ConditionalRequestConflict"}


class Conflict(Exception):
    """The document exists, or changed since it was read: another writer won."""


@dataclass(frozen=True)
class Document:
    name: str
    body: dict[str, Any]
    etag: str


@dataclass(frozen=True)
class JsonStore:
    s3: Any
    bucket: str
    prefix: str  # ends with "/"

    def _key(self, name: str) -> str:
        return self.prefix + name

    def get(self, name: str) -> Document | None:
        """The document, or None where none exists. S3 answers a read of a missing key with
        403, not 404, unless the reader may list the whole bucket; roles here list only
        below their prefixes, so a 403 is confirmed as absence by listing the key itself."""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.s3.exceptions.NoSuchKey:
            return None
        except ClientError as error:
            if error.response["Error"]["Code"] != "AccessDenied" or self._listed(name):
                raise
            return None
        return Document(name, json.loads(response["Body"].read()), response["ETag"])

    def _listed(self, name: str) -> bool:
        key = self._key(name)
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(obj["Key"] == key for obj in listed.get("Contents", []))

    def _put(self, name: str, body: dict[str, Any], **condition: str) -> Document:
        try:
            response = self.s3.put_object(
                Bucket=self.bucket,
                Key=self._key(name),
                Body=json.dumps(body, separators=(",", ":")).encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in _CONFLICTS:
                raise Conflict(name) from None
            raise
        return Document(name, body, response["ETag"])

    def create(self, name: str, body: dict[str, Any]) -> Document:
        return self._put(name, body, IfNoneMatch="*")

    def replace(self, document: Document, body: dict[str, Any]) -> Document:
        return self._put(document.name, body, IfMatch=document.etag)

    def put(self, name: str, body: dict[str, Any]) -> Document:
        """Unconditional: for documents one writer owns (markers, reports)."""
        return self._put(name, body)

    def delete(self, name: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self._key(name))

    def names(self, under: str = "") -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(under)):
            for obj in page.get("Contents", []):
                yield obj["Key"][len(self.prefix) :]
