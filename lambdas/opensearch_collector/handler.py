"""OpenSearch (UBI) collector Lambda: pulls the UBI documents indexed since its watermark
(``shoprec.search.ubi_collector``), when the DAG's collect step invokes it (``{"run_id": …}``)
or on a schedule. An engine that does not answer fails the invocation; the watermark stays
and the next run reads the same documents."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger

from shoprec import emf
from shoprec.search.ubi_collector import OpenSearchCollectorSettings, UbiCollector

log = Logger(service="opensearch-collector")


@lru_cache(maxsize=1)
def _collector() -> UbiCollector:
    """Built on the first invocation (cold start), not at import; kept while warm."""
    return UbiCollector(OpenSearchCollectorSettings.from_env(os.environ))


@log.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    collector = _collector()
    summary = collector.summary(event.get("run_id", "scheduled"))
    emf.emit_counts(summary, collector.settings.source, collector.settings.env)
    log.info("collected", extra=summary)
    return summary
