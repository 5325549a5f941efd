"""The promotion gate: a challenger must beat the better V-SKNN variant on MRR@20 and the
champion too, or trail it by less than the freshness margin; where no deep model beats the
floor, the floor serves."""

import pytest

from shoprec.registry import FRESHNESS_MARGIN, gate

pytestmark = pytest.mark.unit


def _metrics(model, vsknn, champion=None, vsknn_idf=(0.0, 0.0)):
    def scores(pair):
        return {"hr@20": pair[0], "mrr@20": pair[1], "predictions": 100}

    named = {"model": model, "vsknn": vsknn, "vsknn_idf": vsknn_idf}
    named |= {"champion": champion} if champion else {}
    return {name: scores(pair) for name, pair in named.items()}


def test_the_first_model_needs_only_to_beat_the_floor():
    decision = gate(_metrics((0.66, 0.35), (0.63, 0.33)), champion_version=None)
    assert decision["decision"] == "promote" and decision["serve"] == "model"
    assert decision["champion_version"] is None
    assert decision["scores"] == {
        "model": {"hr@20": 0.66, "mrr@20": 0.35},
        "vsknn": {"hr@20": 0.63, "mrr@20": 0.33},
    }
    assert decision["reason"].startswith("challenger (hr@20 0.6600 mrr@20 0.3500) beats vsknn")


def test_the_floor_is_the_better_vsknn_variant():
    decision = gate(_metrics((0.66, 0.34), (0.63, 0.33), vsknn_idf=(0.64, 0.345)), None)
    assert decision["serve"] == "vsknn_idf" and set(decision["scores"]) == {"model", "vsknn_idf"}
    assert decision["reason"].endswith("the vsknn_idf floor serves")


def test_a_challenger_well_behind_a_champion_that_beats_the_floor_is_rejected():
    decision = gate(_metrics((0.68, 0.35), (0.63, 0.33), (0.67, 0.37)), champion_version="v1")
    assert decision["decision"] == "reject" and decision["metric"] == "mrr@20"
    assert decision["scores"]["champion"] == {"hr@20": 0.67, "mrr@20": 0.37}
    assert (
        "does not beat champion (hr@20 0.6700 mrr@20 0.3700), trailing it by 5% or more"
        in (decision["reason"])
    )
    assert "vsknn" not in decision["reason"]  # only what it failed to beat is named


def test_a_better_challenger_is_promoted_over_the_champion():
    decision = gate(_metrics((0.66, 0.37), (0.63, 0.33), (0.67, 0.36)), champion_version="v1")
    assert decision["decision"] == "promote" and decision["serve"] == "model"
    assert "beats vsknn" in decision["reason"] and "champion" in decision["reason"]


@pytest.mark.parametrize("model", [(0.64, 0.32), (0.63, 0.33)])
def test_without_a_deep_model_above_the_floor_the_floor_serves(model):
    decision = gate(_metrics(model, (0.63, 0.33)), champion_version=None)
    assert decision["decision"] == "promote" and decision["serve"] == "vsknn"
    assert decision["reason"].startswith("no deep model beats vsknn (hr@20 0.6300 mrr@20 0.3300)")


def test_a_champion_below_the_floor_gives_way_to_the_floor_too():
    decision = gate(_metrics((0.6, 0.31), (0.63, 0.33), (0.62, 0.32)), champion_version="v1")
    assert decision["decision"] == "promote" and decision["serve"] == "vsknn"
    assert "champion (hr@20 0.6200 mrr@20 0.3200)" in decision["reason"]


def test_a_challenger_within_the_freshness_margin_of_the_champion_serves():
    # .347 / .354 (the YooChoose demo's last cycle): 2 % behind, and it beats the floor
    decision = gate(_metrics((0.664, 0.347), (0.642, 0.337), (0.665, 0.354)), "v2")
    assert decision["decision"] == "promote" and decision["serve"] == "model"
    assert decision["freshness_margin"] == FRESHNESS_MARGIN == 0.05
    assert (
        "trails champion (hr@20 0.6650 mrr@20 0.3540) by less than 5% on mrr@20"
        in (decision["reason"])
    )


def test_the_freshness_margin_does_not_lower_the_floor():
    decision = gate(_metrics((0.66, 0.336), (0.64, 0.337), (0.665, 0.338)), "v2")
    assert decision["decision"] == "reject"
    assert decision["reason"].startswith(
        "challenger (hr@20 0.6600 mrr@20 0.3360) does not beat vsknn"
    )
