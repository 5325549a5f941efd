"""``python -m shoprec.replay --from <date> --to <date>``: publish the landing zone's events of
those ingest dates to the topic again, as the collector published them.

For a staging outage longer than the topic's retention: the landing zone keeps every event the
collector made (``landing/source=<source>/ingest_date=<date>/``), and Kafka does not. A replay
is idempotent where it counts: events keep their ids, and the staging job drops every id
already staged, so replaying days that were staged adds no rows. ``make replay`` runs it on
the local cloud; on AWS the Glue job ``replay_landing`` runs the same ``run`` against the
deployment's lake and MSK (README, "Replay on AWS").
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from shoprec import aws
from shoprec.cli import parse_with_lake
from shoprec.contracts import ContractError, KafkaSettings, ReplayJobArgs
from shoprec.kafka import Publisher
from shoprec.layout import LakeLayout
from shoprec.schema import Event


def landing_events(s3: Any, layout: LakeLayout, source: str, day: date) -> Iterator[list[Event]]:
    """The events of each landing CSV of one ingest date, a list per file."""
    prefix = layout.landing_prefix(source) + f"ingest_date={day.isoformat()}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=layout.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=layout.bucket, Key=obj["Key"])["Body"].read().decode()
            yield [Event.from_record(row) for row in csv.DictReader(io.StringIO(body))]


def replay(
    s3: Any, layout: LakeLayout, publish: Publisher, source: str, first: date, last: date
) -> dict[str, int]:
    counts = {"files": 0, "events": 0}
    day = first
    while day <= last:
        for events in landing_events(s3, layout, source, day):
            counts["files"] += 1
            counts["events"] += publish(events)
        day += timedelta(days=1)
    return counts


def run(args: ReplayJobArgs) -> dict[str, Any]:
    """One replay, as ``make replay`` and the AWS job (``glue_jobs/replay_landing``) run it."""
    first, last = args.days()
    publish = Publisher(args.kafka())
    layout = LakeLayout(args.lake_bucket)
    counts = replay(aws.client("s3"), layout, publish, args.source, first, last)
    return {"from": args.first, "to": args.last, **counts}


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="first", required=True)
    parser.add_argument("--to", dest="last", required=True)
    parser.add_argument("--source", default="weblog")
    args = parse_with_lake(parser, argv)
    kafka = dataclasses.asdict(KafkaSettings.from_env(os.environ))
    job = ReplayJobArgs(
        lake_bucket=args.bucket,
        run_id="replay",
        first=args.first,
        last=args.last,
        source=args.source,
        **kafka,
    )
    try:
        summary = run(job)
    except ContractError as error:
        parser.error(str(error))
    print(json.dumps({"replay": summary}))
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
