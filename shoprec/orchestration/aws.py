"""The DAG's tasks in AWS mode (MWAA): the Amazon provider's operators on what CDK deployed.

    run_settings → per object source (web log, Solr): start_sweep_<source> (its collector
    Lambda, asynchronous) → wait_for_ingestion_<source> → collect_<source>; the pulled
    source (OpenSearch): pull_opensearch (its collector Lambda, synchronous) → collect_opensearch
    → anything_new → stage_events (Glue) → staging_report (S3 sensor)
    → reconcile (and judge_champion: the live CTR test, a rollback) → training_set_arguments → build_training_set (Glue)
    → training_set_manifest (S3 sensor) → worth_training → training_job_config
    → train_model (SageMaker) → publish_model → register_model (model package)
    → promote_model (champion pointer); beside the training, training_set_manifest
    → compact_events (Glue: closed days' partitions in few files)

Long waits hold no worker slot: the Glue jobs, the training job and the S3 sensors defer to
the triggerer, the ingestion sensor reschedules itself. Every task retries with exponential
backoff, and a task that fails for good publishes to the environment's SNS topic. Names come
from ``shoprec.deployment``; what is known only after deployment is read from SSM once per
run (``run_settings``). Nothing here calls AWS at import: MWAA parses this every 30 s.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from airflow.exceptions import AirflowFailException
from airflow.providers.amazon.aws.notifications.sns import SnsNotifier
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import Asset, get_current_context, task

from shoprec import metrics, registry
from shoprec.continuous import decide_for_lake
from shoprec.contracts import (
    CompactionJobArgs,
    StagingJobArgs,
    TrainingHyperparameters,
    TrainingSetJobArgs,
)
from shoprec.deployment import (
    GLUE_TIMEOUT_MINUTES,
    PULLED_SOURCES,
    SOURCES,
    Deployment,
    lake_run_id,
    run_arguments,
)
from shoprec.feedback import SequentialTest, report_rows
from shoprec.feedback import judge_champion as judge
from shoprec.ingest import status
from shoprec.ingest.streams import Ledger
from shoprec.layout import CHAMPION_KEY, METRICS_FILE, TRAINING_SET_MANIFEST, LakeLayout
from shoprec.orchestration import common, training_job
from shoprec.orchestration.operators import (
    GatedModelPackage,
    ReattachingTrainingOperator,
    StoppingGlueJobOperator,
)

AWS_CONN_ID = "aws_default"  # on MWAA: the execution role
# A pulled source's collector is told the run it collects for (``run_settings``' run id).
PULL_PAYLOAD = json.dumps({"run_id": "{{ ti.xcom_pull(task_ids='run_settings', key='run_id') }}"})
INGESTION_WAIT = timedelta(hours=1)  # then the cycle goes on; the report lists what is pending
POLL = timedelta(minutes=1)  # how often a wait looks again (option shoprec.poll_seconds)
OUTPUT_WAIT = timedelta(minutes=10)  # a job's report appears when the job succeeds
RETRIES = {
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,  # 1, 2, 4 minutes (with jitter), at most 30
    "max_retry_delay": timedelta(minutes=30),
}
FAILURE_SUBJECT = "shoprec {{ dag.dag_id }}: {{ ti.task_id }} failed"
# A worker's task runner puts the error in the callback's context (``dag.test`` does not).
FAILURE_MESSAGE = (
    "Task {{ ti.task_id }} of DAG {{ dag.dag_id }}, run {{ run_id }}, failed on try "
    "{{ ti.try_number }}: {{ exception | default('see the task log') }}"
)


def default_args(failure_topic_arn: str) -> dict[str, Any]:
    """Retries with exponential backoff; once they are spent, a message on the SNS topic."""
    notifier = SnsNotifier(
        aws_conn_id=AWS_CONN_ID,
        target_arn=failure_topic_arn,
        subject=FAILURE_SUBJECT,
        message=FAILURE_MESSAGE,
    )
    return RETRIES | {"on_failure_callback": notifier}


def client(service: str) -> Any:
    """A client of the tasks' AWS connection (the provider's hook, as its operators use)."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    return AwsBaseHook(aws_conn_id=AWS_CONN_ID, client_type=service).get_conn()


def region() -> str:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    return AwsBaseHook(aws_conn_id=AWS_CONN_ID, client_type="sagemaker").conn_region_name


def lake_asset(deployment: Deployment, zone: str) -> Asset:
    """A zone of the environment's lake (its bucket's name is known only after deployment)."""
    return Asset(
        name=f"{deployment.prefix}-{zone.strip('/').replace('/', '-').replace('.', '-')}",
        uri=f"shoprec://{deployment.env}/{zone}",
    )


def publish_metrics(
    deployment: Deployment, values: dict[str, float], stage: str, source: str = metrics.ALL_SOURCES
) -> None:
    """A stage's metrics from the DAG's task, taken from the stage's own summary."""
    metrics.publish(values, stage, source, client=client("cloudwatch"), env=deployment.env)


def parameters(deployment: Deployment) -> dict[str, str]:
    """The deployment's SSM parameters the run needs, in one call."""
    d = deployment

    names = {
        "lake_bucket": d.lake_bucket_parameter,
        "role_arn": d.training_role_parameter,
        "training_image": d.training_image_parameter,
        "source_uri": d.training_source_parameter,
        "instance_type": d.training_instance_parameter,
        "inference_image": d.inference_image_parameter,
    }
    response = client("ssm").get_parameters(Names=list(names.values()))
    if response.get("InvalidParameters"):  # absent when every name exists
        raise AirflowFailException(f"not deployed: SSM parameters {response['InvalidParameters']}")
    values = {p["Name"]: p["Value"] for p in response["Parameters"]}
    return {key: values[name] for key, name in names.items()}


def _read_json(bucket: str, key: str) -> dict[str, Any]:
    return json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def build(deployment: Deployment, poll: timedelta = POLL) -> None:
    d = deployment
    seconds = int(poll.total_seconds())
    staging = lake_asset(d, LakeLayout.STAGING_EVENTS_PREFIX)
    training_set = lake_asset(d, LakeLayout.TRAINING_PREFIX)
    champion = lake_asset(d, CHAMPION_KEY)
    glue_wait = {
        "aws_conn_id": AWS_CONN_ID,
        "waiter_delay": seconds,
        # the job's own timeout stops it first
        "waiter_max_attempts": GLUE_TIMEOUT_MINUTES * 60 // seconds + 10,
    }
    output_wait = {
        "aws_conn_id": AWS_CONN_ID,
        "deferrable": True,
        "poke_interval": seconds,
        "timeout": OUTPUT_WAIT.total_seconds(),
    }

    @task(multiple_outputs=True)
    def run_settings() -> dict[str, Any]:
        """The deployment's values (SSM) and the run's names, fixed once for every task and
        every retry: the training job's name derives from the DAG run id."""
        context = get_current_context()
        values, run = parameters(d), lake_run_id(context["run_id"])
        return {
            "lake_bucket": values["lake_bucket"],
            "inference_image": values["inference_image"],
            "training": asdict(
                training_job.TrainingSetup(
                    bucket=values["lake_bucket"],
                    role_arn=values["role_arn"],
                    training_image=values["training_image"],
                    source_uri=values["source_uri"],
                    instance_type=values["instance_type"],
                )
            ),
            "run_id": run,
            "started": time.time(),
            "cutoff": common.cutoff(context),
            "model_version": context["dag_run"].run_after.strftime("%Y%m%dT%H%M%SZ"),
            "training_job": training_job.job_name(d.training_job_prefix, context["run_id"]),
            "staging_arguments": run_arguments(StagingJobArgs, run_id=run),
            "staging_report": LakeLayout.run_report_key("stage_events", run),
            "compaction_arguments": run_arguments(CompactionJobArgs, run_id=run),
            "training_set_manifest": LakeLayout.training_prefix(run) + TRAINING_SET_MANIFEST,
        }

    @task.sensor(mode="reschedule", poke_interval=seconds)
    def wait_for_ingestion(source: str, settings: dict[str, Any]) -> bool:
        """Until the ledger holds every object that arrived by the cutoff (the collector runs
        on its queue's events, and on the sweep just started). After ``INGESTION_WAIT`` the
        cycle goes on: the collect report lists what is pending, the next cycle accounts
        for it."""
        s3, bucket = client("s3"), settings["lake_bucket"]
        ledger = Ledger(status.state_store(s3, bucket, source))
        prefix = LakeLayout.incoming_prefix(source)
        waiting = status.pending(s3, ledger, bucket, prefix, settings["cutoff"])["not_ingested"]
        if waiting and time.time() < settings["started"] + INGESTION_WAIT.total_seconds():
            print(f"{len(waiting)} objects not ingested yet, e.g. {waiting[0]}")
            return False
        return True

    @task(multiple_outputs=False)
    def collect(source: str, settings: dict[str, Any]) -> dict[str, Any]:
        """The run's objects of the source accounted for: lines = events + quarantined +
        filtered."""
        s3, bucket = client("s3"), settings["lake_bucket"]
        summary = status.summary(s3, bucket, source, settings["run_id"], settings["cutoff"])
        publish_metrics(d, metrics.collect_values(summary), metrics.COLLECT, source)
        return summary

    @task(multiple_outputs=False)
    def collect_pulled(answer: str) -> dict[str, Any]:
        """The pulled source's collector's summary (its Lambda's answer) as the step's."""
        return json.loads(answer)

    @task(multiple_outputs=False)
    def reconcile(collected: list[dict[str, Any]], settings: dict[str, Any]) -> dict[str, Any]:
        """Lines → events → staged rows (the staging job's report), per source, checked end to
        end: a mismatch fails the run at once (a retry would count the same)."""
        staged = _read_json(settings["lake_bucket"], settings["staging_report"])
        publish_metrics(d, metrics.staging_values(staged), metrics.STAGING)
        result = status.reconcile_lake(client("s3"), settings["lake_bucket"], collected, staged)
        if not result["ok"]:
            raise AirflowFailException(f"counts do not reconcile: {result['checks']}")
        return result

    @task(multiple_outputs=False)
    def judge_champion(settings: dict[str, Any]) -> dict[str, Any]:
        """The champion's live CTR against the previous champion's, from the staging job's
        counts; rolled back when the sequential test says it is worse (shoprec.feedback)."""
        staged = _read_json(settings["lake_bucket"], settings["staging_report"])
        test = SequentialTest(min_impressions=common.rollback_min_impressions())
        layout = LakeLayout(settings["lake_bucket"])
        result = judge(client("s3"), layout, report_rows(staged), test)
        print(f"{result['decision']}: {result['reason']}")
        return result

    @task
    def training_set_arguments(settings: dict[str, Any]) -> dict[str, str]:
        """The run's window (the environment's policy) and what is new: measured after the
        data of the last model trained."""
        layout = LakeLayout(settings["lake_bucket"])
        reference = registry.trained_data_until(client("s3"), layout) or ""
        return run_arguments(
            TrainingSetJobArgs,
            run_id=settings["run_id"],
            validation_days=float(get_current_context()["params"]["validation_days"]),
            window_days=common.policy().window_days,
            reference_until=reference,
        )

    @task.short_circuit
    def worth_training(settings: dict[str, Any]) -> dict[str, Any] | bool:
        """Enough new data or drift (the training set's manifest), within the day's budget."""
        manifest = _read_json(settings["lake_bucket"], settings["training_set_manifest"])
        layout = LakeLayout(settings["lake_bucket"])
        decision = decide_for_lake(client("s3"), layout, common.policy(), manifest["novelty"])
        return common.worth_it(decision.to_dict())

    @task
    def training_job_config(decision: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
        """The CreateTrainingJob request: the SDK's template, this run's values."""
        layout = LakeLayout(settings["lake_bucket"])
        serving = registry.read_champion(client("s3"), layout)
        channels = layout.training_channels(settings["run_id"], serving and serving["version"])
        hyperparameters = TrainingHyperparameters(
            model_version=settings["model_version"],
            data_run=settings["run_id"],
            **common.hyperparameters(get_current_context()["params"]),
        )
        return training_job.request(
            training_job.TrainingSetup(**settings["training"]),
            name=settings["training_job"],
            region=region(),
            channels={name: layout.uri(prefix) for name, prefix in channels.items()},
            hyperparameters=hyperparameters.to_hyperparameters(),
            budget_seconds=decision["budget_seconds"],
        )

    @task(multiple_outputs=False)
    def publish_model(trained: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
        """The job's model.tar.gz as the model folder the API serves, and its gate decision."""
        job, s3 = trained["Training"], client("s3")
        layout, version = LakeLayout(settings["lake_bucket"]), settings["model_version"]
        artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
        prefix = registry.publish_archive(s3, layout, artifacts, version)
        manifest = registry.read_manifest(s3, layout, version)
        epochs = {"epochs": float(manifest["hyperparameters"]["epochs"])}
        publish_metrics(d, metrics.training_values(manifest | epochs), metrics.TRAINING)
        return {
            "model_version": version,
            "training_job": job["TrainingJobName"],
            "model_prefix": prefix,
            "model_data": artifacts,
            "metrics_uri": layout.uri(prefix + METRICS_FILE),
            "gate": manifest["gate"],
        }

    @task(multiple_outputs=False, outlets=[champion])
    def promote_model(
        published: dict[str, Any], package: str, settings: dict[str, Any]
    ) -> dict[str, Any]:
        """The champion pointer follows the approved package. A package the gate approved
        whose promotion is refused (the champion changed since the gate compared against
        it) is rejected too, so the registry and the pointer agree."""
        layout = LakeLayout(settings["lake_bucket"])
        version = published["model_version"]
        result = registry.promote_if_accepted(client("s3"), layout, version, package)
        champion_now = registry.read_champion(client("s3"), layout)
        publish_metrics(d, metrics.gate_values(result, champion_now), metrics.GATE)
        if published["gate"]["decision"] == "promote" and not result["promoted"]:
            client("sagemaker").update_model_package(
                ModelPackageArn=package,
                ModelApprovalStatus="Rejected",
                ApprovalDescription=result["reason"][:1024],
            )
        print(
            f"{version} {'is champion' if result['promoted'] else 'rejected'}: {result['reason']}"
        )
        if result["serving"]:
            print(f"serving {result['serving']['version']} ({result['serving']['tier']} tier)")
        return result

    settings = run_settings()
    collected = []
    for source in SOURCES:  # objects under incoming/: the sweep, then the ledger
        sweep = LambdaInvokeFunctionOperator(
            task_id=f"start_sweep_{source}",
            function_name=d.collector_function(source),
            invocation_type="Event",  # the collector ingests on its own; the sensor waits
            payload=json.dumps({"action": "sweep"}),
            aws_conn_id=AWS_CONN_ID,
        )
        waited = wait_for_ingestion.override(task_id=f"wait_for_ingestion_{source}")(
            source, settings
        )
        summary = collect.override(task_id=f"collect_{source}")(source, settings)
        settings >> sweep >> waited >> summary
        collected.append(summary)
    for source in PULLED_SOURCES:  # one run of its collector, now: its answer is the summary
        pull = LambdaInvokeFunctionOperator(
            task_id=f"pull_{source}",
            function_name=d.collector_function(source),
            invocation_type="RequestResponse",  # a failed pull fails the task
            payload=PULL_PAYLOAD,
            aws_conn_id=AWS_CONN_ID,
        )
        settings >> pull
        collected.append(collect_pulled.override(task_id=f"collect_{source}")(pull.output))
    staged = StoppingGlueJobOperator(
        task_id="stage_events",
        job_name=d.glue_job("stage_events"),
        script_args=settings["staging_arguments"],
        outlets=[staging],
        **glue_wait,
    )
    report = S3KeySensor(
        task_id="staging_report",
        bucket_name=settings["lake_bucket"],
        bucket_key=settings["staging_report"],
        **output_wait,
    )
    reconciled = reconcile(collected, settings)
    common.anything_new(collected) >> staged >> report >> reconciled
    report >> judge_champion(settings)
    arguments = training_set_arguments(settings)
    built = StoppingGlueJobOperator(
        task_id="build_training_set",
        job_name=d.glue_job("build_training_set"),
        script_args=arguments,
        inlets=[staging],
        outlets=[training_set],
        **glue_wait,
    )
    manifest = S3KeySensor(
        task_id="training_set_manifest",
        bucket_name=settings["lake_bucket"],
        bucket_key=settings["training_set_manifest"],
        **output_wait,
    )
    decision = worth_training(settings)
    reconciled >> arguments >> built >> manifest >> decision
    compacted = StoppingGlueJobOperator(  # after the training set, which reads what it deletes
        task_id="compact_events",
        job_name=d.glue_job("compact_events"),
        script_args=settings["compaction_arguments"],
        inlets=[staging],
        outlets=[staging],
        **glue_wait,
    )
    manifest >> compacted
    trained = ReattachingTrainingOperator(
        task_id="train_model",
        config=training_job_config(decision, settings),
        aws_conn_id=AWS_CONN_ID,
        print_log=False,  # the job's log is in CloudWatch; the task shows its status
        check_interval=seconds,
        max_attempts=training_job.max_runtime_seconds() // seconds + 10,
        inlets=[training_set],
    )
    published = publish_model(trained.output, settings)
    package = GatedModelPackage(
        task_id="register_model",
        model=published,
        image_uri=settings["inference_image"],
        package_group_name=d.model_package_group,
        aws_conn_id=AWS_CONN_ID,
    )
    promote_model(published, package.output, settings)
