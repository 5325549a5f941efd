"""Names of the deployed AWS resources of one environment (dev, prod, ...).

CDK creates every resource under these names, and the code that calls a resource (the DAG's
``aws`` backend, the handlers) finds it by the same names: one definition, so a rename
changes both sides at once. Values only known after deployment (the bucket name, the MSK
cluster ARN, the SageMaker role) are published as SSM parameters named here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from shoprec.continuous import TrainingPolicy
from shoprec.contracts import EVENTS_TABLE, JobArguments

PROJECT = "shoprec"
# MWAA passes custom configuration options ``<section>.<key>`` to Airflow; the DAG file reads
# them at parse time with ``airflow.configuration.conf.get(AIRFLOW_SECTION, key)`` (settings,
# never AWS calls): ``backend`` picks the tasks (``aws`` on MWAA, else ``local``).
AIRFLOW_SECTION = "shoprec"
BACKEND_OPTION = "backend"
ENVIRONMENT_OPTION = "environment"
FAILURE_TOPIC_OPTION = "failure_topic_arn"
POLL_OPTION = "poll_seconds"  # how often AWS mode's waits look (default: a minute)
# The shop's clock, where it is not a day (the local console: minutes per shop day).
CYCLE_OPTION = "cycle_seconds"
START_OPTION = "start"
CATCHUP_OPTION = "catchup"
# The Glue jobs, named after their folders under glue_jobs/; a run stops after the timeout
# (and the DAG waits for it that long).
GLUE_JOBS = ("stage_events", "build_training_set", "compact_events")
GLUE_TIMEOUT_MINUTES = 120
# Glue jobs an operator starts on demand (README, "Replay on AWS", "Erasure"): deployed, never
# run by the DAG.
OPERATOR_JOBS = ("replay_landing", "erase_events")
# the sources collected from objects under incoming/ (impressions: the API's, shoprec.impressions)
SOURCES = ("weblog", "solr", "impressions")
PULLED_SOURCES = ("opensearch",)  # collected by reading the engine (UBI documents)
COLLECTED_SOURCES = SOURCES + PULLED_SOURCES  # one collect step each in the DAG


@dataclass(frozen=True)
class Deployment:
    env: str

    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.env}"

    def stack_name(self, part: str) -> str:
        return f"{self.prefix}-{part}"

    # Glue Data Catalog (database names take no hyphens)
    @property
    def glue_database(self) -> str:
        return f"{PROJECT}_{self.env}"

    events_table = EVENTS_TABLE

    def glue_job(self, job: str) -> str:
        if job not in GLUE_JOBS + OPERATOR_JOBS:
            raise ValueError(f"unknown Glue job {job!r}; jobs: {GLUE_JOBS + OPERATOR_JOBS}")
        return f"{self.prefix}-{job.replace('_', '-')}"

    def collector_function(self, source: str) -> str:
        if source not in COLLECTED_SOURCES:
            raise ValueError(f"unknown source {source!r}; sources: {COLLECTED_SOURCES}")
        return f"{self.prefix}-{source}-collector"

    def collector_queue(self, source: str) -> str:
        """The queue of object-created events (and continuations) a collector consumes."""
        return f"{self.collector_function(source)}-objects"

    def collector_dead_letter_queue(self, source: str) -> str:
        return f"{self.collector_function(source)}-objects-dlq"

    @property
    def client_hash_secret(self) -> str:
        """Secrets Manager secret: the key of the client hash (shoprec.privacy)."""
        return f"{PROJECT}/{self.env}/client-hash-key"

    @property
    def kafka_cluster(self) -> str:
        return f"{self.prefix}-events"

    @property
    def model_package_group(self) -> str:
        return f"{self.prefix}-recommender"

    @property
    def training_job_prefix(self) -> str:
        """SageMaker training jobs are named ``<prefix>-<DAG run>-<digest>``."""
        return f"{self.prefix}-train"

    @property
    def failure_topic(self) -> str:
        """SNS topic the DAG's failure notifier publishes to."""
        return f"{self.prefix}-pipeline-failures"

    @property
    def mwaa_environment(self) -> str:
        return self.prefix

    # SSM parameters
    def parameter(self, name: str) -> str:
        return f"/{PROJECT}/{self.env}/{name}"

    @property
    def lake_bucket_parameter(self) -> str:
        return self.parameter("lake-bucket")

    @property
    def kafka_cluster_parameter(self) -> str:
        return self.parameter("kafka-cluster-arn")

    @property
    def training_role_parameter(self) -> str:
        return self.parameter("training/role-arn")

    @property
    def training_image_parameter(self) -> str:
        return self.parameter("training/image-uri")

    @property
    def training_source_parameter(self) -> str:
        """The ``sourcedir.tar.gz`` of script mode: train.py with the shared package."""
        return self.parameter("training/source-uri")

    @property
    def training_instance_parameter(self) -> str:
        return self.parameter("training/instance-type")

    @property
    def inference_image_parameter(self) -> str:
        """The serving image a registered model package names (TensorFlow Serving)."""
        return self.parameter("registry/inference-image-uri")

    def airflow_options(self, failure_topic_arn: str, policy: TrainingPolicy) -> dict[str, str]:
        """The MWAA configuration options that point the DAG at this deployment, and this
        environment's training policy (when to train, on how many days)."""
        return {
            f"{AIRFLOW_SECTION}.{BACKEND_OPTION}": "aws",
            f"{AIRFLOW_SECTION}.{ENVIRONMENT_OPTION}": self.env,
            f"{AIRFLOW_SECTION}.{FAILURE_TOPIC_OPTION}": failure_topic_arn,
            **policy.to_options(AIRFLOW_SECTION),
        }


def lake_run_id(airflow_run_id: str) -> str:
    """A DAG run's id as the lake and the jobs name runs (S3 keys, Glue arguments)."""
    return "".join(c if c.isalnum() else "-" for c in airflow_run_id).strip("-")[:64]


# Glue job arguments: the deployed job carries every field but the run's own (``per_run``:
# the run id, an erasure's request) as a default argument; each run passes that one (and
# whatever else it overrides).
def job_defaults(arguments: type[JobArguments], **values: Any) -> dict[str, str]:
    """Default arguments of a deployed Glue job, rendered by the job's own argument class."""
    rendered = arguments(**{arguments.per_run: ""}, **values).to_arguments()
    return {name: value for name, value in rendered.items() if name != f"--{arguments.per_run}"}


def run_arguments(arguments: type[JobArguments], **values: Any) -> dict[str, str]:
    """Arguments of one run; names are checked against the job's argument class."""
    known = {field.name for field in dataclasses.fields(arguments)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{arguments.__name__} has no argument {unknown}")
    return {f"--{name}": str(value) for name, value in values.items()}
