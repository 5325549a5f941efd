"""``make demo``: deliver logs, run the DAG once with real Airflow, serve the champion.

Run after ``make up``. Prints the time each stage took, the row counts that must reconcile
(log lines → events + quarantined → Kafka → staged rows), a sample request and its answer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from shoprec.local import services
from shoprec.local.deliver_logs import main as deliver_logs
from shoprec.local.runtime import REPO, REPORTS_DIR, RUN_DIR, Ports, read_env_file, venv_python
from shoprec.local.stages import stage_env

DAG_ID = "clickstream_training"
STAGES = ("collect", "stage_events", "build_training_set", "train", "promote")


def airflow_env() -> dict[str, str]:
    """The stages' environment plus a private Airflow home (SQLite) reading mwaa_dags/."""
    home = RUN_DIR / "airflow"
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
    env = airflow_env()
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    log_path = RUN_DIR / "airflow" / "dags-test.log"
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


def latest_report() -> dict[str, dict[str, Any]]:
    folder = max(REPORTS_DIR.iterdir(), key=lambda p: p.stat().st_mtime)
    return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}


def sample_request(port: int, items: list[str]) -> tuple[str, str]:
    """The request body and the API's answer (an error status is an answer too)."""
    body = json.dumps({"session_items": items, "k": 5})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/recommendations",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return body, response.read().decode()
    except urllib.error.HTTPError as error:
        return body, f"HTTP {error.code} {error.read().decode()}"


def serving_line(promoted: dict[str, Any]) -> str:
    """Which version and tier serve, and why (the gate's reason)."""
    serving = promoted.get("serving")
    if not serving:
        return f"nothing serves yet ({promoted['reason']}): the API answers 503"
    why = promoted["reason"] if promoted["promoted"] else f"kept: {promoted['reason']}"
    return f"{serving['version']}, {serving['tier']} tier ({why})"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", help="YooChoose-format file to replay (default: synthetic)")
    parser.add_argument("--epochs", type=int, help="override the tuned default")
    args = parser.parse_args(argv)
    os.environ.update(read_env_file())
    timings: dict[str, float] = {}

    started = time.monotonic()
    delivered = deliver_logs(["--dataset", args.dataset] if args.dataset else [])
    timings["deliver logs"] = time.monotonic() - started

    started = time.monotonic()
    run_dag({"epochs": args.epochs} if args.epochs else {})
    timings["airflow DAG (total)"] = time.monotonic() - started
    report = latest_report()

    ports = Ports.from_env()
    started = time.monotonic()
    services.start(services.api(ports))
    timings["API start"] = time.monotonic() - started
    items = [str(item) for item in report["train"].get("sample_session", [])][:3]
    body, answer = sample_request(ports.api, items)

    print("\n=== shoprec demo ===")
    collect, staged = report["collect"], report["stage_events"]
    print(f"log lines delivered      {delivered['lines']:>9}")
    print(
        f"collector lines read     {collect['lines']:>9}  = events {collect['events']} "
        f"+ quarantined {collect['quarantined']}"
    )
    print(f"published to Kafka       {collect['published']:>9}")
    print(
        f"staged (new rows)        {staged['staged']:>9}  (duplicates dropped "
        f"{staged['duplicates']}, quarantined {staged['quarantined']})"
    )
    sessions = report["build_training_set"]["sessions"]
    print(
        f"training set             {sessions['train']} train / {sessions['validation']} "
        f"validation sessions, {sessions['vocabulary']} items"
    )
    metrics = report["train"]["metrics"]
    predictions = metrics["model"]["predictions"]
    print(f"HR@20 / MRR@20 on the validation split (the gate), {predictions} predictions:")
    for name, values in metrics.items():
        print(f"  {name:<23}{values['hr@20']:.3f} / {values['mrr@20']:.3f}")
    served = report["train"]["served_training"]
    if served["with_latest_day"]:
        print(
            f"then the model trained again on all {served['sessions']} sessions, the latest "
            f"day's {served['latest_sessions']} included: it has seen every day of the data"
        )
    print(f"serving                  {serving_line(report['promote'])}")
    print("\nseconds per stage:")
    for stage in STAGES:
        print(f"  {stage:<22}{report[stage]['seconds']:>8.1f}")
    for name, seconds in timings.items():
        print(f"  {name:<22}{seconds:>8.1f}")
    print("\nsample request:")
    print(
        f"  curl -s -X POST http://127.0.0.1:{ports.api}/recommendations "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    print(f"  → {answer}")
    print("\nThe local cloud and the API keep running; stop everything with: make down")


if __name__ == "__main__":
    main(sys.argv[1:])
