"""Fixtures of the integration tests that share the search engines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shoprec.local.runtime import Ports
from shoprec.search.opensearch import OpenSearch


@pytest.fixture
def ubi_engine(search: Ports) -> Iterator[OpenSearch]:
    """OpenSearch with empty UBI indices, dropped afterwards: the tests share one engine, and
    a DAG run of a later test would otherwise collect what an earlier one left."""
    from shoprec.local.search_servers import opensearch_url
    from shoprec.search import ubi

    engine = OpenSearch(opensearch_url(search))

    def drop() -> None:
        for index in ubi.MAPPINGS:
            engine._call("DELETE", f"/{index}?ignore_unavailable=true")

    drop()
    engine.ensure_ubi_indices()
    yield engine
    drop()
