"""Recommendation API (Chalice: API Gateway + Lambda). Routes only; logic in chalicelib/shoprec.

Every error is ``{"error": ..., "field": ...}``; ``chalicelib.openapi`` documents the routes
from this table (served at ``/openapi.json``, kept in docs/openapi.json).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from chalice import Chalice, Response

from chalicelib import fallback, schemas
from chalicelib.champion import ChampionHolder, NoChampion
from chalicelib.observability import middleware
from chalicelib.openapi import document, documented
from chalicelib.requests import (
    BadRequest,
    check_item_id_lengths,
    parse_k,
    parse_popular_query,
    parse_recommendation_request,
)
from shoprec import aws, serving
from shoprec.contracts import ApiSettings
from shoprec.impressions import ImpressionLog, impression_lines
from shoprec.layout import LakeLayout
from shoprec.tiers import POPULAR

app = Chalice(app_name="shoprec-api")
JSON_CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]


@functools.lru_cache(maxsize=1)
def champion() -> ChampionHolder:
    settings = ApiSettings.from_env(os.environ)
    return ChampionHolder(
        aws.quick_client("s3"),
        LakeLayout(settings.lake_bucket),
        settings.champion_refresh_seconds,
        fallback=fallback.load(),
    )


@functools.lru_cache(maxsize=1)
def impressions() -> ImpressionLog:
    """Every answer's impression, put to the lake in batches (``shoprec.impressions``)."""
    settings = ApiSettings.from_env(os.environ)
    return ImpressionLog(
        aws.quick_client("s3"),
        LakeLayout(settings.lake_bucket),
        settings.impression_batch,
        settings.impression_flush_seconds,
    )


app.register_middleware(middleware(lambda: champion().current()), "http")


def _error(status: int, message: str, field: str | None = None) -> Response:
    return Response(
        body={"error": message, "field": field},
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


class NotInCatalogue(LookupError):
    pass


def _errors_answered(view: Callable[..., dict]) -> Callable[..., Response | dict]:
    """Bad input is a 400, an unknown item a 404, no model yet a 503, each in the one error
    schema."""

    @functools.wraps(view)
    def answer(**path: str) -> Response | dict:
        try:
            return view(**path)
        except BadRequest as error:
            return _error(400, str(error), error.field)
        except NotInCatalogue as error:
            return _error(404, str(error), "item_id")
        except NoChampion as error:
            return _error(503, str(error))

    return answer


def _served(answer: serving.Recommendation, model: serving.Recommender) -> dict:
    """The answer, logged as an impression under its recommendation_id (the shop's product
    links carry it back as ``rec=``)."""
    recommendation_id = str(uuid.uuid4())
    shown = [item for item, _ in answer.items]
    route = app.current_request.path
    impressions().record(
        impression_lines(
            recommendation_id, model.version, answer.tier, route, shown, datetime.now(UTC)
        )
    )
    return {
        "items": [
            {
                "item_id": item,
                "score": score,
                "explanation": {"because": because} if because else POPULAR,
            }
            for (item, score), because in zip(answer.items, answer.because, strict=True)
        ],
        "model_version": model.version,
        "recommendation_id": recommendation_id,
        "tier": answer.tier,
    }


@app.route("/health", methods=["GET"], api_key_required=True)
@documented(schemas.HEALTH)
@_errors_answered
def health() -> dict:
    """Which model version and tier serve."""
    model = champion().get()
    return {
        "status": "ok",
        "model_version": model.version,
        "tier": model.tier,  # "model", or "vsknn" where no deep model beat the floor
        "catalogue_size": model.catalogue_size,
    }


@app.route(
    "/recommendations",
    methods=["POST"],
    content_types=JSON_CONTENT_TYPES,
    api_key_required=True,  # API Gateway enforces it (usage plan); chalice local does not
)
@documented(schemas.ITEMS_ANSWER, body=schemas.RECOMMENDATION_REQUEST)
@_errors_answered
def recommendations() -> dict:
    """The k items the session is most likely to click next.

    Excluded items (exclude_items, the session's own with exclude_seen, its purchased_items
    with exclude_purchased) never appear, nor items of exclude_categories; with categories,
    only items of one of them (an empty list: every item). The answer still holds k items
    while k eligible items exist, and fewer, down to none, where fewer do: an unknown
    category, or a model without the product feed's categories, has no items. A session
    without a known item gets the popular items (tier category_popular with categories);
    a tier with too few items fills from the popular order.
    """
    request = parse_recommendation_request(app.current_request.raw_body)
    model = champion().get()
    answer = model.recommend(
        request.session_items,
        request.k,
        request.excluded,
        request.categories,
        request.exclude_categories,
    )
    return _served(answer, model)


@app.route("/items/{item_id}/similar", methods=["GET"], api_key_required=True)
@documented(schemas.ITEMS_ANSWER, errors=(404, 503), query={"k": schemas.K})
@_errors_answered
def similar_items(item_id: str) -> dict:
    """The k items most like an item.

    From the served model's item embeddings (cosine), or from the V-SKNN index (the share
    of the item's training sessions that hold the other) where the floor serves.
    """
    check_item_id_lengths([item_id], "item_id")
    k = parse_k(app.current_request.query_params)
    model = champion().get()
    answer = model.similar(item_id, k)
    if answer is None:
        raise NotInCatalogue(f"item {item_id!r} is not in the catalogue of {model.version}")
    return _served(answer, model)


@app.route("/popular", methods=["GET"], api_key_required=True)
@documented(schemas.ITEMS_ANSWER, query={"k": schemas.K, "category": schemas.CATEGORY})
@_errors_answered
def popular() -> dict:
    """The k most popular items of the served model's training window.

    With category, the most popular items of that category (tier category_popular): fewer
    than k where it has fewer, none for an unknown category or a model without the product
    feed's categories.
    """
    k, category = parse_popular_query(app.current_request.query_params)
    model = champion().get()
    return _served(model.popular_items(k, [category] if category is not None else []), model)


@app.route("/models/current", methods=["GET"], api_key_required=True)
@documented(schemas.CURRENT_MODEL)
@_errors_answered
def current_model() -> dict:
    """The model that serves, and why.

    Version, training time and data window, its metrics against the baselines on the gate's
    validation day, the gate's decision, the tier.
    """
    model = champion().get()
    manifest = model.manifest
    training_set = (manifest.get("lineage") or {}).get("training_set") or {}
    return {
        "model_version": model.version,
        "tier": model.tier,
        "trained_at": manifest.get("created_at"),
        "data_window": training_set.get("window"),
        "metrics": manifest.get("metrics", {}),
        "gate": manifest.get("gate"),
        "catalogue_size": model.catalogue_size,
    }


@app.route("/openapi.json", methods=["GET"], api_key_required=True)
@documented(schemas.OPENAPI_DOCUMENT, errors=())
def openapi() -> dict:
    """This API's OpenAPI 3 document."""
    return document(app)
