"""Glue job: Kafka topic → staging zone (Parquet, partitioned, catalogued), exactly once.

Structured Streaming with ``availableNow``: each run consumes what arrived since the
checkpoint, then stops. Micro-batches are idempotent (repeats of staged event ids are
dropped), so a retried batch or a re-published event adds no rows. Every batch registers the
partitions of all its events, new or repeated: a batch replayed after a crash between its
Parquet write and its catalogue update registers what the crash left unregistered. The table
and its partitions are catalogued with ``s3://`` locations, as Athena and Redshift Spectrum
read them (locally Hadoop's s3a serves the ``s3`` scheme: ``shoprec.local.stages``).
"""

from __future__ import annotations

import json
import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from shoprec import aws, logs
from shoprec.contracts import StagingJobArgs
from shoprec.failpoints import failpoint
from shoprec.layout import LakeLayout
from shoprec.schema import PARTITION_COLUMNS, EventType
from shoprec.spark import feedback, search_labels
from shoprec.spark.session import get_spark
from shoprec.spark.staging import (
    append_events,
    discard_uncommitted,
    ensure_table,
    kafka_lag,
    kafka_options,
    new_events,
    parse_records,
    register_partitions,
    topic_exists,
)


def _rows_by_source(spark, events_uri: str) -> dict[str, int]:
    """Rows staged in all runs, per source (the reconciliation's lake total)."""
    try:
        staged = spark.read.parquet(events_uri)
    except AnalysisException:  # nothing staged yet
        return {}
    return {r["source"]: r["count"] for r in staged.groupBy("source").count().collect()}


def erased_ids(spark, layout: LakeLayout) -> DataFrame | None:
    """The erasure list: every erased event id (``shoprec.erasure``), or None if empty."""
    try:
        listed = spark.read.text(layout.uri(layout.ERASED_IDS_PREFIX, "s3a"))
    except AnalysisException:  # nothing erased yet
        return None
    return F.broadcast(listed.withColumnRenamed("value", "event_id").distinct())


def _relabel(spark, database: str, events_uri: str, labels_uri: str) -> int:
    """Rebuild the search-labels table from every staged search event (partitions pruned)."""
    search_labels.ensure_table(spark, database, labels_uri)
    kinds = (*search_labels.SEARCHES, EventType.SEARCH_CLICK.value)
    try:
        searched = spark.read.parquet(events_uri).where(F.col("event_type").isin(*kinds))
    except AnalysisException:  # nothing staged yet
        return 0
    labels = search_labels.search_labels(searched).persist()
    labels.write.mode("overwrite").parquet(labels_uri)
    count = labels.count()
    labels.unpersist()
    return count


def _feedback(spark, events_uri: str) -> list[dict[str, object]]:
    """Impressions and clicks per model version, tier and position, over all staged events."""
    try:
        staged = spark.read.parquet(events_uri)
    except AnalysisException:  # nothing staged yet
        return []
    return feedback.ctr_counts(staged.where(F.col("event_type").isin(*feedback.EVENT_TYPES)))


def main(argv: list[str]) -> dict[str, object]:
    args = StagingJobArgs.from_argv(argv)
    logger = logs.configure("stage_events", args.run_id)
    layout = LakeLayout(args.lake_bucket)
    spark = get_spark("stage_events")
    events_uri = layout.uri(layout.STAGING_EVENTS_PREFIX)
    ensure_table(spark, args.database, args.table, events_uri)
    # the job runs alone (one concurrent run): whatever a write left uncommitted is a killed
    # run's, which this run stages again
    discarded = discard_uncommitted(
        aws.client("s3"), args.lake_bucket, layout.STAGING_EVENTS_PREFIX
    )
    if discarded:
        logs.log(logger, "discarded a killed run's uncommitted output", objects=discarded)
    totals = {"read": 0, "staged": 0, "duplicates": 0, "quarantined": 0, "batches": 0}
    # duplicates: repeats of staged ids, and erased events (shoprec.erasure) Kafka still holds
    partition_names = [n for n, _ in PARTITION_COLUMNS]

    def stage_batch(batch: DataFrame, batch_id: int) -> None:
        batch = batch.persist()
        events, rejected = parse_records(batch)
        dates = [r[0] for r in events.select("event_date").distinct().collect()]
        try:
            existing = spark.read.parquet(events_uri).where(F.col("event_date").isin(dates))
        except AnalysisException:  # nothing staged yet
            existing = None
        fresh = new_events(events, existing)
        listed = erased_ids(spark, layout)
        fresh = fresh.join(listed, "event_id", "left_anti") if listed is not None else fresh
        fresh = fresh.persist()
        staged = fresh.count()
        # Every partition of the batch, new rows or not (a replayed batch registers what a
        # crash left unregistered); taken before the write, which invalidates the cache of
        # ``fresh``, whose anti-join against the staged path would then find nothing new.
        partitions = [tuple(r) for r in events.select(*partition_names).distinct().collect()]
        if staged:
            append_events(fresh, events_uri)
        failpoint("staged_before_catalogue")
        register_partitions(spark, args.database, args.table, events_uri, partitions)
        quarantined = rejected.count()
        if quarantined:
            key = f"{layout.quarantine_prefix('stage')}run_id={args.run_id}/batch={batch_id}"
            rejected.write.mode("overwrite").json(layout.uri(key, "s3a"))
        read = batch.count()
        counts = {
            "read": read,
            "staged": staged,
            "quarantined": quarantined,
            "duplicates": read - quarantined - staged,
            "batches": 1,
        }
        for name, value in counts.items():
            totals[name] += value
        logs.log(logger, "batch staged", batch_id=batch_id, **counts)
        fresh.unpersist()
        batch.unpersist()

    options = kafka_options(args)
    if topic_exists(spark, options, args.topic):
        query = (
            spark.readStream.format("kafka")
            .options(**options)
            .load()
            .writeStream.foreachBatch(stage_batch)
            .option(
                "checkpointLocation", layout.uri(layout.checkpoint_prefix("stage_events"), "s3a")
            )
            .trigger(availableNow=True)
            .start()
        )
        query.awaitTermination()
        totals["kafka_lag"] = kafka_lag(query.lastProgress)
    else:  # nothing was ever published: nothing to stage
        logs.log(logger, "no topic yet", topic=args.topic)
    labels_uri = layout.uri(layout.SEARCH_LABELS_PREFIX, "s3a")
    summary = totals | {
        "uncommitted_discarded": discarded,
        "table_rows": _rows_by_source(spark, events_uri),
        "search_labels": _relabel(spark, args.database, events_uri, labels_uri),
        "feedback": _feedback(spark, events_uri),
    }
    aws.client("s3").put_object(
        Bucket=args.lake_bucket,
        Key=layout.run_report_key("stage_events", args.run_id),
        Body=json.dumps(summary).encode(),
    )
    logs.log(logger, "staging done", **summary)
    print(json.dumps({"stage_events": summary}))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
