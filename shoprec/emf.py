"""The Lambdas' metrics: Powertools ``Metrics`` in embedded metric format (one JSON document
on stdout per flush, which CloudWatch Logs turns into metrics), named by ``shoprec.metrics``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import single_metric

from shoprec.metrics import COLLECT, METRICS, NAMESPACE, REASON, counts_values, dimensions


def lambda_metrics(stage: str, source: str, env: str | None = None) -> Metrics:
    """``env``: the settings' (``SHOPREC_ENV``), read from the environment if not given."""
    metrics = Metrics(namespace=NAMESPACE)
    metrics.set_default_dimensions(**dimensions(stage, source, env))
    return metrics


def add(metrics: Metrics, values: Mapping[str, float]) -> None:
    for name, value in values.items():
        metrics.add_metric(name=name, unit=METRICS[name].unit, value=value)


def add_counts(metrics: Metrics, counts: Mapping[str, Any], source: str, env: str) -> None:
    """A collector invocation's counts of one object; quarantined lines also per reason."""
    add(metrics, counts_values(counts))
    for reason, count in counts["quarantined"].items():
        with single_metric(
            name="Quarantined",
            unit=METRICS["Quarantined"].unit,
            value=count,
            namespace=NAMESPACE,
            default_dimensions=dimensions(COLLECT, source, env) | {REASON: reason},
        ):
            pass


def flush(metrics: Metrics) -> None:
    """One EMF document for what the invocation added (nothing when it added nothing)."""
    if metrics.provider.metric_set:
        metrics.flush_metrics()


def emit_counts(counts: Mapping[str, Any], source: str, env: str) -> None:
    """One document of a pulled collector's run (its counts, as an object collector's)."""
    metrics = lambda_metrics(COLLECT, source, env)
    add_counts(metrics, counts, source, env)
    flush(metrics)
