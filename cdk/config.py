"""Typed per-environment settings, chosen with ``cdk synth -c env=<name>``.

``local`` is the LocalStack variant (``cdklocal deploy -c env=local``): only the stacks whose
resources LocalStack's free edition deploys (see docs/deployment.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from shoprec.alarms import LOCAL_THRESHOLDS, AlarmThresholds
from shoprec.continuous import TrainingPolicy
from shoprec.deployment import Deployment


@dataclass(frozen=True)
class ApiLimits:
    rate_per_second: int
    burst: int
    requests_per_day: int


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    removal_policy: RemovalPolicy
    incoming_expiry_days: int  # the raw logs, once collected (their lines live in landing)
    landing_expiry_days: int
    quarantine_expiry_days: int
    noncurrent_version_expiry_days: int  # overwritten and expired objects' old versions
    kafka_retention_hours: int  # the topic's: longer than a staging outage may last
    log_retention: logs.RetentionDays
    nat_gateways: int
    interface_endpoints: bool  # PrivateLink endpoints for the AWS APIs (else through the NAT)
    sweep_schedule_minutes: int  # the collectors' reconcile sweep (objects arrive by events)
    collector_max_concurrency: int  # invocations per collector queue at once
    glue_workers: int
    training_instance_type: str
    mwaa_environment_class: str
    mwaa_max_workers: int
    mwaa_public_webserver: bool
    api_limits: ApiLimits
    training_policy: TrainingPolicy  # when a cycle trains, its daily cap and window (MWAA options)
    alarms: AlarmThresholds  # the operations alarms' bounds (README: Operations)

    @property
    def deployment(self) -> Deployment:
        return Deployment(self.name)


_DEV = EnvironmentConfig(
    name="dev",
    removal_policy=RemovalPolicy.DESTROY,
    incoming_expiry_days=30,
    landing_expiry_days=30,
    quarantine_expiry_days=30,
    noncurrent_version_expiry_days=7,
    kafka_retention_hours=72,
    log_retention=logs.RetentionDays.ONE_MONTH,
    nat_gateways=1,
    interface_endpoints=False,
    sweep_schedule_minutes=60,
    collector_max_concurrency=2,
    glue_workers=2,
    training_instance_type="ml.m5.large",
    mwaa_environment_class="mw1.small",
    mwaa_max_workers=2,
    mwaa_public_webserver=True,
    api_limits=ApiLimits(rate_per_second=10, burst=20, requests_per_day=10_000),
    training_policy=TrainingPolicy(max_training_minutes_per_day=60, window_days=14),
    alarms=AlarmThresholds(
        quarantine_percent=5.0,
        silent_source_seconds=86_400,  # a day's run without a line
        oldest_pending_minutes=60,
        kafka_lag_messages=100_000,
        no_champion_cycles=7,
        cycle_hours=24,  # the DAG's daily schedule
        api_p99_ms=500,
        api_5xx_percent=1.0,
    ),
)

ENVIRONMENTS = {
    "dev": _DEV,
    "prod": EnvironmentConfig(
        name="prod",
        removal_policy=RemovalPolicy.RETAIN,
        incoming_expiry_days=90,
        landing_expiry_days=365,
        quarantine_expiry_days=90,
        noncurrent_version_expiry_days=30,
        kafka_retention_hours=168,
        log_retention=logs.RetentionDays.ONE_YEAR,
        nat_gateways=2,
        interface_endpoints=True,
        sweep_schedule_minutes=15,
        collector_max_concurrency=10,
        glue_workers=10,
        training_instance_type="ml.m5.xlarge",
        mwaa_environment_class="mw1.medium",
        mwaa_max_workers=5,
        mwaa_public_webserver=False,
        api_limits=ApiLimits(rate_per_second=500, burst=1000, requests_per_day=50_000_000),
        training_policy=TrainingPolicy(max_training_minutes_per_day=240, window_days=30),
        alarms=AlarmThresholds(
            quarantine_percent=2.0,
            silent_source_seconds=86_400,
            oldest_pending_minutes=30,
            kafka_lag_messages=1_000_000,
            no_champion_cycles=3,
            cycle_hours=24,
            api_p99_ms=300,
            api_5xx_percent=0.5,
        ),
    ),
    "local": replace(_DEV, name="local", alarms=LOCAL_THRESHOLDS),
}


def config_for(name: str) -> EnvironmentConfig:
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        raise ValueError(f"unknown env {name!r}; choose one of {sorted(ENVIRONMENTS)}") from None
