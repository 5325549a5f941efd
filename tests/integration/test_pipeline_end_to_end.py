"""The whole slice: logs → collector → Kafka → Spark → TF → champion → API (chalice local).

Runs the real DAG with real Airflow (``airflow dags test``) on the synthetic shop, then calls
the API the way a client would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from shoprec.local import services
from shoprec.local.deliver_logs import main as deliver_logs
from shoprec.local.demo import latest_report, run_dag
from shoprec.local.runtime import Ports

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline(cloud: dict[str, str]):
    delivered = deliver_logs(["--bucket", cloud["SHOPREC_LAKE_BUCKET"]])
    run_dag({"epochs": 3})
    report = latest_report()
    ports = Ports.from_env()
    api = services.api(ports)
    services.start(api)
    yield delivered, report, f"http://127.0.0.1:{ports.api}"
    services.stop(api)


def _call(url: str, body: bytes | None = None, content_type: str = "application/json"):
    request = urllib.request.Request(
        url,
        data=body,
        method="POST" if body is not None else "GET",
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_counts_reconcile_from_log_lines_to_staged_rows(pipeline):
    delivered, report, _ = pipeline
    collect, staged = report["collect"], report["stage_events"]
    assert collect["lines"] == delivered["lines"]
    assert collect["events"] + collect["quarantined"] == collect["lines"]
    assert collect["quarantined"] > 0  # the generator's asset requests and cookieless bot
    assert collect["published"] == collect["events"]
    assert staged["read"] == collect["published"]
    assert staged["staged"] + staged["duplicates"] == staged["read"]
    assert report["build_training_set"]["sessions"]["train"] > 0
    assert report["promote"]["promoted"] is True


def test_api_serves_the_champion_per_contract(pipeline):
    _, report, base = pipeline
    status, health = _call(f"{base}/health")
    assert status == 200 and health["model_version"] == report["train"]["model_version"]
    session = report["train"]["sample_session"]
    status, answer = _call(
        f"{base}/recommendations", json.dumps({"session_items": session, "k": 7}).encode()
    )
    assert status == 200 and len(answer["items"]) == 7
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(isinstance(item["item_id"], str) for item in answer["items"])
    assert answer["model_version"] == health["model_version"] and answer["recommendation_id"]

    status, fallback = _call(f"{base}/recommendations", b'{"session_items": ["unknown-item"]}')
    assert status == 200 and len(fallback["items"]) == 20


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"session_items": "x"}',
        b'{"session_items": [], "k": 0}',
        b'{"session_items": [], "k": 1000}',
    ],
)
def test_api_answers_bad_input_with_400_and_a_json_message(pipeline, body):
    _, _, base = pipeline
    status, answer = _call(f"{base}/recommendations", body)
    assert status == 400 and isinstance(answer["error"], str)


def test_api_accepts_curl_default_content_type(pipeline):
    _, _, base = pipeline
    status, answer = _call(
        f"{base}/recommendations",
        b'{"session_items": []}',
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 200 and len(answer["items"]) == 20
