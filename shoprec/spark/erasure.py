"""Erasure in the Parquet zones: staged events, training sets and search labels.

Only the files that hold the person are rewritten: their rows go (by the SHA-256 of their id,
or an event id on the erasure list), the rest is written to a scratch folder, copied beside the
old files, and the old files are then deleted with every version. A job killed between the
copy and the delete leaves old and new side by side; run again, it finds the person in the old
files and rewrites the folder once more, repeats dropped by event id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoprec.erasure import delete_versions, object_versions
from shoprec.layout import LakeLayout


@dataclass
class Folders:
    """Parquet folders of the lake, replaced file by file (boto3 beside Spark's s3a)."""

    s3: Any
    layout: LakeLayout
    scratch: str  # key prefix of this request's scratch space
    old_versions: int = 0  # older versions deleted

    def keys(self, prefix: str) -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.layout.bucket, Prefix=prefix):
            yield from (o["Key"] for o in page.get("Contents", []))

    def folders(self, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.layout.bucket, Prefix=prefix, Delimiter="/")
        return [p["Prefix"] for p in listed.get("CommonPrefixes", [])]

    def replace(self, folder: str, kept: DataFrame | None, name: str) -> None:
        """``folder``'s files become ``kept`` (none when ``kept`` is None)."""
        old = [k for k in self.keys(folder) if "/" not in k[len(folder) :]]
        if kept is not None:
            scratch = f"{self.scratch}{name}/"
            kept.coalesce(1).write.mode("overwrite").parquet(self.layout.uri(scratch, "s3a"))
            for key in self.keys(scratch):
                base = key.rsplit("/", 1)[1]
                if not base.startswith("_"):
                    self.s3.copy_object(
                        Bucket=self.layout.bucket,
                        Key=f"{folder}erased-{name}-{base}",
                        CopySource={"Bucket": self.layout.bucket, "Key": key},
                    )
        self.purge(old)

    def purge(self, keys: list[str]) -> None:
        """Delete ``keys`` with every version and delete marker."""
        for key in keys:
            entries = object_versions(self.s3, self.layout.bucket, key).get(key, [])
            self.old_versions += max(delete_versions(self.s3, self.layout.bucket, entries) - 1, 0)

    def clear_scratch(self) -> None:
        """Every version under the scratch prefix (Spark's temporaries too) deleted."""
        for entries in object_versions(self.s3, self.layout.bucket, self.scratch).values():
            delete_versions(self.s3, self.layout.bucket, entries)


def theirs(events: DataFrame, column: str, digest: str, listed: DataFrame) -> DataFrame:
    """The person's events: their id's SHA-256, or an event id on the erasure list."""
    marked = events.join(listed.withColumn("_listed", F.lit(True)), "event_id", "left")
    named = F.coalesce(F.sha2(F.col(column), 256) == digest, F.lit(False))
    return marked.where(named | F.col("_listed").isNotNull()).drop("_listed")


def without(frame: DataFrame, key: str, erased: DataFrame) -> DataFrame:
    return frame.join(F.broadcast(erased.select(key).distinct()), key, "left_anti")


def erase_rows(
    spark: SparkSession, folders: Folders, folder: str, key: str, erased: DataFrame, name: str
) -> tuple[int, int]:
    """Rewrite one folder without the rows whose ``key`` is erased: (rows dropped, left).
    Its files' schemas are merged: a folder holding files of two schema versions keeps the
    newer columns (read as one file's schema, the rewrite could drop them)."""
    uri = folders.layout.uri(folder, "s3a")
    frame = spark.read.option("mergeSchema", "true").parquet(uri)
    before = frame.count()
    kept = without(frame, key, erased)
    if key == "event_id":  # a folder left doubled by an interrupted run loses its repeats
        kept = kept.dropDuplicates(["event_id"])
    kept = kept.persist()
    after = kept.count()
    if after < before:
        folders.replace(folder, kept if after else None, name)
    kept.unpersist()
    return before - after, after
