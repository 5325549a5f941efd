"""A model folder's file list: each file's size and sha256, as the manifest records them, and
the check that the folder in S3 still holds exactly those bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from contextlib import closing
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


def _mismatches(
    expected: dict[str, dict[str, Any]], sizes: dict[str, int], read: Callable[[str], BinaryIO]
) -> list[str]:
    """What differs between the files ``expected`` lists and those found (``sizes``; ``read``
    opens one)."""
    found = []
    for name, want in sorted(expected.items()):
        if name not in sizes:
            found.append(f"{name} is missing")
        elif sizes[name] != want["size"]:
            found.append(f"{name} has {sizes[name]} bytes, not {want['size']}")
        else:
            with closing(read(name)) as body:
                if _sha256(body) != want["sha256"]:
                    found.append(f"{name} has a sha256 other than its manifest's")
    return found


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
    return _mismatches(
        files, sizes, lambda name: s3.get_object(Bucket=bucket, Key=prefix + name)["Body"]
    )


def local_problems(
    folder: Path, files: dict[str, dict[str, Any]] | None, names: Iterable[str]
) -> list[str]:
    """What keeps the files ``names`` downloaded into ``folder`` from being the bytes the
    manifest (``files``) lists: a file changed in S3 after promotion loads, and would serve,
    another model."""
    names = list(names)
    unlisted = [f"{name} is not in its manifest" for name in names if name not in (files or {})]
    if not files or unlisted:
        return unlisted or ["its manifest lists no files with checksums"]
    sizes = {name: (folder / name).stat().st_size for name in names if (folder / name).exists()}
    return _mismatches(
        {name: files[name] for name in names}, sizes, lambda name: (folder / name).open("rb")
    )
