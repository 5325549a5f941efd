"""Compaction of closed days: a staged partition's small files rewritten into few, behind the
catalogue.

A partition is read where the catalogue locates it and written again, in ``files`` files, to a
folder of its own inside the partition's folder, ``_compacted-<run>/`` (Spark's listing skips
names that start with ``_``: the table's own folder never shows it). Once its rows are counted
equal to the old ones, the catalogue's partition location moves to it, in one metastore call:
a reader through the catalogue lists the old files or the new, never both. Then every object
under the partition's folder outside its location goes (the old files, a killed run's
half-written folder). Killed before the move, the old location stands and the rerun deletes the
stray folder (and compacts again); killed after it, the rerun deletes the old files. A
partition already in few files is only cleaned, so a rerun changes nothing more.

Only one writer at a time: the staging job appends to a compacted partition at its catalogued
location (``glue_jobs/stage_events``), and the DAG runs compaction after staging, never beside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from shoprec.failpoints import failpoint
from shoprec.layout import LakeLayout
from shoprec.schema import table_columns
from shoprec.spark.staging import (
    ddl,
    delete_keys,
    partition_location,
    partition_path,
    partition_spec,
)

COMPACTED = "_compacted-"


@dataclass(frozen=True)
class Outcome:
    files_before: int
    files_after: int
    rows: int
    deleted: int  # objects under the partition's folder outside its (new) location


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def data_files(keys: list[str], folder: str) -> list[str]:
    """The Parquet files directly in ``folder`` (not Spark's ``_``-named markers, nor below)."""
    names = (key[len(folder) :] for key in keys if key.startswith(folder))
    return [folder + n for n in names if "/" not in n and not n.startswith(("_", "."))]


def compact_partition(
    spark: SparkSession,
    s3: Any,
    layout: LakeLayout,
    table: str,
    values: tuple[str, ...],
    run_id: str,
    files: int,
) -> Outcome:
    """Rewrite partition ``values`` of ``table`` (``db.name``) into ``files`` files if it
    holds more, then delete what its folder holds outside its catalogued location."""
    canonical = f"{layout.STAGING_EVENTS_PREFIX}{partition_path(values)}/"
    catalogued = partition_location(spark, table, values)
    location = layout.key(catalogued).rstrip("/") + "/" if catalogued else canonical
    keys = _keys(s3, layout.bucket, canonical)
    old = data_files(keys, location)
    rows, after = 0, len(old)
    if len(old) > files:
        schema = ddl(table_columns())  # every column of today's schema, old files or new
        frame = spark.read.schema(schema).parquet(layout.uri(location))
        rows = frame.count()
        target = f"{canonical}{COMPACTED}{run_id}/"
        if target == location:  # late files beside this run's own output: the next run's
            raise RuntimeError(f"{target} is read: compact it in a run of another id")
        frame.coalesce(files).write.mode("overwrite").parquet(layout.uri(target))
        written = spark.read.schema(schema).parquet(layout.uri(target)).count()
        if written != rows:
            raise RuntimeError(f"{target}: {written} rows written of {rows}")
        failpoint("compacted_before_swap")
        spark.sql(
            f"ALTER TABLE {table} PARTITION ({partition_spec(values)}) "
            f"SET LOCATION '{layout.uri(target)}'"
        )
        failpoint("compacted_before_cleanup")
        location = target
        keys = _keys(s3, layout.bucket, canonical)
        after = len(data_files(keys, location))
    # what lies outside the location: old files (the location moved) or compacted folders
    # (the location is the partition's folder: a run killed before its move)
    stray = [
        key
        for key in keys
        if not key.startswith(location) or (location == canonical and "/" in key[len(location) :])
    ]
    delete_keys(s3, layout.bucket, stray)
    return Outcome(files_before=len(old), files_after=after, rows=rows, deleted=len(stray))


def closed_partitions(
    partitions: list[tuple[str, ...]], days: tuple[str, str]
) -> list[tuple[str, ...]]:
    """The partitions of event dates from ``days[0]`` up to ``days[1]`` (excluded)."""
    first, end = days
    return [values for values in partitions if first <= values[-1] < end]
