"""The loop's health on the local cloud, from LocalStack's CloudWatch: the alarms of
``shoprec.alarms`` put there as CDK deploys them in AWS (LocalStack's free edition evaluates
metric alarms of a simple statistic and publishes their changes to SNS), and per stage the
latest values of its metrics (``make status``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from shoprec import metrics
from shoprec.alarms import AlarmSpec

ALARM = "ALARM"
MINUTE = 60
BUCKET = 300  # LocalStack answers GetMetricData bucket by bucket: few buckets, quick answers
LOCAL_STATISTIC = "Maximum"  # for a percentile, which LocalStack does not compute


def put_alarms(
    cloudwatch: Any, specs: Iterable[AlarmSpec], environment: str, topic_arn: str | None = None
) -> list[str]:
    """Create or update each alarm (idempotent); their names."""
    names = []
    for spec in specs:
        name = spec.alarm_name(environment)
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=spec.description,
            Namespace=metrics.NAMESPACE,
            MetricName=spec.metric,
            Dimensions=[{"Name": k, "Value": v} for k, v in spec.dimensions(environment).items()],
            Statistic=LOCAL_STATISTIC if spec.percentile else spec.statistic,
            Period=spec.period_seconds,
            EvaluationPeriods=1,
            Threshold=spec.threshold,
            ComparisonOperator=spec.comparison,
            TreatMissingData="notBreaching",  # every alarm watches data that its stage emits
            AlarmActions=[topic_arn] if topic_arn else [],
        )
        names.append(name)
    return names


def alarm_states(cloudwatch: Any, environment: str) -> dict[str, dict[str, Any]]:
    """The environment's alarms: name → state, reason, when the state began (unix seconds)
    and how often LocalStack evaluates it (once per period × evaluation periods, where
    CloudWatch evaluates every minute: a state can be that old)."""
    prefix = f"{metrics.NAMESPACE}-{environment}-"
    pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix)
    return {
        alarm["AlarmName"]: {
            "state": alarm["StateValue"],
            "reason": alarm["StateReason"],
            "since": alarm["StateUpdatedTimestamp"].timestamp(),
            "evaluated_every": alarm["Period"] * alarm["EvaluationPeriods"],
        }
        for page in pages
        for alarm in page["MetricAlarms"]
    }


def firing_label(name: str, state: dict[str, Any]) -> str:
    """An alarm that fires, with its state's age where it is evaluated less than each minute."""
    if state["evaluated_every"] <= MINUTE:
        return name
    age = max(0, int(time.time() - state["since"]))
    return f"{name} (for {age}s; evaluated every {state['evaluated_every']}s)"


def firing(cloudwatch: Any, environment: str) -> list[str]:
    return sorted(
        n for n, a in alarm_states(cloudwatch, environment).items() if a["state"] == ALARM
    )


def latest(
    cloudwatch: Any,
    environment: str,
    stage: str,
    source: str,
    names: Iterable[str],
    window_seconds: float = 6 * 3600,
) -> dict[str, tuple[float, float]]:
    """Per metric, (the start of its latest five minutes with data, their value) within
    the window."""
    names = list(names)
    dims = [
        {"Name": k, "Value": v} for k, v in metrics.dimensions(stage, source, environment).items()
    ]
    now = time.time()
    queries = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {"Namespace": metrics.NAMESPACE, "MetricName": name, "Dimensions": dims},
                "Period": BUCKET,
                "Stat": "Maximum" if metrics.METRICS[name].unit != "Count" else "Sum",
            },
        }
        for i, name in enumerate(names)
    ]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=now - window_seconds, EndTime=now + MINUTE
    )
    values = {}
    for result in answer["MetricDataResults"]:
        points = sorted(zip(result["Timestamps"], result["Values"], strict=True))
        if points:
            stamp, value = points[-1]
            values[names[int(result["Id"][1:])]] = (stamp.timestamp(), value)
    return values


STAGE_LINES = {  # what one status line shows per stage
    metrics.COLLECT: (
        "RunLines",
        "Lines",
        "Events",
        "Quarantined",
        "QuarantineRatio",
        "PendingObjects",
        "OldestPendingAge",
    ),
    metrics.STAGING: ("RowsRead", "RowsStaged", "Duplicates", "RowsQuarantined", "KafkaLag"),
    metrics.TRAINING: ("Examples", "Epochs", "TrainingMinutes", "ModelHitRate20", "VsknnHitRate20"),
    metrics.GATE: ("Promoted", "ChampionAgeHours"),
    metrics.API: ("Requests", "Latency", "Status5xx", "ServedChampionAgeHours"),
    metrics.DAG: ("RunFailed",),
}


def report(
    cloudwatch: Any, environment: str, specs: list[AlarmSpec], sources: Iterable[str]
) -> list[str]:
    """One line per stage (per source for collect): its alarms that fire (else healthy),
    when it last reported and its latest values."""
    states = alarm_states(cloudwatch, environment)
    rows = [(metrics.COLLECT, source) for source in sources]
    rows += [(stage, metrics.ALL_SOURCES) for stage in STAGE_LINES if stage != metrics.COLLECT]
    lines = []
    for stage, source in rows:
        fire = [
            firing_label(spec.name, states[spec.alarm_name(environment)])
            for spec in specs
            if (spec.stage, spec.source) == (stage, source)
            and states.get(spec.alarm_name(environment), {}).get("state") == ALARM
        ]
        values = latest(cloudwatch, environment, stage, source, STAGE_LINES[stage])
        if values:
            newest = max(t for t, _ in values.values()) + BUCKET  # the end of its bucket
            ago = f"; data of {max(0, int(time.time() - newest))}s ago: "
            shown = ", ".join(f"{name} {value:g}" for name, (_, value) in values.items())
        else:
            ago, shown = "; no data yet", ""
        label = stage if source == metrics.ALL_SOURCES else f"{stage} {source}"
        health = f"ALARM {', '.join(fire)}" if fire else "healthy"
        lines.append(f"{label:<20}{health}{ago}{shown}")
    return lines
