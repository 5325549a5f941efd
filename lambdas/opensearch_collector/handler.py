"""OpenSearch (UBI) collector Lambda: on its schedule, pulls the UBI documents indexed since
its watermark (``shoprec.search.ubi_collector``). An engine that does not answer fails the
invocation; the watermark stays and the next run reads the same documents."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger

from shoprec.search.ubi_collector import OpenSearchCollectorSettings, UbiCollector

log = Logger(service="opensearch-collector")


@lru_cache(maxsize=1)
def _collector() -> UbiCollector:
    """Built on the first invocation (cold start), not at import; kept while warm."""
    return UbiCollector(OpenSearchCollectorSettings.from_env(os.environ))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = _collector().collect()
    log.info("collected", extra={"indices": report})
    return report
