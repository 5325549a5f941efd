"""Web-log collector Lambda: thin entry point over ``shoprec.ingest.collector``.

Two events reach it: SQS batches of object-created notifications (and the collector's own
continuations), and the scheduled reconcile sweep.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from shoprec.collectors import collector_from_env
from shoprec.ingest.collector import Collector


@lru_cache(maxsize=1)
def _collector() -> Collector:
    """Built on the first invocation (cold start), not at import; kept while warm."""
    return collector_from_env(os.environ)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _collector().handle_event(event, context)
