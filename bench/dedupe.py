"""Benchmark: the staging job's dedupe (anti-join, partitioned Parquet append) against Iceberg.

Runs in the Glue runtime (``.venvs/glue``, local Spark on local files; no S3, no Kafka). The
same deterministic synthetic events (``events``: a pure function of a row number) are staged
into two tables that start from the same history, batch by batch (the two alternate which
goes first):

* current: the job's micro-batch step, the real ``new_events`` (drop in-batch repeats, then
  anti-join against the staged partitions of the batch's event dates), then the job's
  ``append_events``: shuffled by partition, appended partitioned by
  source/event_type/event_date (the catalogue update is not timed);
* unclustered: the same without the shuffle (the job until 2026-12-01: one file per partition
  and input split), which this bench showed to be most of the gap to Iceberg;
* iceberg: Iceberg 1.7.1 (as on Glue 5.0; jar set ``tools/jars/iceberg``, a Hadoop catalog on a
  local warehouse), the batch's in-batch repeats dropped by the same ``new_events``, then
  ``MERGE INTO ... WHEN NOT MATCHED THEN INSERT *`` on event_id, the target pruned to the
  batch's event dates; the same partitioning (identity, on the same columns);

then the data files per partition of each, one day read back (every column), and, for
Iceberg, one ``rewrite_data_files`` compaction and the same read after it. Both tables must end
with exactly the distinct ids generated (asserted). One JSON object on stdout; progress on
stderr. Size from the environment (defaults in ``Size``): SHOPREC_DEDUPE_HISTORY (rows staged
before the first batch, over ``DAYS`` days), SHOPREC_DEDUPE_BATCHES, SHOPREC_DEDUPE_BATCH_ROWS.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from shoprec.local.runtime import JARS, RUN_DIR
from shoprec.schema import (
    COLUMNS,
    PARTITION_COLUMNS,
    EventType,
    SessionSource,
    Source,
    UserAgentClass,
)
from shoprec.spark.staging import append_events, batch_locations, new_events, staged_partitions

DAYS = 10  # of history; batches bring events of its last two days (late and current ones)
START_MS = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)
DAY_MS = 86_400_000
WEBLOG_TYPES = (EventType.VIEW, EventType.PAGE, EventType.CLICK, EventType.ADD_TO_CART,
                EventType.PURCHASE)  # fmt: skip
SEARCH_TYPES = (EventType.SEARCH, EventType.ZERO_RESULT, EventType.SEARCH_CLICK)
PARTITIONS = [name for name, _ in PARTITION_COLUMNS]
_Sized = TypeVar("_Sized")
CATALOG = "bench"
TABLE = f"{CATALOG}.db.events"


def _from_env(cls: type[_Sized], prefix: str) -> _Sized:
    """``cls()`` with each field from ``<prefix><FIELD>`` where that is set."""
    return cls(
        **{
            name: int(os.environ.get(f"{prefix}{name.upper()}", value))
            for name, value in asdict(cls()).items()
        }
    )


@dataclass(frozen=True)
class Size:
    history: int = 500_000  # 10 minutes on this 2-core machine under load (docs/iceberg.md)
    batches: int = 8
    batch_rows: int = 20_000

    @classmethod
    def from_env(cls) -> Size:
        size = _from_env(cls, "SHOPREC_DEDUPE_")
        # repeats of history rows are drawn from distinct rows of its last two days
        if size.batches * size.repeats * DAYS > size.history:
            raise ValueError(f"history too small for {size.batches} batches of repeats: {size}")
        return size

    @property
    def repeats(self) -> int:
        """Rows of a batch that are already staged (5%)."""
        return self.batch_rows // 20

    @property
    def fresh(self) -> int:
        """Rows of a batch that are new (the rest: repeats, and some fresh rows twice)."""
        return self.batch_rows - self.repeats - self.repeats // 5

    def distinct_ids(self) -> int:
        return self.history + self.batches * self.fresh


def _pick(options: tuple[EventType, ...], n: Column) -> Column:
    return F.element_at(
        F.array(*[F.lit(o.value) for o in options]), (n % len(options) + 1).cast("int")
    )


def events(numbers: DataFrame, history: int, days: int = DAYS) -> DataFrame:
    """The event of each row number ``id``, as the staging job stages it (schema columns and
    event_date): history rows spread over ``days`` days, later ones over its last two."""
    n = F.col("id")
    day = F.when(n < history, n % days).otherwise(days - 2 + n % 2)
    millis = F.lit(START_MS) + day * DAY_MS + F.pmod(F.xxhash64(n, F.lit("time")), F.lit(DAY_MS))
    search = F.pmod(F.xxhash64(n, F.lit("source")), F.lit(100)) >= 80
    kind = F.pmod(F.xxhash64(n, F.lit("type")), F.lit(1_000))  # independent of the day
    event_type = F.when(search, _pick(SEARCH_TYPES, kind)).otherwise(_pick(WEBLOG_TYPES, kind))
    item = F.concat(F.lit("i"), F.pmod(F.xxhash64(n, F.lit("item")), F.lit(20_000)))
    query = F.when(search, F.concat(F.lit("q"), n % 3_000))
    values = {
        "event_id": F.md5(F.concat(F.lit("bench:"), n)),
        "event_time": F.timestamp_millis(millis),
        "source": F.when(search, Source.SOLR.value).otherwise(Source.WEBLOG.value),
        "event_type": event_type,
        "session_id": F.concat(F.lit("s"), (n / 20).cast("long")),
        "user_id": F.when(n % 7 == 0, F.concat(F.lit("u"), n % 5_000)),
        "item_id": F.when(~search | (event_type == EventType.SEARCH_CLICK.value), item),
        "query": query,
        "url": F.when(search, F.concat(F.lit("/search?q="), query)).otherwise(
            F.concat(F.lit("/product/"), item)
        ),
        "status": F.lit(200),
        "referrer": F.lit(None),
        "user_agent_class": F.lit(UserAgentClass.BROWSER.value),
        "origin": F.concat(F.lit("bench@"), n),
        "client_id": F.lit(None),
        "session_source": F.lit(SessionSource.COOKIE.value),
        "query_id": F.when(search, F.concat(F.lit("qid"), (n / 5).cast("long"))),
        "position": F.when(event_type == EventType.SEARCH_CLICK.value, n % 10 + 1),
        # the feedback loop's fields (impressions, and views that followed a recommendation)
        "recommendation_id": F.lit(None),
        "model_version": F.lit(None),
        "tier": F.lit(None),
        # schema version 5: what a search found (Solr's request log has no ids of those shown)
        "hits": F.when(event_type == EventType.SEARCH.value, 12).when(
            event_type == EventType.ZERO_RESULT.value, 0
        ),
        "results": F.lit(None),
    }
    typed = numbers.select(*[values[name].cast(kind).alias(name) for name, kind in COLUMNS])
    return typed.withColumn("event_date", F.date_format("event_time", "yyyy-MM-dd"))


def batch_numbers(spark: SparkSession, size: Size, k: int, days: int = DAYS) -> DataFrame:
    """Row numbers of batch ``k``: its fresh rows (some twice, as a retried publish sends
    them), and repeats of rows already staged, from history's last two days and (after the
    first batch) from the batch before."""
    start = size.history + k * size.fresh
    from_history = size.repeats if k == 0 else size.repeats // 2
    j = spark.range(k * size.repeats, k * size.repeats + from_history)
    parts = [
        spark.range(start, start + size.fresh),
        spark.range(start, start + size.repeats // 5),
        j.select((F.col("id") * days + days - 2 + F.col("id") % 2).alias("id")),
    ]
    if k:
        parts.append(
            spark.range(start - size.fresh, start - size.fresh + size.repeats - from_history)
        )
    return functools.reduce(DataFrame.unionByName, parts)


def date_of_day(index: int) -> str:
    return datetime.fromtimestamp((START_MS + index * DAY_MS) / 1000, UTC).strftime("%Y-%m-%d")


def event_dates(batch: DataFrame) -> list[str]:
    return [r[0] for r in batch.select("event_date").distinct().collect()]


def batch_partitions(batch: DataFrame) -> list[tuple[str, ...]]:
    return [tuple(r) for r in batch.select(*PARTITIONS).distinct().collect()]


def staged_of_batch(spark: SparkSession, path: str, batch: DataFrame, pruned: bool) -> DataFrame:
    """What the job's dedupe reads of the staged table: the batch's partitions alone
    (``staged_partitions``); not pruned: the table's root filtered by the batch's dates, as the
    job read it until 2026-12-02 (Spark listed every folder of history first)."""
    if pruned:
        folders = batch_locations(spark, None, path, batch_partitions(batch))
        return staged_partitions(spark, list(folders.values()))
    return spark.read.parquet(path).where(F.col("event_date").isin(event_dates(batch)))


def stage_current(
    spark: SparkSession, path: str, batch: DataFrame, clustered: bool, pruned: bool = True
) -> int:
    """The staging job's step for one micro-batch (glue_jobs/stage_events/job.py); not
    clustered: its append without the shuffle by partition, as the job wrote until it had it;
    not pruned: its dedupe reading the table's root (``staged_of_batch``)."""
    existing = staged_of_batch(spark, path, batch, pruned)
    fresh = new_events(batch, existing).persist()
    staged = fresh.count()
    if staged and clustered:
        append_events(fresh, path)
    elif staged:
        fresh.write.mode("append").partitionBy(*PARTITIONS).parquet(path)
    fresh.unpersist()
    return staged


def stage_iceberg(spark: SparkSession, batch: DataFrame) -> int:
    """The same step as an Iceberg MERGE; the rows it added, from its snapshot's summary."""
    dates = ", ".join(f"'{d}'" for d in event_dates(batch))
    new_events(batch, None).createOrReplaceTempView("batch")
    spark.sql(
        f"MERGE INTO {TABLE} t USING batch s "
        f"ON t.event_id = s.event_id AND t.event_date IN ({dates}) "
        "WHEN NOT MATCHED THEN INSERT *"
    )
    latest = spark.sql(f"SELECT summary FROM {TABLE}.snapshots ORDER BY committed_at DESC LIMIT 1")
    return int(latest.first()["summary"]["added-records"])


def _files_current(path: Path) -> Counter[str]:
    return Counter(str(f.parent.relative_to(path)) for f in path.rglob("*.parquet"))


def _files_iceberg(spark: SparkSession) -> Counter[str]:
    rows = spark.sql(f"SELECT partition, count(*) AS files FROM {TABLE}.files GROUP BY partition")
    names = PARTITIONS
    return Counter(
        {"/".join(f"{n}={r['partition'][n]}" for n in names): r["files"] for r in rows.collect()}
    )


def _file_summary(files: Counter[str], touched: list[str]) -> dict[str, object]:
    of_batch_days = [count for part, count in files.items() if any(d in part for d in touched)]
    return {
        "partitions": len(files),
        "files": sum(files.values()),
        "max_per_partition": max(files.values()),
        "mean_per_partition_of_batch_days": round(statistics.mean(of_batch_days), 1),
    }


def read_day(table: Callable[[], DataFrame], day: str) -> dict[str, object]:
    """One day read back, every column (best of three: the machine is shared)."""
    names = [name for name, _ in COLUMNS]
    timings, rows = [], 0
    for _ in range(3):
        begin = time.perf_counter()
        rows = (
            table()
            .where(F.col("event_date") == day)
            .agg(F.count("*"), F.sum(F.xxhash64(*names)))
            .first()[0]
        )
        timings.append(time.perf_counter() - begin)
    return {"seconds": round(min(timings), 3), "rows": rows}


def _exact(frame: DataFrame, expected: int) -> dict[str, int]:
    counts = frame.agg(F.count("*").alias("rows"), F.countDistinct("event_id").alias("ids")).first()
    result = {"rows": counts["rows"], "distinct_ids": counts["ids"]}
    assert result == {"rows": expected, "distinct_ids": expected}, (result, expected)
    return result


def _seconds(timings: list[float]) -> dict[str, object]:
    return {
        "first": round(timings[0], 3),
        "last": round(timings[-1], 3),
        "mean": round(statistics.mean(timings), 3),
        "each": [round(t, 3) for t in timings],
    }


def _ratio(iceberg: dict, other: dict, measure: str, statistic: str) -> float:
    return round(iceberg[measure][statistic] / other[measure][statistic], 2)


def _spark(warehouse: Path) -> SparkSession:
    jars = ",".join(str(p) for p in sorted((JARS / "iceberg").glob("*.jar")))
    if not jars:
        raise SystemExit("no Iceberg jars: run tools/fetch-jars iceberg (make setup)")
    catalog = f"spark.sql.catalog.{CATALOG}"
    return (
        SparkSession.builder.master("local[2]")  # as the local Glue jobs (shoprec.local.stages)
        .appName("bench-dedupe")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "3g")
        .config("spark.jars", jars)
        .config(
            "spark.sql.extensions",
            "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        )
        .config(catalog, "org.apache.iceberg.spark.SparkCatalog")
        .config(f"{catalog}.type", "hadoop")
        .config(f"{catalog}.warehouse", str(warehouse))
        .getOrCreate()
    )


HISTORY_DAYS = (10, 100)  # the history scaling's two histories: as many rows a day, 10x the days


@dataclass(frozen=True)
class Scaling:
    """The history scaling's size (SHOPREC_DEDUPE_SCALING_<FIELD>)."""

    day_rows: int = 2_000
    batches: int = 3
    batch_rows: int = 2_000

    def size(self, days: int) -> Size:
        return Size(history=days * self.day_rows, batches=self.batches, batch_rows=self.batch_rows)


def history_scaling(spark: SparkSession, tmp: Path, scaling: Scaling) -> dict[str, object]:
    """The job's micro-batch step on 10 and on 100 days of history (as many rows a day), its
    dedupe reading the batch's partitions (the job) and reading the table's root (the job
    before): seconds a batch, files the dedupe read, and the 100-day over 10-day ratio."""
    reads = {"pruned": True, "root_read": False}
    result: dict[str, object] = {"size": asdict(scaling)}
    for days in HISTORY_DAYS:
        size = scaling.size(days)
        _progress(f"history scaling: {size.history} rows over {days} days")
        history = events(spark.range(size.history), size.history, days).repartition(*PARTITIONS)
        history.cache()
        paths = {name: str(tmp / f"history-{days}" / name) for name in reads}
        for path in paths.values():
            history.write.partitionBy(*PARTITIONS).parquet(path)
        history.unpersist()
        timings: dict[str, list[float]] = {name: [] for name in reads}
        files_read = {}
        for k in range(size.batches):
            batch = events(batch_numbers(spark, size, k, days), size.history, days).cache()
            batch.count()
            for name in list(reads)[k % 2 :] + list(reads)[: k % 2]:  # each first in turn
                if not k:
                    read = staged_of_batch(spark, paths[name], batch, reads[name])
                    files_read[name] = len(read.inputFiles())
                begin = time.perf_counter()
                added = stage_current(spark, paths[name], batch, True, reads[name])
                timings[name].append(time.perf_counter() - begin)
                assert added == size.fresh, (name, days, k, added, size.fresh)
            batch.unpersist()
        result[f"{days}_days"] = {
            "history_rows": size.history,
            "partitions": len(_files_current(Path(paths["pruned"]))),
            **{
                name: {"batch_seconds": _seconds(timings[name]), "files_read": files_read[name]}
                for name in reads
            },
        }
    few, many = (result[f"{days}_days"] for days in HISTORY_DAYS)
    result["ratio_100_over_10_days"] = {
        name: round(many[name]["batch_seconds"]["mean"] / few[name]["batch_seconds"]["mean"], 2)
        for name in reads
    }
    return result


def _progress(message: str) -> None:
    print(f"[bench dedupe] {message}", file=sys.stderr, flush=True)


def main() -> dict[str, object]:
    size = Size.from_env()
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=RUN_DIR, prefix="dedupe-") as tmp:
        spark = _spark(Path(tmp) / "warehouse")
        spark.sparkContext.setLogLevel("ERROR")
        paths = {name: str(Path(tmp) / name) for name in ("current", "unclustered")}
        _progress(f"history: {size.history} rows over {DAYS} days, one file per partition")
        history = events(spark.range(size.history), size.history).repartition(*PARTITIONS)
        history.cache()
        for path in paths.values():
            history.write.partitionBy(*PARTITIONS).parquet(path)
        history.writeTo(TABLE).partitionedBy(*[F.col(n) for n in PARTITIONS]).tableProperty(
            "write.parquet.compression-codec",
            "snappy",  # Spark's default, as the job writes
        ).tableProperty(
            # its vectorized (Arrow) reader crashed the JVM here (SIGSEGV), twice, reading the
            # day back after the batches: docs/iceberg.md
            "read.parquet.vectorization.enabled",
            "false",
        ).create()
        history.unpersist()
        approaches = {
            "current": lambda batch: stage_current(spark, paths["current"], batch, True),
            "unclustered": lambda batch: stage_current(spark, paths["unclustered"], batch, False),
            "iceberg": lambda batch: stage_iceberg(spark, batch),
        }
        timings: dict[str, list[float]] = {name: [] for name in approaches}
        for k in range(size.batches):
            batch = events(batch_numbers(spark, size, k), size.history).cache()
            batch.count()
            order = list(approaches)[k % 3 :] + list(approaches)[: k % 3]  # each first in turn
            for name in order:
                begin = time.perf_counter()
                added = approaches[name](batch)
                timings[name].append(time.perf_counter() - begin)
                assert added == size.fresh, (name, k, added, size.fresh)
            batch.unpersist()
            _progress(f"batch {k + 1}/{size.batches}: " + ", ".join(
                f"{name} {timings[name][-1]:.1f}s" for name in approaches))  # fmt: skip
        expected = size.distinct_ids()
        batch_days = [date_of_day(d) for d in (DAYS - 2, DAYS - 1)]
        last_day = batch_days[-1]
        current, unclustered = (
            {
                "batch_seconds": _seconds(timings[name]),
                "files": _file_summary(_files_current(Path(paths[name])), batch_days),
                "read_day": read_day(lambda name=name: spark.read.parquet(paths[name]), last_day),
                **_exact(spark.read.parquet(paths[name]), expected),
            }
            for name in ("current", "unclustered")
        )
        iceberg = {
            "batch_seconds": _seconds(timings["iceberg"]),
            "files": _file_summary(_files_iceberg(spark), batch_days),
            "read_day": read_day(lambda: spark.table(TABLE), last_day),
            **_exact(spark.table(TABLE), expected),
        }
        _progress("Iceberg compaction (rewrite_data_files, binpack)")
        begin = time.perf_counter()
        rewritten = spark.sql(
            f"CALL {CATALOG}.system.rewrite_data_files(table => 'db.events', "
            "options => map('min-input-files', '2'))"
        ).first()
        iceberg["compaction"] = {
            "seconds": round(time.perf_counter() - begin, 3),
            "rewritten_files": rewritten["rewritten_data_files_count"],
            "added_files": rewritten["added_data_files_count"],
            "files_after": _file_summary(_files_iceberg(spark), batch_days),
            "read_day_after": read_day(lambda: spark.table(TABLE), last_day),
            **_exact(spark.table(TABLE), expected),
        }
        spark.stop()
    ratio = {
        name: {
            "batch_seconds_mean": _ratio(iceberg, other, "batch_seconds", "mean"),
            "batch_seconds_last": _ratio(iceberg, other, "batch_seconds", "last"),
            "read_day_seconds": _ratio(iceberg, other, "read_day", "seconds"),
        }
        for name, other in (("current", current), ("unclustered", unclustered))
    }
    result = {
        "size": asdict(size)
        | {
            "days": DAYS,
            "repeats_per_batch": size.repeats,
            "fresh_per_batch": size.fresh,
        },  # fmt: skip
        "current": current,
        "unclustered": unclustered,
        "iceberg": iceberg,
        "iceberg_over": ratio,
    }
    print(json.dumps({"dedupe": result}))
    return result


def main_history() -> dict[str, object]:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=RUN_DIR, prefix="dedupe-history-") as tmp:
        spark = _spark(Path(tmp) / "warehouse")
        spark.sparkContext.setLogLevel("ERROR")
        result = history_scaling(spark, Path(tmp), _from_env(Scaling, "SHOPREC_DEDUPE_SCALING_"))
        spark.stop()
    print(json.dumps({"dedupe_history": result}))
    return result


if __name__ == "__main__":
    main_history() if sys.argv[1:] == ["history"] else main()
