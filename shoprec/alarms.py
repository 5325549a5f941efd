"""The alarm conditions, as data: CDK makes CloudWatch alarms of them (``cdk/components/
monitoring.py``), the local cloud puts the same alarms on LocalStack (``shoprec.local.health``).

Each watches one metric of ``shoprec.metrics`` with a simple statistic over one period, so
LocalStack's free edition evaluates them too; the latency alarm's p99 is the one exception
(LocalStack computes no percentiles: locally it watches the maximum, a stricter bound).
"""

from __future__ import annotations

from dataclasses import dataclass

from shoprec.deployment import COLLECTED_SOURCES
from shoprec.metrics import (
    ALL_SOURCES,
    METRICS,
    NAMESPACE,
    dimensions,
)

ABOVE, BELOW, AT_LEAST = (
    "GreaterThanThreshold",
    "LessThanThreshold",
    "GreaterThanOrEqualToThreshold",
)


@dataclass(frozen=True)
class AlarmThresholds:
    """An environment's bounds (``cdk/config.py`` sets them per environment)."""

    quarantine_percent: float  # of a run's lines
    silent_source_seconds: int  # a source without a line for this long (a multiple of 60)
    oldest_pending_minutes: float  # an object arrived and not ingested
    kafka_lag_messages: int  # on the topic and not staged after a staging run
    no_champion_cycles: int  # cycles without a new champion
    cycle_hours: float  # the length of a cycle (the DAG's schedule)
    api_p99_ms: float
    api_5xx_percent: float
    period_seconds: int = 300  # what the API and run alarms aggregate over (10, 30, 60·n)


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    metric: str
    statistic: str  # Sum | Average | Maximum | p99
    comparison: str
    threshold: float
    period_seconds: int
    source: str = ALL_SOURCES
    action: str = ""  # what the on-call engineer does (README, alarm description)

    @property
    def stage(self) -> str:
        return METRICS[self.metric].stage

    @property
    def percentile(self) -> bool:
        return self.statistic.startswith("p")

    def alarm_name(self, environment: str) -> str:
        return f"{NAMESPACE}-{environment}-{self.name}"

    def dimensions(self, environment: str) -> dict[str, str]:
        return dimensions(self.stage, self.source, environment)

    @property
    def description(self) -> str:
        return f"{self.metric} {self.statistic} {self.comparison} {self.threshold:g}: {self.action}"


def alarm_specs(
    t: AlarmThresholds, sources: tuple[str, ...] = COLLECTED_SOURCES
) -> list[AlarmSpec]:
    run = t.period_seconds
    per_source = [
        spec
        for source in sources
        for spec in (
            AlarmSpec(
                f"quarantine-ratio-{source}", "QuarantineRatio", "Maximum", ABOVE,
                t.quarantine_percent, run, source,
                action="read the quarantine zone's reasons; fix the parser or the sender",
            ),
            AlarmSpec(
                f"silent-source-{source}", "RunLines", "Maximum", BELOW, 1,
                t.silent_source_seconds, source,
                action="check the source's delivery (incoming/ prefix) and its collector's DLQ",
            ),
            AlarmSpec(
                f"oldest-pending-{source}", "OldestPendingAge", "Maximum", ABOVE,
                t.oldest_pending_minutes * 60, run, source,
                action="check the collector's errors and dead-letter queue; redrive it",
            ),
        )
    ]  # fmt: skip
    return [
        *per_source,
        AlarmSpec(
            "kafka-lag", "KafkaLag", "Maximum", ABOVE, t.kafka_lag_messages, run,
            action="check the staging job's runs and duration; run it again",
        ),
        AlarmSpec(
            "dag-run-failed", "RunFailed", "Sum", AT_LEAST, 1, run,
            action="read the failed task's log in Airflow; clear it once fixed",
        ),
        AlarmSpec(
            "no-new-champion", "ChampionAgeHours", "Maximum", ABOVE,
            t.no_champion_cycles * t.cycle_hours, run,
            action="read the gate's reasons in the training reports; check the data",
        ),
        AlarmSpec(
            "api-latency-p99", "Latency", "p99", ABOVE, t.api_p99_ms, run,
            action="check the API's duration and memory; the champion's size",
        ),
        AlarmSpec(
            "api-5xx-rate", "Status5xx", "Average", ABOVE, t.api_5xx_percent / 100, run,
            action="read the API's error logs; roll back if a new champion broke it",
        ),
    ]  # fmt: skip


# The local cloud's bounds: a shop day every 180 s (``SHOPREC_CYCLE_SECONDS``), alarms that
# answer within a minute. ``cdk/config.py`` names them for ``-c env=local``.
LOCAL_THRESHOLDS = AlarmThresholds(
    quarantine_percent=5.0,
    silent_source_seconds=1800,  # longer than the demo's quiet tail
    oldest_pending_minutes=10,
    kafka_lag_messages=10_000,
    no_champion_cycles=10,
    cycle_hours=180 / 3600,
    api_p99_ms=1000,
    api_5xx_percent=1.0,
    period_seconds=60,
)
