import pytest

from shoprec.cycles import render

pytestmark = pytest.mark.unit


def _cycle(run, events, model=None):
    training_set = {
        "window": {"from": "2026-11-01T00:00", "to": "2026-11-02T23:00"},
        "sessions": {"train": 100, "validation": 20, "vocabulary": 50},
        "novelty": {"new_sessions": 40, "item_drift": 0.2},
    }
    return {
        "run": run,
        "collect": {"events": events, "lines": events + 10, "quarantined": {"bad_time": 5}},
        "staged": {"read": events, "staged": events, "duplicates": 0, "quarantined": 0},
        "training_set": training_set if events else None,
        "model": model,
    }


def test_the_page_charts_every_cycle_and_tables_skipped_ones_too():
    metrics = {n: {"hr@20": 0.6, "mrr@20": 0.3} for n in ("model", "vsknn")}
    model = {
        "metrics": metrics,
        "gate": {"decision": "promote", "reason": "beats"},
        "train_seconds": 9.5,
    }
    page = render([_cycle("r1", 1000, model), _cycle("r2", 0), _cycle("r3", 800, model)])
    assert page.count("<svg") == 7  # 4 of the loop, 3 of what the alarms watch
    assert "QuarantineRatio" in page and "KafkaLag" in page
    assert page.count("<tr>") == 4  # header + 3 cycles, the quiet one included
    assert "promote: beats" in page and "40 / 0.2" in page and "2026-11-01 → 2026-11-02" in page


def test_the_page_shows_impressions_clicks_and_ctr_per_model_version():
    first, second = _cycle("r1", 1000), _cycle("r2", 900)
    first["staged"]["feedback"] = [
        {"model_version": "v1", "tier": "model", "position": 1, "impressions": 100, "clicks": 20}
    ]
    second["staged"]["feedback"] = [
        *first["staged"]["feedback"],
        {"model_version": "v2", "tier": "model", "position": 1, "impressions": 200, "clicks": 10},
    ]
    verdict = {"champion": "v2", "previous": "v1", "decision": "rollback", "reason": "CTR 0.05"}
    page = render([first, second], [verdict])
    assert "<td>v1</td><td>100</td><td>20</td><td>0.2</td>" in page
    assert "<td>v2</td><td>200</td><td>10</td><td>0.05</td>" in page
    assert "CTR per model version" in page and page.count("<svg") == 6
    assert "<td>v2</td><td>v1</td><td>rollback</td><td>CTR 0.05</td>" in page
