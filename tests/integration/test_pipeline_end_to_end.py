"""The whole slice: logs → collector → Kafka → Spark → TF → champion → API (chalice local).

Runs the real DAG with real Airflow (``airflow dags test``) on the synthetic shop, then calls
the API the way a client would.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from shoprec import aws, cycles
from shoprec.layout import LakeLayout
from shoprec.local import process, services
from shoprec.local.dagrun import latest_report, run_dag
from shoprec.local.deliver_logs import main as deliver_logs
from shoprec.local.deliver_logs import ship
from shoprec.local.runtime import REPO, Ports, venv_python
from shoprec.local.stages import stage_env
from shoprec.weblog.render import render_line

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def pipeline(cloud: dict[str, str]):
    delivered = deliver_logs(["--bucket", cloud["SHOPREC_LAKE_BUCKET"]])
    run_dag({"epochs": 3})
    report = latest_report()
    ports = Ports.from_env()
    api = services.api(ports)
    process.start(api)
    yield delivered, report, f"http://127.0.0.1:{ports.api}"
    process.stop(api)


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
    assert collect["objects"] == {"ingested": delivered["files"], "pending": 0}
    assert collect["lines"] == delivered["lines"] and collect["balanced"]
    quarantined, filtered = collect["quarantined"], collect["filtered"]
    assert (
        collect["events"] + sum(quarantined.values()) + sum(filtered.values()) == collect["lines"]
    )
    assert set(filtered) == {"health_check", "bot", "asset"}  # the generator's noise
    assert collect["published"] == collect["events"] == collect["events_committed"]
    assert staged["read"] == collect["published"] == staged["staged"]
    assert staged["table_rows"] == {"weblog": collect["events"]}
    assert staged["products"] == {"staged": delivered["products"], "quarantined": 0}
    assert report["reconcile"]["ok"] is True
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


def test_the_api_filters_by_the_categories_of_the_shop_s_product_feed(pipeline):
    """The feed went through staging and training into the model folder: the category
    filters answer with the feed's categories."""
    from shoprec.local.deliver_logs import SYNTHETIC_DAYS
    from shoprec.search.catalogue import catalogue
    from shoprec.sources import GROUP_SIZE, items_sold

    _, report, base = pipeline
    category = {p.id: p.category for p in catalogue(items_sold(SYNTHETIC_DAYS), GROUP_SIZE)}
    session = [str(i) for i in report["train"]["sample_session"]]
    wanted = category[session[-1]]
    body = {"session_items": session, "k": 5, "categories": [wanted]}
    status, answer = _call(f"{base}/recommendations", json.dumps(body).encode())
    assert status == 200 and answer["tier"] in ("model", "vsknn") and len(answer["items"]) == 5
    assert {category[item["item_id"]] for item in answer["items"]} == {wanted}
    body = {"session_items": session, "k": 20, "exclude_categories": [wanted]}
    status, answer = _call(f"{base}/recommendations", json.dumps(body).encode())
    assert status == 200 and len(answer["items"]) == 20
    assert wanted not in {category[item["item_id"]] for item in answer["items"]}
    status, popular = _call(f"{base}/popular?k=4&category={wanted}")
    assert status == 200 and popular["tier"] == "category_popular"
    assert [category[item["item_id"]] for item in popular["items"]] == [wanted] * 4


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


def test_a_second_cycle_ingests_exactly_what_arrived_since_and_sql_counts_it(
    pipeline, cloud, tmp_path
):
    """After the first run: a user ships one more log file (``make deliver``), the next DAG
    run (``make cycle``) ingests exactly that file, and ``make sql`` counts its events."""
    log = tmp_path / "access-2026-11-04.log"
    log.write_text(
        "".join(
            render_line(
                datetime(2026, 11, 4, 9, tzinfo=UTC), f"late-{n}", f"/product/{100_000 + n}"
            )
            + "\n"
            for n in range(25)
        )
    )
    ship(log, "web-03", cloud["SHOPREC_LAKE_BUCKET"])
    run_dag({"epochs": 1})
    collect = latest_report()["collect"]
    assert collect["objects"] == {"ingested": 1, "pending": 0}
    assert (collect["lines"], collect["events"]) == (25, 25)
    assert latest_report()["reconcile"]["ok"] is True
    counted = subprocess.run(
        [venv_python("glue"), "-m", "shoprec.local.sql", "--json",
         "select count(*) as n from shoprec.events where origin like '%/web-03/%'"],
        env=stage_env(), cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(counted.stdout.splitlines()[-1]) == {"n": 25}
    s3, layout = aws.client("s3"), LakeLayout(cloud["SHOPREC_LAKE_BUCKET"])
    rows = cycles.rows(s3, layout)  # the cross-cycle page reads both runs from the lake
    assert [r["collect"]["events"] for r in rows][-1] == 25 and rows[0]["model"]["metrics"]
    assert "<svg" in cycles.render(rows)
