"""``make cycle``: run the DAG once, now, on whatever has arrived in the local lake.

Objects put under ``incoming/source=weblog/<host>/`` since the last run (``make deliver
FILE=... HOST=...`` ships one) are ingested exactly once; the run prints its reconciliation
and what the gate decided. The API, if running, serves a new champion within its refresh.
"""

from __future__ import annotations

import argparse
import os
import sys

from shoprec.local.demo import latest_report, run_dag
from shoprec.local.runtime import read_env_file
from shoprec.local.summary import reconciliation


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, help="override the tuned default")
    args = parser.parse_args(argv)
    os.environ.update(read_env_file())
    run_dag({"epochs": args.epochs} if args.epochs else {})
    report = latest_report()
    print("\n=== shoprec cycle ===")
    print("\n".join(reconciliation(report)))
    promote = report["promote"]
    verdict = "promoted" if promote["promoted"] else "not promoted"
    print(f"model {report['train']['model_version']} {verdict}: {promote['reason']}")


if __name__ == "__main__":
    main(sys.argv[1:])
