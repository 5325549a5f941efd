"""Continuous training: collect (one step per source) → stage → reconcile → training set →
train → promote.

Thin on purpose. The backend is fixed when the file is parsed, by the Airflow option
``shoprec.backend``: MWAA sets ``aws`` (the Amazon provider's operators on the deployed
Lambda, Glue jobs and SageMaker: ``shoprec.orchestration.aws``), the local console leaves it
``local`` (the same stages on the local stand-in cloud: ``shoprec.orchestration.local``).
Nothing touches AWS or reads Variables at import.
"""

from __future__ import annotations

from airflow.sdk import dag

from shoprec.orchestration import pipeline

BACKEND = pipeline.backend()


@dag(dag_id="clickstream_training", **pipeline.dag_arguments(BACKEND))
def clickstream_training() -> None:
    pipeline.build(BACKEND)


clickstream_training()
