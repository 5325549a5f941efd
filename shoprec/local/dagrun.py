"""One DAG run without a scheduler (``airflow dags test``), and the reports runs leave.

The tests run the DAG this way, in an Airflow home of its own (never the running console's:
``dags test`` beside a scheduler would race it for the run). Every stage of a run keeps its
summary in ``.run/reports/<run id>/<stage>.json`` (``shoprec.local.stages.reported``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from shoprec.deployment import lake_run_id
from shoprec.local.runtime import REPO, REPORTS_DIR, RUN_DIR, venv_python
from shoprec.local.stages import stage_env

DAG_ID = "clickstream_training"
STAGES = ("collect", "stage_events", "reconcile", "build_training_set", "train", "promote")


def _env() -> dict[str, str]:
    home = RUN_DIR / "airflow-dags-test"
    return stage_env() | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "mwaa_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "NO_COLOR": "1",
    }


def run_dag(conf: dict[str, Any]) -> None:
    airflow = str(Path(venv_python("airflow")).parent / "airflow")
    env = _env()
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    log_path = Path(env["AIRFLOW_HOME"]) / "dags-test.log"
    print(f"[airflow] dags test {DAG_ID} (full log: {log_path})", flush=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [airflow, "dags", "test", DAG_ID, "-c", json.dumps(conf)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if line.startswith(tuple(f"[{stage}]" for stage in STAGES)) or "Traceback" in line:
                print(line, end="", flush=True)
    if process.wait() != 0:
        raise SystemExit(f"DAG {DAG_ID} failed (exit {process.returncode}); see {log_path}")


def report(airflow_run_id: str, reports: Path = REPORTS_DIR) -> dict[str, dict[str, Any]]:
    """The stage summaries one run left (a stage it skipped has none)."""
    folder = reports / lake_run_id(airflow_run_id)
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def latest_report() -> dict[str, dict[str, Any]]:
    folder = max(REPORTS_DIR.iterdir(), key=lambda p: p.stat().st_mtime)
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
