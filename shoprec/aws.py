"""The one place AWS clients are made. boto3 honours ``AWS_ENDPOINT_URL`` (LocalStack)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60
)

# For a caller that must answer at once (the API refreshing its champion): fail within
# seconds and keep what it has, rather than retry for a minute.
_QUICK_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=10
)


@cache
def client(service: str) -> Any:
    """A cached client; the endpoint and credentials come from the standard AWS variables."""
    return boto3.session.Session().client(service, config=_CONFIG)


@cache
def quick_client(service: str) -> Any:
    """A cached client that gives up within seconds (two attempts, short timeouts)."""
    return boto3.session.Session().client(service, config=_QUICK_CONFIG)
