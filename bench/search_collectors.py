"""Benchmark: the collectors of the search sources, through the DAG's local collect stage.

Starts its own local cloud and engines (run folder and ports from the environment: ``make
bench`` gives it ``.run/bench``), then:

* solr: one object of Solr request-log lines (the 9.10 format, tagged as the shop tags its
  searches) through the Solr collector's Lambda handler (parse, landing CSV, publish, commit);
* opensearch: UBI documents indexed into the real OpenSearch, pulled by the OpenSearch
  collector (PIT pages, landing CSV, publish, watermark).

Events per second of each (process start included). JSON on stdout; progress on stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from shoprec import aws
from shoprec.layout import LakeLayout
from shoprec.local import search_servers, services, stages
from shoprec.local.runtime import Ports
from shoprec.search import ubi
from shoprec.search.opensearch import OpenSearch
from shoprec.search.request import QUERY_ID_PARAM, SESSION_PARAM

SOLR_LINES = 200_000
UBI_QUERIES = 40_000
START = datetime(2026, 11, 1, tzinfo=UTC)


def _progress(message: str) -> None:
    print(f"[bench search] {message}", file=sys.stderr, flush=True)


def solr_log(lines: int) -> str:
    """Request-log lines as Solr 9.10 writes them: tagged searches, one in ten finding nothing."""
    rows = []
    for n in range(lines):
        when = START + timedelta(milliseconds=250 * n)
        params = f"q=aurora+lamp+{n % 97}&rows=10&fl=id&wt=json&{SESSION_PARAM}=s{n // 5}"
        rows.append(
            f"{when:%Y-%m-%d %H:%M:%S}.{when.microsecond // 1000:03d} INFO  (qtp1-{n % 40}-null-{n})"
            f" [ x:products t:null-{n}] o.a.s.c.S.Request webapp=/solr path=/select "
            f"params={{{params}&{QUERY_ID_PARAM}=q{n}}} hits={0 if n % 10 == 0 else 12} status=0 "
            f"QTime={n % 17}\n"
        )
    return "".join(rows)


def _rate(summary: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {
        "lines": summary["lines"],
        "events": summary["events"],
        "balanced": summary["balanced"],
        "seconds": round(seconds, 1),
        "events_per_second": round(summary["events"] / seconds),
    }


def bench_solr(bucket: str) -> dict[str, Any]:
    key = LakeLayout.incoming_prefix("solr") + "solr-bench/solr_requests.log"
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=solr_log(SOLR_LINES).encode())
    _progress(f"solr: {SOLR_LINES:,} request-log lines delivered; collecting")
    started = time.monotonic()
    summary = stages.collect("bench-solr", source="solr")
    return _rate(summary, time.monotonic() - started)


def bench_opensearch(engine: OpenSearch) -> dict[str, Any]:
    engine.ensure_ubi_indices()
    for first in range(0, UBI_QUERIES, 5_000):
        documents = []
        for n in range(first, first + 5_000):
            when = START + timedelta(seconds=n)
            documents.append((f"q{n}", ubi.query_document(f"q{n}", "lamp", ["1"], f"s{n}", when)))
        engine.index(ubi.QUERIES, documents)
    clicks = [
        (None, ubi.action_document("click", f"q{n}", "1", 1, f"s{n}", START + timedelta(seconds=n)))
        for n in range(0, UBI_QUERIES, 2)
    ]
    engine.index(ubi.EVENTS, clicks)
    _progress(f"opensearch: {UBI_QUERIES + len(clicks):,} UBI documents indexed; collecting")
    started = time.monotonic()
    summary = stages.collect("bench-opensearch", source="opensearch")
    return _rate(summary, time.monotonic() - started)


def main() -> None:
    ports = Ports.from_env()
    os.environ.update(services.up(ports))
    try:
        result = {
            "solr": bench_solr(os.environ["SHOPREC_LAKE_BUCKET"]),
            "opensearch": bench_opensearch(OpenSearch(search_servers.opensearch_url(ports))),
        }
    finally:
        services.down(ports)
    print(json.dumps({"search_collectors": result}, indent=2))


if __name__ == "__main__":
    main()
