"""Impressions and clicks per (model_version, tier, position), from the staged events.

An impression is an ``impression`` event (an item an answer showed); its click is a ``view``
that carries the answer's ``recommendation_id`` and the same item (a shopper who followed the
link twice clicked once). Read with partition pruning: the two event types only.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from shoprec.schema import EventType

KEYS = ("model_version", "tier", "position")
EVENT_TYPES = (EventType.IMPRESSION.value, EventType.VIEW.value)


def ctr_counts(events: DataFrame) -> list[dict[str, Any]]:
    """Rows of model_version, tier, position, impressions, clicks (``shoprec.feedback``)."""
    shown = (
        events.where(F.col("event_type") == EventType.IMPRESSION.value)
        .select("recommendation_id", "item_id", *KEYS)
        .dropDuplicates(["recommendation_id", "item_id"])
    )
    clicked = (
        events.where(
            (F.col("event_type") == EventType.VIEW.value) & F.col("recommendation_id").isNotNull()
        )
        .select("recommendation_id", "item_id")
        .distinct()
        .withColumn("clicked", F.lit(1))
    )
    counted = (
        shown.join(clicked, ["recommendation_id", "item_id"], "left")
        .groupBy(*KEYS)
        .agg(F.count(F.lit(1)).alias("impressions"), F.count("clicked").alias("clicks"))
        .orderBy(*KEYS)
    )
    return [row.asDict() for row in counted.collect()]
