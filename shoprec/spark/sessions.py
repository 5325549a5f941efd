"""Sessions for cookieless events: the standard inactivity-gap sessionization.

Lines without a session cookie carry only their client (a keyed hash of address and user
agent). Where events of every host and file meet, each client's events are ordered in time
and split wherever the client paused longer than the gap (30 minutes by default, as web
analytics count sessions). A session's id derives from its client and its first event, so
the same events get the same id in every run, whatever window of days is read.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from shoprec.schema import SessionSource


def assign_sessions(events: DataFrame, gap_minutes: int) -> DataFrame:
    """Every event with a ``session_id``: cookie sessions as they are, inferred ones built."""
    # A record without a session source (schema version 1) carries its cookie session.
    inferred = F.coalesce(F.col("session_source") == SessionSource.INFERRED.value, F.lit(False))
    cookie = events.where(~inferred)
    clients = events.where(inferred & F.col("client_id").isNotNull())
    position = F.split("origin", "@")
    by_client = Window.partitionBy("client_id").orderBy(
        "event_time", position.getItem(0), position.getItem(1).cast("long")
    )
    previous = F.lag("event_time").over(by_client)
    paused = previous.isNull() | (
        F.col("event_time").cast("double") - previous.cast("double") > gap_minutes * 60
    )
    numbered = clients.withColumn(
        "_session",
        F.sum(paused.cast("int")).over(by_client.rowsBetween(Window.unboundedPreceding, 0)),
    )
    started = F.min("event_time").over(Window.partitionBy("client_id", "_session"))
    key = F.concat_ws("|", "client_id", started.cast("string"))
    sessions = numbered.withColumn(
        "session_id", F.concat(F.lit("inferred-"), F.substring(F.sha2(key, 256), 1, 24))
    ).drop("_session")
    return cookie.unionByName(sessions)
