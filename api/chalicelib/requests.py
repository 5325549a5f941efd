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
MAX_ITEMS = 200  # per list of item ids (session_items, exclude_items, purchased_items)
MAX_ITEM_ID_LENGTH = 128
MAX_CATEGORIES = 50  # per list of categories (categories, exclude_categories)
MAX_CATEGORY_LENGTH = 128
# Every body the schema admits fits, whatever its escaping: three lists of MAX_ITEMS ids of
# MAX_ITEM_ID_LENGTH characters and two of MAX_CATEGORIES categories of MAX_CATEGORY_LENGTH,
# each character up to 12 bytes as a JSON surrogate pair, are 1,077,305 bytes as JSON lists;
# keys, k and flags add under 1 KiB (a test builds that body).
MAX_BODY_BYTES = 1_179_648  # 1.125 MiB


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
    purchased_items: list[str]  # the session's purchases
    exclude_purchased: bool  # the purchased items are excluded too
    categories: list[str]  # only items of these categories (empty: every item)
    exclude_categories: list[str]  # no item of these categories

    @property
    def excluded(self) -> set[str]:
        seen = set(self.session_items) if self.exclude_seen else set()
        purchased = set(self.purchased_items) if self.exclude_purchased else set()
        return set(self.exclude_items) | seen | purchased


@dataclass(frozen=True)
class _StringList:
    """A body field that lists strings (item ids, categories), and its limits."""

    kind: str  # one of them: "item id"
    plural: str  # what the count limit counts: "items"
    most: int
    longest: int

    def parse(self, body: dict, field: str) -> list[str]:
        values = body.get(field, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadRequest(f"{field} must be a list of {self.kind} strings", field)
        if len(values) > self.most:
            raise BadRequest(f"{field} may hold at most {self.most} {self.plural}", field)
        self.check_lengths(values, field)
        return values

    def check_lengths(self, values: list[str], field: str) -> None:
        if any(len(value) > self.longest for value in values):
            raise BadRequest(f"each {self.kind} may be at most {self.longest} characters", field)


_ITEM_IDS = _StringList("item id", "items", MAX_ITEMS, MAX_ITEM_ID_LENGTH)
_CATEGORIES = _StringList("category", "categories", MAX_CATEGORIES, MAX_CATEGORY_LENGTH)
_LISTS = {  # the body's lists of strings, each with its limits
    "session_items": _ITEM_IDS,
    "exclude_items": _ITEM_IDS,
    "purchased_items": _ITEM_IDS,
    "categories": _CATEGORIES,
    "exclude_categories": _CATEGORIES,
}
_FLAGS = ("exclude_seen", "exclude_purchased")  # booleans, false unless given


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


def check_item_id_lengths(items: list[str], field: str) -> None:
    _ITEM_IDS.check_lengths(items, field)


def _flag(body: dict, field: str) -> bool:
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false", field)
    return value


def _k(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise BadRequest(f"k must be an integer from 1 to {MAX_K}", "k")
    return value


def parse_recommendation_request(raw: bytes | None) -> RecommendationRequest:
    body = _json_object(raw)
    unknown = sorted(set(body) - {"k", *_LISTS, *_FLAGS})
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}", unknown[0])
    if "session_items" not in body:
        raise BadRequest("session_items must be a list of item id strings", "session_items")
    lists = {field: parsed.parse(body, field) for field, parsed in _LISTS.items()}
    flags = {field: _flag(body, field) for field in _FLAGS}
    return RecommendationRequest(k=_k(body.get("k", DEFAULT_K)), **lists, **flags)


def _query(query: Mapping[str, str] | None, parameters: set[str]) -> Mapping[str, str]:
    """The query string, unless it holds a parameter the route does not take."""
    query = query or {}
    unknown = sorted(set(query) - parameters)
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(unknown)}", unknown[0])
    return query


def parse_k(query: Mapping[str, str] | None) -> int:
    """``k`` of a GET's query string (the only parameter /items/{item_id}/similar takes)."""
    return _query_k(_query(query, {"k"}))


def parse_popular_query(query: Mapping[str, str] | None) -> tuple[int, str | None]:
    """``k`` and ``category`` (None: every item) of GET /popular's query string."""
    query = _query(query, {"k", "category"})
    category = query.get("category")
    if category is not None:
        _CATEGORIES.check_lengths([category], "category")
    return _query_k(query), category


def _query_k(query: Mapping[str, str]) -> int:
    if "k" not in query:
        return DEFAULT_K
    raw = query["k"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_K)):
        raise BadRequest(f"k must be an integer from 1 to {MAX_K}", "k")
    return _k(int(raw))
