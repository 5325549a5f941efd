"""Web-log collector Lambda: thin entry point over ``shoprec.collector``."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from shoprec import aws, kafka, logs
from shoprec.collector import collect
from shoprec.contracts import CollectorSettings


@lru_cache(maxsize=1)
def _settings() -> CollectorSettings:
    """Validated on the first invocation (cold start), not at import."""
    return CollectorSettings.from_env(os.environ)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run_id = str((event or {}).get("run_id") or getattr(context, "aws_request_id", "local"))
    logger = logs.configure("weblog_collector", run_id)
    result = collect(_settings(), aws.client("s3"), aws.client("ssm"), kafka.publish)
    logs.log(logger, "collected", **result.to_dict())
    return result.to_dict()
