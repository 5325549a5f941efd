"""Glue job: ``make replay`` on AWS. The landing zone's events of a range of ingest dates are
published to the MSK topic again (``shoprec.replay``), with IAM auth, as the collectors publish
them; staging then drops every id already staged, so a replay adds no row twice.

An operator starts it on demand (README, "Replay on AWS"), never the DAG. The replay itself is one
Python process (no Spark): the job is a Glue 5.0 Spark job only for the environment it shares
with the other jobs (Python 3.11, the shared package, the VPC connection that reaches MSK).
"""

from __future__ import annotations

import json
import sys

from shoprec import logs
from shoprec.contracts import ReplayJobArgs
from shoprec.replay import run


def main(argv: list[str]) -> dict[str, object]:
    args = ReplayJobArgs.from_argv(argv)
    args.days()  # a run without a valid range fails here, before it connects
    logger = logs.configure("replay_landing", args.run_id)
    logs.log(logger, "replaying", first=args.first, last=args.last, source=args.source)
    summary = run(args)
    logs.log(logger, "replay_landing done", **summary)
    print(json.dumps({"replay_landing": summary}))  # the last line of stdout, as every job's
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
