"""``make cycle``: the shop's next day arrives, and a cycle runs now on the scheduler.

Objects put under ``incoming/source=weblog/<host>/`` since the last cycle (``make deliver
FILE=... HOST=...`` ships one) are ingested with the day exactly once. The run is triggered
on the local console and waited for; its reconciliation and the gate's decision are printed.
The API, if running, serves a new champion within its refresh.
"""

from __future__ import annotations

import argparse
import os
import sys

from shoprec.local.airflow import Console
from shoprec.local.dagrun import report
from shoprec.local.runtime import Ports, read_env_file
from shoprec.local.shop import Shop
from shoprec.local.summary import cycle_table, cycles_page, reconciliation


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, help="override the tuned default")
    args = parser.parse_args(argv)
    os.environ.update(read_env_file())
    shop, console = Shop.load(), Console(Ports.from_env().airflow)
    if shop is None:
        print("[shop] no shop yet (make demo starts one): running on what has arrived")
    else:
        shipped = shop.deliver(1, os.environ["SHOPREC_LAKE_BUCKET"])
        print(f"[shop] day {shop.delivered[-1]} arrived: {shipped.lines:,} log lines")
    run_id = console.trigger({"epochs": args.epochs} if args.epochs else {})
    print(f"[airflow] {run_id} triggered; waiting (console: {console.url})", flush=True)
    run = console.wait(run_id)
    stages = report(run_id)
    print(f"\n=== shoprec cycle: {run['state']} ===")
    print("\n".join(cycle_table([run], [stages])))
    if "stage_events" in stages:
        print("\n".join(reconciliation(stages)))
    print(f"charts across cycles: {cycles_page()}")
    if run["state"] != "success":
        raise SystemExit(f"the cycle failed; see {console.url}")


if __name__ == "__main__":
    main(sys.argv[1:])
