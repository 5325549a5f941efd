"""Staging: Kafka records → validated, deduplicated events (pure DataFrame transforms)."""

from __future__ import annotations

import functools
import json
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from shoprec.contracts import StagingJobArgs
from shoprec.kafka import bootstrap_servers
from shoprec.schema import (
    ACCEPTED_VERSIONS,
    NULLABLE,
    PARTITION_COLUMNS,
    EventType,
    SessionSource,
    Source,
    spark_ddl,
    table_columns,
)
from shoprec.tables import Table

_RECORD_DDL = f"`v` int, {spark_ddl()}"


def kafka_options(args: StagingJobArgs) -> dict[str, str]:
    options = {
        "kafka.bootstrap.servers": bootstrap_servers(args.kafka_bootstrap),
        "subscribe": args.topic,
        "startingOffsets": "earliest",
        "maxOffsetsPerTrigger": "500000",
    }
    if args.kafka_auth == "iam":  # MSK IAM: the aws-msk-iam-auth jar ships with Glue 5.0
        options.update(
            {
                "kafka.security.protocol": "SASL_SSL",
                "kafka.sasl.mechanism": "AWS_MSK_IAM",
                "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
                "kafka.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
            }
        )
    return options


def _offsets(value: str | dict | None) -> dict:
    """A progress's offsets, ``{topic: {partition: offset}}`` (PySpark parses them, the JVM's
    progress JSON holds them as text)."""
    return json.loads(value) if isinstance(value, str) else value or {}


def kafka_lag(progress: dict | None) -> int:
    """Messages on the topic beyond what a streaming query's last progress reached: per
    partition, its latest offset less the query's end offset (0 without a progress)."""
    lag = 0
    for source in (progress or {}).get("sources", []):
        latest, end = (_offsets(source.get(k)) for k in ("latestOffset", "endOffset"))
        for topic, partitions in latest.items():
            for partition, offset in partitions.items():
                lag += max(0, offset - end.get(topic, {}).get(partition, 0))
    return lag


def topic_exists(spark: SparkSession, options: dict[str, str], topic: str) -> bool:
    """Whether the topic exists yet (the collectors create it on their first publish), asked
    with the Kafka admin client of the connector's own jars, with the same settings."""
    jvm = spark.sparkContext._jvm
    properties = jvm.java.util.Properties()
    for key, value in options.items():
        if key.startswith("kafka."):
            properties.put(key.removeprefix("kafka."), value)
    admin = jvm.org.apache.kafka.clients.admin.AdminClient.create(properties)
    try:
        names = admin.listTopics().names().get(60, jvm.java.util.concurrent.TimeUnit.SECONDS)
        return bool(names.contains(topic))
    finally:
        admin.close()


def _rejection_reason(rec: Column) -> Column:
    required = [name for name, _ in table_columns() + PARTITION_COLUMNS[:2] if name not in NULLABLE]
    cookie = rec["session_source"] == SessionSource.COOKIE.value
    inferred = rec["session_source"] == SessionSource.INFERRED.value
    missing = F.array_compact(
        F.array(*[F.when(rec[name].isNull(), F.lit(name)) for name in required])
    )
    return (
        F.when(rec.isNull() | rec["event_id"].isNull() & rec["v"].isNull(), "malformed_json")
        .when(
            ~rec["v"].isin(*ACCEPTED_VERSIONS),
            F.concat(F.lit("unsupported_version:"), rec["v"].cast("string")),
        )
        .when(F.size(missing) > 0, F.concat(F.lit("missing_fields:"), F.array_join(missing, ",")))
        .when(~rec["source"].isin([s.value for s in Source]), "unknown_source")
        .when(~rec["event_type"].isin([t.value for t in EventType]), "unknown_event_type")
        .when(
            ~rec["session_source"].isin([s.value for s in SessionSource]), "unknown_session_source"
        )
        .when(cookie & rec["session_id"].isNull(), "missing_fields:session_id")
        .when(inferred & rec["client_id"].isNull(), "missing_fields:client_id")
    )


def parse_records(kafka_rows: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(events with event_date, rejected rows with raw value, reason and Kafka position)."""
    raw = F.col("value").cast("string")
    parsed = kafka_rows.select(
        raw.alias("raw"),
        "topic",
        "partition",
        "offset",
        # explode(array(...)): a generator the optimizer cannot inline, so each record is
        # parsed once (plain from_json was copied into every field the filter reads: 53 parses)
        F.explode(F.array(F.from_json(raw, _RECORD_DDL, {"mode": "PERMISSIVE"}))).alias("rec"),
    )
    rec = F.col("rec")
    # Version 1 records predate session_source: theirs was always the cookie.
    version_one = F.when(rec["v"] == 1, F.lit(SessionSource.COOKIE.value))
    upgraded = rec.withField("session_source", F.coalesce(rec["session_source"], version_one))
    checked = parsed.withColumn("rec", upgraded).withColumn("reason", _rejection_reason(rec))
    valid = checked.where(F.col("reason").isNull()).select("rec.*").drop("v")
    valid = valid.withColumn("event_date", F.date_format("event_time", "yyyy-MM-dd"))
    rejected = checked.where(F.col("reason").isNotNull()).select(
        "raw", "reason", "topic", "partition", "offset"
    )
    return valid, rejected


def ddl(columns: tuple[tuple[str, str], ...]) -> str:
    """Columns as a Spark DDL list (``spark.read.schema``, ``CREATE TABLE``)."""
    return ", ".join(f"`{n}` {t}" for n, t in columns)


def partition_path(values: tuple[str, ...]) -> str:
    """A partition's folder under the table, ``source=…/event_type=…/event_date=…``."""
    names = [n for n, _ in PARTITION_COLUMNS]
    return "/".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def partition_spec(values: tuple[str, ...]) -> str:
    """A partition as SQL names it: each column quoted, equal to its value."""
    names = [n for n, _ in PARTITION_COLUMNS]
    return ", ".join(f"`{n}`='{v}'" for n, v in zip(names, values, strict=True))


def partition_location(spark: SparkSession, table: str, values: tuple[str, ...]) -> str | None:
    """Where the catalogue locates a partition of ``table`` (None: not catalogued)."""
    try:
        described = spark.sql(
            f"DESCRIBE TABLE EXTENDED {table} PARTITION ({partition_spec(values)})"
        ).collect()
    except AnalysisException:  # no such partition (or table)
        return None
    return next(r.data_type for r in described if r.col_name == "Location")


def catalogued_partitions(spark: SparkSession, table: str) -> list[tuple[str, ...]]:
    """Every catalogued partition of ``table``, as its values."""
    shown = spark.sql(f"SHOW PARTITIONS {table}").collect()
    return [tuple(part.split("=", 1)[1] for part in row[0].split("/")) for row in shown]


def batch_locations(
    spark: SparkSession, table: str | None, location: str, partitions: list[tuple[str, ...]]
) -> dict[tuple[str, ...], str]:
    """Where each of a batch's partitions lives: where the catalogue locates it (a compacted
    one: ``shoprec.spark.compaction``), else its folder under the table's ``location`` (new,
    or written by a run killed before its catalogue update; no catalogue: ``table`` None)."""
    root = location.rstrip("/")
    located = {v: table and partition_location(spark, table, v) for v in partitions}
    return {v: (located[v] or f"{root}/{partition_path(v)}").rstrip("/") for v in partitions}


def staged_partitions(spark: SparkSession, locations: list[str]) -> DataFrame | None:
    """The rows staged at ``locations`` (partition folders) alone, without their partition
    columns (None if none of them exists yet).

    Each folder is asked whether it exists (one request each), and only those that do are
    read, with the table's schema: Spark lists those folders and no others, so a batch's
    dedupe costs what the batch touches, not what history holds (reading the table's root
    and filtering listed every folder of every day first)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    paths = []
    for location in locations:
        path = jvm.org.apache.hadoop.fs.Path(location)
        if path.getFileSystem(conf).exists(path):
            paths.append(location)
    if not paths:
        return None
    return spark.read.schema(ddl(table_columns())).parquet(*paths)


def new_events(events: DataFrame, existing: DataFrame | None) -> DataFrame:
    """Drop repeats inside the batch and events already staged (same event_id)."""
    unique = events.dropDuplicates(["event_id"])
    if existing is None:
        return unique
    return unique.join(existing.select("event_id"), on="event_id", how="left_anti")


# Hadoop's FileOutputCommitter keeps a write's task output here until the job commits it.
UNCOMMITTED = "_temporary/"


def delete_keys(s3: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]}
        )


def discard_uncommitted(s3: Any, bucket: str, prefix: str) -> int:
    """Delete what a killed write left under ``prefix`` + ``_temporary/`` (how many objects).
    The next write's job commit would otherwise move the killed write's committed tasks into
    the table beside the rows it stages again: repeats its anti-join never saw (a SIGKILL
    between task and job commit left 40 repeated rows of 600,
    tests/integration/test_staging_faults.py). Only a single writer may call it."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + UNCOMMITTED)
    keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
    delete_keys(s3, bucket, keys)
    return len(keys)


def append_events(fresh: DataFrame, location: str) -> None:
    """Append new events under ``location`` partitioned by ``PARTITION_COLUMNS``, shuffled by
    partition first: one file per partition and batch (an unshuffled append writes one per
    partition and input split; bench/dedupe.py measured 33 files a partition after 8 batches
    against 9, and 17.9 s a batch against 11.7 s, docs/iceberg.md)."""
    names = [name for name, _ in PARTITION_COLUMNS]
    fresh.repartition(*names).write.mode("append").partitionBy(*names).parquet(location)


def append_to_compacted(fresh: DataFrame, compacted: dict[tuple[str, ...], str]) -> DataFrame:
    """Append ``fresh``'s rows of compacted partitions (``shoprec.spark.compaction``) at their
    catalogued locations, a small write each (late events of a closed day); the rest returned,
    for ``append_events``. The table's folder of a compacted partition is not its location."""
    names = [n for n, _ in PARTITION_COLUMNS]
    rest = fresh
    for values, folder in compacted.items():
        of = functools.reduce(
            Column.__and__, [F.col(n) == v for n, v in zip(names, values, strict=True)]
        )
        late = fresh.where(of).drop(*names)
        if late.count():
            late.coalesce(1).write.mode("append").parquet(folder)
        rest = rest.where(~of)
    return rest


def add_missing_columns(
    spark: SparkSession, table: str, columns: tuple[tuple[str, str], ...]
) -> list[str]:
    """Add to the catalogued ``table`` (quoted ``db.name``) the ``columns`` it lacks, after its
    own (a table catalogued under an older schema version); older files read them as null.
    The names added."""
    present = {field.name.lower() for field in spark.table(table).schema.fields}
    missing = tuple((name, kind) for name, kind in columns if name.lower() not in present)
    if missing:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({ddl(missing)})")
    return [name for name, _ in missing]


def ensure_rebuilt_table(spark: SparkSession, database: str, table: Table, location: str) -> None:
    """Catalogue one of the tables staging rebuilds whole (``shoprec.tables``) if it is not;
    one catalogued before gains the newer columns."""
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table.name}` ({ddl(table.columns)}) "
        f"STORED AS PARQUET LOCATION '{location}'"
    )
    add_missing_columns(spark, f"`{database}`.`{table.name}`", table.columns)


def ensure_table(spark: SparkSession, database: str, table: str, location: str) -> None:
    """Create the catalogue table (columns from the event schema) if it does not exist, add
    the columns of a newer schema version to one catalogued before, and point it at
    ``location`` (tables catalogued before with an ``s3a://`` location move)."""
    columns, partitions = ddl(table_columns()), ddl(PARTITION_COLUMNS)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
    spark.sql(
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` ({columns}) "
        f"PARTITIONED BY ({partitions}) STORED AS PARQUET LOCATION '{location}'"
    )
    add_missing_columns(spark, f"`{database}`.`{table}`", table_columns())
    described = spark.sql(f"DESCRIBE TABLE EXTENDED `{database}`.`{table}`").collect()
    located = next(r.data_type for r in described if r.col_name == "Location")
    if located.rstrip("/") != location.rstrip("/"):  # an update only where one is needed
        spark.sql(f"ALTER TABLE `{database}`.`{table}` SET LOCATION '{location}'")


def register_partitions(
    spark: SparkSession, database: str, table: str, location: str, partitions: list[tuple[str, ...]]
) -> None:
    """Catalogue ``partitions`` under ``location`` in one statement; those already catalogued
    are left as they are, so registering a batch's partitions again is harmless."""
    if not partitions:
        return
    specs = [
        f"PARTITION ({partition_spec(values)}) "
        f"LOCATION '{location.rstrip('/')}/{partition_path(values)}'"
        for values in partitions
    ]
    spark.sql(f"ALTER TABLE `{database}`.`{table}` ADD IF NOT EXISTS {' '.join(specs)}")
