"""Glue job: staged events → sessions, vocabulary and time split for one training run.

Writes ``staging/training/<run_id>/{train,validation,vocabulary}/`` (Parquet) and a
``manifest.json`` with the counts, the split time and the source partitions (lineage).
"""

from __future__ import annotations

import json
import sys

from shoprec import aws, logs
from shoprec.contracts import TrainingSetJobArgs
from shoprec.layout import TRAINING_SET_CHANNELS, TRAINING_SET_MANIFEST, LakeLayout
from shoprec.spark.session import get_spark
from shoprec.spark.training_set import build


def main(argv: list[str]) -> dict[str, object]:
    args = TrainingSetJobArgs.from_argv(argv)
    logger = logs.configure("build_training_set", args.run_id)
    layout = LakeLayout(args.lake_bucket)
    spark = get_spark("build_training_set")
    events = spark.table(f"`{args.database}`.`{args.table}`")
    dataset = build(events, args.validation_days, args.min_item_support, args.session_gap_minutes)
    prefix = layout.training_prefix(args.run_id)
    counts: dict[str, int] = {}
    for name in TRAINING_SET_CHANNELS:
        frame = getattr(dataset, name).coalesce(1)
        frame.write.mode("overwrite").parquet(layout.uri(prefix + name, "s3a"))
        counts[name] = spark.read.parquet(layout.uri(prefix + name, "s3a")).count()
    partitions = [
        r[0] for r in spark.sql(f"SHOW PARTITIONS `{args.database}`.`{args.table}`").collect()
    ]
    manifest = {
        "run_id": args.run_id,
        "split_time": dataset.split_time,
        "sessions": counts,
        "source_partitions": partitions,
    }
    aws.client("s3").put_object(
        Bucket=args.lake_bucket,
        Key=prefix + TRAINING_SET_MANIFEST,
        Body=json.dumps(manifest, indent=2).encode(),
    )
    logs.log(logger, "training set built", **counts, split_time=dataset.split_time)
    print(json.dumps({"build_training_set": manifest | {"source_partitions": len(partitions)}}))
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
