"""The training-set job's own split of a YooChoose-format file, for the next-day benchmarks.

Runs in the Glue runtime (``.venvs/glue``): the file's clicks become staged events (product
views, as the collector writes them from the replayed log), and ``shoprec.spark.training_set
.build`` (the Glue job's transform, default arguments) writes the SageMaker channels. With
``--records``, SOURCE is instead a folder of the web-log collector's published records (JSON
lines), staged by the staging job's transform. With ``--cut-days N`` the job first runs N
times, each time keeping only the sessions of its training side: the data minus its last N
days, by the job's own split rule; the sessions it dropped last are written as ``next_day``
(every item). ``--interactions`` narrows the event types sessions are made of (default: the
job's). One JSON line on stdout.

    python bench/training_set.py SOURCE OUT_DIR [--records] [--cut-days N] [--interactions T ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from shoprec.contracts import TrainingSetJobArgs
from shoprec.layout import TRAINING_SET_CHANNELS
from shoprec.schema import EventType, Source, UserAgentClass, spark_ddl
from shoprec.sources import read_yoochoose
from shoprec.spark.sessions import assign_sessions
from shoprec.spark.staging import new_events, parse_records
from shoprec.spark.training_set import INTERACTIONS, build, learned_events

DEFAULTS = TrainingSetJobArgs(lake_bucket="bench", run_id="bench")


def _spark() -> SparkSession:
    return (
        SparkSession.builder.master("local[2]")
        .appName("bench-training-set")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "3g")  # the staging transform's plan is large
        .getOrCreate()
    )


def _events(spark: SparkSession, path: Path) -> DataFrame:
    """Every click as the staged event of a successful product-page view by a browser."""
    rows = [
        {
            "event_id": f"{path.name}:{line}",
            "event_time": datetime.fromtimestamp(round(seconds, 3), tz=UTC),
            "source": Source.REPLAY.value,
            "event_type": EventType.VIEW.value,
            "session_id": session,
            "item_id": item,
            "url": f"/product/{item}",
            "status": 200,
            "user_agent_class": UserAgentClass.BROWSER.value,
            "origin": f"{path.name}@{line}",  # file order breaks same-millisecond ties
        }
        for line, (session, item, seconds) in enumerate(read_yoochoose(path), start=2)
    ]
    return spark.createDataFrame(rows, spark_ddl())


def _staged(spark: SparkSession, records: Path, table: Path) -> DataFrame:
    """The published records as the staging job stages them (the Kafka source's rows, written
    to ``table`` as Parquet) and the training-set job reads them, with sessions assigned (so
    ``--cut-days`` keeps cookieless sessions whole)."""
    rows = spark.read.text(str(records)).select(
        "value",
        F.lit("bench").alias("topic"),
        F.lit(0).alias("partition"),
        F.monotonically_increasing_id().alias("offset"),
    )
    new_events(parse_records(rows)[0], None).write.mode("overwrite").parquet(str(table))
    staged = learned_events(spark.read.parquet(str(table)))
    return assign_sessions(staged, DEFAULTS.session_gap_minutes)


def main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", action="store_true")
    parser.add_argument("--cut-days", type=int, default=0)
    parser.add_argument("--interactions", nargs="+", default=INTERACTIONS)
    args = parser.parse_args(argv)
    spark = _spark()
    if args.records:
        events = _staged(spark, args.source, args.out.with_name(f"{args.out.name}-staged"))
    else:
        events = _events(spark, args.source)
    events = events.cache()
    interactions = tuple(args.interactions)
    dropped = None
    for _ in range(args.cut_days):
        cut = build(
            events, DEFAULTS.validation_days, DEFAULTS.min_item_support, interactions=interactions
        )
        events = events.join(cut.train.select("session_id"), "session_id", "left_semi").cache()
        dropped = cut.latest
    dataset = build(
        events, DEFAULTS.validation_days, DEFAULTS.min_item_support, interactions=interactions
    )
    frames = {name: getattr(dataset, name) for name in TRAINING_SET_CHANNELS}
    frames |= {"next_day": dropped} if dropped is not None else {}
    counts = {}
    for name, frame in frames.items():
        frame.coalesce(1).write.mode("overwrite").parquet(str(args.out / name))
        counts[name] = spark.read.parquet(str(args.out / name)).count()
    manifest = {"split_time": dataset.split_time, "sessions": counts}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    print(json.dumps(manifest))
    spark.stop()
    return manifest


if __name__ == "__main__":
    main(sys.argv[1:])
