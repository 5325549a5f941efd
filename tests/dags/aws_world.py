"""The AWS side of the AWS-mode tests, on moto in server mode.

``World.deploy`` creates what CDK deploys, under the names ``shoprec.deployment`` gives
them. moto runs no Lambda, Spark or training container, so the test plays their part in the
lake where the DAG reads it: the collector's ledger (written with the collector's own
classes), the staging job's report, the training set's manifest, the training job's
``model.tar.gz``. ``recorded_calls`` lists every request the code under test sends.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoprec.deployment import COLLECTED_SOURCES, GLUE_JOBS, PULLED_SOURCES, Deployment
from shoprec.ingest.status import SETTLE_SECONDS, state_store
from shoprec.ingest.streams import STREAMS, Counts, Ledger, new_stream
from shoprec.ingest.sweep import incoming_objects
from shoprec.layout import (
    MANIFEST_FILE,
    METRICS_FILE,
    TRAINING_SET_CHANNELS,
    TRAINING_SET_MANIFEST,
    LakeLayout,
)

SERVER = Path(__file__).with_name("moto_server.py")
ENV = "test"
DEPLOYMENT = Deployment(ENV)
BUCKET = "shoprec-test-lake"
LAYOUT = LakeLayout(BUCKET)
ROLE = "arn:aws:iam::123456789012:role/shoprec-test"
REGION = "us-east-1"
# What the OpenSearch collector answers when the DAG invokes it: a quiet engine.
(PULLED_SOURCE,) = PULLED_SOURCES
PULLED = {
    "source": PULLED_SOURCE,
    "objects": 0,
    "events": 0,
    "balanced": True,
    "events_committed": 0,
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@contextlib.contextmanager
def start_moto() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def client(service: str) -> Any:
    import boto3

    return boto3.client(service)


@dataclass
class World:
    endpoint: str
    topic_arn: str = ""
    queue_url: str = ""  # subscribed to the failure topic: what the notifier published

    def moto(self, path: str, body: dict[str, Any] | None = None) -> None:
        request = urllib.request.Request(
            self.endpoint + path, data=json.dumps(body or {}).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=10).close()

    def reset(self) -> None:
        self.moto("/moto-api/reset")
        for model in ("glue::job_run", "sagemaker::training_job"):
            self.progress(model, "immediate")

    def progress(self, model: str, progression: str, times: int = 1) -> None:
        """How moto moves ``model`` through its states (``immediate`` or ``manual``)."""
        transition = {"progression": progression} | (
            {"times": times} if progression == "manual" else {}
        )
        self.moto(
            "/moto-api/state-manager/set-transition",
            {"model_name": model, "transition": transition},
        )

    def deploy(self) -> None:
        """What the stacks create, as far as the DAG calls it."""
        d = DEPLOYMENT
        s3 = client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        parameters = {
            d.lake_bucket_parameter: BUCKET,
            d.training_role_parameter: ROLE,
            d.training_image_parameter: "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.19.0-cpu-py312",
            d.training_source_parameter: "s3://cdk-assets/sourcedir.tar.gz",
            d.training_instance_parameter: "ml.m5.large",
            d.inference_image_parameter: "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.19.0-cpu",
        }
        for name, value in parameters.items():
            client("ssm").put_parameter(Name=name, Value=value, Type="String")
        for job in GLUE_JOBS:
            client("glue").create_job(
                Name=d.glue_job(job),
                Role=ROLE,
                Command={"Name": "glueetl", "ScriptLocation": f"s3://cdk-assets/{job}.py"},
            )
        self.moto("/moto-api/config", {"lambda": {"use_docker": False}})
        client("iam").create_role(
            RoleName="shoprec-test", AssumeRolePolicyDocument=json.dumps(TRUST)
        )
        for source in COLLECTED_SOURCES:
            client("lambda").create_function(
                FunctionName=d.collector_function(source),
                Runtime="python3.12",
                Role=ROLE,
                Handler="handler.handler",
                Code={
                    "ZipFile": _zip({"handler.py": "def handler(event, context):\n    return {}\n"})
                },
            )
        # moto runs no code: each invocation answers the next queued result. The sweeps'
        # answers are not read; the pulled source's is its collect summary (one each, so the
        # order the DAG invokes them in does not matter).
        self.moto(
            "/moto-api/static/lambda-simple/response",
            {"results": [json.dumps(PULLED)] * len(COLLECTED_SOURCES), "region": REGION},
        )
        client("sagemaker").create_model_package_group(ModelPackageGroupName=d.model_package_group)
        self.topic_arn = client("sns").create_topic(Name=d.failure_topic)["TopicArn"]
        sqs = client("sqs")
        self.queue_url = sqs.create_queue(QueueName="failures")["QueueUrl"]
        queue = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        client("sns").subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue["Attributes"]["QueueArn"]
        )

    def notifications(self) -> list[dict[str, Any]]:
        messages = client("sqs").receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


# The lake as the stages the test plays leave it.
def collected(lines: int) -> int:
    """A log delivered and ingested, as the collector records it; returns its events."""
    s3 = client("s3")
    prefix = LAYOUT.incoming_prefix("weblog")
    s3.put_object(Bucket=BUCKET, Key=prefix + "web-01/access.log", Body=b"line\n" * lines)
    (ref,) = incoming_objects(s3, BUCKET, prefix)
    counts = Counts(lines=lines, events=lines, published=lines, bytes=5 * lines).to_dict()
    store = state_store(s3, BUCKET, "weblog")
    Ledger(store).record(ref, {"state": "done", "outcome": "ingested", "counts": counts}, None)
    store.put(f"{STREAMS}web-01.json", new_stream("web-01", "weblog") | {"totals": counts})
    time.sleep(max(0.0, ref.modified + SETTLE_SECONDS + 1 - time.time()))  # a settled second
    return lines


def staged(run_id: str, rows: int) -> None:
    report = {
        "read": rows,
        "staged": rows,
        "duplicates": 0,
        "quarantined": 0,
        "table_rows": {"weblog": rows},
    }
    _put_json(LAYOUT.run_report_key("stage_events", run_id), report)


def training_set(run_id: str, new_sessions: int = 500) -> None:
    """The job's output: a file in each channel (the training operator checks they exist),
    and the manifest."""
    for channel in TRAINING_SET_CHANNELS:
        _put_json(f"{LAYOUT.training_prefix(run_id)}{channel}/part-00000.json", {})
    manifest = {"run_id": run_id, "novelty": {"new_sessions": new_sessions, "item_drift": 0.2}}
    _put_json(LAYOUT.training_prefix(run_id) + TRAINING_SET_MANIFEST, manifest)


def gate(decision: str, champion: str | None = None) -> dict[str, Any]:
    scores = {"model": {"hr@20": 0.64, "mrr@20": 0.34}, "vsknn": {"hr@20": 0.63, "mrr@20": 0.33}}
    return {
        "decision": decision,
        "reason": f"challenger {'beats' if decision == 'promote' else 'does not beat'} vsknn",
        "champion_version": champion,
        "metric": "mrr@20",
        "scores": scores,
    }


def trained(job_name: str, version: str, decision: dict[str, Any]) -> str:
    """The training container's output, where SageMaker puts it; returns its URI."""
    manifest = {  # what train.py writes, as far as the DAG reads it
        "model_version": version,
        "gate": decision,
        "metrics": decision["scores"],
        "hyperparameters": {"epochs": "2"},
        "examples": 1000,
        "train_seconds": 90.0,
    }
    files = {
        MANIFEST_FILE: json.dumps(manifest),
        METRICS_FILE: json.dumps({"model": decision["scores"]["model"]}),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    key = f"{LakeLayout.TRAINING_JOBS_PREFIX}{job_name}/output/model.tar.gz"
    client("s3").put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())
    return LAYOUT.uri(key)


def _put_json(key: str, body: dict[str, Any]) -> None:
    client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())


def _zip(files: dict[str, str]) -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@dataclass
class Recorder:
    calls: set[tuple[str, str]] = field(default_factory=set)

    def __call__(self, client: Any, operation: str) -> None:
        self.calls.add((client.meta.service_model.service_name, operation))


@contextlib.contextmanager
def recorded_calls() -> Iterator[Recorder]:
    """Every request sent by boto3 and aiobotocore clients meanwhile, as (service, operation)."""
    from aiobotocore.client import AioBaseClient
    from botocore.client import BaseClient

    recorder = Recorder()
    sync_call, async_call = BaseClient._make_api_call, AioBaseClient._make_api_call

    def record(self, operation_name, api_params):
        recorder(self, operation_name)
        return sync_call(self, operation_name, api_params)

    async def record_async(self, operation_name, api_params):
        recorder(self, operation_name)
        return await async_call(self, operation_name, api_params)

    BaseClient._make_api_call, AioBaseClient._make_api_call = record, record_async
    try:
        yield recorder
    finally:
        BaseClient._make_api_call, AioBaseClient._make_api_call = sync_call, async_call
