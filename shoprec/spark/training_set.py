"""Training set: staged events → ordered sessions, item vocabulary, time-based split.

The split follows the session-based protocol of the evaluation (GRU4Rec / session-rec):
sessions that end in the last ``validation_days`` are validation, the rest training;
validation keeps only items known in training, and every session has at least two clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from shoprec.continuous import jensen_shannon
from shoprec.schema import EventType, Source, UserAgentClass
from shoprec.spark.sessions import assign_sessions


@dataclass(frozen=True)
class TrainingSet:
    train: DataFrame  # session_id, items (array<string>, in click order), start_time, end_time
    validation: DataFrame
    latest: DataFrame  # the validation window's sessions with every item (new ones included)
    vocabulary: DataFrame  # item_id, item_index (1-based; 0 is padding), clicks
    split_time: str
    window: dict[str, str]  # first and last click of the sessions read (ISO times)


def window_start(partitions: list[str], window_days: int) -> str:
    """The first event date of the sliding window: the newest date in the catalogue's
    partitions (``.../event_date=YYYY-MM-DD``) and the ``window_days - 1`` before it."""
    dates = sorted({p.rsplit("event_date=", 1)[1] for p in partitions})
    if not dates:
        raise ValueError("the events table has no partitions: nothing staged yet")
    newest = date.fromisoformat(dates[-1])
    return (newest - timedelta(days=window_days - 1)).isoformat()


# The events a training set learns from: product views, those reached from a search result
# list (``search_click``) included, as the web servers saw them. The engines' own click
# records (UBI) label searches (the search_labels table); here they would count a click twice.
INTERACTIONS = (EventType.VIEW.value, EventType.SEARCH_CLICK.value)
INTERACTION_SOURCE = Source.WEBLOG.value


def learned_events(events: DataFrame) -> DataFrame:
    """The staged events of the source a training set learns from (a partition filter)."""
    return events.where(F.col("source") == INTERACTION_SOURCE)


def product_views(events: DataFrame, interactions: tuple[str, ...] = INTERACTIONS) -> DataFrame:
    """Successful product-page views by people (bots and errors are not behaviour), of the
    ``interactions`` event types (``bench/search_gain.py`` measures views alone)."""
    return events.where(
        F.col("event_type").isin(*interactions)
        & (F.col("status") < 400)
        & (F.col("user_agent_class") != UserAgentClass.BOT.value)
        & F.col("item_id").isNotNull()
    )


def sessions(views: DataFrame) -> DataFrame:
    """One row per session, items in click order (ties broken by position in the log)."""
    position = F.split("origin", "@")
    ordered = views.select(
        "session_id",
        "item_id",
        "event_time",
        position.getItem(0).alias("log_key"),
        position.getItem(1).cast("long").alias("log_offset"),
    )
    grouped = ordered.groupBy("session_id").agg(
        F.sort_array(
            F.collect_list(F.struct("event_time", "log_key", "log_offset", "item_id"))
        ).alias("clicks"),
        F.min("event_time").alias("start_time"),
        F.max("event_time").alias("end_time"),
    )
    return _unwrap_clicks(grouped)


def _unwrap_clicks(grouped: DataFrame) -> DataFrame:
    """Session rows from sorted ``clicks`` structs: items in click order, start and end."""
    return grouped.select(
        "session_id", F.col("clicks.item_id").alias("items"), "start_time", "end_time"
    )


def _keep_known(frame: DataFrame, vocabulary: DataFrame) -> DataFrame:
    """Drop clicks on items outside the vocabulary; keep sessions with two or more left."""
    clicks = frame.select(
        "session_id", "start_time", "end_time", F.posexplode("items").alias("position", "item_id")
    )
    known = clicks.join(F.broadcast(vocabulary.select("item_id")), on="item_id")
    regrouped = known.groupBy("session_id", "start_time", "end_time").agg(
        F.sort_array(F.collect_list(F.struct("position", "item_id"))).alias("clicks")
    )
    return _unwrap_clicks(regrouped).where(F.size("items") >= 2)


def build(
    events: DataFrame,
    validation_days: float,
    min_item_support: int,
    session_gap_minutes: int = 30,
    interactions: tuple[str, ...] = INTERACTIONS,
) -> TrainingSet:
    with_sessions = assign_sessions(events, session_gap_minutes)
    views = product_views(with_sessions, interactions)
    all_sessions = sessions(views).where(F.size("items") >= 2).cache()
    start, end = all_sessions.agg(F.min("start_time"), F.max("end_time")).first()
    if end is None:
        raise ValueError("no sessions with two or more product views to train on")
    # The last ``validation_days``, or the last half of the data when it spans less than twice
    # that (a shop's first day still trains a model and validates it).
    split = end - min(timedelta(days=validation_days), (end - start) / 2)
    train_raw = all_sessions.where(F.col("end_time") < F.lit(split))
    validation_raw = all_sessions.where(F.col("end_time") >= F.lit(split))
    counts = train_raw.select(F.explode("items").alias("item_id")).groupBy("item_id").count()
    vocabulary = (
        counts.where(F.col("count") >= min_item_support)
        .withColumn("item_index", F.row_number().over(Window.orderBy(F.desc("count"), "item_id")))
        .select("item_id", "item_index", F.col("count").alias("clicks"))
    )
    return TrainingSet(
        train=_keep_known(train_raw, vocabulary),
        validation=_keep_known(validation_raw, vocabulary),
        latest=validation_raw,
        vocabulary=vocabulary,
        split_time=split.isoformat(),
        window={"from": start.isoformat(), "to": end.isoformat()},
    )


def novelty(sessions: DataFrame, since: str | None) -> dict[str, object]:
    """What in these sessions is new after ``since`` (the end of the champion's training
    data): the sessions ending later, and how far their item clicks drift from the others'."""
    if not since:
        return {"since": None, "new_sessions": sessions.count(), "item_drift": 1.0}
    marked = sessions.withColumn("new", F.col("end_time") > F.lit(since).cast("timestamp"))
    clicks = (
        marked.select("new", F.explode("items").alias("item_id"))
        .groupBy("new", "item_id")
        .count()
        .collect()
    )
    before = {r["item_id"]: r["count"] for r in clicks if not r["new"]}
    after = {r["item_id"]: r["count"] for r in clicks if r["new"]}
    new_sessions = marked.where(F.col("new")).count()
    return {
        "since": since,
        "new_sessions": new_sessions,
        "item_drift": round(jensen_shannon(before, after), 4),
    }
