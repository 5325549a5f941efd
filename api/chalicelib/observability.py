"""One JSON log line and one EMF metrics document per request (Powertools' Logger and
Metrics), never a body: method, route, status, latency, tier, model version, request id.

Powertools is imported on the first request (the Lambda's cold start): packaging imports
this app in the CDK's environment, which has no Powertools."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from shoprec import metrics
from shoprec.tiers import MODEL, POPULAR, VSKNN

TIER_METRICS = {MODEL: "TierModel", VSKNN: "TierVsknn", POPULAR: "TierPopular"}


def request_values(status: int, latency_ms: float, tier: str | None) -> dict[str, float]:
    values = {
        "Requests": 1,
        "Latency": latency_ms,
        "Status4xx": int(400 <= status < 500),
        "Status5xx": int(status >= 500),
    }
    if tier in TIER_METRICS:
        values[TIER_METRICS[tier]] = 1
    return values


@functools.cache
def _log() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service="recommendation-api")  # (Chalice's own logger is "shoprec-api")


@functools.cache
def _recorder() -> Any:
    from shoprec import emf

    return emf.lambda_metrics(metrics.API, metrics.ALL_SOURCES)


def _emit(values: dict[str, float], model_version: str | None) -> None:
    from shoprec import emf

    recorder = _recorder()
    if model_version:
        recorder.add_metadata("model_version", model_version)
    emf.add(recorder, values)
    emf.flush(recorder)


def _served(served_model: Callable[[], Any]) -> Any:
    """The served model for the record; a lookup that fails leaves the answer as it is."""
    try:
        return served_model()
    except Exception:
        _log().exception("no served model to record")
        return None


def middleware(served_model: Callable[[], Any]) -> Callable[[Request, Callable], Response]:
    """Chalice HTTP middleware; ``served_model()`` is the model serving now, or None."""

    def observe(event: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        status, response = 500, None
        try:
            response = get_response(event)
            status = response.status_code
            return response
        finally:
            latency_ms = round((time.perf_counter() - started) * 1000, 3)
            body = response.body if response is not None else None
            answer = body if isinstance(body, dict) else {}
            model = _served(served_model)
            values = request_values(status, latency_ms, answer.get("tier"))
            if model is not None:
                values["ServedChampionAgeHours"] = metrics.age_hours(
                    model.manifest.get("created_at")
                )
            _emit(values, model.version if model is not None else None)
            _log().info(
                "request",
                extra={
                    "request_id": event.context.get("requestId")  # API Gateway's
                    or getattr(event.lambda_context, "aws_request_id", None),
                    "method": event.method,
                    "route": event.context.get("resourcePath"),
                    "status": status,
                    "latency_ms": latency_ms,
                    "tier": answer.get("tier"),
                    "model_version": model.version if model is not None else None,
                },
            )

    return observe
