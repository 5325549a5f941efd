"""The DAG, as MWAA and the local console parse it: its arguments and its tasks, for the
backend the Airflow option ``shoprec.backend`` names (``aws`` on MWAA, ``local`` otherwise).
Options are settings, read at parse time; nothing here calls AWS or reads Variables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.configuration import conf
from airflow.sdk import Param
from airflow.timetables.interval import DeltaDataIntervalTimetable

from shoprec.contracts import TrainingHyperparameters
from shoprec.deployment import (
    AIRFLOW_SECTION,
    BACKEND_OPTION,
    CATCHUP_OPTION,
    CYCLE_OPTION,
    ENVIRONMENT_OPTION,
    FAILURE_TOPIC_OPTION,
    POLL_OPTION,
    START_OPTION,
    Deployment,
)
from shoprec.orchestration.common import run_failed

BACKENDS = ("local", "aws")


def _default(hyperparameter: str) -> Any:
    return TrainingHyperparameters.__dataclass_fields__[hyperparameter].default


def backend() -> str:
    name = conf.get(AIRFLOW_SECTION, BACKEND_OPTION, fallback="local")
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r} (option {AIRFLOW_SECTION}.{BACKEND_OPTION})")
    return name


def _option(name: str) -> str:
    value = conf.get(AIRFLOW_SECTION, name, fallback="")
    if not value:
        raise ValueError(f"AWS mode needs the Airflow option {AIRFLOW_SECTION}.{name}")
    return value


def _schedule() -> tuple[Any, datetime]:
    """The shop's clock (MWAA sets none: a daily cycle). The local console runs a cycle every
    ``cycle_seconds`` from ``start``, one shop day in minutes, catching up."""
    cycle = conf.getint(AIRFLOW_SECTION, CYCLE_OPTION, fallback=0)
    start = datetime.fromisoformat(conf.get(AIRFLOW_SECTION, START_OPTION, fallback="2026-01-01"))
    schedule = DeltaDataIntervalTimetable(timedelta(seconds=cycle)) if cycle else "@daily"
    return schedule, start.replace(tzinfo=start.tzinfo or UTC)


def dag_arguments(mode: str) -> dict[str, Any]:
    schedule, start = _schedule()
    if mode == "aws":
        from shoprec.orchestration import aws

        default_args = aws.default_args(_option(FAILURE_TOPIC_OPTION))
    else:
        from shoprec.orchestration import local

        default_args = local.DEFAULT_ARGS
    return {
        "schedule": schedule,
        "start_date": start,
        "catchup": conf.getboolean(AIRFLOW_SECTION, CATCHUP_OPTION, fallback=False),
        "max_active_runs": 1,
        "default_args": default_args,
        "on_failure_callback": run_failed,
        "tags": ["shoprec", mode],
        "params": {
            "validation_days": Param(1.0, type="number", minimum=0.01),
            # train.py's, per run (common.hyperparameters passes them on)
            "epochs": Param(_default("epochs"), type="integer", minimum=1),
            "warm_start": Param(_default("warm_start"), type="boolean"),
        },
    }


def build(mode: str) -> None:
    """The tasks, inside the DAG being defined."""
    if mode == "aws":
        from shoprec.orchestration import aws

        poll = conf.getint(AIRFLOW_SECTION, POLL_OPTION, fallback=0)
        aws.build(Deployment(_option(ENVIRONMENT_OPTION)), timedelta(seconds=poll) or aws.POLL)
    else:
        from shoprec.orchestration import local

        local.build()
