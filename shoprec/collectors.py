"""The collectors of the sources that arrive as objects under ``incoming/``: each source's line
parser, and the collector a Lambda builds from its environment (``SHOPREC_SOURCE`` says which).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from shoprec.contracts import CollectorSettings
from shoprec.impressions import ImpressionParser
from shoprec.ingest.collector import Collector, log
from shoprec.ingest.lines import LineParser
from shoprec.privacy import ClientHasher, client_hash_key
from shoprec.schema import Source
from shoprec.search.solr_log import SolrRequestLogParser
from shoprec.weblog.parse import WebLogParser

_PARSERS: dict[str, Callable[[CollectorSettings, ClientHasher], LineParser]] = {
    Source.WEBLOG: lambda s, hasher: WebLogParser.create(s.log_format, hasher, s.source),
    Source.SOLR: lambda s, hasher: SolrRequestLogParser(s.source),
    Source.IMPRESSIONS: lambda s, hasher: ImpressionParser(s.source),
}


def parser_for(settings: CollectorSettings, hasher: ClientHasher) -> LineParser:
    try:
        make = _PARSERS[settings.source]
    except KeyError:
        raise ValueError(f"no line parser for source {settings.source!r}") from None
    return make(settings, hasher)


def collector_from_env(environ: Mapping[str, str]) -> Collector:
    """Quarantined raw lines are redacted with the client-hash key whatever the source."""
    settings = CollectorSettings.from_env(environ)
    hasher = ClientHasher(client_hash_key(settings.client_hash_secret), settings.session_cookie)
    return Collector(settings, parser_for(settings, hasher), hasher.redact)


@lru_cache(maxsize=1)
def _from_lambda_environment() -> Collector:
    """Built on the first invocation (cold start), not at import; kept while warm."""
    return collector_from_env(os.environ)


@log.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every object collector Lambda's entry point: SQS batches of object-created
    notifications (and the collector's own continuations), and the scheduled sweep."""
    return _from_lambda_environment().handle_event(event, context)
