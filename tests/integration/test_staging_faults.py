"""The staging job (real Spark, real Kafka, LocalStack S3) SIGKILLed between its Parquet write
and its catalogue update: the rerun registers the partitions, with ``s3://`` locations that the
catalogue's readers (Athena here: ``make sql``) read through."""

from __future__ import annotations

import json
import os
import signal
import subprocess
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

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DAYS = {"2026-11-01": 7, "2026-11-02": 5}  # events per day: one partition each

CATALOGUE = """
import json, sys
from shoprec.local.sql import run
table = sys.argv[1] + ".events"
report = {"rows": {}, "locations": {}}
for row in run(f"select event_date, count(*) as n from {table} group by event_date"):
    report["rows"][row["event_date"]] = row["n"]
for row in run(f"show partitions {table}"):
    spec = ", ".join(f"{k}='{v}'" for k, v in (p.split("=") for p in row["partition"].split("/")))
    described = run(f"describe formatted {table} partition ({spec})")
    report["locations"][row["partition"]] = next(
        r["data_type"] for r in described if r["col_name"] == "Location"
    )
print(json.dumps(report))
"""


def _events() -> list[Event]:
    events = []
    for day, count in DAYS.items():
        start = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
        origin = "incoming/source=weblog/crash/access.log@"
        for n in range(count):
            at = start + timedelta(minutes=n)
            events.append(view(f"{day}-{n}", at, str(n), f"{origin}{n}", session_id=f"s{day}"))
    return events


def _catalogue(database: str) -> dict:
    done = subprocess.run(
        [venv_python("glue"), "-c", CATALOGUE, database],
        env=stages.stage_env(), cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def _killed_before_the_catalogue(args: StagingJobArgs) -> None:
    env = stages.stage_env()
    env |= {"SPARK_CONF_DIR": str(stages.spark_defaults(env))}
    env |= {"SHOPREC_FAILPOINTS": "staged_before_catalogue", "SHOPREC_FAILPOINT_RESUME": ""}
    job = subprocess.Popen(
        [venv_python("glue"), "glue_jobs/stage_events/job.py", *args.to_argv()],
        env=env, cwd=REPO, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # the driver and its JVM: one process group to kill
    )  # fmt: skip
    assert job.stderr is not None
    for line in job.stderr:
        if line.strip() == "FAILPOINT staged_before_catalogue":
            break
    else:
        pytest.fail(f"the job exited {job.wait()} before its fail point")
    os.killpg(job.pid, signal.SIGKILL)
    assert job.wait(timeout=60) == -signal.SIGKILL


def test_a_rerun_registers_what_a_kill_before_the_catalogue_left_out(cloud, bucket, unique):
    topic = f"test.crash.{unique}"
    Publisher(KafkaSettings(cloud["SHOPREC_KAFKA_BOOTSTRAP"], topic=topic))(_events())
    database = f"crash_{unique}"
    args = StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="crash",
        topic=topic,
        database=database,
    )
    _killed_before_the_catalogue(args)
    staged = aws.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=LakeLayout.STAGING_EVENTS_PREFIX
    )
    assert any(o["Key"].endswith(".parquet") for o in staged["Contents"])  # written
    assert _catalogue(database) == {"rows": {}, "locations": {}}  # not catalogued

    rerun = stages.run_glue_job("stage_events", args.to_argv())
    total = sum(DAYS.values())
    assert (rerun["read"], rerun["staged"], rerun["duplicates"]) == (total, 0, total)
    assert rerun["table_rows"] == {"weblog": total}

    catalogue = _catalogue(database)
    assert catalogue["rows"] == DAYS  # read through the catalogue's partitions
    assert catalogue["locations"] == {
        f"source=weblog/event_type=view/event_date={day}": (
            f"s3://{bucket}/{LakeLayout.STAGING_EVENTS_PREFIX}"
            f"source=weblog/event_type=view/event_date={day}"
        )
        for day in DAYS
    }
