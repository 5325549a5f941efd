"""Glue job: staged events → sessions, vocabulary and time split for one training run.

Writes ``staging/training/<run_id>/<channel>/`` (Parquet: ``TRAINING_SET_CHANNELS``, the
products' categories among them) and a
``manifest.json`` with the counts, the split time and the source partitions (lineage).
"""

from __future__ import annotations

import json
import sys

from pyspark.sql import functions as F

from shoprec import aws, logs
from shoprec.contracts import TrainingSetJobArgs
from shoprec.layout import TRAINING_SET_CHANNELS, TRAINING_SET_MANIFEST, LakeLayout
from shoprec.spark import products
from shoprec.spark.session import get_spark
from shoprec.spark.training_set import (
    INTERACTION_SOURCE,
    INTERACTIONS,
    build,
    learned_events,
    novelty,
    product_views,
    window_start,
)


def main(argv: list[str]) -> dict[str, object]:
    args = TrainingSetJobArgs.from_argv(argv)
    logger = logs.configure("build_training_set", args.run_id)
    layout = LakeLayout(args.lake_bucket)
    spark = get_spark("build_training_set")
    table = f"`{args.database}`.`{args.table}`"
    # The sliding window, chosen on the catalogue's partitions of the interactions a training
    # set reads: older ones are never read. (Search events keep the engines' own clock.)
    partitions = [
        p
        for p in (r[0] for r in spark.sql(f"SHOW PARTITIONS {table}").collect())
        if p.startswith(f"source={INTERACTION_SOURCE}/")
        and any(f"event_type={kind}/" in p for kind in INTERACTIONS)
    ]
    first = window_start(partitions, args.window_days)
    events = learned_events(spark.table(table).where(F.col("event_date") >= first))
    dataset = build(events, args.validation_days, args.min_item_support, args.session_gap_minutes)
    prefix = layout.training_prefix(args.run_id)
    counts: dict[str, int] = {}
    channels = vars(dataset) | {"products": products.categories(spark, args.database)}
    for name in TRAINING_SET_CHANNELS:
        frame = channels[name].coalesce(1)
        frame.write.mode("overwrite").parquet(layout.uri(prefix + name, "s3a"))
        counts[name] = spark.read.parquet(layout.uri(prefix + name, "s3a")).count()
    manifest = {
        "run_id": args.run_id,
        "split_time": dataset.split_time,
        "window": dataset.window,
        "novelty": novelty(
            dataset.train.unionByName(dataset.validation), args.reference_until or None
        ),
        "sessions": counts,
        "interactions": {  # what the sessions are made of, by event type (the report shows it)
            r["event_type"]: r["count"]
            for r in product_views(events).groupBy("event_type").count().collect()
        },
        "source_partitions": [p for p in partitions if p.rsplit("=", 1)[1] >= first],
    }
    aws.client("s3").put_object(
        Bucket=args.lake_bucket,
        Key=prefix + TRAINING_SET_MANIFEST,
        Body=json.dumps(manifest, indent=2).encode(),
    )
    logs.log(logger, "training set built", **counts, split_time=dataset.split_time)
    print(
        json.dumps(
            {
                "build_training_set": manifest
                | {"source_partitions": len(manifest["source_partitions"])}
            }
        )
    )
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
