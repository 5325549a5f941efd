"""Validation of ``POST /recommendations`` bodies: bad input is a 400 with a clear message."""

from __future__ import annotations

import json
from dataclasses import dataclass

DEFAULT_K = 20
MAX_K = 100
MAX_SESSION_ITEMS = 200


class BadRequest(ValueError):
    """The message is returned to the caller as ``{"error": message}``."""


@dataclass(frozen=True)
class RecommendationRequest:
    session_items: list[str]
    k: int


def parse_recommendation_request(raw: bytes | None) -> RecommendationRequest:
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    unknown = sorted(set(body) - {"session_items", "k"})
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}")
    items = body.get("session_items")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise BadRequest("session_items must be a list of item id strings")
    if len(items) > MAX_SESSION_ITEMS:
        raise BadRequest(f"session_items may hold at most {MAX_SESSION_ITEMS} items")
    k = body.get("k", DEFAULT_K)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadRequest(f"k must be an integer from 1 to {MAX_K}")
    return RecommendationRequest(items, k)
