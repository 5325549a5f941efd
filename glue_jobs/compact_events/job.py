"""Glue job: the staged partitions of closed days, each rewritten into few files.

A day is closed ``closed_after_days`` after it ends (its late events have arrived); the job
looks at the closed days of the last ``lookback_days``, so its cost does not grow with
history. Its clock is ``until``, by default the newest event date catalogued. Each partition with more than ``max_files`` files is rewritten behind the
catalogue (``shoprec.spark.compaction``): a reader sees its old files or its new ones, and a
run killed anywhere loses and repeats nothing when run again.
"""

from __future__ import annotations

import sys

from shoprec import aws, logs
from shoprec.contracts import CompactionJobArgs
from shoprec.layout import LakeLayout
from shoprec.spark.compaction import closed_partitions, compact_partition
from shoprec.spark.session import get_spark
from shoprec.spark.staging import catalogued_partitions


def main(argv: list[str]) -> dict[str, object]:
    args = CompactionJobArgs.from_argv(argv)
    logger = logs.configure("compact_events", args.run_id)
    layout, s3 = LakeLayout(args.lake_bucket), aws.client("s3")
    spark = get_spark("compact_events")
    table = f"`{args.database}`.`{args.table}`"  # the staging job creates it
    catalogued = catalogued_partitions(spark, table)
    until = args.until or max((values[-1] for values in catalogued), default="")
    days = args.closed_days(until) if until else ("", "")
    summary: dict[str, object] = {"days": list(days)}
    names = ("partitions", "compacted", "files_before", "files_after", "rows", "deleted")
    counts = dict.fromkeys(names, 0)
    for values in closed_partitions(catalogued, days):
        outcome = compact_partition(spark, s3, layout, table, values, args.run_id, args.max_files)
        counts["partitions"] += 1
        if outcome.rows:
            counts["compacted"] += 1
            counts["files_before"] += outcome.files_before
            counts["files_after"] += outcome.files_after
            counts["rows"] += outcome.rows
        counts["deleted"] += outcome.deleted
    summary |= counts
    key = layout.run_report_key("compact_events", args.run_id)
    logs.report_run(logger, s3, args.lake_bucket, key, "compact_events", summary)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
