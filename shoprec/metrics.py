"""The one naming scheme of the loop's metrics, and what each stage's summary emits.

Every metric lives in ``NAMESPACE`` with the dimensions Environment, Stage and Source (``all``
for a stage that does not run per source); the quarantine counts per reason add Reason.
Units are CloudWatch's (Powertools' ``MetricUnit`` values are the same strings).

Two ways out, one scheme: the Lambdas (collectors, API) emit through Powertools' ``Metrics``
in embedded metric format, which CloudWatch extracts from their logs (``emf``); the stages
that run elsewhere (Glue, SageMaker, the gate, the DAG) hand their run summary to ``publish``,
which puts the values with ``PutMetricData`` from the DAG's task.
"""

from __future__ import annotations

import calendar
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shoprec import aws

NAMESPACE = "shoprec"
ENVIRONMENT, STAGE, SOURCE, REASON = "Environment", "Stage", "Source", "Reason"
ALL_SOURCES = "all"
COLLECT, STAGING, TRAINING, GATE, API, DAG = "collect", "stage", "train", "gate", "api", "dag"
HIT_RATE, MRR = "hr@20", "mrr@20"  # the evaluation's names of the metrics reported


@dataclass(frozen=True)
class Metric:
    name: str
    stage: str
    unit: str
    description: str


METRICS = {
    m.name: m
    for m in (
        Metric("Lines", COLLECT, "Count", "log lines read"),
        Metric("Events", COLLECT, "Count", "events published to Kafka"),
        Metric("Quarantined", COLLECT, "Count", "lines quarantined (also per Reason)"),
        Metric("Filtered", COLLECT, "Count", "lines filtered out (bots, assets, ...)"),
        Metric("Bytes", COLLECT, "Bytes", "bytes of logs read"),
        Metric("RunLines", COLLECT, "Count", "lines a collect run accounted for (0: silent)"),
        Metric("QuarantineRatio", COLLECT, "Percent", "quarantined lines of a run's lines"),
        Metric("PendingObjects", COLLECT, "Count", "objects arrived and not ingested yet"),
        Metric("OldestPendingAge", COLLECT, "Seconds", "age of the oldest pending object"),
        Metric("RowsRead", STAGING, "Count", "events read from Kafka"),
        Metric("RowsStaged", STAGING, "Count", "rows added to the events table"),
        Metric("Duplicates", STAGING, "Count", "events dropped as repeats"),
        Metric("RowsQuarantined", STAGING, "Count", "events failing the table's checks"),
        Metric("KafkaLag", STAGING, "Count", "messages on the topic not staged yet"),
        Metric("Examples", TRAINING, "Count", "training examples per epoch"),
        Metric("Epochs", TRAINING, "Count", "epochs trained"),
        Metric("TrainingMinutes", TRAINING, "None", "minutes spent training"),
        Metric("ModelHitRate20", TRAINING, "None", "HR@20 of the model, validation day"),
        Metric("ModelMrr20", TRAINING, "None", "MRR@20 of the model, validation day"),
        Metric("VsknnHitRate20", TRAINING, "None", "HR@20 of V-SKNN, validation day"),
        Metric("VsknnMrr20", TRAINING, "None", "MRR@20 of V-SKNN, validation day"),
        Metric("Promoted", GATE, "Count", "1 when the gate promoted, else 0 (reason: log)"),
        Metric("ChampionAgeHours", GATE, "None", "hours since the champion was promoted"),
        Metric("Requests", API, "Count", "requests answered"),
        Metric("Latency", API, "Milliseconds", "time to answer a request"),
        Metric("Status4xx", API, "Count", "1 per client error: its Average is the rate"),
        Metric("Status5xx", API, "Count", "1 per server error: its Average is the rate"),
        Metric("TierModel", API, "Count", "answers from the deep model"),
        Metric("TierVsknn", API, "Count", "answers from the V-SKNN floor"),
        Metric("TierPopular", API, "Count", "answers from the popular items"),
        Metric("ServedChampionAgeHours", API, "None", "hours since the served model was trained"),
        Metric("RunFailed", DAG, "Count", "1 per DAG run that failed"),
    )
}


ENV_VARIABLE = "SHOPREC_ENV"  # the environment's name, in each Lambda's environment


# SageMaker's metric definitions: regular expressions over train.py's log (its epoch lines,
# its summary line), which SageMaker shows in the console as the job's metrics.
SAGEMAKER_METRIC_DEFINITIONS = [
    {"Name": "train:loss", "Regex": r"epoch \d+/\d+: loss ([0-9.]+)"},
    *(
        {"Name": f"{member}:{name}", "Regex": rf'"{member}": \{{[^}}]*"{name}": ([0-9.eE-]+)'}
        for member in ("model", "vsknn")
        for name in (HIT_RATE, MRR)
    ),
]


def environment() -> str:
    return os.environ.get(ENV_VARIABLE, "local")


def dimensions(stage: str, source: str = ALL_SOURCES, env: str | None = None) -> dict[str, str]:
    return {ENVIRONMENT: env or environment(), STAGE: stage, SOURCE: source}


def _ratio(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 3) if whole else 0.0


def collect_values(summary: Mapping[str, Any]) -> dict[str, float]:
    """A collect run's accounting (``shoprec.ingest.status.summary``): its lines (every run
    reports, so a silent source shows as zeros, not as missing data), what it found still
    pending, and the share of its lines quarantined."""
    quarantined = sum((summary.get("quarantined") or {}).values())
    return {
        "RunLines": summary.get("lines", 0),
        "QuarantineRatio": _ratio(quarantined, summary.get("lines", 0)),
        "PendingObjects": (summary.get("objects") or {}).get("pending", 0),
        "OldestPendingAge": summary.get("oldest_pending_seconds", 0.0),
    }


def counts_values(counts: Mapping[str, Any]) -> dict[str, float]:
    """One collector invocation's counts (``Counts.to_dict``), as the Lambda emits them."""
    return {
        "Lines": counts["lines"],
        "Events": counts["events"],
        "Quarantined": sum(counts["quarantined"].values()),
        "Filtered": sum(counts["filtered"].values()),
        "Bytes": counts["bytes"],
    }


def staging_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {
        "RowsRead": summary["read"],
        "RowsStaged": summary["staged"],
        "Duplicates": summary["duplicates"],
        "RowsQuarantined": summary["quarantined"],
        "KafkaLag": summary.get("kafka_lag", 0),
    }


def training_values(summary: Mapping[str, Any]) -> dict[str, float]:
    """From train.py's summary: its size and time, the model's and V-SKNN's scores."""
    scores = summary["metrics"]
    return {
        "Examples": summary["examples"],
        "Epochs": summary["epochs"],
        "TrainingMinutes": round(summary["train_seconds"] / 60, 3),
        "ModelHitRate20": scores["model"][HIT_RATE],
        "ModelMrr20": scores["model"][MRR],
        "VsknnHitRate20": scores["vsknn"][HIT_RATE],
        "VsknnMrr20": scores["vsknn"][MRR],
    }


def age_hours(stamp: str | None, now: float | None = None) -> float:
    """Hours since a ``%Y-%m-%dT%H:%M:%SZ`` time (0 without one)."""
    if not stamp:
        return 0.0
    then = calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
    return round(((time.time() if now is None else now) - then) / 3600, 3)


def gate_values(result: Mapping[str, Any], champion: Mapping[str, Any] | None) -> dict[str, float]:
    """The gate's decision (``registry.promote_if_accepted``) and the age of the champion
    that serves after it (its pointer)."""
    return {
        "Promoted": 1.0 if result["promoted"] else 0.0,
        "ChampionAgeHours": age_hours(champion and champion.get("promoted_at")),
    }


def datums(
    values: Mapping[str, float], dims: Mapping[str, str], timestamp: float | None = None
) -> list[dict[str, Any]]:
    """``PutMetricData`` entries; a name outside the scheme is a programming error."""
    stamp = time.time() if timestamp is None else timestamp
    return [
        {
            "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            "Value": float(value),
            "Unit": METRICS[name].unit,
            "Timestamp": stamp,
        }
        for name, value in values.items()
    ]


def publish(
    values: Mapping[str, float],
    stage: str,
    source: str = ALL_SOURCES,
    *,
    client: Any = None,
    env: str | None = None,
) -> None:
    """Put one stage's values (CloudWatch; LocalStack's on the local cloud)."""
    data = datums(values, dimensions(stage, source, env))
    cloudwatch = client or aws.client("cloudwatch")
    for start in range(0, len(data), 500):  # PutMetricData takes 1000 entries at most
        cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data[start : start + 500])
