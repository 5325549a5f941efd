"""Promotion history and rollback on real S3 (LocalStack); the API's holder follows."""

import pytest
from tiny_model import write_tiny_model

from shoprec import aws, registry
from shoprec.layout import KNN_FILE, LakeLayout
from shoprec.rollback import main as rollback_cli

pytestmark = [pytest.mark.integration]


def test_rollback_returns_to_the_previous_champion_and_the_api_follows(bucket, tmp_path):
    from api.chalicelib.champion import ChampionHolder

    s3, layout = aws.client("s3"), LakeLayout(bucket)
    for version in ("v1", "v2", "v3"):
        registry.publish(s3, layout, write_tiny_model(tmp_path / version, version), version)
    holder = ChampionHolder(s3, layout, refresh_seconds=0)

    registry.promote(s3, layout, "v1", "first")
    registry.promote(s3, layout, "v2", "better")
    registry.promote(s3, layout, "v3", "better still")
    assert holder.get().version == "v3"

    rollback_cli(["--bucket", bucket])
    assert registry.read_champion(s3, layout)["version"] == "v2"
    assert holder.get().version == "v2"  # the API serves the rolled-back model on refresh
    pointer = registry.rollback(s3, layout)
    assert (pointer["version"], pointer["earlier"]) == ("v1", [])
    assert pointer["reason"] == "rollback from v2"
    with pytest.raises(registry.NothingToRollBack):
        registry.rollback(s3, layout)
    with pytest.raises(SystemExit, match="no earlier champion"):
        rollback_cli(["--bucket", bucket])


def test_rollback_refuses_a_previous_champion_whose_files_changed_since(bucket, tmp_path):
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    for version in ("v1", "v2"):
        registry.publish(s3, layout, write_tiny_model(tmp_path / version, version), version)
        registry.promote(s3, layout, version, "better")
    s3.put_object(Bucket=bucket, Key=layout.model_prefix("v1") + KNN_FILE, Body=b"overwritten")
    with pytest.raises(SystemExit, match=f"model v1 cannot serve again: {KNN_FILE} has"):
        rollback_cli(["--bucket", bucket])
    assert registry.read_champion(s3, layout)["version"] == "v2"  # the pointer did not move
