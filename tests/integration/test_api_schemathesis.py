"""Schemathesis against the OpenAPI document that the local API server serves (``chalice
local``'s gateway stand-in, ``shoprec.local.api_server``) on a tiny champion in LocalStack:
no answer is a server error, and every answer conforms. And that server's latency."""

import dataclasses
import http.client
import statistics
import time
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from app import app
from hypothesis import HealthCheck, settings
from tiny_model import write_tiny_model

from chalicelib.openapi import document
from shoprec import aws, registry
from shoprec.contracts import ApiSettings
from shoprec.layout import LakeLayout
from shoprec.local import process, services
from shoprec.local.runtime import Ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def served_api(cloud, tmp_path_factory):
    """The local API server on its own port (the API port + 2), serving a tiny champion."""
    bucket = f"test-schemathesis-{tmp_path_factory.getbasetemp().name[-8:]}".lower()
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    s3.create_bucket(Bucket=bucket)
    folder = write_tiny_model(tmp_path_factory.mktemp("model"), "v1")
    registry.publish(s3, layout, folder, "v1")
    registry.promote(s3, layout, "v1", "tiny")
    ports = Ports.from_env()
    ports = dataclasses.replace(ports, api=ports.api + 2)
    api = dataclasses.replace(services.api(ports), name="api-schemathesis")
    api.env = api.env | ApiSettings(lake_bucket=bucket, champion_refresh_seconds=60).to_env()
    process.start(api)
    yield f"http://127.0.0.1:{ports.api}"
    process.stop(api)


def _without_the_key(document: dict) -> dict:
    """API Gateway enforces the key (the infra tests check that every route asks for it);
    chalice local does not, so the checks that a missing key is refused do not apply."""
    for operations in document["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    return document


# The document the code generates, loaded at collection; the fixture checks that the server
# serves exactly this one (schemathesis' lazy fixture loader does not run under pytest 9).
schema = schemathesis.openapi.from_dict(_without_the_key(document(app)))


@pytest.fixture(scope="module")
def served_document(served_api):
    served = requests.get(f"{served_api}/openapi.json", timeout=30).json()
    assert served == document(app)
    return served_api


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_answer_conforms(case, served_document):
    case.call_and_validate(base_url=served_document, timeout=30)


def test_the_local_server_answers_without_the_delayed_ack_stall(served_api):
    """``chalice local``'s own handler took ~44 ms a request on a keep-alive connection."""
    connection = http.client.HTTPConnection(urlsplit(served_api).netloc, timeout=30)
    seconds = []
    for _ in range(30):
        started = time.perf_counter()
        connection.request("GET", "/health")
        assert connection.getresponse().read()
        seconds.append(time.perf_counter() - started)
    assert statistics.median(seconds) < 0.02


def test_path_parameters_arrive_url_decoded_as_from_api_gateway(served_api):
    answer = requests.get(f"{served_api}/items/%63/similar?k=2", timeout=30)  # "c"
    assert answer.status_code == 200 and "c" not in [i["item_id"] for i in answer.json()["items"]]
