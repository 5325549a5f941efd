"""The versioned clickstream event: the one definition every stage derives from.

The CSV header of the landing zone, the JSON on the Kafka topic, the Spark schema of the
staging job and the Glue table columns are all generated from ``FIELDS``; contract tests
check that they stay equal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property

SCHEMA_VERSION = 5
# Versions the staging job accepts. Version 2 added client_id and session_source (and made
# session_id nullable: cookieless lines get their session in Spark); a version-1 record
# reads as a cookie session. Version 3 added query_id and position (search events and the
# result clicks that follow them); older records have neither. Version 4 added
# recommendation_id, model_version and tier (the API's impressions, and the product views that
# followed a recommended link) and the session source ``none``; older records have none of them.
# Version 5 added hits and results (what a search found and showed); older records have neither.
ACCEPTED_VERSIONS = (1, 2, 3, 4, 5)
# ``results``: the ids a search showed, in rank order, joined by this separator into one string,
# which the landing CSV, the Kafka JSON and a Parquet/Athena string column all hold as it is
# (Athena: ``split(results, ' ')``); an id is a token, without whitespace.
RESULTS_SEPARATOR = " "


class Source(StrEnum):
    WEBLOG = "weblog"
    SOLR = "solr"  # Solr's request log
    OPENSEARCH = "opensearch"  # User Behavior Insights documents in OpenSearch
    ELASTICSEARCH = "elasticsearch"
    REPLAY = "replay"
    IMPRESSIONS = "impressions"  # what the recommendation API showed (shoprec.impressions)


class EventType(StrEnum):
    VIEW = "view"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    SEARCH = "search"  # a query that found results
    ZERO_RESULT = "zero_result"  # a query that found nothing
    SEARCH_CLICK = "search_click"  # a result clicked, at its position
    CLICK = "click"
    PAGE = "page"
    IMPRESSION = "impression"  # an item the API recommended, at its position


class SessionSource(StrEnum):
    COOKIE = "cookie"  # the shop's session cookie
    INFERRED = "inferred"  # built in Spark from client_id and an inactivity gap
    NONE = "none"  # no shopper's event (an impression: what the API answered)


class UserAgentClass(StrEnum):
    BROWSER = "browser"
    BOT = "bot"
    OTHER = "other"


@dataclass(frozen=True)
class Event:
    """One clickstream event, as every stage sees it (field order = column order)."""

    event_id: str
    event_time: datetime  # UTC, millisecond precision
    source: str
    event_type: str
    session_id: str | None  # None until Spark builds the session (session_source inferred)
    user_id: str | None
    item_id: str | None
    query: str | None
    url: str
    status: int
    referrer: str | None
    user_agent_class: str
    origin: str  # where the raw line was read: "<object key>@<byte offset>"
    client_id: str | None = None  # keyed hash of address + user agent (shoprec.privacy)
    session_source: str = SessionSource.COOKIE.value
    query_id: str | None = None  # the search it answers (search, zero_result, search_click)
    position: int | None = None  # in its list, from 1 (search_click, impression)
    recommendation_id: str | None = None  # the API's answer shown, or followed by a view
    model_version: str | None = None  # the model that answered (impression)
    tier: str | None = None  # the tier that answered (impression; shoprec.tiers.SERVED)
    hits: int | None = None  # results found: Solr's hits=N; UBI: how many hit ids it returned
    results: str | None = None  # the ids shown, in rank order (``join_results``)

    def to_record(self) -> dict[str, object]:
        """A JSON-ready dict in column order: times as ISO-8601 UTC with milliseconds."""
        return self._record

    @cached_property
    def _record(self) -> dict[str, object]:  # computed once: the landing CSV and Kafka share it
        record = {name: getattr(self, name) for name in FIELD_NAMES}
        record["event_time"] = format_time(self.event_time)
        return record

    def to_json(self) -> str:
        return json.dumps({"v": SCHEMA_VERSION, **self.to_record()}, separators=(",", ":"))

    @classmethod
    def from_record(cls, record: Mapping[str, str]) -> Event:
        """The event of a landing CSV row (``to_record`` as text; an empty or absent nullable
        field is None)."""
        values: dict[str, object] = {
            # a row of an older version has no column for the nullable fields added since
            name: (None if name in NULLABLE and not record.get(name) else record[name])
            for name in FIELD_NAMES
        }
        values["event_time"] = datetime.fromisoformat(record["event_time"]).astimezone(UTC)
        for name in INTEGER_FIELDS:
            values[name] = None if values[name] is None else int(values[name])
        return cls(**values)  # type: ignore[arg-type]


# (name, Spark/Hive type) in column order, derived from the dataclass.
_SQL_TYPES = {
    "event_time": "timestamp",
    "status": "int",
    "position": "int",
    "hits": "int",
}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Event))
NULLABLE: frozenset[str] = frozenset(f.name for f in fields(Event) if "None" in str(f.type))
INTEGER_FIELDS: tuple[str, ...] = tuple(n for n, t in _SQL_TYPES.items() if t == "int")
COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, _SQL_TYPES.get(name, "string")) for name in FIELD_NAMES
)
# Partition columns of the staging table: derived from the event, not stored in the files.
PARTITION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source", "string"),
    ("event_type", "string"),
    ("event_date", "string"),
)


def spark_ddl() -> str:
    """The event schema as a Spark DDL string (``from_json`` / ``spark.read.schema``)."""
    return ", ".join(f"`{name}` {sql_type}" for name, sql_type in COLUMNS)


def format_time(value: datetime) -> str:
    """``2026-11-01T08:00:00.123Z``."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def event_id(source: str, position: str, raw_line: str) -> str:
    """Deterministic id from the line's place in its content stream (``<stream>@<offset>``),
    not its object key: a renamed or re-delivered copy of a file yields the same ids."""
    digest = hashlib.sha256(f"{source}\x1f{position}\x1f{raw_line}".encode())
    return digest.hexdigest()[:32]


def join_results(ids: list[str]) -> str | None:
    """The ids a search showed as one ``results`` value (None when it showed nothing).
    ``ValueError`` for an id that is not a token (empty, or holding whitespace)."""
    for item in ids:
        if not item or item.split() != [item]:
            raise ValueError(f"result id {item[:40]!r} is not a token")
    return RESULTS_SEPARATOR.join(ids) or None


def table_columns() -> tuple[tuple[str, str], ...]:
    """Columns stored in the staging Parquet files (partition columns live in the path)."""
    partitions = {name for name, _ in PARTITION_COLUMNS}
    return tuple((name, kind) for name, kind in COLUMNS if name not in partitions)
