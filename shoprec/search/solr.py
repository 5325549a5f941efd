"""The shop's Solr client over HTTP: index the catalogue, run a shopper's tagged search."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shoprec.search.request import QUERY_ID_PARAM, SESSION_PARAM


class SearchFailed(RuntimeError):
    """The engine answered with an error (a query it cannot parse) or not at all."""


def _call(url: str, body: bytes | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise SearchFailed(f"{error.code} from {url.split('?')[0]}") from error
    except OSError as error:
        raise SearchFailed(f"{url.split('?')[0]}: {error}") from error


@dataclass(frozen=True)
class Solr:
    core_url: str  # http://host:port/solr/<core>

    def index(self, products: Iterable[dict[str, Any]]) -> None:
        """Add or replace the products, then commit (they are searchable on return)."""
        body = json.dumps(list(products)).encode()
        _call(f"{self.core_url}/update?commit=true&wt=json", body)

    def search(self, text: str, session: str, query_id: str, rows: int = 10) -> list[str]:
        """The ids of the ranked results (empty: a zero-result search); Solr's request log
        records the query with its session and id."""
        params = {
            "q": text,
            "rows": rows,
            "fl": "id",
            "wt": "json",
            SESSION_PARAM: session,
            QUERY_ID_PARAM: query_id,
        }
        answer = _call(f"{self.core_url}/select?{urllib.parse.urlencode(params)}")
        return [doc["id"] for doc in answer["response"]["docs"]]
