"""The DAG's tasks on the local stand-in cloud: one task per stage of ``shoprec.local.stages``
(``make demo``, ``make cycle``, the integration tests). Run ids flow between tasks through
XCom; each stage keeps its summary in ``.run/reports/<run_id>/``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import get_current_context, task

from shoprec.deployment import COLLECTED_SOURCES, lake_run_id
from shoprec.orchestration import common

# One retry, soon: Airflow 3.0's LocalExecutor on SQLite (the local scheduler) can start a task
# before its queued state is committed; the task then fails without running ("state changed
# externally", apache/airflow#52754). The YooChoose demo of 2026-12-02 lost a cycle's training
# so. A retry runs it; a real failure still fails the run, 10 s later (the stages are idempotent).
DEFAULT_ARGS = {"retries": 1, "retry_delay": timedelta(seconds=10)}


def _current() -> tuple[Any, str, dict[str, Any]]:
    """(the stages, lake-safe run id, params) of the running task. The stand-ins are imported
    here, at run time: they are never deployed."""
    from shoprec.local import stages

    context = get_current_context()
    return stages, lake_run_id(context["run_id"]), context["params"]


def build() -> None:
    @task(multiple_outputs=False)  # one XCom per stage summary, not one per key
    def collect(source: str) -> dict[str, Any]:
        """Waits until every object of the source that arrived by the end of the data
        interval is ingested (a pulled source: reads what its engine indexed since)."""
        stages, run_id, _ = _current()
        return stages.collect(run_id, source=source, cutoff=common.cutoff(get_current_context()))

    @task(multiple_outputs=False)
    def stage_events(collected: list[dict[str, Any]]) -> dict[str, Any]:
        stages, run_id, _ = _current()
        return stages.stage_events(run_id)

    @task(multiple_outputs=False)
    def reconcile(collected: list[dict[str, Any]], staged: dict[str, Any]) -> dict[str, Any]:
        """Lines → events → staged rows, per source, checked end to end: a mismatch fails
        the run."""
        stages, run_id, _ = _current()
        return stages.reconcile(run_id, collected, staged)

    @task(multiple_outputs=False)
    def judge_champion(staged: dict[str, Any]) -> dict[str, Any]:
        """The champion's live CTR against the previous champion's (a sequential test); rolled
        back, with the test's numbers as reason, when it is significantly lower."""
        stages, run_id, _ = _current()
        return stages.judge_champion(run_id, staged, common.rollback_min_impressions())

    @task(multiple_outputs=False)
    def build_training_set(reconciled: dict[str, Any]) -> dict[str, Any]:
        stages, run_id, params = _current()
        window = common.policy().window_days
        return stages.build_training_set(run_id, float(params["validation_days"]), window)

    @task(multiple_outputs=False)
    def compact_events(training_set: dict[str, Any]) -> dict[str, Any]:
        """Closed days in few files; after the training set, which reads the files it deletes."""
        stages, run_id, _ = _current()
        return stages.compact_events(run_id)

    @task.short_circuit
    def worth_training(training_set: dict[str, Any]) -> dict[str, Any] | bool:
        """Enough new data or drift, within the day's budget."""
        stages, run_id, _ = _current()
        return common.worth_it(stages.decide_training(run_id, training_set, common.policy()))

    @task(multiple_outputs=False)
    def train_model(decision: dict[str, Any]) -> dict[str, Any]:
        stages, run_id, params = _current()
        version = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        budget = decision["budget_seconds"]
        return stages.train(run_id, version, budget, **common.hyperparameters(params))

    @task(multiple_outputs=False)
    def promote_model(trained: dict[str, Any]) -> dict[str, Any]:
        stages, run_id, _ = _current()
        return stages.promote(run_id, trained["model_version"])

    collected = [
        collect.override(task_id=f"collect_{source}")(source) for source in COLLECTED_SOURCES
    ]
    staged = stage_events(collected)
    common.anything_new(collected) >> staged
    judge_champion(staged)
    training_set = build_training_set(reconcile(collected, staged))
    compact_events(training_set)
    promote_model(train_model(worth_training(training_set)))
