"""Render the training job's request template with the SageMaker Python SDK (2.x).

``.venvs/sdk/bin/python sagemaker/training_job.py`` (the ``sdk`` venv: SDK 2.x) writes
``shoprec/orchestration/training_job.json``: the CreateTrainingJob request of a TensorFlow
script-mode estimator, as ``sagemaker.workflow.airflow.training_config`` exports it for the
Amazon provider's ``SageMakerTrainingOperator``, plus the Deep Learning Container images the
SDK knows for the TensorFlow of ``envs/ml.lock``. Values known only after deployment or per
run are ``${placeholders}`` that ``shoprec.orchestration.training_job`` fills at run time,
so neither MWAA nor CDK installs the SDK (it cannot share a venv with Airflow 3.0.6).
``tests/sdk`` renders it again: a change of the SDK pin or of the estimator's settings that
is not committed fails there.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the shared package (the SDK still wins: sagemaker/ is no package)

from shoprec.layout import LakeLayout  # noqa: E402
from shoprec.metrics import SAGEMAKER_METRIC_DEFINITIONS  # noqa: E402

TEMPLATE = REPO / "shoprec" / "orchestration" / "training_job.json"
REGION = "us-east-1"  # only where the SDK needs one: the images' tags are the same everywhere
MAX_RUNTIME_SECONDS = 4 * 3600  # the longest a run may train; each run asks for its budget
# Offline stand-ins the SDK accepts, replaced by placeholders in its output.
PLACEHOLDERS = {
    "arn:aws:iam::000000000000:role/placeholder-role": "role_arn",
    "placeholder.dkr.ecr/tensorflow-training:0": "training_image",
    "s3://placeholder-source/sourcedir.tar.gz": "source_uri",
    "ml.placeholder.large": "instance_type",
    "placeholder-region-1": "region",
    "placeholder-job": "job_name",
    "placeholder-channel": "channel",
    "s3://placeholder-lake/placeholder-prefix/": "channel_uri",
    "placeholder-lake": "bucket",
}


def tensorflow_version() -> str:
    """The TensorFlow the training image must run: the ``ml`` venv's pin."""
    lock = (REPO / "envs" / "ml.lock").read_text()
    return re.search(r"^tensorflow[-_]cpu==(\S+)$", lock, re.MULTILINE).group(1)


def _session(region: str) -> Any:
    import boto3
    from sagemaker.session import Session

    # fixed credentials: the SDK builds clients, but nothing here calls AWS
    boto = boto3.Session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
    return Session(boto_session=boto)


def images(version: str) -> dict[str, str]:
    """``repository:tag`` of the training and serving images (same account, every region)."""
    from sagemaker import image_uris

    found = {
        scope: image_uris.retrieve(
            "tensorflow",
            region=REGION,
            version=version,
            py_version="py312" if scope == "training" else None,
            instance_type="ml.m5.large",
            image_scope=scope,
        )
        for scope in ("training", "inference")
    }
    return {scope: uri.split("/", 1)[1] for scope, uri in found.items()}


def request(version: str) -> dict[str, Any]:
    from sagemaker.inputs import TrainingInput
    from sagemaker.tensorflow import TensorFlow
    from sagemaker.workflow.airflow import training_config

    placeholder = {name: value for value, name in PLACEHOLDERS.items()}
    estimator = TensorFlow(
        entry_point="train.py",
        source_dir=placeholder["source_uri"],  # the archive CDK uploads: nothing to upload here
        role=placeholder["role_arn"],
        image_uri=placeholder["training_image"],
        instance_type=placeholder["instance_type"],
        instance_count=1,
        volume_size=30,
        max_run=MAX_RUNTIME_SECONDS,
        output_path=f"s3://{placeholder['bucket']}/{LakeLayout.TRAINING_JOBS_PREFIX}",
        framework_version=version,
        py_version="py312",
        model_dir=False,  # train.py writes SM_MODEL_DIR itself
        disable_profiler=True,
        debugger_hook_config=False,
        container_log_level=20,
        metric_definitions=SAGEMAKER_METRIC_DEFINITIONS,  # the console's view of train.py's log
        sagemaker_session=_session(placeholder["region"]),
    )
    config = training_config(
        estimator,
        inputs={placeholder["channel"]: TrainingInput(placeholder["channel_uri"])},
        job_name=placeholder["job_name"],
    )
    # SageMaker retries the same job on its own internal errors (training_config does not
    # export the estimator's max_retry_attempts); a failing train.py is not retried.
    config["RetryStrategy"] = {"MaximumRetryAttempts": 2}
    return config


def _with_placeholders(value: Any) -> Any:
    text = json.dumps(value)
    for stand_in, name in PLACEHOLDERS.items():  # longest first: the lake inside channel_uri
        text = text.replace(stand_in, "${" + name + "}")
    return json.loads(text)


def render() -> dict[str, Any]:
    import sagemaker

    version = tensorflow_version()
    config = _with_placeholders(request(version))
    return {
        "rendered_by": f"sagemaker {sagemaker.__version__} (sagemaker/training_job.py)",
        "tensorflow": version,
        "images": images(version),
        "channel": config.pop("InputDataConfig")[0],
        "request": config,
    }


def text() -> str:
    return json.dumps(render(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    TEMPLATE.write_text(text())
    print(f"wrote {TEMPLATE.relative_to(REPO)}", file=sys.stderr)
