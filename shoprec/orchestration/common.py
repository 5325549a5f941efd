"""What the tasks of both modes share: the run's cutoff, the training policy, the decisions
that end a quiet cycle early."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import task

from shoprec import metrics
from shoprec.continuous import TrainingPolicy
from shoprec.deployment import AIRFLOW_SECTION, ENVIRONMENT_OPTION
from shoprec.feedback import SequentialTest


def cutoff(context: Any) -> float:
    """The end of the run's data interval, as unix seconds (never in the future)."""
    end = context.get("data_interval_end")
    now = datetime.now(UTC).timestamp()
    return min(end.timestamp(), now) if end else now


def policy() -> TrainingPolicy:
    """When to train, as this environment's Airflow options say (read at run time)."""
    from airflow.configuration import conf

    return TrainingPolicy.from_options(
        lambda name, default: conf.get(AIRFLOW_SECTION, name, fallback=str(default))
    )


def rollback_min_impressions() -> int:
    """Impressions of each model before the CTR test judges (option
    ``shoprec.rollback_min_impressions``; ``shoprec.feedback.SequentialTest``)."""
    from airflow.configuration import conf

    default = SequentialTest.min_impressions
    return int(conf.get(AIRFLOW_SECTION, "rollback_min_impressions", fallback=str(default)))


def hyperparameters(params: dict[str, Any]) -> dict[str, Any]:
    """The run's params that train.py takes (``pipeline.dag_arguments`` declares them)."""
    return {"epochs": int(params["epochs"]), "warm_start": bool(params["warm_start"])}


@task.short_circuit
def anything_new(collected: list[dict[str, Any]]) -> bool:
    """The later stages run when the cycle brought events (from any source): a quiet cycle
    costs seconds."""
    events = sum(c["events"] for c in collected)
    if not events:
        objects = {c["source"]: c["objects"] for c in collected}
        print(f"no new events since the last cycle ({objects}): nothing to do")
    return bool(events)


def worth_it(decision: dict[str, Any]) -> dict[str, Any] | bool:
    """A training decision as a short circuit: the decision (downstream gets it), else False
    with the reason logged (the cycle ends here)."""
    print(("train: " if decision["train"] else "no training: ") + decision["reason"])
    return decision if decision["train"] else False


def run_failed(context: Any) -> None:
    """The DAG's failure callback: one ``RunFailed`` datum, which the "DAG run failed" alarm
    watches (the tasks' own failures also go to the SNS topic in AWS mode)."""
    from airflow.configuration import conf

    environment = conf.get(AIRFLOW_SECTION, ENVIRONMENT_OPTION, fallback="") or None
    metrics.publish({"RunFailed": 1}, metrics.DAG, env=environment)
    print(f"run {context.get('run_id')} failed: RunFailed published")
