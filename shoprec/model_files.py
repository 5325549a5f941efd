"""A model folder's file list: each file's size and sha256, as the manifest records them, and
the check that the folder in S3 still holds exactly those bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

_CHUNK = 1 << 20


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def checksums(folder: Path, files: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """``{path relative to folder: {"size", "sha256"}}`` for the manifest."""
    listed = {}
    for path in files:
        with path.open("rb") as stream:
            listed[path.relative_to(folder).as_posix()] = {
                "size": path.stat().st_size,
                "sha256": _sha256(stream),
            }
    return listed


def problems(
    s3: Any, bucket: str, prefix: str, files: dict[str, dict[str, Any]] | None
) -> list[str]:
    """What keeps the folder under ``prefix`` from being the one its manifest lists: a missing
    list, missing files, wrong sizes, wrong sha256 (every file is read back in full). Files
    are found by listing the folder: a role that lists only below its prefixes gets 403, not
    404, for a missing key."""
    if not files:
        return ["its manifest lists no files with checksums"]
    sizes = {
        obj["Key"][len(prefix) :]: obj["Size"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    }
    found = []
    for name, expected in sorted(files.items()):
        if name not in sizes:
            found.append(f"{name} is missing")
        elif sizes[name] != expected["size"]:
            found.append(f"{name} has {sizes[name]} bytes, not {expected['size']}")
        else:
            body = s3.get_object(Bucket=bucket, Key=prefix + name)["Body"]
            if _sha256(body) != expected["sha256"]:
                found.append(f"{name} has a sha256 other than its manifest's")
            body.close()
    return found
