"""Recommendation API (Chalice: API Gateway + Lambda). Routes only; logic in chalicelib/shoprec."""

from __future__ import annotations

import os
import uuid
from functools import lru_cache

from chalice import Chalice, Response

from chalicelib.champion import ChampionHolder, NoChampion
from chalicelib.requests import BadRequest, parse_recommendation_request
from shoprec import aws
from shoprec.contracts import ApiSettings
from shoprec.layout import LakeLayout

app = Chalice(app_name="shoprec-api")
JSON_CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded"]


@lru_cache(maxsize=1)
def champion() -> ChampionHolder:
    settings = ApiSettings.from_env(os.environ)
    return ChampionHolder(
        aws.client("s3"), LakeLayout(settings.lake_bucket), settings.champion_refresh_seconds
    )


def _error(status: int, message: str) -> Response:
    return Response(
        body={"error": message}, status_code=status, headers={"Content-Type": "application/json"}
    )


@app.route("/health", methods=["GET"], api_key_required=True)
def health() -> Response | dict:
    try:
        model = champion().get()
    except NoChampion as error:
        return _error(503, str(error))
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
def recommendations() -> Response | dict:
    try:
        request = parse_recommendation_request(app.current_request.raw_body)
    except BadRequest as error:
        return _error(400, str(error))
    try:
        model = champion().get()
    except NoChampion as error:
        return _error(503, str(error))
    result = model.recommend(request.session_items, request.k)
    return {
        "items": [{"item_id": item, "score": score} for item, score in result.items],
        "model_version": model.version,
        "recommendation_id": str(uuid.uuid4()),
        "tier": result.tier,
    }
