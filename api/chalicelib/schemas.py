"""JSON Schemas of what the API takes and answers, built from the limits in ``requests``.

Each route names its own in ``openapi.documented``; the OpenAPI document is generated from
the routes (``openapi.document``), and the tests check answers against it.
"""

from __future__ import annotations

from chalicelib.requests import (
    DEFAULT_K,
    MAX_BODY_BYTES,
    MAX_CATEGORIES,
    MAX_CATEGORY_LENGTH,
    MAX_ITEM_ID_LENGTH,
    MAX_ITEMS,
    MAX_K,
)
from shoprec.tiers import SERVED

STRING = {"type": "string"}
ITEM_ID = {"type": "string", "maxLength": MAX_ITEM_ID_LENGTH}
ITEM_IDS = {"type": "array", "maxItems": MAX_ITEMS, "items": ITEM_ID}
CATEGORY = {"type": "string", "maxLength": MAX_CATEGORY_LENGTH}  # the product feed's
CATEGORIES = {"type": "array", "maxItems": MAX_CATEGORIES, "items": CATEGORY}
FALSE_BY_DEFAULT = {"type": "boolean", "default": False}
K = {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": DEFAULT_K}
TIER = {"type": "string", "enum": list(SERVED)}


def _object(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    required = [name for name in properties if name not in optional]
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


ERROR = _object(
    {
        "error": STRING,
        "field": {  # the input at fault: "body", a body field or a parameter; null if none
            "type": "string",
            "nullable": True,
        },
    }
)

RECOMMENDATION_REQUEST = _object(
    {
        "session_items": ITEM_IDS,
        "k": K,
        "exclude_items": ITEM_IDS,
        "exclude_seen": FALSE_BY_DEFAULT,
        "purchased_items": ITEM_IDS,
        "exclude_purchased": FALSE_BY_DEFAULT,
        "categories": CATEGORIES,
        "exclude_categories": CATEGORIES,
    },
    optional=(
        "k",
        "exclude_items",
        "exclude_seen",
        "purchased_items",
        "exclude_purchased",
        "categories",
        "exclude_categories",
    ),
) | {"description": f"At most {MAX_BODY_BYTES} bytes of JSON."}

EXPLANATION = {
    "oneOf": [
        _object({"because": ITEM_ID}),  # the session (or asked-for) item that explains it most
        {"type": "string", "enum": ["popular"]},
    ]
}
SCORED_ITEM = _object({"item_id": ITEM_ID, "score": {"type": "number"}, "explanation": EXPLANATION})

ITEMS_ANSWER = _object(
    {
        "items": {"type": "array", "maxItems": MAX_K, "items": SCORED_ITEM},
        "model_version": STRING,
        "recommendation_id": {
            "type": "string",
            "format": "uuid",
            "description": "This answer's id, logged with its impressions: put it on the "
            "product links that show these items as rec=<recommendation_id>, so clicks "
            "count for the model that answered",
        },
        "tier": TIER,
    }
)

HEALTH = _object(
    {
        "status": {"type": "string", "enum": ["ok"]},
        "model_version": STRING,
        "tier": TIER,
        "catalogue_size": {"type": "integer", "minimum": 0},
    }
)

_NUMBERS = {"type": "object", "additionalProperties": {"type": "number"}}
_FREE = {"type": "object", "nullable": True}  # as the training run recorded it

CURRENT_MODEL = _object(
    {
        "model_version": STRING,
        "tier": TIER,
        "trained_at": {"type": "string", "nullable": True},
        "data_window": {
            "type": "object",
            "nullable": True,
            "properties": {"from": STRING, "to": STRING},
        },
        "metrics": {  # on the gate's validation day: the model and each baseline
            "type": "object",
            "additionalProperties": _NUMBERS,
        },
        "gate": _FREE,
        "catalogue_size": {"type": "integer", "minimum": 0},
    }
)

OPENAPI_DOCUMENT = {"type": "object", "required": ["openapi", "paths"]}

# Named in the document's components (referenced where a route takes or answers them).
NAMED = {
    "Error": ERROR,
    "RecommendationRequest": RECOMMENDATION_REQUEST,
    "ScoredItems": ITEMS_ANSWER,
    "Health": HEALTH,
    "CurrentModel": CURRENT_MODEL,
}
