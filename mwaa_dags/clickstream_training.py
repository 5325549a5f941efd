"""Continuous training: collect (one step per source) → stage → reconcile → training set →
train → promote.

Thin on purpose: each task hands its stage to a backend chosen at run time (``params.backend``);
nothing touches AWS or reads Variables at import. ``local`` runs every stage on the local
stand-in cloud (``make demo``); ``aws`` calls the deployed Lambda, Glue jobs and SageMaker
(``shoprec.aws_stages``) of the environment named by the Airflow option
``shoprec.environment``; ``configured`` (the default) takes the backend from the option
``shoprec.backend``, which the MWAA environment sets to ``aws``, else ``local``.
Run ids flow between tasks through XCom.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.configuration import conf
from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.interval import DeltaDataIntervalTimetable

from shoprec.continuous import TrainingPolicy
from shoprec.contracts import TrainingHyperparameters
from shoprec.deployment import (
    AIRFLOW_SECTION,
    BACKEND_OPTION,
    CATCHUP_OPTION,
    COLLECTED_SOURCES,
    CYCLE_OPTION,
    ENVIRONMENT_OPTION,
    START_OPTION,
    lake_run_id,
)

BACKENDS = ("configured", "local", "aws")
DEFAULT_EPOCHS = TrainingHyperparameters.__dataclass_fields__["epochs"].default
DEFAULT_ARGS = {"retries": 0, "retry_delay": timedelta(minutes=5)}
# The shop's clock, from Airflow options (MWAA sets none: a daily cycle). The local console
# runs a cycle every ``cycle_seconds`` from ``start``, one shop day in minutes, catching up.
CYCLE_SECONDS = conf.getint(AIRFLOW_SECTION, CYCLE_OPTION, fallback=0)
START = datetime.fromisoformat(conf.get(AIRFLOW_SECTION, START_OPTION, fallback="2026-01-01T00:00"))
SCHEDULE = (
    DeltaDataIntervalTimetable(timedelta(seconds=CYCLE_SECONDS)) if CYCLE_SECONDS else "@daily"
)


def _current() -> tuple[Any, str, dict[str, Any]]:
    """(backend, lake-safe run id, params) of the running task, resolved at run time."""
    context = get_current_context()
    params = context["params"]
    run_id = lake_run_id(context["run_id"])
    return _backend(params["backend"]), run_id, params


def _cutoff() -> float:
    """The end of the run's data interval, as unix seconds (never in the future)."""
    end = get_current_context().get("data_interval_end")
    now = datetime.now(UTC).timestamp()
    return min(end.timestamp(), now) if end else now


def _policy() -> TrainingPolicy:
    """When to train, as this environment's Airflow options say (read at run time)."""
    from airflow.configuration import conf as options

    return TrainingPolicy.from_options(
        lambda name, default: options.get(AIRFLOW_SECTION, name, fallback=str(default))
    )


def _backend(name: str) -> Any:
    from airflow.configuration import conf

    if name == "configured":
        name = conf.get(AIRFLOW_SECTION, BACKEND_OPTION, fallback="local")
    if name == "local":
        from shoprec.local import stages

        return stages
    if name == "aws":
        from shoprec.aws_stages import AwsStages

        return AwsStages.for_environment(conf.get(AIRFLOW_SECTION, ENVIRONMENT_OPTION))
    raise ValueError(f"unknown backend {name!r} (available: {BACKENDS[1:]})")


@dag(
    dag_id="clickstream_training",
    schedule=SCHEDULE,
    start_date=START.replace(tzinfo=START.tzinfo or UTC),
    catchup=conf.getboolean(AIRFLOW_SECTION, CATCHUP_OPTION, fallback=False),
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["shoprec"],
    params={
        "backend": Param("configured", enum=list(BACKENDS)),
        "validation_days": Param(1.0, type="number", minimum=0.01),
        "epochs": Param(DEFAULT_EPOCHS, type="integer", minimum=1),
    },
)
def clickstream_training() -> None:
    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def collect(source: str) -> dict[str, Any]:
        """Waits until every object of the source that arrived by the end of the data
        interval is ingested (a pulled source: reads what its engine indexed since)."""
        backend, run_id, _ = _current()
        return backend.collect(run_id, source=source, cutoff=_cutoff())

    @task.short_circuit
    def anything_new(collected: list[dict[str, Any]]) -> bool:
        """The later stages run when the cycle brought events: a quiet cycle costs seconds."""
        events = sum(c["events"] for c in collected)
        if not events:
            objects = {c["source"]: c["objects"] for c in collected}
            print(f"no new events since the last cycle ({objects}): nothing to do")
        return bool(events)

    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def stage_events(collected: list[dict[str, Any]]) -> dict[str, Any]:
        backend, run_id, _ = _current()
        return backend.stage_events(run_id)

    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def reconcile(collected: list[dict[str, Any]], staged: dict[str, Any]) -> dict[str, Any]:
        """Lines → events → staged rows, per source, checked end to end: a mismatch fails
        the run."""
        backend, run_id, _ = _current()
        return backend.reconcile(run_id, collected, staged)

    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def build_training_set(reconciled: dict[str, Any]) -> dict[str, Any]:
        backend, run_id, params = _current()
        return backend.build_training_set(run_id, float(params["validation_days"]))

    @task.short_circuit
    def worth_training(training_set: dict[str, Any]) -> dict[str, Any] | bool:
        """Enough new data or drift, within the day's budget: the decision (downstream gets
        it), else False with the reason logged (the cycle ends here)."""
        backend, run_id, _ = _current()
        decision = backend.decide_training(run_id, training_set, _policy())
        print(("train: " if decision["train"] else "no training: ") + decision["reason"])
        return decision if decision["train"] else False

    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def train_model(decision: dict[str, Any]) -> dict[str, Any]:
        backend, run_id, params = _current()
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return backend.train(
            run_id, version, budget_seconds=decision["budget_seconds"], epochs=int(params["epochs"])
        )

    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def promote_model(trained: dict[str, Any]) -> dict[str, Any]:
        backend, run_id, _ = _current()
        return backend.promote(run_id, trained["model_version"])

    collected = [
        collect.override(task_id=f"collect_{source}")(source) for source in COLLECTED_SOURCES
    ]
    staged = stage_events(collected)
    anything_new(collected) >> staged
    training_set = build_training_set(reconcile(collected, staged))
    trained = train_model(worth_training(training_set))
    promote_model(trained)


clickstream_training()
