"""JSON over HTTP to a search engine, with the two failures a caller must tell apart."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class EngineUnavailable(RuntimeError):
    """The engine did not answer, or answered 5xx: nothing was read, try again later."""


class SearchFailed(RuntimeError):
    """The engine refused the request (4xx): a query it cannot parse, a bad document."""


class NotFound(SearchFailed):
    """404: an index that does not exist (yet)."""


def call_json(
    method: str, url: str, body: Any = None, *, raw: str | None = None, timeout: float = 30
) -> dict[str, Any]:
    """``body`` as JSON, or ``raw`` as newline-delimited JSON (``_bulk``)."""
    data = raw.encode() if raw is not None else None if body is None else json.dumps(body).encode()
    kind = "application/x-ndjson" if raw is not None else "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": kind})
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
