"""The DAG's ``aws`` backend: each stage calls the deployed resource of one environment.

Same stage functions as ``shoprec.local.stages`` (collect, stage_events, build_training_set,
train, promote), but the work runs where CDK deployed it: the collector Lambda, the Glue
jobs, a SageMaker training job. Every name comes from ``shoprec.deployment``; values known
only after deployment (bucket, role, image, source archive) are read from SSM at run time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shoprec import aws, registry
from shoprec.continuous import TrainingPolicy, decide_for_lake
from shoprec.contracts import StagingJobArgs, TrainingHyperparameters, TrainingSetJobArgs
from shoprec.deployment import Deployment, run_arguments
from shoprec.ingest import status
from shoprec.ingest.streams import Ledger
from shoprec.layout import TRAINING_SET_MANIFEST, LakeLayout

GLUE_DONE = {"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"}
TRAINING_DONE = {"Completed", "Failed", "Stopped"}


class StageFailed(RuntimeError):
    pass


@dataclass
class AwsStages:
    deployment: Deployment
    client: Callable[[str], Any] = aws.client
    poll_seconds: float = 30.0

    @classmethod
    def for_environment(cls, env: str) -> AwsStages:
        return cls(Deployment(env))

    def _parameters(self, *names: str) -> list[str]:
        response = self.client("ssm").get_parameters(Names=list(names))
        if response.get("InvalidParameters"):  # absent when every name exists
            raise StageFailed(f"not deployed: SSM parameters {response['InvalidParameters']}")
        values = {p["Name"]: p["Value"] for p in response["Parameters"]}
        return [values[name] for name in names]

    def _layout(self) -> LakeLayout:
        return LakeLayout(self._parameters(self.deployment.lake_bucket_parameter)[0])

    def _wait(self, describe: Callable[[], tuple[str, dict[str, Any]]], done: set[str]) -> dict:
        while True:
            state, details = describe()
            if state in done:
                return details
            time.sleep(self.poll_seconds)

    def collect(
        self,
        run_id: str,
        source: str = "weblog",
        cutoff: float | None = None,
        timeout: float = 3600,
    ) -> dict[str, Any]:
        """Start the collector's reconcile sweep, wait until every object that arrived by
        ``cutoff`` is ingested (the collector runs on its queue's events, not on this call),
        then account for the run's objects; what is still pending after ``timeout`` is
        reported, not waited for."""
        cutoff = time.time() if cutoff is None else cutoff
        self.client("lambda").invoke(
            FunctionName=self.deployment.collector_function(source),
            InvocationType="Event",
            Payload=json.dumps({"action": "sweep"}).encode(),
        )
        layout, s3 = self._layout(), self.client("s3")
        ledger = Ledger(status.state_store(s3, layout.bucket, source))
        prefix, deadline = layout.incoming_prefix(source), time.monotonic() + timeout
        while status.pending(s3, ledger, layout.bucket, prefix, cutoff)["not_ingested"]:
            if time.monotonic() >= deadline:
                break
            time.sleep(self.poll_seconds)
        return status.summary(s3, layout.bucket, source, run_id, cutoff)

    def reconcile(
        self, run_id: str, collected: dict[str, Any], staged: dict[str, Any]
    ) -> dict[str, Any]:
        store = status.state_store(self.client("s3"), self._layout().bucket, collected["source"])
        result = status.reconcile(collected, staged, status.events_committed(store))
        if not result["ok"]:
            raise StageFailed(f"counts do not reconcile: {result['checks']}")
        return result

    def _glue(self, job: str, arguments: dict[str, str]) -> dict[str, Any]:
        glue, name = self.client("glue"), self.deployment.glue_job(job)
        run = glue.start_job_run(JobName=name, Arguments=arguments)["JobRunId"]

        def describe() -> tuple[str, dict[str, Any]]:
            details = glue.get_job_run(JobName=name, RunId=run)["JobRun"]
            return details["JobRunState"], details

        details = self._wait(describe, GLUE_DONE)
        if details["JobRunState"] != "SUCCEEDED":
            raise StageFailed(
                f"{name} run {run}: {details['JobRunState']} {details.get('ErrorMessage', '')}"
            )
        return {"job": name, "job_run_id": run, "execution_seconds": details.get("ExecutionTime")}

    def stage_events(self, run_id: str) -> dict[str, Any]:
        """The staging job's run, and the counts it wrote to the lake."""
        job = self._glue("stage_events", run_arguments(StagingJobArgs, run_id=run_id))
        layout = self._layout()
        key = layout.run_report_key("stage_events", run_id)
        body = self.client("s3").get_object(Bucket=layout.bucket, Key=key)["Body"].read()
        return json.loads(body) | job

    def build_training_set(self, run_id: str, validation_days: float = 1.0) -> dict[str, Any]:
        """The training-set job's run, and its manifest (window, counts, novelty)."""
        layout = self._layout()
        reference = registry.champion_data_until(self.client("s3"), layout) or ""
        arguments = run_arguments(
            TrainingSetJobArgs,
            run_id=run_id,
            validation_days=validation_days,
            reference_until=reference,
        )
        job = self._glue("build_training_set", arguments)
        key = layout.training_prefix(run_id) + TRAINING_SET_MANIFEST
        body = self.client("s3").get_object(Bucket=layout.bucket, Key=key)["Body"].read()
        return json.loads(body) | job

    def decide_training(
        self, run_id: str, training_set: dict[str, Any], policy: TrainingPolicy
    ) -> dict[str, Any]:
        decision = decide_for_lake(
            self.client("s3"), self._layout(), policy, training_set["novelty"]
        )
        return decision.to_dict()

    def train(
        self,
        data_run: str,
        model_version: str,
        budget_seconds: float | None = None,
        **hyperparameters: Any,
    ) -> dict[str, Any]:
        """A script-mode training job, then its model folder published to the analytics zone."""
        d = self.deployment
        bucket, role, image, source, instance = self._parameters(
            d.lake_bucket_parameter,
            d.training_role_parameter,
            d.training_image_parameter,
            d.training_source_parameter,
            d.training_instance_parameter,
        )
        layout = LakeLayout(bucket)
        hp = TrainingHyperparameters(
            model_version=model_version, data_run=data_run, **hyperparameters
        )
        name = f"{d.training_job_prefix}-{model_version}".lower()[:63]
        champion = registry.read_champion(self.client("s3"), layout)
        channels = layout.training_channels(data_run, champion and champion["version"])
        sagemaker = self.client("sagemaker")
        sagemaker.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
            RoleArn=role,
            HyperParameters={
                **hp.to_hyperparameters(),
                "sagemaker_program": "train.py",
                "sagemaker_submit_directory": source,
            },
            InputDataConfig=[
                {
                    "ChannelName": channel,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": layout.uri(prefix),
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for channel, prefix in channels.items()
            ],
            OutputDataConfig={"S3OutputPath": layout.uri(LakeLayout.TRAINING_JOBS_PREFIX)},
            ResourceConfig={"InstanceType": instance, "InstanceCount": 1, "VolumeSizeInGB": 30},
            # the day's training budget is enforced by SageMaker itself
            StoppingCondition={
                "MaxRuntimeInSeconds": int(min(4 * 3600, budget_seconds or 4 * 3600))
            },
        )

        def describe() -> tuple[str, dict[str, Any]]:
            details = sagemaker.describe_training_job(TrainingJobName=name)
            return details["TrainingJobStatus"], details

        details = self._wait(describe, TRAINING_DONE)
        if details["TrainingJobStatus"] != "Completed":
            raise StageFailed(
                f"training job {name}: {details.get('FailureReason', details['TrainingJobStatus'])}"
            )
        prefix = self._publish(layout, details["ModelArtifacts"]["S3ModelArtifacts"], model_version)
        return {"model_version": model_version, "training_job": name, "model_prefix": prefix}

    def _publish(self, layout: LakeLayout, artifacts: str, model_version: str) -> str:
        """SageMaker's model.tar.gz → the model folder the API serves (shoprec.registry)."""
        return registry.publish_archive(self.client("s3"), layout, artifacts, model_version)

    def promote(self, run_id: str, model_version: str) -> dict[str, Any]:
        layout, s3 = self._layout(), self.client("s3")
        return registry.promote_if_accepted(s3, layout, model_version)
