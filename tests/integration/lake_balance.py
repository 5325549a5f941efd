"""What every fault test ends with: each event of the landing zone is staged exactly once or
kept in staging's quarantine, row for row, read through the catalogue as Athena reads it; and
the API serves a complete model."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from tiny_model import write_tiny_model

from shoprec import aws, registry
from shoprec.ingest.engine import land
from shoprec.layout import LakeLayout
from shoprec.local import stages
from shoprec.local.runtime import REPO, venv_python
from shoprec.schema import Event

SOURCE = "weblog"
CATALOGUE = """
import json, sys
from shoprec.local.sql import run
table = sys.argv[1] + ".events"
report = {"rows": {}, "locations": {}, "event_ids": []}
for row in run(f"select event_date, count(*) as n from {table} group by event_date"):
    report["rows"][row["event_date"]] = row["n"]
report["event_ids"] = [row["event_id"] for row in run(f"select event_id from {table}")]
for row in run(f"show partitions {table}"):
    spec = ", ".join(f"{k}='{v}'" for k, v in (p.split("=") for p in row["partition"].split("/")))
    described = run(f"describe formatted {table} partition ({spec})")
    report["locations"][row["partition"]] = next(
        r["data_type"] for r in described if r["col_name"] == "Location"
    )
print(json.dumps(report))
"""


def land_events(bucket: str, events: list[Event], name: str) -> None:
    """``events`` in the landing zone as the collector lands them: a CSV per event date."""
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    by_day: dict[str, list[Event]] = {}
    for event in events:
        by_day.setdefault(event.event_time.date().isoformat(), []).append(event)
    for day, landed in by_day.items():
        land(s3, layout, SOURCE, day, name, landed, [])


def catalogue(database: str) -> dict[str, Any]:
    """The staged table through the catalogue: rows per event date, every event id, and each
    partition's registered location."""
    done = subprocess.run(
        [venv_python("glue"), "-c", CATALOGUE, database],
        env=stages.stage_env(), cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def _rows(bucket: str, prefix: str) -> list[bytes]:
    s3 = aws.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for page in pages
        for o in page.get("Contents", [])
        if not o["Key"].endswith("/_SUCCESS")
    ]


def landed_ids(bucket: str) -> Counter[str]:
    return Counter(
        row["event_id"]
        for body in _rows(bucket, LakeLayout.landing_prefix(SOURCE))
        for row in csv.DictReader(io.StringIO(body.decode()))
    )


def quarantined_ids(bucket: str) -> Counter[str]:
    """Event ids of the records staging kept in its quarantine (their raw Kafka value)."""
    records = (
        json.loads(line)
        for body in _rows(bucket, LakeLayout.quarantine_prefix("stage"))
        for line in body.splitlines()
    )
    return Counter(json.loads(record["raw"]).get("event_id") for record in records)


def assert_balanced(bucket: str, database: str) -> dict[str, Any]:
    """Landing = staging + quarantine, row for row, each event staged at most once; returns
    the catalogue's view."""
    staged = catalogue(database)
    ids = Counter(staged["event_ids"])
    assert not {i: n for i, n in ids.items() if n > 1}, "staged more than once"
    landed = landed_ids(bucket)
    assert landed == ids + quarantined_ids(bucket)
    assert landed, "nothing landed: the balance would hold trivially"
    return staged


def serve_tiny_champion(bucket: str, folder: Path, version: str = "v1") -> str:
    """A complete model published and promoted: what the API serves through a fault."""
    s3, layout = aws.client("s3"), LakeLayout(bucket)
    gate = {"decision": "promote", "serve": "model", "reason": "test", "champion_version": None}
    registry.publish(s3, layout, write_tiny_model(folder / version, version, gate), version)
    assert registry.promote_if_accepted(s3, layout, version)["promoted"]
    return version


def served_version(bucket: str) -> str:
    """The version the API serves, after checking it loads and answers (complete)."""
    from api.chalicelib.champion import ChampionHolder

    model = ChampionHolder(aws.client("s3"), LakeLayout(bucket), refresh_seconds=0).get()
    assert model.recommend(["a"], 3).items
    return model.version
