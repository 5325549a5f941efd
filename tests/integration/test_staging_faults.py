"""The staging job (real Spark, real Kafka, LocalStack S3) SIGKILLed between its Parquet write
and its catalogue update: the rerun registers the partitions, with ``s3://`` locations that the
catalogue's readers (Athena here: ``make sql``) read through."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from shop_events import view

from shoprec import aws
from shoprec.contracts import KafkaSettings, StagingJobArgs
from shoprec.kafka import Publisher
from shoprec.layout import LakeLayout
from shoprec.local import stages
from shoprec.local.runtime import REPO, venv_python
from shoprec.schema import Event
from tests.integration.lake_balance import (
    assert_balanced,
    catalogue,
    land_events,
    serve_tiny_champion,
    served_version,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAYS = {"2026-11-01": 7, "2026-11-02": 5}  # events per day: one partition each


def _events(days: dict[str, int]) -> list[Event]:
    events = []
    for day, count in days.items():
        start = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
        origin = "incoming/source=weblog/crash/access.log@"
        for n in range(count):
            at = start + timedelta(minutes=n)
            events.append(view(f"{day}-{n}", at, str(n), f"{origin}{n}", session_id=f"s{day}"))
    return events


def _published(cloud: dict, bucket: str, unique: str, name: str, days: dict) -> StagingJobArgs:
    """The days' events landed and on a topic of their own, as the collector lands and
    publishes them; the staging job's arguments for them."""
    topic, events = f"test.{name}.{unique}", _events(days)
    land_events(bucket, events, name)
    Publisher(KafkaSettings(cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic=topic))(events)
    return StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id=name,
        topic=topic,
        database=f"{name}_{unique}",
    )


def _staging_job(args: StagingJobArgs, **env_extra: str) -> subprocess.Popen:
    env = stages.stage_env()
    env |= {"SPARK_CONF_DIR": str(stages.spark_defaults(env)), **env_extra}
    return subprocess.Popen(
        [venv_python("glue"), "glue_jobs/stage_events/job.py", *args.to_argv()],
        env=env, cwd=REPO, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # the driver and its JVM: one process group to kill
    )  # fmt: skip


def _kill(job: subprocess.Popen) -> None:
    os.killpg(job.pid, signal.SIGKILL)
    assert job.wait(timeout=60) == -signal.SIGKILL


def _killed_before_the_catalogue(args: StagingJobArgs) -> None:
    job = _staging_job(
        args, SHOPREC_FAILPOINTS="staged_before_catalogue", SHOPREC_FAILPOINT_RESUME=""
    )
    assert job.stderr is not None
    for line in job.stderr:
        if line.strip() == "FAILPOINT staged_before_catalogue":
            break
    else:
        pytest.fail(f"the job exited {job.wait()} before its fail point")
    _kill(job)


def test_a_rerun_registers_what_a_kill_before_the_catalogue_left_out(
    cloud, bucket, unique, tmp_path
):
    serving = serve_tiny_champion(bucket, tmp_path)
    args = _published(cloud, bucket, unique, "crash", DAYS)
    database = args.database
    _killed_before_the_catalogue(args)
    staged = aws.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=LakeLayout.STAGING_EVENTS_PREFIX
    )
    assert any(o["Key"].endswith(".parquet") for o in staged["Contents"])  # written
    assert catalogue(database)["locations"] == {}  # not catalogued

    rerun = stages.run_glue_job("stage_events", args.to_argv())
    total = sum(DAYS.values())
    assert (rerun["read"], rerun["staged"], rerun["duplicates"]) == (total, 0, total)
    assert rerun["table_rows"] == {"weblog": total}

    staged = assert_balanced(bucket, database)  # read through the catalogue's partitions
    assert staged["rows"] == DAYS
    assert served_version(bucket) == serving
    assert staged["locations"] == {
        f"source=weblog/event_type=view/event_date={day}": (
            f"s3://{bucket}/{LakeLayout.STAGING_EVENTS_PREFIX}"
            f"source=weblog/event_type=view/event_date={day}"
        )
        for day in DAYS
    }


COMMITTED_TASKS = LakeLayout.STAGING_EVENTS_PREFIX + "_temporary/0/task_"
MANY_DAYS = {f"2026-10-{day:02d}": 20 for day in range(1, 31)}  # 30 partitions, 600 events


def _killed_mid_write(args: StagingJobArgs, bucket: str) -> list[str]:
    """SIGKILL the job once its Parquet write has committed a first task (its files moved to
    the job's ``_temporary/0/task_*``) and before the write commits the job: the keys under
    the table's folder at that moment."""
    s3 = aws.client("s3")
    job = _staging_job(args)
    prefix = LakeLayout.STAGING_EVENTS_PREFIX
    while job.poll() is None:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=COMMITTED_TASKS, MaxKeys=1)
        if listed.get("KeyCount"):
            _kill(job)
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return [o["Key"] for page in pages for o in page.get("Contents", [])]
        time.sleep(0.01)
    pytest.fail(f"the job exited {job.returncode} before a task of its write committed")


def test_a_kill_in_the_middle_of_the_parquet_write_loses_and_repeats_nothing(
    cloud, bucket, unique, tmp_path
):
    """Killed between its write's task commits and the job commit, the job leaves committed
    task output under ``_temporary``; the rerun's own job commit must not carry it into the
    table beside the rows it stages again."""
    serving = serve_tiny_champion(bucket, tmp_path)
    args = _published(cloud, bucket, unique, "midwrite", MANY_DAYS)
    database = args.database
    left = _killed_mid_write(args, bucket)
    assert any(key.startswith(COMMITTED_TASKS) for key in left)  # written, in part
    assert catalogue(database)["locations"] == {}  # nothing catalogued

    rerun = stages.run_glue_job("stage_events", args.to_argv())
    assert rerun["uncommitted_discarded"] == sum("/_temporary/" in f"/{key}" for key in left)
    total = sum(MANY_DAYS.values())
    assert (rerun["read"], rerun["staged"] + rerun["duplicates"]) == (total, total)
    assert rerun["table_rows"] == {"weblog": total}
    # each event once, through the catalogue; the API served all along
    assert assert_balanced(bucket, database)["rows"] == MANY_DAYS
    assert served_version(bucket) == serving
