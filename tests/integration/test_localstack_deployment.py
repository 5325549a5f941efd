"""The LocalStack variant of the deployment (``cdklocal deploy -c env=local``), then the
collector, the registry and the API working against what it deployed.

Deployed: the data lake stack as is (bucket, key, bucket-name parameter) and the edge stack
(collector watermark + dead-letter queue, API key + usage plan + stage in front of
``chalice local``). The rest is verified by synth, cfn-lint, cdk-nag and assertions
(tests/infra): LocalStack's free edition cannot run Lambdas, Glue, MSK, SageMaker or MWAA.
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
from shoprec.local import services
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
def deployed(cloud: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """Bootstrap + deploy once; the API stand-in serves the deployed bucket behind the key."""
    ports = Ports.from_env()
    api = services.api(dataclasses.replace(ports, api=ports.api + 1))
    api = dataclasses.replace(api, name="api-deployed")
    upstream = f"http://127.0.0.1:{ports.api + 1}"
    env = os.environ | {
        "AWS_ENDPOINT_URL_S3": cloud["AWS_ENDPOINT_URL"],
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
    services.start(api)
    yield bucket
    services.stop(api)


def test_collector_lands_batches_in_the_deployed_bucket_and_moves_its_watermark(cloud, deployed):
    s3 = aws.client("s3")
    for name, text in generate_shop(seed=3, days=1, sessions_per_day=20).files.items():
        s3.put_object(
            Bucket=deployed, Key=f"{LakeLayout.incoming_prefix('weblog')}{name}", Body=text.encode()
        )
    settings = CollectorSettings(
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        lake_bucket=deployed,
        topic="deployed.clickstream.events",
        watermark_parameter=LOCAL.watermark_parameter("weblog"),
    )
    handler = str(REPO / "lambdas" / "weblog_collector" / "handler.py")
    result = subprocess.run(
        [venv_python("lambda"), "-m", "shoprec.local.invoke", handler, '{"run_id": "deployed"}'],
        env=os.environ | settings.to_env() | {"PYTHONPATH": str(REPO)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = json.loads(result.stdout.strip().splitlines()[-1])["lambda_result"]
    assert summary["events"] > 0 and summary["published"] == summary["events"]
    landed = s3.list_objects_v2(Bucket=deployed, Prefix=LakeLayout.landing_prefix("weblog"))
    assert landed["KeyCount"] == 1
    mark = aws.client("ssm").get_parameter(Name=settings.watermark_parameter)["Parameter"]["Value"]
    assert json.loads(mark)["key"].startswith(LakeLayout.incoming_prefix("weblog"))
    queues = aws.client("sqs").list_queues()["QueueUrls"]
    assert any("DeadLetters" in url for url in queues)


def _get(url: str, key: str | None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"x-api-key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


def test_api_gateway_admits_only_the_usage_plans_key_and_serves_the_champion(
    cloud, deployed, tmp_path: Path
):
    s3, layout = aws.client("s3"), LakeLayout(deployed)
    registry.publish(s3, layout, write_tiny_model(tmp_path / "m", "v-deployed"), "v-deployed")
    registry.promote(s3, layout, "v-deployed", "deployed-stack test")
    gateway = aws.client("apigateway")
    api_id = next(
        a["id"] for a in gateway.get_rest_apis()["items"] if a["name"] == LOCAL.stack_name("api")
    )
    key = gateway.get_api_keys(nameQuery=f"{LOCAL.stack_name('api')}-client", includeValues=True)
    url = f"{cloud['AWS_ENDPOINT_URL']}/_aws/execute-api/{api_id}/api/health"
    assert _get(url, None)[0] == 403
    assert _get(url, "not-the-key")[0] == 403
    status, health = _get(url, key["items"][0]["value"])
    assert status == 200 and health["model_version"] == "v-deployed"
