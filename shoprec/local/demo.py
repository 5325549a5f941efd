"""``make demo``: the shop's traffic arrives day by day and the scheduler runs a cycle per day.

Run after ``make up`` (LocalStack, Kafka and the Airflow console, a cycle every
``$SHOPREC_CYCLE_SECONDS``). The dataset's days arrive as the shop's clock ticks: all but the
last three at once (its history), then one day in each of the next cycles. Airflow's
scheduler runs the DAG by itself; each cycle ingests what arrived, stages and reconciles it,
builds the training window, trains from the champion and gates. The API starts once the
history's cycle is done: from then on, some of the shop's shoppers see its recommendations
and click them (the feedback loop, ``shoprec.feedback``). The demo prints one row per cycle
and a request to each endpoint with its answer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shoprec.local import process, services
from shoprec.local.airflow import DAG_ID, Console
from shoprec.local.dagrun import report
from shoprec.local.runtime import Ports, read_env_file
from shoprec.local.shop import Shop
from shoprec.local.summary import (
    cycle_table,
    cycles_page,
    feedback_lines,
    reconciliation,
    serving_line,
)

CYCLES = 3  # days delivered one cycle at a time, after the history


def ask(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[str, str]:
    """A request as a curl line, and the API's answer (an error status is an answer too)."""
    url = f"http://127.0.0.1:{port}{path}"
    data = json.dumps(body) if body is not None else None
    request = urllib.request.Request(
        url,
        data=data.encode() if data else None,
        method=method,
        headers={"Content-Type": "application/json"} if data else {},
    )
    curl = f"curl -s {url}" if data is None else f"curl -s -X {method} {url} -d '{data}'"
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return curl, response.read().decode()
    except urllib.error.HTTPError as error:
        return curl, f"HTTP {error.code} {error.read().decode()}"


def samples(port: int, items: list[str], category: str) -> list[tuple[str, str]]:
    """One request to each endpoint of the API, on a real session of the data, and the
    category filters on the category of its last item."""
    filtered = {"session_items": items, "k": 5, "categories": [category], "exclude_seen": True}
    return [
        ask(port, "POST", "/recommendations", {"session_items": items, "k": 5}),
        ask(port, "POST", "/recommendations", filtered),
        ask(port, "GET", f"/items/{urllib.parse.quote(items[-1], safe='')}/similar?k=5"),
        ask(port, "GET", "/popular?k=5"),
        ask(port, "GET", f"/popular?k=5&category={urllib.parse.quote(category, safe='')}"),
        ask(port, "GET", "/models/current"),
        ask(port, "GET", "/health"),
    ]


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def covering(console: Console, moment: float) -> dict[str, Any] | None:
    """The scheduler's run for the interval in which ``moment`` fell, once it exists."""
    for run in console.runs():
        if _seconds(run["data_interval_start"]) <= moment < _seconds(run["data_interval_end"]):
            return run
    return None


def inside_an_interval(console: Console, margin: float = 15) -> float:
    """Now, once it lies well inside an interval of the DAG's schedule (a delivery starting
    then lands in one interval, so in one cycle)."""
    details = console.call("GET", f"/dags/{DAG_ID}/details")
    start = _seconds(details["next_dagrun_data_interval_start"])
    length = _seconds(details["next_dagrun_data_interval_end"]) - start
    while not 3 <= (time.time() - start) % length <= length - margin:
        time.sleep(1)
    return time.time()


def wait_for_run(console: Console, moment: float) -> dict[str, Any]:
    """The run for the interval in which ``moment`` fell, once the scheduler has created it."""
    while (run := covering(console, moment)) is None:
        time.sleep(5)
    return run


def cycles_that_worked(
    every_run: list[dict[str, Any]],
    awaited: list[dict[str, Any]],
    report_of: Callable[[str], dict[str, dict[str, Any]]],
) -> tuple[list[dict[str, Any]], list[dict[str, dict[str, Any]]]]:
    """The runs from the first awaited one to the last (oldest first) that the demo waited
    for, staged rows or trained, with their reports: a run that started late may stage and
    train on a day that arrived during it, before the run of that day's interval."""
    ids = [run["dag_run_id"] for run in every_run]
    awaited_ids = {run["dag_run_id"] for run in awaited}
    first, last = (ids.index(run["dag_run_id"]) for run in (awaited[0], awaited[-1]))
    shown = []
    for run in every_run[first : last + 1]:
        stages = report_of(run["dag_run_id"])
        staged = stages.get("stage_events", {}).get("staged", 0)
        if run["dag_run_id"] in awaited_ids or staged or "train" in stages:
            shown.append((run, stages))
    return [run for run, _ in shown], [stages for _, stages in shown]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", help="YooChoose-format file to replay (default: synthetic)")
    args = parser.parse_args(argv)
    os.environ.update(read_env_file())
    ports, bucket = Ports.from_env(), os.environ["SHOPREC_LAKE_BUCKET"]
    console, shop = Console(ports.airflow), Shop(args.dataset)
    days = len(shop.days())
    history = max(1, days - CYCLES)
    moments, runs = [], []
    for count in [history] + [1] * min(CYCLES, days - history):
        if moments:  # the next day arrives once the last one's cycle is done
            print(f"[shop] waiting for the scheduler's cycle (console: {console.url})", flush=True)
            runs.append(console.wait(wait_for_run(console, moments[-1])["dag_run_id"]))
            process.start(services.api(ports))  # its shoppers see the champion's answers
        moments.append(inside_an_interval(console))
        shipped = shop.deliver(count, bucket)
        print(f"[shop] day {shop.delivered[-1]} arrived: {shipped.lines:,} log lines", flush=True)
    runs.append(console.wait(wait_for_run(console, moments[-1])["dag_run_id"]))
    failed = [run["dag_run_id"] for run in runs if run["state"] != "success"]
    if failed:
        raise SystemExit(f"cycles failed: {failed}; see the console at {console.url}")

    process.start(services.api(ports))
    runs, reports = cycles_that_worked(console.runs(), runs, report)
    trained = [r for r in reports if "train" in r]
    print("\n=== shoprec demo: one row per cycle that did some work ===")
    print("\n".join(cycle_table(runs, reports)))
    print(
        "(a cycle stages whatever has reached Kafka when it runs, which may include a day that "
        "arrived during it; that day's new events are counted by the cycle of its interval)"
    )
    print("\nfeedback: what the shoppers who saw recommendations clicked, per model version")
    print("\n".join(feedback_lines(reports)))
    print(f"\ncharts across cycles: {cycles_page()}")
    print("\nthe last cycle's reconciliation:")
    print("\n".join(reconciliation(reports[-1])))
    last = trained[-1]
    served = last["train"]["served_training"]
    if served["with_latest_day"]:
        print(
            f"\nthe last model trained again on all {served['sessions']:,} sessions of its "
            f"window, the latest day's {served['latest_sessions']:,} included"
        )
    print(f"API serves {serving_line(last['promote'])}")
    items = [str(item) for item in last["train"].get("sample_session", [])][:3]
    print("\nthe API, one request per endpoint (its OpenAPI document: GET /openapi.json):")
    category = {p.id: p.category for p in shop.products(days - 1)}.get(items[-1], "")
    for curl, answer in samples(ports.api, items, category):
        print(f"  {curl}\n  → {answer if len(answer) <= 600 else answer[:600] + ' …'}")
    print("\nthe loop's health, from the local CloudWatch (make status):")
    services.health(ports)
    print(
        f"\nThe console ({console.url}), the scheduler, the local cloud and the API keep running."
    )
    print("make cycle delivers the shop's next day and runs a cycle now; make down stops it all.")


if __name__ == "__main__":
    main(sys.argv[1:])
