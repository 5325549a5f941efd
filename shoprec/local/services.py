"""Start and stop the local stand-in cloud: LocalStack (S3, SSM), a Kafka KRaft broker and the
shop's search engines (Solr, OpenSearch: ``shoprec.local.search_servers``).

``python -m shoprec.local.services up|down|status``. Logs, pids and data live under the run
folder (``.run/``); ``down`` stops exactly the processes whose pids it recorded. ``up`` is
safe to repeat, and a service that fails to start is reported with the tail of its log.
"""

from __future__ import annotations

import json
import os
import shutil
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shoprec.local import search_servers
from shoprec.local.process import Service, port_open, recorded_pid, start, stop
from shoprec.local.runtime import (
    ENV_FILE,
    JARS,
    REPO,
    RUN_DIR,
    Ports,
    cloud_env,
    read_env_file,
    venv_python,
)


def _localstack_ready(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_localstack/init/ready", timeout=2
            ) as response:
                return bool(json.load(response).get("completed"))
        except (OSError, ValueError):
            return False

    return ready


def localstack(ports: Ports, name: str = "localstack") -> Service:
    """LocalStack on ``ports.localstack``; ``name``: its folder under the run folder (a second
    instance needs its own: LocalStack keeps state, CloudWatch's database included, there)."""
    folder = RUN_DIR / name
    dirs = {part: folder / part for part in ("fs", "tmp", "cache", "config", "s3")}
    return Service(
        name=name,
        command=[venv_python("localstack"), "-m", "shoprec.local.localstack_launcher"],
        ready=_localstack_ready(ports.localstack),
        env={
            "PYTHONPATH": str(REPO),
            "GATEWAY_LISTEN": f"127.0.0.1:{ports.localstack}",
            "LOCALSTACK_HOST": f"127.0.0.1:{ports.localstack}",
            "SQS_ENDPOINT_STRATEGY": "path",
            "SERVICES": "s3,ssm,sts,iam,kms,sqs,secretsmanager,apigateway,cloudformation,logs,cloudwatch,sns",
            "PERSISTENCE": "0",
            "OVERRIDE_IN_DOCKER": "0",  # this machine looks like a container to LocalStack
            "FILESYSTEM_ROOT": str(dirs["fs"]),
            "TMPDIR": str(dirs["tmp"]),
            "XDG_CACHE_HOME": str(dirs["cache"]),
            "CONFIG_DIR": str(dirs["config"]),
            "LS_S3_TMP_DIR": str(dirs["s3"]),
            "DISABLE_EVENTS": "1",
            "DNS_ADDRESS": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
        },
        prepare=lambda: [d.mkdir(parents=True, exist_ok=True) for d in dirs.values()] and None,
    )


def _kafka_config(ports: Ports, data: Path) -> str:
    template = (REPO / "tools" / "kafka.properties.template").read_text()
    return string.Template(template).safe_substitute(
        PORT=ports.kafka, CONTROLLER_PORT=ports.kafka_controller, LOG_DIR=data
    )


def kafka(ports: Ports) -> Service:
    folder = RUN_DIR / "kafka"
    config, data = folder / "server.properties", folder / "data"
    # Capped heap and C1-only JIT: a third less start-up CPU on a 2-core machine.
    java = [
        "java",
        "-Xms64m",
        "-Xmx512m",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{REPO / 'tools' / 'kafka-log4j.properties'}",
        "-cp",
        f"{JARS / 'kafka'}/*",
    ]

    def prepare() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        config.write_text(_kafka_config(ports, data))
        if not (data / "meta.properties").exists():
            subprocess.run(
                [
                    *java,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    "shoprec-local-kafka0",
                    "-c",
                    str(config),
                ],
                check=True,
                capture_output=True,
                text=True,
            )

    return Service(
        name="kafka",
        command=[*java, "kafka.Kafka", str(config)],
        ready=lambda: port_open(ports.kafka),
        prepare=prepare,
    )


def api(ports: Ports) -> Service:
    """The Chalice app under ``chalice local`` (API Gateway + Lambda stand-in), served by
    ``shoprec.local.api_server``."""

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ports.api}/health", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # answering (e.g. 503 before a champion exists)
        except OSError:
            return False

    return Service(
        name="api",
        command=[
            venv_python("lambda"),
            "-m",
            "shoprec.local.api_server",  # chalice local without its delayed-ACK stall
            "--project-dir",
            str(REPO / "api"),
            "--host",
            "127.0.0.1",
            "--port",
            str(ports.api),
        ],
        ready=ready,
        env=cloud_env(ports) | read_env_file() | {"PYTHONPATH": str(REPO)},
    )


def services(ports: Ports) -> list[Service]:
    """Everything ``down`` stops; ``up`` starts the cloud (and Airflow), the demo the API."""
    from shoprec.local import airflow

    return [
        localstack(ports),
        kafka(ports),
        *search_servers.services(ports),
        *airflow.services(ports, {}),
        api(ports),
    ]


def start_airflow(ports: Ports) -> None:
    """The local MWAA console, its clock starting now: a shop day every ``$SHOPREC_CYCLE_SECONDS``
    (180 by default)."""
    from shoprec.local import airflow

    cycle = int(os.environ.get("SHOPREC_CYCLE_SECONDS", "180"))
    now = time.time()
    begins = datetime.fromtimestamp(now - now % cycle, UTC)
    for service in airflow.services(ports, airflow.environment(ports, cycle, begins)):
        start(service, timeout=180)
    print(
        f"[up] Airflow console: http://127.0.0.1:{ports.airflow} (user {airflow.USER}, "
        f"password {airflow.password()}); a cycle every {cycle}s"
    )


def up(ports: Ports, with_airflow: bool = False) -> dict[str, str]:
    cloud = localstack(ports)
    if not (recorded_pid(cloud) and cloud.ready()):
        # LocalStack keeps its state in memory: a fresh one means a fresh lake, so the topic,
        # the metastore and the checkpoints of the last session go too (nothing half-remembered).
        stale = ("kafka", "hive", "reports", "sagemaker", "airflow", "solr", "opensearch")
        for name in stale:
            shutil.rmtree(RUN_DIR / name, ignore_errors=True)
    for service in (cloud, kafka(ports), *search_servers.services(ports)):
        start(service)
    env = cloud_env(ports)
    provision(env)
    ENV_FILE.write_text("".join(f"export {k}={v}\n" for k, v in env.items()))
    if with_airflow:
        start_airflow(ports)
    return env


def _client(env: dict[str, str], service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def provision(env: dict[str, str]) -> None:
    """What ``cdk deploy`` creates in AWS and the local pipeline needs: the lake bucket, its
    object-created queues and the client-hash secret (``shoprec.local.lake``); the alarms
    and their topic (``shoprec.local.health``)."""
    from shoprec.alarms import LOCAL_THRESHOLDS, alarm_specs
    from shoprec.local.health import put_alarms
    from shoprec.local.lake import LOCAL
    from shoprec.local.lake import provision as provision_lake

    lake = provision_lake(
        _client(env, "s3"),
        _client(env, "sqs"),
        _client(env, "secretsmanager"),
        env["SHOPREC_LAKE_BUCKET"],
    )
    print(
        f"[up] bucket s3://{lake.bucket} ready, object events to {', '.join(lake.queues.values())}"
    )
    topic = _client(env, "sns").create_topic(Name=LOCAL.failure_topic)["TopicArn"]
    specs = alarm_specs(LOCAL_THRESHOLDS)
    put_alarms(_client(env, "cloudwatch"), specs, LOCAL.env, topic)
    print(f"[up] {len(specs)} alarms on CloudWatch, notifying {topic}")


def health(ports: Ports) -> None:
    """Each stage's health from the local CloudWatch (``shoprec.local.health``)."""
    from shoprec.alarms import LOCAL_THRESHOLDS, alarm_specs
    from shoprec.deployment import COLLECTED_SOURCES
    from shoprec.local.health import report
    from shoprec.local.lake import LOCAL

    cloudwatch = _client(cloud_env(ports), "cloudwatch")
    specs = alarm_specs(LOCAL_THRESHOLDS)
    for line in report(cloudwatch, LOCAL.env, specs, COLLECTED_SOURCES):
        print(line)


def down(ports: Ports) -> None:
    for service in reversed(services(ports)):
        stop(service)
    ENV_FILE.unlink(missing_ok=True)


def main(argv: list[str]) -> None:
    ports = Ports.from_env()
    command = argv[0] if argv else "status"
    if command == "up":
        up(ports, with_airflow="--airflow" in argv)
    elif command == "airflow":  # on a cloud already up (its settings in the environment)
        start_airflow(ports)
    elif command == "api":
        start(api(ports))
    elif command == "down":
        down(ports)
    elif command == "status":
        for service in services(ports):
            pid = recorded_pid(service)
            state = "ready" if pid and service.ready() else "running" if pid else "stopped"
            print(f"{service.name}: {state}" + (f" (pid {pid})" if pid else ""))
        if localstack(ports).ready():
            health(ports)
    else:
        raise SystemExit(
            "usage: python -m shoprec.local.services up [--airflow] | airflow | api | down | status"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
