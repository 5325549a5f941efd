"""The DAG's aws backend calls the deployed resources by the names the stacks give them.

Real boto3 clients with botocore's Stubber (no AWS): the stubber checks every request against
the service's API model, and the recorded requests are compared with the templates.
"""

from __future__ import annotations

import io
import json

import pytest

from shoprec.aws_stages import AwsStages, StageFailed
from shoprec.contracts import StagingJobArgs, TrainingSetJobArgs
from shoprec.deployment import Deployment

pytestmark = [pytest.mark.infra, pytest.mark.slow]
JOBS = {"stage_events": StagingJobArgs, "build_training_set": TrainingSetJobArgs}


class Recorded:
    """A stubbed client per service; ``calls`` holds (operation, parameters) in order."""

    def __init__(self) -> None:
        import boto3
        from botocore.stub import Stubber

        self.session = boto3.session.Session(
            aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        self.clients, self.stubbers, self.calls = {}, {}, []
        self._stubber = Stubber

    def client(self, service: str):
        if service not in self.clients:
            client = self.session.client(service)
            client.meta.events.register(
                f"provide-client-params.{service}",
                lambda params, model, **_: self.calls.append((model.name, dict(params))),
            )
            self.clients[service], self.stubbers[service] = client, self._stubber(client)
            self.stubbers[service].activate()
        return self.clients[service]

    def respond(self, service: str, operation: str, response: dict) -> None:
        self.client(service)
        self.stubbers[service].add_response(operation, response)


def _backend(recorded: Recorded) -> AwsStages:
    return AwsStages(Deployment("dev"), client=recorded.client, poll_seconds=0)


def _body(data: bytes):
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(data), len(data))


def _template_names(synth, kind, prop):
    return {
        r["Properties"][prop]
        for r in synth.resources(kind)
        if isinstance(r["Properties"].get(prop), str)
    }


def _lake_parameter(recorded: Recorded) -> None:
    name = Deployment("dev").lake_bucket_parameter
    parameter = {"Name": name, "Value": "lake", "Type": "String"}
    recorded.respond("ssm", "get_parameters", {"Parameters": [parameter]})


def test_collect_starts_the_deployed_sweep_and_waits_for_the_ledger(dev, monkeypatch):
    """The collector runs on its queue's events; the DAG starts a sweep (asynchronously,
    never waiting on the function) and waits until the ledger holds every object that
    arrived by the cutoff (``shoprec.ingest.status``: tested against LocalStack)."""
    from shoprec import aws_stages

    waiting = iter([["incoming/source=weblog/web-01/a.log"], []])
    monkeypatch.setattr(aws_stages.status, "pending", lambda *a: {"not_ingested": next(waiting)})
    monkeypatch.setattr(
        aws_stages.status, "summary", lambda s3, bucket, source, run_id, cutoff: {"bucket": bucket}
    )
    recorded = Recorded()
    recorded.respond("lambda", "invoke", {"StatusCode": 202})
    _lake_parameter(recorded)
    assert _backend(recorded).collect("run-1", cutoff=1.0) == {"bucket": "lake"}
    (operation, invoked), _ = recorded.calls
    assert operation == "Invoke" and invoked["InvocationType"] == "Event"
    assert json.loads(invoked["Payload"]) == {"action": "sweep"}
    assert invoked["FunctionName"] in _template_names(dev, "AWS::Lambda::Function", "FunctionName")


@pytest.mark.parametrize(
    ("stage", "job", "extra"),
    [
        ("stage_events", "stage_events", {}),
        ("build_training_set", "build_training_set", {"validation_days": 2.0}),
    ],
)
def test_glue_stages_start_the_deployed_jobs_with_known_arguments(dev, stage, job, extra):
    recorded = Recorded()
    recorded.respond("glue", "start_job_run", {"JobRunId": "jr_1"})
    recorded.respond("glue", "get_job_run", {"JobRun": {"Id": "jr_1", "JobRunState": "RUNNING"}})
    recorded.respond(
        "glue",
        "get_job_run",
        {"JobRun": {"Id": "jr_1", "JobRunState": "SUCCEEDED", "ExecutionTime": 60}},
    )
    _lake_parameter(recorded)
    if stage == "build_training_set":  # no champion yet: nothing to measure novelty after
        recorded.client("s3")
        recorded.stubbers["s3"].add_client_error("get_object", service_error_code="NoSuchKey")
    written = {"read": 3, "staged": 3, "duplicates": 0, "quarantined": 0, "table_rows": {}}
    recorded.respond("s3", "get_object", {"Body": _body(json.dumps(written).encode())})
    summary = getattr(_backend(recorded), stage)("run-1", *extra.values())
    started = next(params for name, params in recorded.calls if name == "StartJobRun")
    assert summary["job_run_id"] == "jr_1" and summary["read"] == 3  # + what the job wrote
    assert started["JobName"] == Deployment("dev").glue_job(job)
    assert started["JobName"] in _template_names(dev, "AWS::Glue::Job", "Name")
    novelty = {"--reference_until"} if stage == "build_training_set" else set()
    assert set(started["Arguments"]) == {"--run_id", *(f"--{k}" for k in extra), *novelty}
    assert set(started["Arguments"]) <= set(JOBS[job].argument_names())


def test_train_reads_deployed_parameters_and_names_jobs_the_role_may_start(dev):
    d = Deployment("dev")
    recorded = Recorded()
    names = [
        d.lake_bucket_parameter,
        d.training_role_parameter,
        d.training_image_parameter,
        d.training_source_parameter,
        d.training_instance_parameter,
    ]
    recorded.respond(
        "ssm",
        "get_parameters",
        {
            "Parameters": [
                {
                    "Name": n,
                    "Value": "arn:aws:iam::1:role/r" if "role" in n else "v",
                    "Type": "String",
                }
                for n in names
            ],
        },
    )
    champion = json.dumps({"version": "v0", "reason": "r", "earlier": [], "promoted_at": "t"})
    recorded.respond("s3", "get_object", {"Body": _body(champion.encode()), "ETag": '"e"'})
    recorded.respond(
        "sagemaker",
        "create_training_job",
        {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/x"},
    )
    recorded.respond(
        "sagemaker",
        "describe_training_job",
        {
            "TrainingJobName": "x",
            "TrainingJobArn": "arn:aws:sagemaker:us-east-1:1:training-job/x",
            "TrainingJobStatus": "Failed",
            "SecondaryStatus": "Failed",
            "FailureReason": "stubbed",
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"VolumeSizeInGB": 30},
            "StoppingCondition": {},
            "CreationTime": 0,
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/k"},
        },
    )
    with pytest.raises(StageFailed, match="stubbed"):
        _backend(recorded).train("run-1", "20260101T000000Z", epochs=1)
    requested = recorded.calls[0][1]["Names"]
    assert set(requested) <= _template_names(dev, "AWS::SSM::Parameter", "Name")
    created = recorded.calls[2][1]
    assert created["TrainingJobName"].startswith(d.training_job_prefix + "-")
    assert created["HyperParameters"]["epochs"] == "1"
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in created["InputDataConfig"]
    }
    assert set(channels) == {"train", "validation", "latest", "vocabulary", "lineage", "champion"}
    assert channels["champion"] == "s3://v/analytics/models/v0/"  # warm start and the gate
