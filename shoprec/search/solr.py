"""The shop's Solr client over HTTP: index the catalogue, run a shopper's tagged search."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shoprec.search.http import call_json
from shoprec.search.request import QUERY_ID_PARAM, SESSION_PARAM


@dataclass(frozen=True)
class Solr:
    core_url: str  # http://host:port/solr/<core>

    def index(self, products: Iterable[dict[str, Any]]) -> None:
        """Add or replace the products, then commit (they are searchable on return)."""
        call_json("POST", f"{self.core_url}/update?commit=true&wt=json", list(products))

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
        answer = call_json("GET", f"{self.core_url}/select?{urllib.parse.urlencode(params)}")
        return [doc["id"] for doc in answer["response"]["docs"]]
