"""JSON over HTTP to a search engine, with the two failures a caller must tell apart."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Signer = Callable[[urllib.request.Request], None]  # adds authentication headers in place


class EngineUnavailable(RuntimeError):
    """The engine did not answer, or answered 5xx: nothing was read, try again later."""


class SearchFailed(RuntimeError):
    """The engine refused the request (4xx): a query it cannot parse, a bad document."""


class NotFound(SearchFailed):
    """404: an index that does not exist (yet)."""


def sigv4(region: str, service: str = "es") -> Signer:
    """Signs requests to an Amazon OpenSearch Service domain with the caller's IAM role
    (its credentials refresh themselves in Lambda)."""
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    signer = SigV4Auth(botocore.session.Session().get_credentials(), service, region)

    def sign(request: urllib.request.Request) -> None:
        headers = {"Content-Type": request.get_header("Content-type")}
        signed = AWSRequest(request.get_method(), request.full_url, data=request.data,
                            headers=headers)  # fmt: skip
        signer.add_auth(signed)
        for name, value in signed.headers.items():
            request.add_header(name, value)

    return sign


def call_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    raw: str | None = None,
    sign: Signer | None = None,
    timeout: float = 30,
) -> dict[str, Any]:
    """``body`` as JSON, or ``raw`` as newline-delimited JSON (``_bulk``); ``sign``: the
    request's authentication (None: an engine without it, as the local ones)."""
    data = raw.encode() if raw is not None else None if body is None else json.dumps(body).encode()
    kind = "application/x-ndjson" if raw is not None else "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": kind})
    if sign is not None:
        sign(request)
    where = f"{method} {url.split('?')[0]}"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode(errors="replace")
        failure = (
            EngineUnavailable
            if error.code >= 500
            else NotFound
            if error.code == 404
            else SearchFailed
        )
        raise failure(f"{where}: {error.code} {detail}") from error
    except OSError as error:
        raise EngineUnavailable(f"{where}: {error}") from error
