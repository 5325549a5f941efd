"""The DAG's local backend: each stage runs the production code in its own runtime's venv.

* collect: the Lambda handler, invoked in-process by a runner in the Lambda venv, repeated
  until the collector reports nothing more to read;
* stage / training set: the Glue job scripts on local pyspark (Glue 5.0's Spark), configured
  by a generated ``spark-defaults.conf`` (s3a → LocalStack, Kafka connector, Hive metastore);
* train: ``train.py`` as SageMaker runs it (``SM_*`` variables, channels copied from S3),
  then the model folder is published to the analytics zone;
* promote: the gate, then the champion pointer.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shoprec import aws, registry
from shoprec.contracts import (
    CollectorSettings,
    KafkaSettings,
    StagingJobArgs,
    TrainingHyperparameters,
    TrainingSetJobArgs,
)
from shoprec.layout import LakeLayout
from shoprec.local.runtime import JARS, REPO, REPORTS_DIR, RUN_DIR, read_env_file, venv_python


class StageFailed(RuntimeError):
    pass


def reported(stage: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Keep each stage's summary in ``.run/reports/<run_id>/<stage>.json`` (run_id first)."""

    @functools.wraps(stage)
    def run(run_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        started = time.monotonic()
        summary = stage(run_id, *args, **kwargs)
        summary["seconds"] = round(time.monotonic() - started, 1)
        folder = REPORTS_DIR / run_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{stage.__name__}.json").write_text(json.dumps(summary, indent=2))
        return summary

    return run


def stage_env() -> dict[str, str]:
    env = os.environ | read_env_file()
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(
    runtime: str, args: list[str], env: dict[str, str], name: str, summary_key: str | None = None
) -> dict[str, Any]:
    """Run a stage process, stream its output, and return its last JSON summary line."""
    started = time.monotonic()
    print(f"[{name}] starting ({runtime} runtime)", flush=True)
    process = subprocess.Popen(
        [venv_python(runtime), *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    summary: dict[str, Any] = {}
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(f"[{name}] {line}")
        if line.startswith("{"):
            with contextlib.suppress(ValueError, AttributeError):
                summary = json.loads(line).get(summary_key or name, summary)
    if process.wait() != 0:
        raise StageFailed(f"{name} exited {process.returncode}")
    summary = dict(summary) if isinstance(summary, dict) else {"result": summary}
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(f"[{name}] done in {summary['seconds']}s", flush=True)
    return summary


@reported
def collect(run_id: str, source: str = "weblog") -> dict[str, Any]:
    """Invoke the collector until it has caught up; totals over the invocations."""
    env = stage_env()
    settings = CollectorSettings.from_env(env | {"SHOPREC_SOURCE": source})
    env |= settings.to_env()
    counted = ("lines", "events", "published", "quarantined")
    totals: dict[str, Any] = dict.fromkeys(("invocations", *counted), 0)
    while True:
        result = _run(
            "lambda",
            [
                "-m",
                "shoprec.local.invoke",
                "lambdas/weblog_collector/handler.py",
                json.dumps({"run_id": run_id}),
            ],
            env,
            "collect",
            "lambda_result",
        )
        totals["invocations"] += 1
        for key in counted:
            totals[key] += result[key]
        if not result.get("more"):
            return totals


def spark_defaults(env: dict[str, str]) -> Path:
    """spark-defaults.conf for local Glue jobs: what Glue's own configuration provides."""
    hive = RUN_DIR / "hive"
    conf_dir = RUN_DIR / "spark-conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    jars = ",".join(str(p) for p in sorted((JARS / "spark").glob("*.jar")))
    endpoint = env["AWS_ENDPOINT_URL"]
    settings = {
        "spark.master": "local[2]",
        "spark.jars": jars,
        "spark.ui.enabled": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(hive / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={hive / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={hive}",
        "spark.hadoop.fs.s3a.endpoint": endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.access.key": env["AWS_ACCESS_KEY_ID"],
        "spark.hadoop.fs.s3a.secret.key": env["AWS_SECRET_ACCESS_KEY"],
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "spark.hadoop.fs.s3a.change.detection.mode": "none",
    }
    (conf_dir / "spark-defaults.conf").write_text(
        "".join(f"{k} {v}\n" for k, v in settings.items())
    )
    return conf_dir


def _glue(job: str, arguments: list[str], name: str) -> dict[str, Any]:
    env = stage_env()
    env["SPARK_CONF_DIR"] = str(spark_defaults(env))
    return _run("glue", [f"glue_jobs/{job}/job.py", *arguments], env, name)


@reported
def stage_events(run_id: str) -> dict[str, Any]:
    env = stage_env()
    kafka = KafkaSettings.from_env(env)  # the same topic and auth the collector publishes with
    args = StagingJobArgs(
        lake_bucket=env["SHOPREC_LAKE_BUCKET"],
        kafka_bootstrap=kafka.kafka_bootstrap,
        kafka_auth=kafka.kafka_auth,
        topic=kafka.topic,
        run_id=run_id,
    )
    return _glue("stage_events", args.to_argv(), "stage_events")


@reported
def build_training_set(run_id: str, validation_days: float = 1.0) -> dict[str, Any]:
    env = stage_env()
    args = TrainingSetJobArgs(
        lake_bucket=env["SHOPREC_LAKE_BUCKET"], run_id=run_id, validation_days=validation_days
    )
    return _glue("build_training_set", args.to_argv(), "build_training_set")


def _download_channel(s3: Any, layout: LakeLayout, prefix: str, target: Path) -> None:
    """Copy every object under ``prefix`` below ``target``, as SageMaker's File mode does."""
    folder = prefix[: prefix.rfind("/") + 1]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=layout.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            path = target / obj["Key"][len(folder) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(layout.bucket, obj["Key"], str(path))


@reported
def train(data_run: str, model_version: str, **hyperparameters: Any) -> dict[str, Any]:
    """Run train.py the way SageMaker does, then publish the model folder."""
    env = stage_env()
    layout = LakeLayout(env["SHOPREC_LAKE_BUCKET"])
    job = RUN_DIR / "sagemaker" / model_version
    shutil.rmtree(job, ignore_errors=True)
    s3 = aws.client("s3")
    champion = registry.read_champion(s3, layout)
    channels = layout.training_channels(data_run, champion and champion["version"])
    for channel, prefix in channels.items():
        target = job / "input" / "data" / channel
        target.mkdir(parents=True)
        _download_channel(s3, layout, prefix, target)
        env[f"SM_CHANNEL_{channel.upper()}"] = str(target)
    env["SM_MODEL_DIR"] = str(job / "model")
    env["SM_OUTPUT_DATA_DIR"] = str(job / "output")
    hp = TrainingHyperparameters(model_version=model_version, data_run=data_run, **hyperparameters)
    summary = _run("ml", ["sagemaker/training/train.py", *hp.to_argv()], env, "train")
    summary["model_prefix"] = registry.publish(s3, layout, job / "model", model_version)
    return summary


@reported
def promote(run_id: str, model_version: str) -> dict[str, Any]:
    layout = LakeLayout(stage_env()["SHOPREC_LAKE_BUCKET"])
    result = registry.promote_if_accepted(aws.client("s3"), layout, model_version)
    verdict = "is champion" if result["promoted"] else "rejected"
    print(f"[promote] {model_version} {verdict}: {result['reason']}", flush=True)
    if result["serving"]:
        serving = result["serving"]
        print(f"[promote] serving {serving['version']} ({serving['tier']} tier)", flush=True)
    return result
