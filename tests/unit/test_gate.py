"""The promotion gate: a challenger must beat the champion and the V-SKNN floor on MRR@20."""

import pytest

from shoprec.registry import gate

pytestmark = pytest.mark.unit


def _metrics(model, vsknn, champion=None):
    def scores(pair):
        return {"hr@20": pair[0], "mrr@20": pair[1], "predictions": 100}

    named = {"model": model, "vsknn": vsknn} | ({"champion": champion} if champion else {})
    return {name: scores(pair) for name, pair in named.items()}


def test_the_first_model_needs_only_to_beat_the_floor():
    decision = gate(_metrics((0.66, 0.35), (0.63, 0.33)), champion_version=None)
    assert decision["decision"] == "promote" and decision["champion_version"] is None
    assert decision["scores"] == {
        "model": {"hr@20": 0.66, "mrr@20": 0.35},
        "vsknn": {"hr@20": 0.63, "mrr@20": 0.33},
    }
    assert decision["reason"].startswith("challenger (hr@20 0.6600 mrr@20 0.3500) beats vsknn")


def test_a_challenger_worse_than_the_champion_is_rejected_with_both_scores():
    decision = gate(_metrics((0.68, 0.35), (0.63, 0.33), (0.67, 0.36)), champion_version="v1")
    assert decision["decision"] == "reject" and decision["metric"] == "mrr@20"
    assert decision["scores"]["champion"] == {"hr@20": 0.67, "mrr@20": 0.36}
    assert "does not beat champion (hr@20 0.6700 mrr@20 0.3600)" in decision["reason"]
    assert "vsknn" not in decision["reason"]  # only what it failed to beat is named


def test_a_better_challenger_is_promoted_over_the_champion():
    decision = gate(_metrics((0.66, 0.37), (0.63, 0.33), (0.67, 0.36)), champion_version="v1")
    assert decision["decision"] == "promote"
    assert "beats vsknn" in decision["reason"] and "champion" in decision["reason"]


@pytest.mark.parametrize("model", [(0.64, 0.32), (0.63, 0.33)])
def test_a_challenger_that_does_not_beat_the_floor_on_mrr_is_rejected(model):
    decision = gate(_metrics(model, (0.63, 0.33)), champion_version=None)
    assert decision["decision"] == "reject" and "does not beat vsknn" in decision["reason"]
