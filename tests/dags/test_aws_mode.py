"""The DAG in AWS mode, against moto in server mode: the provider's operators, sensors,
triggers and hooks send their real requests (boto3, and aiobotocore for deferred waits).

A whole cycle runs under ``dag.test`` (triggers inline) while the test plays the parts moto
cannot run (``aws_world``); the retry, kill, notifier and gate cases run the tasks the way a
worker and a triggerer would.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shoprec import registry
from shoprec.continuous import TrainingPolicy
from shoprec.deployment import lake_run_id
from shoprec.metrics import NAMESPACE
from shoprec.orchestration import permissions, training_job

from .aws_world import (
    BUCKET,
    DEPLOYMENT,
    ENV,
    LAYOUT,
    ROLE,
    client,
    collected,
    gate,
    recorded_calls,
    staged,
    trained,
    training_set,
)

pytestmark = [pytest.mark.dags, pytest.mark.slow]
DAGS = Path(__file__).parents[2] / "mwaa_dags"
TRAINING_JOB = "sagemaker::training_job"
GLUE_RUN = "glue::job_run"
POLICY = TrainingPolicy(window_days=7)  # the environment's, as CDK sets it


@pytest.fixture
def aws_dag(monkeypatch, world):
    """The DAG file parsed as MWAA parses it (the options CDK sets; the cycle in seconds, so
    a manual run's data interval ends when it runs; waits that look every second)."""
    from airflow.models import DagBag

    for option, value in DEPLOYMENT.airflow_options(world.topic_arn, POLICY).items():
        section, key = option.split(".")
        monkeypatch.setenv(f"AIRFLOW__{section.upper()}__{key.upper()}", value)
    monkeypatch.setenv("AIRFLOW__SHOPREC__CYCLE_SECONDS", "60")
    monkeypatch.setenv("AIRFLOW__SHOPREC__POLL_SECONDS", "1")  # moto answers at once
    with recorded_calls() as parsing:
        bag = DagBag(dag_folder=str(DAGS), include_examples=False)
    assert parsing.calls == set()  # MWAA parses the file every 30 s: no AWS calls
    return bag.dags["clickstream_training"]


@pytest.fixture
def registered(aws_dag, airflow_db):
    """The DAG as the dag processor leaves it in the database (its assets active)."""
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS), include_examples=False, collect_dags=False)
    bag.bag_dag(aws_dag)
    bag.sync_to_db("dags-folder", None)
    return aws_dag


def _run(dag):
    """One manual run under ``dag.test``: its id, settled before it starts."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    run_after = datetime.now(UTC).replace(microsecond=0)
    run_id = DagRun.generate_run_id(
        run_type=DagRunType.MANUAL, logical_date=run_after, run_after=run_after
    )
    return run_after, run_id


def _states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def test_a_cycle_runs_each_stage_as_a_provider_operator_on_the_deployment(registered, world):
    aws_dag = registered
    events = collected(lines=3)
    run_after, run_id = _run(aws_dag)
    run, version = lake_run_id(run_id), run_after.strftime("%Y%m%dT%H%M%SZ")
    job = training_job.job_name(DEPLOYMENT.training_job_prefix, run_id)
    staged(run, rows=events)
    training_set(run)
    artifacts = trained(job, version, gate("promote"))

    with recorded_calls() as sent:
        result = aws_dag.test(run_after=run_after, logical_date=run_after)

    assert set(_states(result).values()) == {"success"}, _states(result)
    glue, sagemaker = client("glue"), client("sagemaker")
    (staging,) = glue.get_job_runs(JobName=DEPLOYMENT.glue_job("stage_events"))["JobRuns"]
    assert staging["Arguments"] == {"--run_id": run}
    (window,) = glue.get_job_runs(JobName=DEPLOYMENT.glue_job("build_training_set"))["JobRuns"]
    assert window["Arguments"] == {
        "--run_id": run,
        "--validation_days": "1.0",
        "--window_days": "7",  # the environment's policy
        "--reference_until": "",  # no model trained yet
    }
    (summary,) = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert summary["TrainingJobName"] == job
    request = sagemaker.describe_training_job(TrainingJobName=job)
    assert request["RoleArn"] == ROLE
    assert request["HyperParameters"]["sagemaker_program"] == '"train.py"'  # the SDK's form
    assert request["HyperParameters"]["model_version"] == version
    assert request["HyperParameters"]["data_run"] == run
    assert request["HyperParameters"]["warm_start"] == "false"  # the DAG param's default
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in request["InputDataConfig"]
    }
    assert channels["train"] == LAYOUT.uri(LAYOUT.training_prefix(run) + "train/")
    # no champion: no warm start
    assert set(channels) == {"train", "validation", "latest", "vocabulary", "products", "lineage"}
    (package,) = sagemaker.list_model_packages(
        ModelPackageGroupName=DEPLOYMENT.model_package_group
    )["ModelPackageSummaryList"]
    assert package["ModelApprovalStatus"] == "Approved"
    described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
    assert described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == artifacts
    metrics = described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert metrics == LAYOUT.uri(LAYOUT.model_prefix(version) + "metrics.json")
    put = client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"]
    stages = {
        (m["MetricName"], {d["Name"]: d["Value"] for d in m["Dimensions"]}["Stage"]) for m in put
    }
    assert {("RunLines", "collect"), ("RowsStaged", "stage"), ("ModelMrr20", "train"),
            ("Promoted", "gate")} <= stages  # fmt: skip
    assert {d["Value"] for m in put for d in m["Dimensions"] if d["Name"] == "Environment"} == {ENV}
    champion = registry.read_champion(client("s3"), LAYOUT)
    assert champion["version"] == version
    assert described["CustomerMetadataProperties"]["serve"] == "model"  # the tier that serves
    assert champion["model_package"] == package["ModelPackageArn"]
    # the operators really sent their requests, and each is one the stack grants
    assert {
        ("lambda", "Invoke"),
        ("glue", "StartJobRun"),
        ("glue", "GetJobRun"),  # the deferred wait (aiobotocore)
        ("sagemaker", "CreateTrainingJob"),
        ("sagemaker", "CreateModelPackage"),
        ("s3", "HeadObject"),  # the S3 sensors
    } <= sent.calls
    assert permissions.unlisted(sent.calls) == set()


def test_a_failed_task_publishes_to_the_failure_topic_and_stops_the_cycle(registered, world):
    aws_dag = registered
    collected(lines=3)
    run_after, run_id = _run(aws_dag)
    staged(lake_run_id(run_id), rows=2)  # a row lost between collector and staging

    with recorded_calls() as sent:
        result = aws_dag.test(run_after=run_after, logical_date=run_after)

    states = _states(result)
    assert states["reconcile"] == "failed"  # at once: AirflowFailException, no retry
    assert states["build_training_set"] == states["train_model"] == "upstream_failed"
    (message,) = world.notifications()
    assert message["Subject"] == "shoprec clickstream_training: reconcile failed"
    assert message["Message"].startswith(
        f"Task reconcile of DAG clickstream_training, run {run_id}"
    )
    assert ("sns", "Publish") in sent.calls and permissions.unlisted(sent.calls) == set()
    failed = client("cloudwatch").list_metrics(Namespace=NAMESPACE, MetricName="RunFailed")
    assert failed["Metrics"]  # the DAG's failure callback: what the dag-run-failed alarm watches


def _config(world, run_id: str) -> dict:
    from .aws_world import DEPLOYMENT as d

    setup = training_job.TrainingSetup(
        BUCKET, ROLE, "image", "s3://cdk-assets/s.tar.gz", "ml.m5.large"
    )
    return training_job.request(
        setup,
        name=training_job.job_name(d.training_job_prefix, run_id),
        region="us-east-1",
        channels={"train": LAYOUT.uri("staging/training/r/train/")},
        hyperparameters={"epochs": "1"},
        budget_seconds=600,
    )


def _first_event(trigger):
    async def first():
        return await anext(trigger.run())

    return asyncio.run(first())


def test_a_retry_of_the_training_task_waits_for_the_job_its_first_try_started(world):
    from airflow.exceptions import TaskDeferred
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

    from shoprec.orchestration.operators import ReattachingTrainingOperator

    world.progress(TRAINING_JOB, "manual", times=3)  # InProgress for three looks
    training_set("r")  # the channels the provider checks before it creates a job
    config = _config(world, "scheduled__2026-12-01T00:00:00+00:00")

    def try_(number):
        return ReattachingTrainingOperator(
            task_id=f"train_model_try_{number}",
            config=dict(config),
            check_interval=1,
            print_log=False,
        )

    with pytest.raises(TaskDeferred):  # the first try starts the job and defers...
        try_(1).execute({})
    # ...and is lost (its worker or triggerer gone); the retry:
    retry = try_(2)
    with recorded_calls() as sent, pytest.raises(TaskDeferred) as deferred:
        retry.execute({})
    assert ("sagemaker", "CreateTrainingJob") not in sent.calls
    event = _first_event(deferred.value.trigger)
    result = retry.execute_complete({}, event.payload)
    assert result["Training"]["TrainingJobName"] == config["TrainingJobName"]
    assert result["Training"]["TrainingJobStatus"] == "Completed"
    sagemaker = client("sagemaker")
    assert [
        j["TrainingJobName"] for j in sagemaker.list_training_jobs()["TrainingJobSummaries"]
    ] == [config["TrainingJobName"]]
    # a retry done by the provider's own choices would have started a second job
    SageMakerTrainingOperator(
        task_id="stock", config=dict(config), wait_for_completion=False
    ).execute({})
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 2


def _glue_started(world):
    """The staging job's task, deferred on a run that keeps RUNNING."""
    from airflow.exceptions import TaskDeferred

    from shoprec.orchestration.operators import StoppingGlueJobOperator

    world.progress(GLUE_RUN, "manual", times=10_000)
    operator = StoppingGlueJobOperator(
        task_id="stage_events", job_name=DEPLOYMENT.glue_job("stage_events"), waiter_delay=1
    )
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": None})
    return operator, deferred.value.trigger


def _run_state(trigger) -> str:
    run = client("glue").get_job_run(JobName=trigger.job_name, RunId=trigger.run_id)
    return run["JobRun"]["JobRunState"]


def test_a_killed_glue_task_stops_its_run_on_the_worker(world):
    operator, trigger = _glue_started(world)
    assert _run_state(trigger) in ("STARTING", "RUNNING")
    operator.on_kill()  # the worker kills the task (marked failed, timed out, cleared)
    assert _run_state(trigger) == "STOPPED"


@pytest.mark.parametrize(
    ("task_state", "stopped"),
    [
        ("failed", True),  # marked failed (or cleared, timed out) while deferred
        ("deferred", False),  # the triggerer restarts: the task still waits for the run
    ],
)
def test_a_trigger_cancelled_stops_the_run_only_when_its_task_was_killed(
    world, monkeypatch, task_state, stopped
):
    from types import SimpleNamespace

    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    _, trigger = _glue_started(world)
    trigger.task_instance = SimpleNamespace(
        dag_id="clickstream_training", task_id="stage_events", run_id="r"
    )
    # the triggerer's view of the task (its supervisor asks the API server; none runs here)
    states = {"r": {"stage_events": task_state}}
    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", staticmethod(lambda **_: states))

    async def cancelled_while_waiting():
        waiting = asyncio.ensure_future(anext(trigger.run()))
        await asyncio.sleep(1.5)  # it has looked at the run at least once
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting

    asyncio.run(cancelled_while_waiting())
    assert (_run_state(trigger) == "STOPPED") is stopped


def _published(version: str, decision: dict) -> dict:
    """A model as ``publish_model`` hands it on (its files in the lake)."""
    artifacts = trained(f"job-{version}", version, decision)
    prefix = registry.publish_archive(client("s3"), LAYOUT, artifacts, version)
    return {
        "model_version": version,
        "training_job": f"job-{version}",
        "model_prefix": prefix,
        "model_data": artifacts,
        "metrics_uri": LAYOUT.uri(prefix + "metrics.json"),
        "gate": decision,
    }


def _package(model: dict) -> dict:
    from shoprec.orchestration.operators import GatedModelPackage

    arn = GatedModelPackage(
        task_id="register_model",
        model=model,
        image_uri="inference-image",
        package_group_name=DEPLOYMENT.model_package_group,
    ).execute({})
    return client("sagemaker").describe_model_package(ModelPackageName=arn)


def test_a_model_the_gate_rejects_is_registered_rejected_and_never_serves(aws_dag, world):
    model = _published("v1", gate("reject"))
    package = _package(model)
    assert package["ModelApprovalStatus"] == "Rejected"
    assert "does not beat" in package["ModelPackageDescription"]
    promote = aws_dag.get_task("promote_model").python_callable
    result = promote(model, package["ModelPackageArn"], {"lake_bucket": BUCKET})
    assert result["promoted"] is False and registry.read_champion(client("s3"), LAYOUT) is None


def test_an_approved_package_whose_promotion_is_refused_is_rejected_too(aws_dag, world):
    s3 = client("s3")
    _published("v0", gate("promote"))
    registry.promote(s3, LAYOUT, "v0", "earlier")  # the champion changed since the gate ran
    model = _published("v1", gate("promote", champion=None))
    package = _package(model)
    assert package["ModelApprovalStatus"] == "Approved"
    promote = aws_dag.get_task("promote_model").python_callable
    result = promote(model, package["ModelPackageArn"], {"lake_bucket": BUCKET})
    assert result["promoted"] is False and "champion changed" in result["reason"]
    described = client("sagemaker").describe_model_package(
        ModelPackageName=package["ModelPackageArn"]
    )
    assert described["ModelApprovalStatus"] == "Rejected"
    assert registry.read_champion(s3, LAYOUT)["version"] == "v0"


def test_ingestion_sensor_waits_for_the_ledger_then_at_most_its_limit(aws_dag, world):
    import time

    s3 = client("s3")
    s3.put_object(Bucket=BUCKET, Key=LAYOUT.incoming_prefix("weblog") + "web-02/a.log", Body=b"x\n")
    poke = aws_dag.get_task("wait_for_ingestion_weblog").python_callable
    now = time.time() + 5
    assert poke("weblog", {"lake_bucket": BUCKET, "cutoff": now, "started": time.time()}) is False
    # an hour later the cycle goes on (the collect report lists the object as pending)
    assert (
        poke("weblog", {"lake_bucket": BUCKET, "cutoff": now, "started": time.time() - 3601})
        is True
    )
    assert poke(
        "weblog", {"lake_bucket": BUCKET, "cutoff": time.time() - 3600, "started": time.time()}
    )
