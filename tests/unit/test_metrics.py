"""The one naming scheme: what each stage's summary emits, the Lambdas' EMF documents as
CloudWatch extracts them, and the alarm conditions built on the scheme."""

from __future__ import annotations

import json
import time

import pytest

from shoprec import emf, metrics
from shoprec.alarms import LOCAL_THRESHOLDS, alarm_specs
from shoprec.deployment import COLLECTED_SOURCES
from shoprec.local import emf as local_emf

pytestmark = pytest.mark.unit


def test_a_collect_run_reports_its_lines_pending_objects_and_quarantine_share():
    summary = {
        "lines": 200,
        "quarantined": {"unparsable": 6, "bad_time": 4},
        "objects": {"ingested": 3, "pending": 2},
        "oldest_pending_seconds": 95.5,
    }
    assert metrics.collect_values(summary) == {
        "RunLines": 200,
        "QuarantineRatio": 5.0,
        "PendingObjects": 2,
        "OldestPendingAge": 95.5,
    }
    silent = metrics.collect_values({"lines": 0, "quarantined": {}, "objects": {}})
    assert silent["RunLines"] == 0 and silent["QuarantineRatio"] == 0.0


def test_staging_training_and_gate_values_come_from_their_summaries():
    staged = {"read": 10, "staged": 7, "duplicates": 2, "quarantined": 1, "kafka_lag": 4}
    assert metrics.staging_values(staged) == {
        "RowsRead": 10, "RowsStaged": 7, "Duplicates": 2, "RowsQuarantined": 1, "KafkaLag": 4,
    }  # fmt: skip
    trained = {
        "examples": 900,
        "epochs": 3,
        "train_seconds": 90,
        "metrics": {"model": {"hr@20": 0.5, "mrr@20": 0.2}, "vsknn": {"hr@20": 0.4, "mrr@20": 0.1}},
    }
    assert metrics.training_values(trained) == {
        "Examples": 900, "Epochs": 3, "TrainingMinutes": 1.5, "ModelHitRate20": 0.5,
        "ModelMrr20": 0.2, "VsknnHitRate20": 0.4, "VsknnMrr20": 0.1,
    }  # fmt: skip
    two_days_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 48 * 3600))
    gate = metrics.gate_values({"promoted": False}, {"promoted_at": two_days_ago})
    assert gate["Promoted"] == 0.0 and gate["ChampionAgeHours"] == pytest.approx(48, abs=0.01)
    assert metrics.gate_values({"promoted": True}, None) == {"Promoted": 1.0, "ChampionAgeHours": 0}


def test_every_datum_carries_the_schemes_dimensions_and_unit():
    [datum] = metrics.datums({"OldestPendingAge": 12}, metrics.dimensions("collect", "solr", "dev"))
    assert datum["Unit"] == "Seconds" and datum["Value"] == 12.0
    assert datum["Dimensions"] == [
        {"Name": "Environment", "Value": "dev"},
        {"Name": "Stage", "Value": "collect"},
        {"Name": "Source", "Value": "solr"},
    ]
    with pytest.raises(KeyError):
        metrics.datums({"NotInTheScheme": 1}, {})


def test_a_collectors_emf_document_becomes_the_same_datums(capsys):
    recorder = emf.lambda_metrics(metrics.COLLECT, "weblog", "dev")
    counts = {"lines": 10, "events": 7, "bytes": 900, "quarantined": {"unparsable": 2},
              "filtered": {"bot": 1}}  # fmt: skip
    emf.add_counts(recorder, counts, "weblog", "dev")
    emf.flush(recorder)
    emf.flush(recorder)  # nothing added since: no document
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(documents) == 2  # the per-reason count has its own dimension set
    put = [
        (
            namespace,
            d["MetricName"],
            d["Value"],
            d["Unit"],
            tuple(x["Value"] for x in d["Dimensions"]),
        )
        for document in documents
        for namespace, data in local_emf.metric_data(document)
        for d in data
    ]
    assert (
        "shoprec",
        "Quarantined",
        2.0,
        "Count",
        ("dev", "collect", "weblog", "unparsable"),
    ) in put
    assert {(name, value, unit) for _, name, value, unit, dims in put if len(dims) == 3} == {
        ("Lines", 10.0, "Count"),
        ("Events", 7.0, "Count"),
        ("Quarantined", 2.0, "Count"),
        ("Filtered", 1.0, "Count"),
        ("Bytes", 900.0, "Bytes"),
    }


def test_the_alarms_watch_metrics_of_the_scheme_under_unique_names():
    specs = alarm_specs(LOCAL_THRESHOLDS)
    assert len({spec.name for spec in specs}) == len(specs)
    assert all(spec.metric in metrics.METRICS for spec in specs)
    for source in COLLECTED_SOURCES:
        for kind in ("quarantine-ratio", "silent-source", "oldest-pending"):
            assert f"{kind}-{source}" in {spec.name for spec in specs}
    by_name = {spec.name: spec for spec in specs}
    assert by_name["api-5xx-rate"].threshold == LOCAL_THRESHOLDS.api_5xx_percent / 100
    assert by_name["no-new-champion"].threshold == pytest.approx(
        LOCAL_THRESHOLDS.no_champion_cycles * LOCAL_THRESHOLDS.cycle_hours
    )
    assert by_name["api-latency-p99"].percentile
