"""Paths and settings of the local stand-in cloud (the embedded default)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN_DIR = Path(os.environ.get("SHOPREC_RUN_DIR", REPO / ".run"))
REPORTS_DIR = RUN_DIR / "reports"
LOGS_DIR = RUN_DIR / "logs"  # the stages' library output (Spark, TensorFlow, librdkafka)
VENVS = REPO / ".venvs"
JARS = REPO / ".cache" / "jars"
ENV_FILE = RUN_DIR / "env"
LOCAL_BUCKET = "shoprec-lake-local"
REGION = "us-east-1"


def venv_python(runtime: str) -> str:
    return str(VENVS / runtime / "bin" / "python")


@dataclass(frozen=True)
class Ports:
    localstack: int
    kafka: int
    kafka_controller: int
    api: int
    airflow: int  # the console (api-server); the next two ports serve task and trigger logs
    solr: int
    opensearch: int  # HTTP; the transport port is only bound, never used by the project
    opensearch_transport: int

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            localstack=int(os.environ.get("LOCALSTACK_PORT", "4566")),
            kafka=int(os.environ.get("KAFKA_PORT", "9092")),
            kafka_controller=int(os.environ.get("KAFKA_CONTROLLER_PORT", "9093")),
            api=int(os.environ.get("API_PORT", "8000")),
            airflow=int(os.environ.get("AIRFLOW_PORT", "8080")),
            solr=int(os.environ.get("SOLR_PORT", "8983")),
            opensearch=int(os.environ.get("OPENSEARCH_PORT", "9200")),
            opensearch_transport=int(os.environ.get("OPENSEARCH_TRANSPORT_PORT", "9300")),
        )


def cloud_env(ports: Ports) -> dict[str, str]:
    """What every local stage needs to reach the stand-in cloud (written to .run/env)."""
    endpoint = f"http://127.0.0.1:{ports.localstack}"
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "SHOPREC_LAKE_BUCKET": LOCAL_BUCKET,
        "SHOPREC_KAFKA_BOOTSTRAP": f"127.0.0.1:{ports.kafka}",
        "SHOPREC_SOLR_URL": f"http://127.0.0.1:{ports.solr}/solr",
        "SHOPREC_OPENSEARCH_URL": f"http://127.0.0.1:{ports.opensearch}",
    }


def read_env_file() -> dict[str, str]:
    """The settings ``make up`` wrote; empty when the services are not up."""
    if not ENV_FILE.exists():
        return {}
    pairs = (
        line.removeprefix("export ").split("=", 1)
        for line in ENV_FILE.read_text().splitlines()
        if "=" in line
    )
    return {key: value for key, value in pairs}
