"""Compaction of closed days (glue_jobs/compact_events) on local Spark and LocalStack S3, and the
staging job's late events for a compacted day."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from shoprec import aws
from shoprec.contracts import CompactionJobArgs
from shoprec.layout import LakeLayout
from tests.spark.test_stage_events_job import _day_views, _stage, write_staged

pytestmark = [pytest.mark.spark, pytest.mark.integration, pytest.mark.slow]
JOBS = Path(__file__).parents[2] / "glue_jobs"
DAYS = 4  # October 1st to 4th; compacted until the 6th, the 4th is not closed yet


def _job(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_job", JOBS / name / "job.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stage_history(spark, bucket: str, database: str, appends: int) -> None:
    """``DAYS`` days of 6 views each, staged and catalogued in ``appends`` appends (as many
    files a partition)."""
    history = [e for day in range(DAYS) for e in _day_views("h", day, 6)]
    write_staged(spark, bucket, database, history, appends)


def folder_keys(bucket: str, day: str) -> list[str]:
    prefix = f"{LakeLayout.STAGING_EVENTS_PREFIX}source=weblog/event_type=view/event_date={day}/"
    listed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"][len(prefix) :] for o in listed)


def test_closed_days_are_compacted_and_late_events_staged_beside(spark, cloud, bucket, unique):
    database = f"test_{unique}"
    stage_history(spark, bucket, database, appends=3)
    args = CompactionJobArgs(lake_bucket=bucket, run_id="c1", until="2026-10-06", database=database)
    compact = _job("compact_events")
    first = compact.main(args.to_argv())
    assert first["days"] == ["2026-09-27", "2026-10-04"]
    assert {k: first[k] for k in ("partitions", "compacted", "files_before", "files_after")} == {
        "partitions": 3,
        "compacted": 3,
        "files_before": 9,
        "files_after": 3,
    }
    assert (first["rows"], first["deleted"]) == (18, 9)
    day_one = folder_keys(bucket, "2026-10-01")
    assert [k.split("/")[0] for k in day_one] == ["_compacted-c1"] * 2  # a file and _SUCCESS
    assert len(folder_keys(bucket, "2026-10-04")) == 3  # not closed: left as it was
    table = spark.table(f"{database}.events")
    assert table.count() == DAYS * 6 and table.select("event_id").distinct().count() == DAYS * 6

    # a repeat of a compacted day's event and a late one: read from, and staged at, its location
    summary = _stage(spark, cloud, bucket, unique, _day_views("h", 0, 1) + _day_views("late", 0, 1))
    assert (summary["read"], summary["staged"], summary["duplicates"]) == (2, 1, 1)
    assert (summary["partitions_read"], summary["files_read"]) == (1, 1)
    assert summary["table_rows"] == {"weblog": DAYS * 6 + 1}
    day_one = folder_keys(bucket, "2026-10-01")
    assert [k.split("/")[0] for k in day_one] == ["_compacted-c1"] * 3

    again = compact.main(CompactionJobArgs(**{**args.__dict__, "run_id": "c2"}).to_argv())
    assert (again["compacted"], again["files_before"], again["files_after"]) == (1, 2, 1)
    assert (again["rows"], again["deleted"]) == (7, 3)  # c1's two files and its _SUCCESS
    assert [k.split("/")[0] for k in folder_keys(bucket, "2026-10-01")] == ["_compacted-c2"] * 2
    same = compact.main(CompactionJobArgs(**{**args.__dict__, "run_id": "c3"}).to_argv())
    assert (same["partitions"], same["compacted"], same["deleted"]) == (3, 0, 0)
    table = spark.table(f"{database}.events")
    assert table.count() == DAYS * 6 + 1
    assert table.select("event_id").distinct().count() == DAYS * 6 + 1
