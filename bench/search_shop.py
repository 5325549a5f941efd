"""The synthetic demo shop's days, searches included, as the web-log collector publishes them.

Runs in the Lambda runtime with its own Solr and OpenSearch (run folder and ports from the
environment). Each of the demo's ``SYNTHETIC_DAYS`` days is ``generate_shop``'s browsing
sessions plus ``SEARCH_SESSIONS`` shoppers searching through the real engines
(``Shop.search``, exactly as ``make demo`` delivers them). The demo's shoppers who see the API's
recommendations need a served champion and are left out. Every web-server log line goes
through the web-log collector's parser; the events it publishes are written as JSON lines
under ``OUT_DIR/records/``, a file per log, and the lines and events per type to
``OUT_DIR/counts.json``.

    python bench/search_shop.py OUT_DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections import Counter
from pathlib import Path

from shoprec.local import process, search_servers
from shoprec.local.runtime import Ports
from shoprec.local.shop import SYNTHETIC_DAYS, Shop, by_day
from shoprec.privacy import ClientHasher
from shoprec.schema import Event
from shoprec.sources import LogFiles, generate_shop
from shoprec.weblog.parse import WebLogParser


def _progress(message: str) -> None:
    print(f"[bench search_shop] {message}", file=sys.stderr, flush=True)


def shop_logs() -> LogFiles:
    """Every web-server log of the synthetic shop's days, the searching storefronts' included."""
    engines = search_servers.services(Ports.from_env())
    for engine in engines:
        process.start(engine)
    try:
        logs = LogFiles()
        for day, browsing in by_day(generate_shop(days=SYNTHETIC_DAYS)).items():
            searching = Shop.search(day)
            logs.files |= browsing.files | searching.files
            logs.lines += browsing.lines + searching.lines
            _progress(f"{day}: {browsing.lines:,} browsing and {searching.lines:,} search lines")
        return logs
    finally:
        for engine in reversed(engines):
            process.stop(engine)


def publish(logs: LogFiles, out: Path) -> Counter:
    """The events the web-log collector publishes from ``logs``, per file; counts per type."""
    parse = WebLogParser.create("auto", ClientHasher(b"bench-search-shop"))
    counts: Counter = Counter()
    out.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(logs.files.items()):
        key, offset, records = f"incoming/source=weblog/{name}", 0, []
        for line in text.splitlines(keepends=True):
            position = f"{key}@{offset}"
            event = parse(line.rstrip("\n"), position, position)
            offset += len(line.encode())
            counts["lines"] += 1
            if isinstance(event, Event):
                counts[event.event_type] += 1
                records.append(event.to_json() + "\n")
        (out / f"{name.replace('/', '-')}.jsonl").write_text("".join(records))
    return counts


def main(out: Path) -> None:
    with contextlib.redirect_stdout(sys.stderr):  # the engines' start and stop lines
        logs = shop_logs()
    counts = publish(logs, out / "records")
    (out / "counts.json").write_text(json.dumps({"days": SYNTHETIC_DAYS} | dict(counts)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="the folder for records/ and counts.json")
    main(parser.parse_args().out)
