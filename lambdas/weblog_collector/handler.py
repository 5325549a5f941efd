"""Web-log collector Lambda: thin entry point over ``shoprec.ingest.collector``.

Two events reach it: SQS batches of object-created notifications (and the collector's own
continuations), and the scheduled reconcile sweep.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from shoprec.contracts import CollectorSettings
from shoprec.ingest.collector import Collector
from shoprec.privacy import ClientHasher, client_hash_key
from shoprec.weblog.parse import WebLogParser


@lru_cache(maxsize=1)
def _collector() -> Collector:
    """Built on the first invocation (cold start), not at import; kept while warm."""
    settings = CollectorSettings.from_env(os.environ)
    hasher = ClientHasher(client_hash_key(settings.client_hash_secret), settings.session_cookie)
    parser = WebLogParser.create(settings.log_format, hasher, settings.source)
    return Collector(settings, parser, hasher.redact)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _collector().handle_event(event, context)
