"""The API under faults, on real S3 (LocalStack): S3 down during a refresh, a corrupt or
incomplete champion, no champion (the packaged fallback serves, or a clear 503). The model
in memory keeps answering; nothing is left under the temporary folder."""

import json
import logging
import tempfile
from types import SimpleNamespace

import app as api
import boto3
import pytest
from botocore.config import Config
from chalice.test import Client
from tiny_model import write_tiny_model

from chalicelib import fallback
from chalicelib.champion import ChampionHolder, NoChampion
from shoprec import aws, registry
from shoprec.layout import KNN_FILE, VOCABULARY_FILE, WEIGHTS_FILE, LakeLayout

pytestmark = [pytest.mark.integration]
DEAD_ENDPOINT = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _dead_s3():
    return boto3.session.Session().client(
        "s3", endpoint_url=DEAD_ENDPOINT, config=Config(retries={"max_attempts": 1})
    )


@pytest.fixture
def lake(bucket, tmp_path, monkeypatch):
    """The lake with v1 published and promoted; the temporary folder is the test's own."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v1", "v1"), "v1")
    registry.promote(s3, layout, "v1", "first")
    return s3, layout, tmp_path


def _publish(lake, version: str, damage) -> None:
    s3, layout, tmp_path = lake
    folder = write_tiny_model(tmp_path / version, version)
    damage(folder)
    registry.publish(s3, layout, folder, version)
    registry.promote(s3, layout, version, "damaged")


def test_s3_down_during_a_refresh_keeps_the_model_in_memory(lake, caplog):
    s3, layout, tmp_path = lake
    holder = ChampionHolder(aws.quick_client("s3"), layout, 0, first_retry_seconds=0)
    assert holder.get().version == "v1"
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v2", "v2"), "v2")
    registry.promote(s3, layout, "v2", "better")
    holder.s3 = _dead_s3()
    with caplog.at_level(logging.ERROR):
        assert holder.get().version == "v1"
    assert "champion refresh failed" in caplog.text and "v1 keeps serving" in caplog.text
    holder.s3 = aws.quick_client("s3")  # S3 is back: the next refresh follows the pointer
    assert holder.get().version == "v2"
    assert not list((tmp_path / "tmp").iterdir())  # no model files left under /tmp


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / WEIGHTS_FILE).write_bytes(b"not a zip"),
        lambda folder: (folder / KNN_FILE).unlink(),
    ],
    ids=["corrupt weights", "missing index"],
)
def test_a_damaged_champion_leaves_the_last_good_one_serving(lake, damage, caplog):
    holder = ChampionHolder(aws.quick_client("s3"), lake[1], 0, first_retry_seconds=0)
    assert holder.get().version == "v1"
    _publish(lake, "v2", damage)
    with caplog.at_level(logging.ERROR):
        assert holder.get().version == "v1"
    assert "champion refresh failed" in caplog.text
    assert not list((lake[2] / "tmp").iterdir())


def test_a_champion_file_changed_in_s3_after_promotion_is_not_served(lake, caplog):
    """A vocabulary overwritten in place (valid JSON, same items, another order) would load
    and serve every recommendation under the wrong id: its sha256 gives it away."""
    s3, layout, tmp_path = lake
    holder = ChampionHolder(aws.quick_client("s3"), layout, 0, first_retry_seconds=0)
    assert holder.get().version == "v1"
    _publish(lake, "v2", lambda folder: None)
    key = layout.model_prefix("v2") + VOCABULARY_FILE
    vocabulary = json.loads(s3.get_object(Bucket=layout.bucket, Key=key)["Body"].read())
    shuffled = [vocabulary[0], *reversed(vocabulary[1:])]
    s3.put_object(Bucket=layout.bucket, Key=key, Body=json.dumps(shuffled).encode())
    with caplog.at_level(logging.ERROR):
        assert holder.get().version == "v1"
    assert "DamagedModel" in caplog.text
    assert f"{VOCABULARY_FILE} has a sha256 other than its manifest's" in caplog.text
    assert not list((tmp_path / "tmp").iterdir())


def test_a_cold_start_without_a_good_champion_is_a_clear_503(lake, monkeypatch):
    s3, layout, _ = lake
    empty = ChampionHolder(s3, LakeLayout(layout.bucket + "-none"), 0, first_retry_seconds=0)
    with pytest.raises(NoChampion, match="could not be loaded"):  # no such bucket
        empty.get()
    _publish(lake, "v2", lambda folder: (folder / WEIGHTS_FILE).unlink())
    holder = ChampionHolder(s3, layout, 0, first_retry_seconds=60)
    monkeypatch.setattr(api, "champion", lambda: holder)
    with Client(api.app) as client:
        response = client.http.get("/health")
        assert response.status_code == 503
        assert response.json_body["error"].startswith("the champion model could not be loaded")
        assert client.http.get("/popular").status_code == 503


def test_without_a_pointer_the_api_says_nothing_is_promoted(bucket, monkeypatch):
    holder = ChampionHolder(aws.client("s3"), LakeLayout(bucket), 0)
    monkeypatch.setattr(api, "champion", lambda: holder)
    with Client(api.app) as client:
        response = client.http.post(
            "/recommendations",
            body=b'{"session_items": []}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 503
    assert response.json_body == {"error": "no model has been promoted yet", "field": None}


def test_a_cold_start_with_s3_down_serves_the_packaged_fallback_until_the_champion_loads(
    lake, monkeypatch
):
    """``make api-fallback`` packages the champion's popular items; a later cold start that
    cannot reach S3 answers them (tier popular) and follows the pointer once S3 is back."""
    s3, layout, tmp_path = lake
    packaged = fallback.write_from_champion(s3, layout, tmp_path / "fallback.json")
    manifest = registry.read_manifest(s3, layout, "v1")
    assert packaged == {"from": "v1", "popular_items": manifest["popular_items"]}
    holder = ChampionHolder(
        _dead_s3(),
        layout,
        0,
        first_retry_seconds=0,
        fallback=fallback.load(tmp_path / "fallback.json"),
    )
    monkeypatch.setattr(api, "champion", lambda: holder)
    shown: list[str] = []  # the answer's impressions, kept here rather than put to the lake
    monkeypatch.setattr(api, "impressions", lambda: SimpleNamespace(record=shown.extend))
    with Client(api.app) as client:
        health = client.http.get("/health").json_body
        assert (health["model_version"], health["tier"]) == ("fallback:v1", "popular")
        response = client.http.post(
            "/recommendations",
            body=b'{"session_items": ["a"], "k": 2}',
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200 and response.json_body["tier"] == "popular"
        items = [item["item_id"] for item in response.json_body["items"]]
        assert items == manifest["popular_items"][:2]
        impression = json.loads(shown[0])  # clicks on it count for the fallback, not for v1
        assert (impression["model_version"], impression["tier"]) == ("fallback:v1", "popular")
        holder.s3 = aws.quick_client("s3")  # S3 is back: the champion replaces the fallback
        assert client.http.get("/health").json_body["model_version"] == "v1"


def test_without_a_champion_or_a_packaged_fallback_there_is_nothing_to_package(bucket, tmp_path):
    with pytest.raises(LookupError, match="no champion"):
        fallback.write_from_champion(aws.client("s3"), LakeLayout(bucket), tmp_path / "f.json")
    assert fallback.load(tmp_path / "f.json") is None
