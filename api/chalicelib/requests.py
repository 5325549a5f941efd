"""Validation of what callers send: bad input is a 400 that names the field and the limit.

The limits live here once; the OpenAPI document (``chalicelib.openapi``) states them from
these names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_K = 20
MAX_K = 100
MAX_ITEMS = 200  # per list of item ids (session_items, exclude_items)
MAX_ITEM_ID_LENGTH = 128
# Every body the schema admits fits, whatever its escaping (two lists of MAX_ITEMS ids of
# MAX_ITEM_ID_LENGTH characters, each up to 12 bytes as a JSON surrogate pair).
MAX_BODY_BYTES = 1_048_576


class BadRequest(ValueError):
    """Returned to the caller as ``{"error": message, "field": field}``."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RecommendationRequest:
    session_items: list[str]
    k: int
    exclude_items: list[str]
    exclude_seen: bool  # the session's own items are excluded too

    @property
    def excluded(self) -> set[str]:
        return set(self.exclude_items) | (set(self.session_items) if self.exclude_seen else set())


def _json_object(raw: bytes | None) -> dict:
    if raw is not None and len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"body exceeds the limit of {MAX_BODY_BYTES} bytes", "body")
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body must be a JSON object", "body") from None
    except RecursionError:
        raise BadRequest("body nests JSON deeper than the parser's limit", "body") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", "body")
    return body


def _item_ids(body: dict, field: str) -> list[str]:
    items = body.get(field, [])
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadRequest(f"{field} must be a list of item id strings", field)
    if len(items) > MAX_ITEMS:
        raise BadRequest(f"{field} may hold at most {MAX_ITEMS} items", field)
    check_item_id_lengths(items, field)
    return items


def check_item_id_lengths(items: list[str], field: str) -> None:
    if any(len(item) > MAX_ITEM_ID_LENGTH for item in items):
        raise BadRequest(f"item ids may be at most {MAX_ITEM_ID_LENGTH} characters", field)


def _k(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise BadRequest(f"k must be an integer from 1 to {MAX_K}", "k")
    return value


def parse_recommendation_request(raw: bytes | None) -> RecommendationRequest:
    body = _json_object(raw)
    unknown = sorted(set(body) - {"session_items", "k", "exclude_items", "exclude_seen"})
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}", unknown[0])
    if "session_items" not in body:
        raise BadRequest("session_items must be a list of item id strings", "session_items")
    exclude_seen = body.get("exclude_seen", False)
    if not isinstance(exclude_seen, bool):
        raise BadRequest("exclude_seen must be true or false", "exclude_seen")
    return RecommendationRequest(
        _item_ids(body, "session_items"),
        _k(body.get("k", DEFAULT_K)),
        _item_ids(body, "exclude_items"),
        exclude_seen,
    )


def parse_k(query: Mapping[str, str] | None) -> int:
    """``k`` of a GET's query string (the only parameter the GET routes take)."""
    query = query or {}
    unknown = sorted(set(query) - {"k"})
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(unknown)}", unknown[0])
    if "k" not in query:
        return DEFAULT_K
    raw = query["k"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_K)):
        raise BadRequest(f"k must be an integer from 1 to {MAX_K}", "k")
    return _k(int(raw))
