"""User Behavior Insights (UBI) documents: what the shop writes into OpenSearch as the UBI client
would, and what one document means as an event.

Two indices (schema of OpenSearch 2.15+ UBI, ubisearch.dev): ``ubi_queries`` (one document per
search: ``query_id``, ``user_query``, ``query_response_hit_ids``, ``client_id``, ``timestamp``)
and ``ubi_events`` (one per action on a result: ``action_name``, ``query_id``,
``event_attributes.object.object_id``, ``event_attributes.position.ordinal``, ``timestamp``).
Both carry the shop's ``session_id``, so the web log and the engine describe the same sessions.
A query's hit ids are its event's ``results`` (the ids shown, in rank order), their number its
``hits`` (UBI records no total of what the engine found).
A document that breaks the schema is a ``Rejection`` with its reason (quarantined).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shoprec.ingest.lines import Filtered, Parsed, Rejection
from shoprec.schema import (
    Event,
    EventType,
    SessionSource,
    Source,
    UserAgentClass,
    event_id,
    format_time,
    join_results,
)

QUERIES, EVENTS = "ubi_queries", "ubi_events"
APPLICATION = "shop"
_KEYWORD = {"type": "keyword"}
MAPPINGS: dict[str, dict[str, Any]] = {
    QUERIES: {
        "properties": {
            "timestamp": {"type": "date"},
            "query_id": _KEYWORD,
            "user_query": _KEYWORD,
            "query_response_hit_ids": _KEYWORD,
            "client_id": _KEYWORD,
            "session_id": _KEYWORD,
            "application": _KEYWORD,
        }
    },
    EVENTS: {
        "properties": {
            "timestamp": {"type": "date"},
            "action_name": _KEYWORD,
            "query_id": _KEYWORD,
            "client_id": _KEYWORD,
            "session_id": _KEYWORD,
            "application": _KEYWORD,
            "event_attributes": {"type": "object", "enabled": False},  # kept, not indexed
        }
    },
}
ACTIONS = {"click": EventType.SEARCH_CLICK, "add_to_cart": EventType.ADD_TO_CART}


def query_document(
    query_id: str, text: str, hits: list[str], session: str, when: datetime
) -> dict[str, Any]:
    return {
        "query_id": query_id,
        "user_query": text,
        "query_response_hit_ids": hits,
        "client_id": session,
        "session_id": session,
        "application": APPLICATION,
        "timestamp": format_time(when),
    }


def action_document(
    action: str, query_id: str, item: str, position: int, session: str, when: datetime
) -> dict[str, Any]:
    return {
        "action_name": action,
        "query_id": query_id,
        "client_id": session,
        "session_id": session,
        "application": APPLICATION,
        "timestamp": format_time(when),
        "event_attributes": {
            "object": {"object_id": item, "object_id_field": "id"},
            "position": {"ordinal": position},
        },
    }


def document_time(document: dict[str, Any]) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(document["timestamp"]))
    except (KeyError, ValueError):
        return None
    return when if when.tzinfo else None


def _value(document: dict[str, Any], *path: str) -> Any:
    value: Any = document
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _text(document: dict[str, Any], *path: str) -> str | None:
    value = _value(document, *path)
    return value if isinstance(value, str) and value.strip() else None


def _event(index: str, doc_id: str, document: dict[str, Any], **fields: Any) -> Event:
    source = Source.OPENSEARCH.value
    return Event(
        event_id=event_id(source, f"{index}/{doc_id}", ""),  # UBI documents are written once
        event_time=document_time(document),
        source=source,
        user_id=None,
        url=f"/{index}/_doc/{doc_id}",
        status=200,
        referrer=None,
        user_agent_class=UserAgentClass.BROWSER.value,
        origin=f"{index}/{doc_id}",
        session_source=SessionSource.COOKIE.value,
        query_id=_text(document, "query_id"),
        **fields,
    )


def parse_document(index: str, doc_id: str, document: dict[str, Any]) -> Parsed:
    """One UBI document → an event, a rejection (schema broken) or a filtered action."""
    if document_time(document) is None:
        return Rejection("bad_timestamp", f"timestamp {str(document.get('timestamp'))[:40]!r}")
    session = _text(document, "session_id") or _text(document, "client_id")
    if session is None:
        return Rejection("missing_session", "neither session_id nor client_id")
    if _text(document, "query_id") is None:
        return Rejection("missing_field", "query_id")
    if index == QUERIES:
        text, hits = _text(document, "user_query"), document.get("query_response_hit_ids", [])
        if text is None:
            return Rejection("missing_field", "user_query")
        if not isinstance(hits, list) or not all(isinstance(h, str) for h in hits):
            return Rejection("bad_field", "query_response_hit_ids is not a list of ids")
        try:
            shown = join_results(hits)
        except ValueError as error:
            return Rejection("bad_field", f"query_response_hit_ids: {error}")
        kind = EventType.SEARCH if hits else EventType.ZERO_RESULT
        return _event(index, doc_id, document, event_type=kind.value, session_id=session,
                      item_id=None, query=text, hits=len(hits), results=shown)  # fmt: skip
    kind = ACTIONS.get(str(document.get("action_name")))
    if kind is None:
        return Filtered("other_action")  # impressions, hovers: not choices
    item = _text(document, "event_attributes", "object", "object_id")
    ordinal = _value(document, "event_attributes", "position", "ordinal")
    if item is None:
        return Rejection("missing_field", "event_attributes.object.object_id")
    if not (isinstance(ordinal, int) and not isinstance(ordinal, bool) and ordinal > 0):
        return Rejection("bad_field", f"position.ordinal {str(ordinal)[:20]!r}")
    return _event(index, doc_id, document, event_type=kind.value, session_id=session,
                  item_id=item, query=None, position=ordinal)  # fmt: skip
