"""The compaction job (real Spark, LocalStack S3, the catalogue) SIGKILLed in the middle of a
closed day: before or after the catalogue moved to the new files. Readers through the catalogue
see each event once at the kill; the rerun loses and repeats nothing and leaves each folder
only its catalogued files."""

from __future__ import annotations

import subprocess

import pytest

from shoprec import aws
from shoprec.contracts import CompactionJobArgs
from shoprec.layout import LakeLayout
from shoprec.local import stages
from shoprec.local.runtime import REPO, venv_python
from tests.integration.lake_balance import catalogue
from tests.integration.test_staging_faults import _kill

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CLOSED = {f"2026-10-0{day}": 6 for day in (1, 2, 3)}  # events a day, three files each
OPEN = {"2026-10-04": 6}  # not closed on the 6th: left as it is
HISTORY = """
import sys
sys.path[:0] = ["tests"]
from shoprec.spark.session import get_spark
from tests.spark.test_compaction import stage_history
stage_history(get_spark("history"), sys.argv[1], sys.argv[2], appends=3)
"""


def _glue_env(**extra: str) -> dict[str, str]:
    env = stages.stage_env()
    return env | {"SPARK_CONF_DIR": str(stages.spark_defaults(env)), **extra}


def _killed_at(failpoint: str, args: CompactionJobArgs) -> None:
    job = subprocess.Popen(
        [venv_python("glue"), "glue_jobs/compact_events/job.py", *args.to_argv()],
        env=_glue_env(SHOPREC_FAILPOINTS=failpoint, SHOPREC_FAILPOINT_RESUME=""),
        cwd=REPO, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # the driver and its JVM: one process group to kill
    )  # fmt: skip
    assert job.stderr is not None
    for line in job.stderr:
        if line.strip() == f"FAILPOINT {failpoint}":
            break
    else:
        pytest.fail(f"the job exited {job.wait()} before its fail point")
    _kill(job)


def _folders(bucket: str) -> dict[str, list[str]]:
    """Each day's objects, by their first path segment under the partition's folder."""
    prefix = f"{LakeLayout.STAGING_EVENTS_PREFIX}source=weblog/event_type=view/event_date="
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    found: dict[str, list[str]] = {}
    for key in (o["Key"][len(prefix) :] for page in pages for o in page.get("Contents", [])):
        day, rest = key.split("/", 1)
        found.setdefault(day, []).append(rest.split("/")[0] if "/" in rest else "file")
    return {day: sorted(names) for day, names in found.items()}


@pytest.mark.parametrize(
    ("failpoint", "swapped"), [("compacted_before_swap", 0), ("compacted_before_cleanup", 1)]
)
def test_a_kill_mid_compaction_loses_and_repeats_nothing(cloud, bucket, unique, failpoint, swapped):
    database = f"compact_{unique}"
    subprocess.run(
        [venv_python("glue"), "-c", HISTORY, bucket, database],
        env=_glue_env(), cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    args = CompactionJobArgs(lake_bucket=bucket, run_id="k1", until="2026-10-06", database=database)
    _killed_at(failpoint, args)
    left = _folders(bucket)
    # the first closed day written anew beside its old files; moved to them only after the swap
    assert left["2026-10-01"] == ["_compacted-k1"] * 2 + ["file"] * 3
    assert all(left[day] == ["file"] * 3 for day in ("2026-10-02", "2026-10-03", "2026-10-04"))
    at_kill = catalogue(database)
    assert at_kill["rows"] == CLOSED | OPEN  # each event once, old files or new
    moved = [day for day, at in at_kill["locations"].items() if "/_compacted-k1" in at]
    assert len(moved) == swapped

    rerun = stages.run_glue_job("compact_events", args.to_argv())
    # a swapped day only loses its old files; the others are compacted (again, for the first)
    assert (rerun["partitions"], rerun["compacted"]) == (3, 3 - swapped)
    assert (rerun["files_before"], rerun["files_after"]) == (3 * (3 - swapped), 3 - swapped)
    assert (rerun["rows"], rerun["deleted"]) == (6 * (3 - swapped), 9)
    after = catalogue(database)
    assert after["rows"] == CLOSED | OPEN
    located = {p.rsplit("=", 1)[1]: at.rstrip("/") for p, at in after["locations"].items()}
    assert all(located[day].endswith(f"event_date={day}/_compacted-k1") for day in CLOSED)
    assert located["2026-10-04"].endswith("event_date=2026-10-04")
    assert _folders(bucket) == {day: ["_compacted-k1"] * 2 for day in CLOSED} | {
        "2026-10-04": ["file"] * 3
    }
