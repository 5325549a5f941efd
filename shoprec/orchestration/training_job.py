"""One run's CreateTrainingJob request, filled into the template the SageMaker SDK rendered.

``training_job.json`` is the SDK's own export for the Amazon provider's
``SageMakerTrainingOperator`` (``sagemaker/training_job.py``, SDK 2.x in the ``sdk`` venv,
rendered offline and committed; ``tests/sdk`` renders it again). Here its ``${placeholders}``
get the deployment's values (role, image, source archive, instance type, bucket: SSM) and the
run's (job name, channels, hyperparameters, the day's training budget). Plain Python: no SDK, no Airflow.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shoprec.deployment import lake_run_id

TEMPLATE = Path(__file__).with_name("training_job.json")
NAME_LENGTH = 63  # SageMaker's limit on job names


@cache
def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def job_name(prefix: str, airflow_run_id: str) -> str:
    """The run's training job: the same name on every try of the task, so a retry finds the
    job its first try started. A digest of the whole run id keeps truncated names distinct."""
    digest = hashlib.sha256(airflow_run_id.encode()).hexdigest()[:8]
    room = NAME_LENGTH - len(prefix) - len(digest) - 2
    run = lake_run_id(airflow_run_id)[:room].strip("-")
    return f"{prefix}-{run}-{digest}"


def _fill(value: Any, values: dict[str, str]) -> Any:
    """Substitute every ``${name}`` (JSON-escaped: values land inside JSON strings)."""
    escaped = {name: json.dumps(text)[1:-1] for name, text in values.items()}
    return json.loads(string.Template(json.dumps(value)).substitute(escaped))


@dataclass(frozen=True)
class TrainingSetup:
    """What the deployment publishes for training (SSM parameters, read once per run)."""

    bucket: str
    role_arn: str
    training_image: str
    source_uri: str
    instance_type: str


def request(
    setup: TrainingSetup,
    *,
    name: str,
    region: str,
    channels: dict[str, str],
    hyperparameters: dict[str, str],
    budget_seconds: float,
) -> dict[str, Any]:
    """The request: the template's script-mode settings, the run's channels (name → S3 URI),
    train.py's hyperparameters beside the SDK's ``sagemaker_*`` ones, and a stopping
    condition no longer than the day's budget (SageMaker enforces it)."""
    shape = template()
    values = {
        "bucket": setup.bucket,
        "role_arn": setup.role_arn,
        "training_image": setup.training_image,
        "source_uri": setup.source_uri,
        "instance_type": setup.instance_type,
        "region": region,
        "job_name": name,
    }
    config = _fill(shape["request"], values)
    config["InputDataConfig"] = [
        _fill(shape["channel"], {"channel": channel, "channel_uri": uri})
        for channel, uri in channels.items()
    ]
    config["HyperParameters"] = config["HyperParameters"] | hyperparameters
    stopping = config["StoppingCondition"]
    stopping["MaxRuntimeInSeconds"] = max(
        1, min(stopping["MaxRuntimeInSeconds"], int(budget_seconds))
    )
    return config


def max_runtime_seconds() -> int:
    """The longest any run may train (the template's stopping condition)."""
    return template()["request"]["StoppingCondition"]["MaxRuntimeInSeconds"]


def image(scope: str) -> str:
    """``repository:tag`` of the Deep Learning Container the SDK named (training | inference)."""
    return template()["images"][scope]
