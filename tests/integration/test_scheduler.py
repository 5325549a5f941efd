"""The scheduler runs the DAG by itself: two cycles on a running Airflow (the local MWAA
console, a cycle a minute), the second judged against the first, and the API serves the
second champion without a restart.

Its own lake, queue, topic and run folder (its own Hive metastore and reports) on the
suite's LocalStack and Kafka; Airflow's four processes and the API in their own processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from shoprec import aws, registry
from shoprec.deployment import Deployment
from shoprec.layout import LakeLayout
from shoprec.local.airflow import Console
from shoprec.local.dagrun import report
from shoprec.local.deliver_logs import deliver
from shoprec.local.demo import inside_an_interval, wait_for_run
from shoprec.local.lake import provision
from shoprec.local.runtime import REPO, RUN_DIR, Ports, venv_python
from shoprec.local.shop import by_day
from shoprec.sources import generate_shop

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclasses.dataclass
class Scheduled:
    console: Console
    bucket: str
    run_dir: Path
    env: dict[str, str]
    api_port: int


def _services(env: dict[str, str], command: str) -> None:
    subprocess.run(
        [venv_python("lambda"), "-m", "shoprec.local.services", command],
        env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def scheduled(cloud: dict[str, str]):
    unique = uuid.uuid4().hex[:10]
    lake = provision(
        aws.client("s3"), aws.client("sqs"), aws.client("secretsmanager"),
        f"scheduled-{unique}", deployment=Deployment(f"t{unique}"),
    )  # fmt: skip
    run_dir = RUN_DIR / f"scheduler-{unique}"
    run_dir.mkdir(parents=True)
    settings = cloud | {
        "SHOPREC_LAKE_BUCKET": lake.bucket,
        "SHOPREC_ENV": f"t{unique}",
        "SHOPREC_TOPIC": f"scheduled.{unique}",
    }
    (run_dir / "env").write_text("".join(f"export {k}={v}\n" for k, v in settings.items()))
    ports = Ports.from_env()
    airflow, api = ports.airflow + 10, ports.api + 10
    env = (
        os.environ
        | settings
        | {
            "SHOPREC_RUN_DIR": str(run_dir),
            "AIRFLOW_PORT": str(airflow),
            "API_PORT": str(api),
            "SHOPREC_CYCLE_SECONDS": "60",
            "SHOPREC_CHAMPION_REFRESH_SECONDS": "0",
        }
    )
    _services(env, "airflow")
    yield Scheduled(Console(airflow, run_dir / "airflow"), lake.bucket, run_dir, env, api)
    _services(env, "down")


def _health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as response:
        return json.load(response)


def _cycle(scheduled: Scheduled, day) -> tuple[dict, dict]:
    """Deliver one day, then wait for the scheduler's run of that moment to finish."""
    moment = inside_an_interval(scheduled.console)
    deliver(day, scheduled.bucket)
    run = wait_for_run(scheduled.console, moment)
    finished = scheduled.console.wait(run["dag_run_id"], timeout=900)
    return finished, report(run["dag_run_id"], scheduled.run_dir / "reports")


def test_the_scheduler_runs_two_cycles_the_second_judged_against_the_first_and_served(scheduled):
    first_day, second_day, *_ = by_day(generate_shop(seed=3, days=2, sessions_per_day=300)).values()
    run, stages = _cycle(scheduled, first_day)
    assert (run["state"], run["run_type"]) == ("success", "scheduled")
    assert stages["promote"]["promoted"] is True
    first = stages["train"]["model_version"]
    _services(scheduled.env, "api")
    assert _health(scheduled.api_port)["model_version"] == first

    run, stages = _cycle(scheduled, second_day)
    assert (run["state"], run["run_type"]) == ("success", "scheduled")
    assert stages["collect"]["objects"] == {"ingested": len(second_day.files), "pending": 0}
    assert stages["collect"]["lines"] == second_day.lines  # only the day that arrived
    window = stages["build_training_set"]["window"]
    assert window["from"][:10] == "2026-11-01" and window["to"][:10] == "2026-11-02"
    assert stages["build_training_set"]["novelty"]["new_sessions"] > 0
    second = stages["train"]["model_version"]
    manifest = registry.read_manifest(aws.client("s3"), LakeLayout(scheduled.bucket), second)
    assert manifest["gate"]["champion_version"] == first  # judged against it
    assert manifest["lineage"]["warm_start_from"] is None  # trained from scratch: the default
    assert stages["promote"]["promoted"] is True, stages["promote"]["reason"]
    assert _health(scheduled.api_port)["model_version"] == second  # the same API process
