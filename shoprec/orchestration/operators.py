"""The Amazon provider's operators, each with the one behaviour the pipeline needs added.

* ``StoppingGlueJobOperator``: a deferrable Glue job whose run is stopped when its task is
  killed, also while deferred (the provider stops it only from ``on_kill``, which a deferred
  task, having no worker process, never runs);
* ``ReattachingTrainingOperator``: a retry waits for the training job its first try started
  (the provider's ``action_if_job_exists`` can only fail or start a second, renamed job);
* ``GatedModelPackage``: a trained model as a package of the model group, with its metrics,
  approved or rejected as the gate decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.exceptions import AirflowException
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.sagemaker import (
    ApprovalStatus,
    SageMakerRegisterModelVersionOperator,
    SageMakerTrainingOperator,
)
from airflow.providers.amazon.aws.triggers.glue import GlueJobCompleteTrigger
from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger
from airflow.triggers.base import TriggerEvent
from botocore.exceptions import ClientError

from shoprec import registry

DEFERRED = "deferred"


class StoppingGlueJobTrigger(GlueJobCompleteTrigger):
    """Waits for a Glue job run, and stops it when its task was killed while deferred.

    The triggerer cancels a trigger when its task leaves the deferred state (marked failed
    or success, cleared, timed out), but also when it shuts down or hands the trigger to
    another triggerer; only in the first case is the task instance no longer deferred, so
    only then is the run stopped (the ``safe_to_cancel`` check of Google's Dataproc triggers).
    """

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in super().run():
                yield event
        except asyncio.CancelledError:  # the triggerer stopped waiting
            if await self.task_was_killed():
                await self.stop_job_run()
            raise

    async def task_was_killed(self) -> bool:
        ti = self.task_instance
        if ti is None:  # not run by a triggerer (dag.test): nobody can kill it
            return False
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
        from asgiref.sync import sync_to_async

        states = await sync_to_async(RuntimeTaskInstance.get_task_states)(
            dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id]
        )
        return states.get(ti.run_id, {}).get(ti.task_id) != DEFERRED

    async def stop_job_run(self) -> None:
        async with await self.hook().get_async_conn() as glue:
            await glue.batch_stop_job_run(JobName=self.job_name, JobRunIds=[self.run_id])
        self.log.info(
            "stopped Glue job run %s of %s: its task was killed", self.run_id, self.job_name
        )


class StoppingGlueJobOperator(GlueJobOperator):
    """``GlueJobOperator``, deferrable, whose job run stops when the task is killed: from
    ``on_kill`` while it runs on a worker, from its trigger while it is deferred."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(deferrable=True, stop_job_run_on_kill=True, **kwargs)

    def defer(self, *, trigger: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if isinstance(trigger, GlueJobCompleteTrigger):
            _, arguments = trigger.serialize()
            trigger = StoppingGlueJobTrigger(**arguments)
        super().defer(trigger=trigger, **kwargs)


class ReattachingTrainingOperator(SageMakerTrainingOperator):
    """``SageMakerTrainingOperator``, deferrable, that re-attaches instead of starting again.

    The job's name comes from the DAG run (``training_job.job_name``), so every try of the
    task names the same job. A retry after a lost worker, a triggerer restart or a timeout
    finds the job the first try created and waits for it (or takes its result); it never
    starts a second one, as ``action_if_job_exists="timestamp"`` would. A job that failed on
    its own fails the retry too: SageMaker's ``RetryStrategy`` already retried its internal
    errors, and a failing train.py fails again (a new DAG run trains anew).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(deferrable=True, check_if_job_exists=False, **kwargs)

    def execute(self, context: Any) -> dict:
        self.hook.s3_hook = LakeChannels(aws_conn_id=self.aws_conn_id)
        name = self.config["TrainingJobName"]
        job = self._existing(name)
        if job is None:
            return super().execute(context)
        status = job["TrainingJobStatus"]
        self.log.info(
            "training job %s exists (%s): re-attaching, not starting another", name, status
        )
        if status == "Completed":
            return self.serialize_result(name)
        if status in self.hook.failed_states:
            raise AirflowException(f"training job {name} {status}: {job.get('FailureReason')}")
        self.defer(
            trigger=SageMakerTrigger(
                job_name=name,
                job_type="Training",
                poke_interval=self.check_interval,
                max_attempts=self.max_attempts,
                aws_conn_id=self.aws_conn_id,
            ),
            method_name="execute_complete",
        )

    def _existing(self, name: str) -> dict | None:
        try:
            return self.hook.describe_training_job(name)
        except ClientError as error:  # SageMaker answers ValidationException for no such job
            if error.response["Error"]["Code"] == "ValidationException":
                return None
            raise


class LakeChannels(S3Hook):
    """The S3 hook the training hook checks the input channels with, minus its HeadBucket.

    The provider checks each channel's bucket (HeadBucket) and then its prefix (a listing
    under it). HeadBucket needs ``s3:ListBucket`` without an ``s3:prefix`` condition, which
    would let the execution role list the whole lake; the role lists its zones only. The
    bucket is the deployment's lake, which every earlier task of the run has just read."""

    def check_for_bucket(self, bucket_name: str | None = None) -> bool:
        return True


class GatedModelPackage(SageMakerRegisterModelVersionOperator):
    """A published model (``model``: the ``publish_model`` summary) as a version of the
    model package group: approved or rejected as its gate decided (train.py recorded the
    decision in the manifest), its metrics file as the package's model-quality statistics,
    and the gate's scores and the tier it serves as metadata (a version the gate promotes
    for its V-SKNN floor is approved too: the champion pointer and the approved package
    always name the same version; ``serve`` says the floor answers). Served by TensorFlow Serving (JSON), whose image
    the SDK named (``training_job.image("inference")``)."""

    template_fields = (*SageMakerRegisterModelVersionOperator.template_fields, "model")

    def __init__(self, *, model: Any, **kwargs: Any) -> None:
        super().__init__(model_url="", **kwargs)
        self.model = model

    def execute(self, context: Any) -> str:
        model, gate = self.model, self.model["gate"]
        self.model_url = model["model_data"]
        approved = gate["decision"] == "promote"
        self.model_approval = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
        self.package_desc = f"{model['model_version']}: {gate['reason']}"[:1024]
        content = ["application/json"]
        self.extras = {
            "InferenceSpecification": {
                "Containers": [{"Image": self.image_uri, "ModelDataUrl": self.model_url}],
                "SupportedContentTypes": content,
                "SupportedResponseMIMETypes": content,
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {"ContentType": "application/json", "S3Uri": model["metrics_uri"]}
                }
            },
            "CustomerMetadataProperties": package_metadata(model),
        }
        return super().execute(context)


def package_metadata(model: dict[str, Any]) -> dict[str, str]:
    """The gate's decision and scores, as the registry's string metadata."""
    gate = model["gate"]
    scores = {
        f"{who}.{metric}": f"{value:.4f}"
        for who, values in gate["scores"].items()
        for metric, value in values.items()
    }
    return {
        "model_version": model["model_version"],
        "training_job": model["training_job"],
        "gate": gate["decision"],
        # what the version serves once approved: the deep model, or the V-SKNN floor tier
        "serve": registry.served_tier({"gate": gate}),
        "gate_metric": gate["metric"],
        "champion_version": gate["champion_version"] or "none",
        **scores,
    }
