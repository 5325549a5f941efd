"""The OpenSearch client the shop and the UBI collector share (JSON over HTTP).

The shop indexes its catalogue, searches it, and writes UBI documents; the collector reads an
index in order with a point in time (PIT) and ``search_after``, so documents indexed while it
pages neither appear twice nor shift its pages. OpenSearch 2.19 has no ``_shard_doc``: inside
a PIT the tie-break is ``_doc``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shoprec.search import ubi
from shoprec.search.http import SearchFailed, Signer, call_json

PRODUCTS = "products"
PRODUCT_MAPPINGS = {
    "properties": {
        "title": {"type": "text", "analyzer": "english"},
        "category": {"type": "text", "analyzer": "english"},
        "brand": {"type": "text"},
        "price": {"type": "double"},
    }
}
PIT_KEEP_ALIVE = "2m"


@dataclass(frozen=True)
class OpenSearch:
    url: str  # http://host:port
    sign: Signer | None = None  # SigV4 for an Amazon OpenSearch Service domain

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        return call_json(method, f"{self.url}{path}", body, sign=self.sign)

    def ensure_index(self, index: str, mappings: dict[str, Any] | None = None) -> None:
        """Create the index (one shard, no replica) unless it exists."""
        settings = {"number_of_shards": 1, "number_of_replicas": 0}
        with contextlib.suppress(SearchFailed):  # 400 resource_already_exists_exception
            self._call("PUT", f"/{index}", {"settings": settings, "mappings": mappings or {}})

    def ensure_ubi_indices(self) -> None:
        for index, mappings in ubi.MAPPINGS.items():
            self.ensure_index(index, mappings)

    def index(self, index: str, documents: Iterable[tuple[str | None, dict[str, Any]]]) -> None:
        """Bulk-index (id, document) pairs (id None: generated) and refresh the index."""
        lines = []
        for doc_id, document in documents:
            lines.append({"index": {"_index": index} | ({"_id": doc_id} if doc_id else {})})
            lines.append(document)
        if not lines:
            return
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        answer = call_json("POST", f"{self.url}/_bulk?refresh=true", raw=body, sign=self.sign)
        if answer.get("errors"):
            failed = [i for i in answer["items"] if "error" in next(iter(i.values()))]
            raise SearchFailed(f"bulk into {index}: {len(failed)} failed, first {failed[0]}")

    def search(self, text: str, size: int = 10) -> list[str]:
        """Ids of the ranked products matching the shopper's words."""
        query = {"multi_match": {"query": text, "fields": ["title^2", "category", "brand"]}}
        answer = self._call("POST", f"/{PRODUCTS}/_search", {"query": query, "size": size})
        return [hit["_id"] for hit in answer["hits"]["hits"]]

    def pages(
        self, index: str, query: dict[str, Any], sort: list[Any], size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """Every hit of ``query`` in ``sort`` order, a page at a time, within one PIT (closed
        afterwards, also when the caller stops early or the engine fails)."""
        pit = self._call("POST", f"/{index}/_search/point_in_time?keep_alive={PIT_KEEP_ALIVE}")
        pit_id, after = pit["pit_id"], None
        try:
            while True:
                body = {
                    "size": size,
                    "query": query,
                    "sort": sort,
                    "pit": {"id": pit_id, "keep_alive": PIT_KEEP_ALIVE},
                    "track_total_hits": False,
                }
                if after is not None:
                    body["search_after"] = after
                hits = self._call("POST", "/_search", body)["hits"]["hits"]
                if not hits:
                    return
                yield hits
                after = hits[-1]["sort"]
        finally:
            with contextlib.suppress(Exception):  # the PIT expires by itself
                self._call("DELETE", "/_search/point_in_time", {"pit_id": [pit_id]})
