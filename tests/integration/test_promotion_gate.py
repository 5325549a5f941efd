"""Promotion on real S3 (LocalStack): the champion pointer follows the gate's recorded decision,
and the API serves the tier that decision names."""

import pytest
from tiny_model import write_tiny_model

from shoprec import aws, registry
from shoprec.layout import LakeLayout

pytestmark = [pytest.mark.integration]


def _decision(verdict: str, against: str | None, serve: str = "model") -> dict:
    return {
        "decision": verdict,
        "serve": serve,
        "reason": f"{verdict} (test)",
        "champion_version": against,
    }


def test_worse_challengers_are_rejected_and_better_ones_promoted(bucket, tmp_path):
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    trained = {
        "v1": _decision("promote", None),  # first model: beat the floor
        "v2": _decision("reject", "v1"),  # worse than v1
        "v3": _decision("promote", "v1"),  # better than v1
        "v4": _decision("promote", "v1"),  # compared against v1, but v3 serves by now
    }
    for version, gate in trained.items():
        registry.publish(s3, layout, write_tiny_model(tmp_path / version, version, gate), version)

    assert registry.promote_if_accepted(s3, layout, "v1")["promoted"]
    rejected = registry.promote_if_accepted(s3, layout, "v2")
    assert rejected == {
        "promoted": False,
        "reason": "reject (test)",
        "serving": {"version": "v1", "tier": "model"},  # the champion keeps serving
    }
    assert registry.read_champion(s3, layout)["version"] == "v1"

    promoted = registry.promote_if_accepted(s3, layout, "v3")
    assert promoted["promoted"] and promoted["earlier"] == ["v1"]
    stale = registry.promote_if_accepted(s3, layout, "v4")
    assert not stale["promoted"] and "champion changed to v3" in stale["reason"]
    assert registry.read_champion(s3, layout)["version"] == "v3"


def test_what_is_new_is_measured_after_the_last_model_trained_not_the_champion(bucket, tmp_path):
    """A rejected challenger's data is not new again: the next cycle's novelty starts after
    it, so a quiet cycle after a rejection does not retrain on the same days."""
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    assert registry.trained_data_until(s3, layout) is None  # nothing trained: all of it is new
    models = {
        "v1": (_decision("promote", None), "2026-11-02T23:59:00"),
        "v2": (_decision("reject", "v1"), "2026-11-03T23:58:00"),
        "v3": (None, None),  # a model without lineage (an older format) counts for nothing
    }
    for version, (gate, until) in models.items():
        model = write_tiny_model(tmp_path / version, version, gate, data_until=until)
        registry.publish(s3, layout, model, version)
    assert registry.promote_if_accepted(s3, layout, "v1")["promoted"]
    assert not registry.promote_if_accepted(s3, layout, "v2")["promoted"]
    assert registry.read_champion(s3, layout)["version"] == "v1"
    assert registry.trained_data_until(s3, layout) == "2026-11-03T23:58:00"


def test_when_no_deep_model_beats_the_floor_the_api_serves_the_floor(bucket, tmp_path):
    from api.chalicelib.champion import ChampionHolder

    s3, layout = aws.client("s3"), LakeLayout(bucket)
    gate = _decision("promote", None, serve="vsknn_idf")
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v1", "v1", gate), "v1")
    promoted = registry.promote_if_accepted(s3, layout, "v1")
    assert promoted["serving"] == {"version": "v1", "tier": "vsknn_idf"}
    served = ChampionHolder(s3, layout, refresh_seconds=0).get()
    assert served.version == "v1" and served.recommend(["d"], 3).tier == "vsknn"
