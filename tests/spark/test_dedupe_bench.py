"""The dedupe benchmark's synthetic batches (bench/dedupe.py): deterministic, and their fresh
rows are exactly what the staging job's ``new_events`` keeps, so its counts can be asserted."""

from __future__ import annotations

import sys
from pathlib import Path

from pyspark.sql import functions as F

from shoprec.spark.staging import new_events

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import dedupe  # noqa: E402

SIZE = dedupe.Size(history=2_000, batches=3, batch_rows=200)


def test_batches_repeat_staged_ids_and_bring_exactly_their_fresh_rows(spark) -> None:
    staged = dedupe.events(spark.range(SIZE.history), SIZE.history).cache()
    assert dedupe.events(spark.range(SIZE.history), SIZE.history).exceptAll(staged).count() == 0
    assert staged.select("event_id").distinct().count() == SIZE.history
    for k in range(SIZE.batches):
        batch = dedupe.events(dedupe.batch_numbers(spark, SIZE, k), SIZE.history).cache()
        assert batch.count() == SIZE.batch_rows
        assert sorted(dedupe.event_dates(batch)) == [
            dedupe.date_of_day(dedupe.DAYS - 2),
            dedupe.date_of_day(dedupe.DAYS - 1),
        ]
        fresh = new_events(batch, staged).cache()
        assert fresh.count() == SIZE.fresh
        repeated = batch.join(staged.select("event_id"), "event_id", "left_semi")
        assert repeated.count() == SIZE.repeats  # each an exact copy of the staged row
        assert repeated.exceptAll(staged).count() == 0
        staged = staged.unionByName(fresh).cache()
    assert staged.count() == SIZE.distinct_ids()
    assert staged.where(F.col("event_date") > dedupe.date_of_day(dedupe.DAYS - 1)).count() == 0
