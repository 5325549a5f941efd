"""The OpenSearch collector: pulls new UBI documents into events, exactly once per document.

Each run reads each UBI index in timestamp order with a point in time and ``search_after``,
from a durable watermark (``state/collector/source=opensearch/watermark-<index>.json``):

* **Late documents.** A document becomes searchable after its timestamp (a client's buffered
  send, the refresh interval). Each run reads again from ``high - lag_seconds`` and skips the
  ids it already read in that window (kept in the watermark), so a document indexed up to
  ``lag_seconds`` late is read once, neither skipped nor read twice. Later than that it is
  missed: the lag is the bound.
* **Order of effects.** Landing CSV and quarantine file, then Kafka, then the watermark (a
  compare-and-set write). A crash before the watermark repeats the run's documents with the
  same event ids (from index and document id), which staging drops.
* **Engine down.** The run raises ``EngineUnavailable`` before anything is written: the
  watermark stays where it was.
* Documents that break the UBI schema are quarantined with their reason; documents without a
  readable timestamp too (their ids are remembered, so they are quarantined once).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from shoprec import aws
from shoprec.contracts import KafkaSettings
from shoprec.ingest.engine import land
from shoprec.ingest.lines import Filtered, Rejection
from shoprec.ingest.status import events_committed
from shoprec.ingest.store import JsonStore
from shoprec.ingest.streams import WATERMARKS, Counts
from shoprec.kafka import Publisher
from shoprec.layout import LakeLayout
from shoprec.schema import Event, Source
from shoprec.search import ubi
from shoprec.search.http import NotFound, sigv4
from shoprec.search.opensearch import OpenSearch


@dataclasses.dataclass(frozen=True)
class OpenSearchCollectorSettings(KafkaSettings):
    """Environment of the OpenSearch collector Lambda (``SHOPREC_<FIELD>``)."""

    lake_bucket: str = ""
    opensearch_url: str = ""
    opensearch_auth: str = "none"  # none (the local engine) | iam (SigV4, an AWS domain)
    region: str = ""  # the domain's, for SigV4
    source: str = Source.OPENSEARCH.value
    lag_seconds: int = 600  # how late a document may be indexed and still be read
    page_size: int = 500
    publish_timeout_seconds: int = 60
    env: str = "local"  # the deployment (dev, prod): the metrics' Environment dimension


def _millis(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@dataclasses.dataclass
class UbiCollector:
    settings: OpenSearchCollectorSettings
    s3: Any = None
    publish: Callable[[Sequence[Event]], int] | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        s = self.settings
        self.s3 = self.s3 or aws.client("s3")
        self.publish = self.publish or Publisher(s, s.publish_timeout_seconds)
        self.layout = LakeLayout(s.lake_bucket)
        self.state = JsonStore(self.s3, s.lake_bucket, self.layout.collector_state_prefix(s.source))
        sign = sigv4(s.region) if s.opensearch_auth == "iam" else None
        self.engine = OpenSearch(s.opensearch_url, sign)

    def collect(self) -> dict[str, dict[str, Any]]:
        """One run over both UBI indices: per index, what was read and what became of it."""
        return {index: self.collect_index(index).to_dict() for index in ubi.MAPPINGS}

    def summary(self, run_id: str) -> dict[str, Any]:
        """One run as the DAG's collect step reports a source (``shoprec.ingest.status``):
        documents read = events + quarantined + filtered, and the events committed so far."""
        run = Counts()
        for counts in self.collect().values():
            run.add(Counts.from_dict(counts))
        return {
            "source": self.settings.source,
            "run_id": run_id,
            "objects": {},  # pulled from the engine: no objects
            "pending": [],
            **run.to_dict(),
            "balanced": run.balanced,
            "events_committed": events_committed(self.state),
        }

    def collect_index(self, index: str) -> Counts:
        name = f"{WATERMARKS}{index}.json"
        document = self.state.get(name)
        mark = document.body if document else {"high": None, "seen": {}, "untimed": []}
        known = set(mark["seen"]) | set(mark["untimed"])
        hits = [hit for hit in self._read(index, mark["high"]) if hit["_id"] not in known]
        counts, events, rejected = Counts(), [], []
        seen, untimed, high = dict(mark["seen"]), list(mark["untimed"]), mark["high"]
        for hit in hits:
            counts.lines += 1
            parsed = ubi.parse_document(index, hit["_id"], hit["_source"])
            when = ubi.document_time(hit["_source"])
            if when is None:
                untimed.append(hit["_id"])
            else:
                seen[hit["_id"]] = _millis(when)
                high = max(high or 0, _millis(when))
            if isinstance(parsed, Event):
                counts.events += 1
                events.append(parsed)
            elif isinstance(parsed, Filtered):
                counts.filtered[parsed.reason] += 1
            else:
                counts.quarantined[parsed.reason] += 1
                rejected.append(self._quarantine_record(index, hit, parsed))
        if hits:
            batch = hashlib.sha256("\n".join(h["_id"] for h in hits).encode()).hexdigest()[:16]
            day = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")
            land(self.s3, self.layout, self.settings.source, day, f"{index}-{batch}", events,
                 rejected)  # fmt: skip
            counts.published = self.publish(events) if events else 0
        floor = (high or 0) - self.settings.lag_seconds * 1000
        body = {
            "high": high,
            "seen": {doc_id: ms for doc_id, ms in seen.items() if ms >= floor},
            "untimed": untimed,
            "totals": Counts.from_dict(mark.get("totals")).add(counts).to_dict(),
        }
        if document is None:
            self.state.create(name, body)
        elif hits:
            self.state.replace(document, body)
        return counts

    def _read(self, index: str, high: int | None) -> list[dict[str, Any]]:
        """Hits from ``high - lag`` on (everything on a first run), timestamp order; documents
        without a timestamp first. Raises ``EngineUnavailable`` if the engine cannot answer."""
        untimed = {"bool": {"must_not": {"exists": {"field": "timestamp"}}}}
        if high is None:
            query: dict[str, Any] = {"match_all": {}}
        else:
            since = {"range": {"timestamp": {"gte": high - self.settings.lag_seconds * 1000}}}
            query = {"bool": {"should": [since, untimed], "minimum_should_match": 1}}
        sort = [{"timestamp": {"order": "asc", "missing": "_first"}}, {"_doc": "asc"}]
        pages = self.engine.pages(index, query, sort, self.settings.page_size)
        try:
            return [hit for page in pages for hit in page]
        except NotFound:
            return []  # the index does not exist yet: the shop has not searched

    @staticmethod
    def _quarantine_record(index: str, hit: dict[str, Any], rejection: Rejection) -> dict:
        origin = f"{index}/{hit['_id']}"
        return {
            "reason": rejection.reason,
            "detail": rejection.detail,
            "origin": origin,
            "position": origin,
            "raw": json.dumps(hit["_source"], sort_keys=True)[:65536],
        }


def main(argv: list[str]) -> dict[str, Any]:
    """``python -m shoprec.search.ubi_collector <run_id>``: one run, its summary as JSON."""
    from shoprec import emf  # the Lambda runtime's (Powertools)

    collector = UbiCollector(OpenSearchCollectorSettings.from_env(os.environ))
    summary = collector.summary(argv[0] if argv else "manual")
    emf.emit_counts(summary, collector.settings.source, collector.settings.env)
    print(json.dumps({"collect": summary}), flush=True)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
