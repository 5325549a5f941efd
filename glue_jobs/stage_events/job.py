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

import sys

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from shoprec import aws, logs
from shoprec.contracts import StagingJobArgs
from shoprec.failpoints import failpoint
from shoprec.layout import LakeLayout
from shoprec.schema import PARTITION_COLUMNS, EventType
from shoprec.spark import feedback, products, search_labels
from shoprec.spark.session import get_spark
from shoprec.spark.staging import (
    append_events,
    append_to_compacted,
    batch_locations,
    discard_uncommitted,
    ensure_rebuilt_table,
    ensure_table,
    kafka_lag,
    kafka_options,
    new_events,
    parse_records,
    register_partitions,
    staged_partitions,
    topic_exists,
)
from shoprec.tables import PRODUCTS, SEARCH_LABELS


def _rows_by_source(spark, table: str) -> dict[str, int]:
    """Rows staged in all runs, per source (the reconciliation's lake total), through the
    catalogue (every partition of every run is catalogued by now; compacted ones are found
    only there)."""
    staged = spark.table(table)
    return {r["source"]: r["count"] for r in staged.groupBy("source").count().collect()}


def erased_ids(spark, layout: LakeLayout) -> DataFrame | None:
    """The erasure list: every erased event id (``shoprec.erasure``), or None if empty."""
    try:
        listed = spark.read.text(layout.uri(layout.ERASED_IDS_PREFIX, "s3a"))
    except AnalysisException:  # nothing erased yet
        return None
    return F.broadcast(listed.withColumnRenamed("value", "event_id").distinct())


def _relabel(spark, database: str, table: str, labels_uri: str) -> int:
    """Rebuild the search-labels table from every staged search event (partitions pruned)."""
    ensure_rebuilt_table(spark, database, SEARCH_LABELS, labels_uri)
    kinds = (*search_labels.SEARCHES, EventType.SEARCH_CLICK.value)
    searched = spark.table(table).where(F.col("event_type").isin(*kinds))
    labels = search_labels.search_labels(searched).persist()
    labels.write.mode("overwrite").parquet(labels_uri)
    count = labels.count()
    labels.unpersist()
    return count


def _restock(spark, database: str, layout: LakeLayout) -> dict[str, int]:
    """Rebuild the products table from every product feed (``shoprec.spark.products``); the
    rows the feeds cannot stage are replaced in the quarantine by this run's."""
    location = layout.uri(layout.PRODUCTS_PREFIX)
    ensure_rebuilt_table(spark, database, PRODUCTS, location)
    feeds = products.read_feeds(spark, layout.uri(layout.PRODUCT_FEED_PREFIX, "s3a"))
    if feeds is None:
        return {"staged": 0, "quarantined": 0}
    latest, rejected = products.latest_products(feeds)
    quarantine = layout.quarantine_prefix("stage", PRODUCTS.name)
    with products.parsing_every_field(spark):
        latest.write.mode("overwrite").parquet(layout.uri(layout.PRODUCTS_PREFIX, "s3a"))
        rejected.write.mode("overwrite").json(layout.uri(quarantine, "s3a"))
        quarantined = rejected.count()
    spark.catalog.refreshTable(f"`{database}`.`{PRODUCTS.name}`")
    return {"staged": spark.read.parquet(location).count(), "quarantined": quarantined}


def _feedback(spark, table: str) -> list[dict[str, object]]:
    """Impressions and clicks per model version, tier and position, over all staged events
    (through the catalogue, as ``_rows_by_source``: compacted days are found only there)."""
    staged = spark.table(table)
    return feedback.ctr_counts(staged.where(F.col("event_type").isin(*feedback.EVENT_TYPES)))


def main(argv: list[str]) -> dict[str, object]:
    args = StagingJobArgs.from_argv(argv)
    logger = logs.configure("stage_events", args.run_id)
    layout = LakeLayout(args.lake_bucket)
    spark = get_spark("stage_events")
    events_uri = layout.uri(layout.STAGING_EVENTS_PREFIX)
    ensure_table(spark, args.database, args.table, events_uri)
    table, s3 = f"`{args.database}`.`{args.table}`", aws.client("s3")
    # the job runs alone (one concurrent run): whatever a write left uncommitted is a killed
    # run's, which this run stages again
    discarded = discard_uncommitted(s3, args.lake_bucket, layout.STAGING_EVENTS_PREFIX)
    if discarded:
        logs.log(logger, "discarded a killed run's uncommitted output", objects=discarded)
    totals = dict.fromkeys(
        ("read", "staged", "duplicates", "quarantined", "batches", "partitions_read", "files_read"),
        0,
    )
    # duplicates: repeats of staged ids, and erased events (shoprec.erasure) Kafka still holds
    partition_names = [n for n, _ in PARTITION_COLUMNS]

    def stage_batch(batch: DataFrame, batch_id: int) -> None:
        batch = batch.persist()
        events, rejected = parse_records(batch)
        # Every partition of the batch, new rows or not (a replayed batch registers what a
        # crash left unregistered); the dedupe reads those partitions and no others.
        partitions = [tuple(r) for r in events.select(*partition_names).distinct().collect()]
        locations = batch_locations(spark, table, events_uri, partitions)
        existing = staged_partitions(spark, list(locations.values()))
        read_files = existing.inputFiles() if existing is not None else []
        fresh = new_events(events, existing)
        listed = erased_ids(spark, layout)
        fresh = fresh.join(listed, "event_id", "left_anti") if listed is not None else fresh
        # counted before the write, which invalidates the cache of ``fresh``, whose anti-join
        # against the staged folders would then find nothing new
        fresh = fresh.persist()
        staged = fresh.count()
        if staged:
            folders = batch_locations(spark, None, events_uri, partitions)
            compacted = {v: uri for v, uri in locations.items() if uri != folders[v]}
            for uri in compacted.values():  # what a killed write to it left uncommitted
                discard_uncommitted(s3, args.lake_bucket, layout.key(uri).rstrip("/") + "/")
            append_events(append_to_compacted(fresh, compacted), events_uri)
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
            # what the dedupe read of the staged table (Spark's own list of its input files)
            "partitions_read": len({f.rsplit("/", 1)[0] for f in read_files}),
            "files_read": len(read_files),
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
        "table_rows": _rows_by_source(spark, table),
        "search_labels": _relabel(spark, args.database, table, labels_uri),
        "products": _restock(spark, args.database, layout),
        "feedback": _feedback(spark, table),
    }
    key = layout.run_report_key("stage_events", args.run_id)
    logs.report_run(logger, s3, args.lake_bucket, key, "stage_events", summary)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
