"""Airflow as MWAA runs it (3.0.6), as four host processes: the local MWAA console.

The api-server (console and REST API on ``127.0.0.1:$AIRFLOW_PORT``), the scheduler, the
dag-processor and the triggerer (deferrable operators), with the LocalExecutor on SQLite.
They read ``mwaa_dags/`` and run the tasks with the local cloud's settings. The shop's clock
is an Airflow option, as MWAA sets options: the DAG runs every ``cycle_seconds`` from
``start`` (the moment of ``make up``), so a shop day takes minutes here.

``Console`` is the REST client the demo and ``make cycle`` use (login: user ``admin``, the
password Airflow generated into ``$AIRFLOW_HOME``).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shoprec.deployment import (
    AIRFLOW_SECTION,
    BACKEND_OPTION,
    CATCHUP_OPTION,
    CYCLE_OPTION,
    START_OPTION,
)
from shoprec.local import runtime
from shoprec.local.process import Service
from shoprec.local.runtime import REPO, Ports, cloud_env, read_env_file, venv_python

PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}
DAG_ID = "clickstream_training"
USER = "admin"


def home() -> Path:
    return runtime.RUN_DIR / "airflow"


def _option(name: str) -> str:
    return f"AIRFLOW__{AIRFLOW_SECTION.upper()}__{name.upper()}"


def environment(ports: Ports, cycle_seconds: int, start: datetime) -> dict[str, str]:
    """The processes' environment: Airflow's settings, the shop's clock, the local cloud."""
    folder = home()
    return (
        cloud_env(ports)
        | read_env_file()
        | {
            "PYTHONPATH": str(REPO),
            "SHOPREC_RUN_DIR": str(runtime.RUN_DIR),
            "AIRFLOW_HOME": str(folder),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "mwaa_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{ports.airflow}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{folder / 'airflow.db'}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__PORT": str(ports.airflow),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{ports.airflow}",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(ports.airflow + 1),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports.airflow + 2),
            "NO_COLOR": "1",
            _option(BACKEND_OPTION): "local",
            _option(CYCLE_OPTION): str(cycle_seconds),
            _option(START_OPTION): start.isoformat(),
            _option(CATCHUP_OPTION): "True",
        }
    )


def _airflow() -> str:
    return str(Path(venv_python("airflow")).parent / "airflow")


def _health(port: int) -> dict[str, Any] | None:
    try:
        url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def _ready(port: int, process: str) -> Any:
    def ready() -> bool:
        health = _health(port)
        if process == "api-server":
            return health is not None
        component = (health or {}).get(HEALTH[process]) or {}
        return component.get("status") == "healthy"

    return ready


def services(ports: Ports, env: dict[str, str]) -> list[Service]:
    """The four processes, in the order they start (the database is migrated first)."""

    def migrate() -> None:
        home().mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [_airflow(), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL
        )

    return [
        Service(
            name=f"airflow-{process}",
            command=[
                _airflow(),
                process,
                *(["--port", str(ports.airflow)] if process == "api-server" else []),
            ],
            ready=_ready(ports.airflow, process),
            env=env,
            prepare=migrate if process == "api-server" else (lambda: None),
        )
        for process in PROCESSES
    ]


def password(folder: Path | None = None) -> str:
    """The console's password, which Airflow generated into its home."""
    generated = (folder or home()) / "simple_auth_manager_passwords.json.generated"
    return json.loads(generated.read_text())[USER]


@dataclass
class Console:
    """The local MWAA console's REST API (``/api/v2``), as the demo and ``make cycle`` use it."""

    port: int
    airflow_home: Path | None = None  # default: this run folder's

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _token(self) -> str:
        body = json.dumps({"username": USER, "password": password(self.airflow_home)}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/auth/token",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v2{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self._token()}",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def runs(self) -> list[dict[str, Any]]:
        """The DAG's runs, oldest first."""
        found = self.call("GET", f"/dags/{DAG_ID}/dagRuns?order_by=run_after&limit=100")
        return found["dag_runs"]

    def trigger(self, conf: dict[str, Any]) -> str:
        now = datetime.now(UTC).isoformat()
        run = self.call("POST", f"/dags/{DAG_ID}/dagRuns", {"logical_date": now, "conf": conf})
        return run["dag_run_id"]

    def wait(self, run_id: str, timeout: float = 3600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.call("GET", f"/dags/{DAG_ID}/dagRuns/{urllib.request.quote(run_id)}")
            if run["state"] in ("success", "failed"):
                return run
            time.sleep(5)
        raise TimeoutError(f"run {run_id} did not finish within {timeout:.0f}s")
