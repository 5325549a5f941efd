"""The DAG's local backend: each stage runs the production code in its own runtime's venv.

* collect: the collector Lambda's handler in the Lambda venv, fed its queue by a stand-in of
  Lambda's SQS event source mapping (``shoprec.local.event_source``) after the sweep;
* stage / training set: the Glue job scripts on local pyspark (Glue 5.0's Spark), configured
  by a generated ``spark-defaults.conf`` (s3a → LocalStack, Kafka connector, Hive metastore);
* train: ``train.py`` as SageMaker runs it (``SM_*`` variables, channels copied from S3),
  then the model folder is published to the analytics zone;
* promote: the gate, then the champion pointer;
* judge_champion: the champion's live CTR against its predecessor's; a rollback when worse.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shoprec import aws, feedback, metrics, registry
from shoprec.continuous import TrainingPolicy, decide_for_lake
from shoprec.contracts import (
    CollectorSettings,
    CompactionJobArgs,
    KafkaSettings,
    StagingJobArgs,
    TrainingHyperparameters,
    TrainingSetJobArgs,
)
from shoprec.deployment import PULLED_SOURCES, Deployment
from shoprec.ingest import status
from shoprec.layout import LakeLayout
from shoprec.local import emf
from shoprec.local.runtime import (
    JARS,
    LOGS_DIR,
    REPO,
    REPORTS_DIR,
    RUN_DIR,
    read_env_file,
    venv_python,
)
from shoprec.schema import Source


class StageFailed(RuntimeError):
    pass


def reported(stage: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Keep each stage's summary in ``.run/reports/<run_id>/<stage>.json`` (run_id first); a
    stage run for a source other than the web log (``source=``) in ``<stage>_<source>.json``."""

    @functools.wraps(stage)
    def run(run_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        started = time.monotonic()
        summary = stage(run_id, *args, **kwargs)
        summary["seconds"] = round(time.monotonic() - started, 1)
        folder = REPORTS_DIR / run_id
        folder.mkdir(parents=True, exist_ok=True)
        source = kwargs.get("source", Source.WEBLOG.value)
        name = stage.__name__ if source == Source.WEBLOG.value else f"{stage.__name__}_{source}"
        (folder / f"{name}.json").write_text(json.dumps(summary, indent=2))
        return summary

    return run


def stage_env() -> dict[str, str]:
    env = os.environ | read_env_file()
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(
    runtime: str,
    args: list[str],
    env: dict[str, str],
    name: str,
    summary_key: str | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run a stage process and return its last JSON summary line. Its own lines (stdout) are
    shown prefixed with the stage; library chatter (stderr: Spark, TensorFlow, librdkafka)
    and structured logs go to ``.run/logs/<stage>.log``, whose tail a failure shows."""
    started = time.monotonic()
    log_path = LOGS_DIR / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] starting ({runtime} runtime; log {log_path})", flush=True)
    with log_path.open("a") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(args)}\n")
        log.flush()
        process = subprocess.Popen(
            [venv_python(runtime), *args], env=env, cwd=REPO, stdout=subprocess.PIPE,
            stderr=log, text=True,
        )  # fmt: skip
        summary: dict[str, Any] = {}
        timer = threading.Timer(timeout, process.kill) if timeout else None
        if timer:
            timer.start()
        assert process.stdout is not None
        for line in process.stdout:
            if not line.startswith("{"):
                sys.stdout.write(f"[{name}] {line}")
                continue
            log.write(line)
            if emf.forward(line):  # a Lambda's metrics, as CloudWatch Logs extracts them
                continue
            with contextlib.suppress(ValueError, AttributeError):
                summary = json.loads(line).get(summary_key or name, summary)
    if timer:
        timer.cancel()
    if process.wait() != 0:
        if timer and not timer.is_alive() and process.returncode < 0:
            raise StageFailed(f"{name} stopped: it ran past its budget of {timeout:.0f}s")
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise StageFailed(f"{name} exited {process.returncode}; last lines of {log_path}:\n{tail}")
    summary = dict(summary) if isinstance(summary, dict) else {"result": summary}
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(f"[{name}] done in {summary['seconds']}s", flush=True)
    return summary


def collector_settings(source: str = "weblog") -> CollectorSettings:
    """A collector's settings on the local cloud (its queue and secret: ``shoprec.local.lake``)."""
    env = stage_env()
    local = Deployment(env.get("SHOPREC_ENV", "local"))  # the names make up provisioned
    queue = aws.client("sqs").get_queue_url(QueueName=local.collector_queue(source))["QueueUrl"]
    return CollectorSettings.from_env(
        env
        | {
            "SHOPREC_SOURCE": source,
            "SHOPREC_QUEUE_URL": queue,
            "SHOPREC_CLIENT_HASH_SECRET": local.client_hash_secret,
            "SHOPREC_SWEEP_MIN_AGE_SECONDS": "0",  # this run is the sweep's moment
        }
    )


@reported
def collect(run_id: str, source: str = "weblog", cutoff: float | None = None) -> dict[str, Any]:
    """Everything that arrived by ``cutoff`` (default: now), ingested exactly once: the
    sweep finds what no notification announced, the queue is drained through the handler as
    Lambda's event source mapping would, then the run's objects are accounted for."""
    if source in PULLED_SOURCES:  # the UBI documents indexed so far, from the watermark
        pulled = _run("lambda", ["-m", "shoprec.search.ubi_collector", run_id], stage_env(),
                      "collect", "collect")  # fmt: skip
        metrics.publish(metrics.collect_values(pulled), metrics.COLLECT, source)
        return pulled
    cutoff = time.time() if cutoff is None else cutoff
    settings = collector_settings(source)
    env = stage_env() | settings.to_env()
    handler = f"lambdas/{source}_collector/handler.py"
    driven = _run(
        "lambda",
        ["-m", "shoprec.local.event_source", handler, "--queue-url", settings.queue_url, "--sweep"],
        env,
        "collect",
        "event_source",
    )
    result = status.summary(aws.client("s3"), settings.lake_bucket, source, run_id, cutoff)
    result["invocations"] = driven.get("invocations", 0)
    if not result["balanced"]:
        raise StageFailed(f"collect counts do not balance: {result['per_object']}")
    metrics.publish(metrics.collect_values(result), metrics.COLLECT, source)
    return result


@reported
def reconcile(
    run_id: str, collected: list[dict[str, Any]], staged: dict[str, Any]
) -> dict[str, Any]:
    """The run's counts end to end, per source (``shoprec.ingest.status.reconcile``); fails
    on a mismatch."""
    bucket = stage_env()["SHOPREC_LAKE_BUCKET"]
    result = status.reconcile_lake(aws.client("s3"), bucket, collected, staged)
    for check, ok in result["checks"].items():
        print(f"[reconcile] {'ok' if ok else 'MISMATCH'}  {check}", flush=True)
    if not result["ok"]:
        raise StageFailed(f"counts do not reconcile: {result['checks']}")
    return result


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
        # s3:// as on Glue (where EMRFS serves it): the catalogue's locations say s3://
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    }
    (conf_dir / "spark-defaults.conf").write_text(
        "".join(f"{k} {v}\n" for k, v in settings.items())
    )
    return conf_dir


def run_glue_job(job: str, arguments: list[str]) -> dict[str, Any]:
    """A Glue job's script on local pyspark, configured as Glue configures it."""
    env = stage_env()
    env["SPARK_CONF_DIR"] = str(spark_defaults(env))
    return _run("glue", [f"glue_jobs/{job}/job.py", *arguments], env, job)


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
    summary = run_glue_job("stage_events", args.to_argv())
    metrics.publish(metrics.staging_values(summary), metrics.STAGING)
    return summary


@reported
def judge_champion(
    run_id: str,
    staged: dict[str, Any],
    min_impressions: int = feedback.SequentialTest.min_impressions,
) -> dict[str, Any]:
    """The champion's live CTR against the previous champion's, from the staging run's counts;
    a rollback when the sequential test says it is worse (``shoprec.feedback``)."""
    layout = LakeLayout(stage_env()["SHOPREC_LAKE_BUCKET"])
    test = feedback.SequentialTest(min_impressions=min_impressions)
    result = feedback.judge_champion(aws.client("s3"), layout, feedback.report_rows(staged), test)
    print(f"[judge_champion] {result['decision']}: {result['reason']}", flush=True)
    return result


@reported
def build_training_set(
    run_id: str, validation_days: float = 1.0, window_days: int = TrainingSetJobArgs.window_days
) -> dict[str, Any]:
    env = stage_env()
    layout = LakeLayout(env["SHOPREC_LAKE_BUCKET"])
    args = TrainingSetJobArgs(
        lake_bucket=layout.bucket,
        run_id=run_id,
        validation_days=validation_days,
        window_days=window_days,
        reference_until=registry.trained_data_until(aws.client("s3"), layout) or "",
    )
    return run_glue_job("build_training_set", args.to_argv())


@reported
def compact_events(run_id: str) -> dict[str, Any]:
    """Closed days' partitions rewritten into few files (``glue_jobs/compact_events``)."""
    args = CompactionJobArgs(lake_bucket=stage_env()["SHOPREC_LAKE_BUCKET"], run_id=run_id)
    return run_glue_job("compact_events", args.to_argv())


@reported
def decide_training(
    run_id: str, training_set: dict[str, Any], policy: TrainingPolicy
) -> dict[str, Any]:
    """Whether this cycle trains (``shoprec.continuous``), and the budget it may spend."""
    layout = LakeLayout(stage_env()["SHOPREC_LAKE_BUCKET"])
    decision = decide_for_lake(aws.client("s3"), layout, policy, training_set["novelty"])
    print(f"[decide] {'train' if decision.train else 'skip'}: {decision.reason}", flush=True)
    return decision.to_dict()


def _download_channel(s3: Any, layout: LakeLayout, prefix: str, target: Path) -> None:
    """Copy every object under ``prefix`` below ``target``, as SageMaker's File mode does."""
    folder = prefix[: prefix.rfind("/") + 1]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=layout.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            path = target / obj["Key"][len(folder) :]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(layout.bucket, obj["Key"], str(path))


@reported
def train(
    data_run: str, model_version: str, budget_seconds: float | None = None, **hyperparameters: Any
) -> dict[str, Any]:
    """Run train.py the way SageMaker does (stopped past ``budget_seconds``, as SageMaker's
    stopping condition would), then publish the model folder."""
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
    summary = _run(
        "ml", ["sagemaker/training/train.py", *hp.to_argv()], env, "train", timeout=budget_seconds
    )
    summary["model_prefix"] = registry.publish(s3, layout, job / "model", model_version)
    metrics.publish(metrics.training_values(summary), metrics.TRAINING)
    return summary


@reported
def promote(run_id: str, model_version: str) -> dict[str, Any]:
    layout = LakeLayout(stage_env()["SHOPREC_LAKE_BUCKET"])
    s3 = aws.client("s3")
    result = registry.promote_if_accepted(s3, layout, model_version)
    metrics.publish(metrics.gate_values(result, registry.read_champion(s3, layout)), metrics.GATE)
    verdict = "is champion" if result["promoted"] else "rejected"
    print(f"[promote] {model_version} {verdict}: {result['reason']}", flush=True)
    if result["serving"]:
        serving = result["serving"]
        print(f"[promote] serving {serving['version']} ({serving['tier']} tier)", flush=True)
    return result
