"""The feedback loop on real services: shoppers who see the API's answers click the relevant
ones; a worse champion loses clicks; the impressions and the web log go through their
collectors, Kafka and the staging job (real Spark); the live CTR test rolls the champion back
with its reason, and the API serves the previous champion again.

The API is the app's own code in process (Chalice's test client) on LocalStack S3: its
champion holder follows the pointer, its impression log puts its batches under
``incoming/source=impressions/``. The good model's V-SKNN index holds the shop's browsing
(each group walked in order), the worse one's pairs items of unrelated groups."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import app as api
import pytest
from chalice.test import Client
from tiny_model import write_tiny_model

from shoprec import aws, cycles, feedback, registry
from shoprec.contracts import StagingJobArgs
from shoprec.layout import LakeLayout
from shoprec.local import stages
from shoprec.local.rec_shoppers import browse_day
from shoprec.sources import GROUP_SIZE, ITEM_BASE, SHOP_ITEMS, SHOP_START
from tests.integration.ingestion import ingestion

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SESSIONS = 120  # per champion: ~650 answers of 5 items each


def _model(tmp_path, version: str, sessions: list[list[int]]):
    item_ids = [str(ITEM_BASE + n) for n in range(SHOP_ITEMS)]
    folder = write_tiny_model(
        tmp_path / version, version, {"serve": "vsknn"}, catalogue=(item_ids, sessions)
    )
    return folder


def _walks() -> list[list[int]]:
    """Each group browsed in order, from every start (item numbers from 1)."""
    groups = range(SHOP_ITEMS // GROUP_SIZE)
    return [
        [1 + g * GROUP_SIZE + (start + step) % GROUP_SIZE for step in range(4)]
        for g in groups
        for start in range(GROUP_SIZE)
    ]


def _unrelated() -> list[list[int]]:
    rng = random.Random(3)
    return [rng.sample(range(1, SHOP_ITEMS + 1), 4) for _ in range(SHOP_ITEMS)]


@pytest.fixture
def shop(cloud, unique, monkeypatch):
    weblog = ingestion(cloud, unique, batch_bytes=1 << 20)
    impressions = replace(
        weblog,
        settings=replace(
            weblog.settings, source="impressions", queue_url=weblog.lake.queues["impressions"]
        ),
    )
    monkeypatch.setenv("SHOPREC_LAKE_BUCKET", weblog.lake.bucket)
    monkeypatch.setenv("SHOPREC_CHAMPION_REFRESH_SECONDS", "0")
    monkeypatch.setenv("SHOPREC_IMPRESSION_BATCH", "1000")
    api.champion.cache_clear()
    api.impressions.cache_clear()
    with Client(api.app) as client:

        def ask(items: list[str], k: int) -> tuple[str, list[str]]:
            body = json.dumps({"session_items": items, "k": k})
            answer = client.http.post(
                "/recommendations", body=body, headers={"Content-Type": "application/json"}
            ).json_body
            return answer["recommendation_id"], [i["item_id"] for i in answer["items"]]

        yield weblog, impressions, ask, client
    api.champion.cache_clear()
    api.impressions.cache_clear()


def test_a_worse_champion_loses_clicks_and_is_rolled_back(shop, tmp_path, cloud, unique):
    weblog, impressions, ask, client = shop
    s3, layout = aws.client("s3"), LakeLayout(weblog.lake.bucket)
    good, worse = f"good-{unique}", f"worse-{unique}"
    registry.publish(s3, layout, _model(tmp_path, good, _walks()), good)
    registry.publish(s3, layout, _model(tmp_path, worse, _unrelated()), worse)

    for seed, version in enumerate((good, worse)):
        registry.promote(s3, layout, version, "test")
        day = browse_day(SHOP_START, SESSIONS, ask, seed=seed)
        for name, text in day.files.items():
            weblog.put(f"{name}.{version}", text.encode())
        assert api.impressions().flush() is not None  # what the last batch left
    for source in (weblog, impressions):
        source.sweep()
        counts = source.drain()
        assert counts, f"nothing collected for {source.source}"

    args = StagingJobArgs(
        lake_bucket=layout.bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="feedback",
        topic=weblog.settings.topic,
        database=f"feedback_{unique}",
    )
    staged = stages.run_glue_job("stage_events", args.to_argv())
    assert staged["quarantined"] == 0
    by_version = feedback.counts_by(staged["feedback"], "model_version")
    shown, lost = by_version[(good,)], by_version[(worse,)]
    assert shown.impressions > 2000 and lost.impressions > 2000
    assert shown.ctr > 3 * lost.ctr  # relevance earns clicks

    verdict = feedback.judge_champion(s3, layout, staged["feedback"], feedback.SequentialTest())
    assert verdict["decision"] == "rollback" and verdict["champion"] == worse
    pointer = registry.read_champion(s3, layout)
    assert pointer["version"] == good
    assert pointer["reason"].startswith(f"rollback from {worse}: CTR {lost.ctr:.4f}")
    verdicts = cycles.verdicts(s3, layout)
    assert [(v["champion"], v["decision"]) for v in verdicts] == [(worse, "rollback")]
    again = feedback.judge_champion(s3, layout, staged["feedback"], feedback.SequentialTest())
    assert again["decision"] == "wait" and registry.read_champion(s3, layout) == pointer
    print(f"CTR {good} {shown}: {shown.ctr:.4f}; {worse} {lost}: {lost.ctr:.4f}")

    answer = client.http.post(
        "/recommendations",
        body=json.dumps({"session_items": [str(ITEM_BASE)]}),
        headers={"Content-Type": "application/json"},
    ).json_body
    assert answer["model_version"] == good  # the API follows the rollback
