"""The search-labels table: per query, what was asked, by whom, when, what it showed, and
what was clicked.

Built from the staged events: each ``search`` / ``zero_result`` with a query id (Solr's
request log, OpenSearch's UBI queries) joined with the ``search_click`` events of that id
(the web log's result links, UBI clicks; the same click seen by both counts once). A query
without a click keeps one row with no clicked item: a negative label. ``hits`` and
``results`` (the ids shown, in rank order, space-joined) are the search event's: Solr's
request log has the hits but not the ids, UBI both; events staged before schema version 5
have neither.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from shoprec.schema import EventType
from shoprec.tables import SEARCH_LABELS

COLUMNS = SEARCH_LABELS.columns
SEARCHES = (EventType.SEARCH.value, EventType.ZERO_RESULT.value)


def search_labels(events: DataFrame) -> DataFrame:
    asked = events.where(F.col("event_type").isin(*SEARCHES) & F.col("query_id").isNotNull())
    searches = asked.groupBy("query_id").agg(
        F.min_by("source", "event_time").alias("engine"),
        F.min_by("query", "event_time").alias("query"),
        F.min_by(F.col("event_type") == EventType.ZERO_RESULT.value, "event_time").alias(
            "zero_result"
        ),
        F.min_by("session_id", "event_time").alias("session_id"),
        F.min("event_time").alias("searched_at"),
        F.min_by("hits", "event_time").alias("hits"),
        F.min_by("results", "event_time").alias("results"),
    )
    clicks = (
        events.where(
            (F.col("event_type") == EventType.SEARCH_CLICK.value) & F.col("query_id").isNotNull()
        )
        .groupBy("query_id", F.col("item_id").alias("clicked_item"), "position")
        .agg(F.min("event_time").alias("clicked_at"))
    )
    joined = searches.join(clicks, "query_id", "left")
    return joined.select(*(F.col(name).cast(kind) for name, kind in COLUMNS))
