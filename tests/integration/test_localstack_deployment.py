"""The LocalStack variant of the deployment (``cdklocal deploy -c env=local``), then the
collector, the registry and the API working against what it deployed.

Deployed, to a LocalStack of its own (the suite's LocalStack already holds the local lake
``make up`` provisions under the same names): the data lake stack as is (bucket, key,
bucket-name parameter) and the edge stack (the collector's queues and the client-hash key,
API key + usage plan + stage in front of ``chalice local``). The rest is verified by synth,
cfn-lint, cdk-nag and assertions (tests/infra): LocalStack's free edition cannot run
Lambdas, Glue, MSK, SageMaker or MWAA.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from shoprec import aws, registry
from shoprec.contracts import ApiSettings, CollectorSettings
from shoprec.deployment import Deployment
from shoprec.layout import LakeLayout
from shoprec.local import process, services
from shoprec.local.runtime import REPO, Ports, venv_python
from shoprec.sources import generate_shop
from tests.tiny_model import write_tiny_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]
LOCAL = Deployment("local")
CDKLOCAL = REPO / "cdk-cli" / "node_modules" / ".bin" / "cdklocal"


def _cdklocal(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(CDKLOCAL), *args, "--no-notices"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def stack_cloud(cloud: dict[str, str]):
    """A second LocalStack, for the deployment only."""
    ports = Ports.from_env()
    own = dataclasses.replace(ports, localstack=ports.localstack + 50)
    service = services.localstack(own, name="localstack-deploy")  # its own state folder
    process.start(service)
    endpoint = f"http://127.0.0.1:{own.localstack}"
    saved = {name: os.environ.get(name) for name in ("AWS_ENDPOINT_URL",)}
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    aws.client.cache_clear()
    yield cloud | {"AWS_ENDPOINT_URL": endpoint}
    os.environ.update({k: v for k, v in saved.items() if v is not None})
    aws.client.cache_clear()
    process.stop(service)


@pytest.fixture(scope="module")
def deployed(stack_cloud: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """Bootstrap + deploy once; the API stand-in serves the deployed bucket behind the key."""
    ports = Ports.from_env()
    api = services.api(dataclasses.replace(ports, api=ports.api + 1))
    api = dataclasses.replace(api, name="api-deployed")
    upstream = f"http://127.0.0.1:{ports.api + 1}"
    env = os.environ | {
        "AWS_ENDPOINT_URL_S3": stack_cloud["AWS_ENDPOINT_URL"],
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    out = tmp_path_factory.mktemp("cdklocal")
    _cdklocal(env, "bootstrap", "aws://000000000000/us-east-1", "-c", "env=local", "-o", str(out))
    _cdklocal(
        env, "deploy", "--all", "--require-approval", "never", "-c", "env=local",
        "-c", f"api_upstream={upstream}", "-o", str(out),
    )  # fmt: skip
    bucket = aws.client("ssm").get_parameter(Name=LOCAL.lake_bucket_parameter)["Parameter"]["Value"]
    # the stand-in probes /health before a champion exists: re-read the pointer every call
    api.env = api.env | ApiSettings(lake_bucket=bucket, champion_refresh_seconds=0).to_env()
    api.env["AWS_ENDPOINT_URL"] = stack_cloud["AWS_ENDPOINT_URL"]
    process.start(api)
    yield bucket
    process.stop(api)


def test_the_collector_ingests_into_the_deployed_bucket_through_the_deployed_queue(
    stack_cloud, deployed
):
    """The deployed names work together: the real handler, configured as the ingestion
    stack configures it, sweeps the deployed bucket, feeds its queue and lands batches."""
    s3, sqs = aws.client("s3"), aws.client("sqs")
    logs = generate_shop(seed=3, days=1, sessions_per_day=20)
    for name, text in logs.files.items():
        s3.put_object(
            Bucket=deployed, Key=f"{LakeLayout.incoming_prefix('weblog')}{name}", Body=text.encode()
        )
    queue = sqs.get_queue_url(QueueName=LOCAL.collector_queue("weblog"))["QueueUrl"]
    settings = CollectorSettings(
        kafka_bootstrap=stack_cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        lake_bucket=deployed,
        topic="deployed.clickstream.events",
        queue_url=queue,
        client_hash_secret=LOCAL.client_hash_secret,
        sweep_min_age_seconds=0,
    )
    handler = str(REPO / "lambdas" / "weblog_collector" / "handler.py")
    result = subprocess.run(
        [venv_python("lambda"), "-m", "shoprec.local.event_source", handler, "--queue-url", queue, "--sweep"],
        env=os.environ | settings.to_env() | {"PYTHONPATH": str(REPO)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = json.loads(result.stdout.strip().splitlines()[-1])["event_source"]
    assert len(summary["sweep"]["unnotified"]) == len(logs.files) and summary["failed"] == 0
    landed = s3.list_objects_v2(Bucket=deployed, Prefix=LakeLayout.landing_prefix("weblog"))
    assert landed["KeyCount"] == len(logs.files)
    dead = sqs.get_queue_url(QueueName=LOCAL.collector_dead_letter_queue("weblog"))["QueueUrl"]
    assert sqs.receive_message(QueueUrl=dead, WaitTimeSeconds=1).get("Messages") is None


def _get(url: str, key: str | None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"x-api-key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_api_gateway_admits_only_the_usage_plans_key_and_serves_the_champion(
    stack_cloud, deployed, tmp_path: Path
):
    s3, layout = aws.client("s3"), LakeLayout(deployed)
    registry.publish(s3, layout, write_tiny_model(tmp_path / "m", "v-deployed"), "v-deployed")
    registry.promote(s3, layout, "v-deployed", "deployed-stack test")
    gateway = aws.client("apigateway")
    api_id = next(
        a["id"] for a in gateway.get_rest_apis()["items"] if a["name"] == LOCAL.stack_name("api")
    )
    key = gateway.get_api_keys(nameQuery=f"{LOCAL.stack_name('api')}-client", includeValues=True)
    url = f"{stack_cloud['AWS_ENDPOINT_URL']}/_aws/execute-api/{api_id}/api/health"
    assert _get(url, None)[0] == 403
    assert _get(url, "not-the-key")[0] == 403
    status, health = _get(url, key["items"][0]["value"])
    assert status == 200 and health["model_version"] == "v-deployed"
