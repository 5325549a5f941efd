"""``make erase``: a session's and a cookieless client's events gone from every zone of a
lake built by the real collector, staging and training-set jobs (LocalStack S3 and SQS,
Kafka, Spark), everyone else's rows all still there (exact counts per zone), no older version
left, an audit record, a forced retrain, and neither the collector nor a staging run rewound
over Kafka bringing anything back."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter
from datetime import timedelta

import pytest

from shoprec import aws
from shoprec.continuous import TrainingPolicy, decide_for_lake
from shoprec.contracts import StagingJobArgs, TrainingSetJobArgs
from shoprec.erasure import Person, erase
from shoprec.layout import LakeLayout
from shoprec.local import stages
from shoprec.local.runtime import REPO, venv_python
from shoprec.weblog.render import render_line
from tests.integration.ingestion import START, ingestion, text

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ERASED, KEPT, OTHER = "s-erased", "s-kept", "s-other"
CLIENT_ADDRESS = "10.0.0.4"  # a shopper without a session cookie

COUNTS = """
import json, sys
from shoprec.local.sql import run
bucket, database = sys.argv[1], sys.argv[2]
def per_session(source):
    query = f"select session_id, count(*) as n from {source} group by session_id"
    return {row["session_id"]: row["n"] for row in run(query)}
report = {"table": per_session(f"{database}.events"),
          "files": per_session(f"parquet.`s3a://{bucket}/staging/events/`")}
for channel in ("train", "validation", "latest"):
    report[channel] = per_session(f"parquet.`s3a://{bucket}/staging/training/t1/{channel}/`")
print(json.dumps(report))
"""


def _lines(session: str | None, client: str, minute: int) -> list[str]:
    """Three product views, an asset (filtered) and an unknown page (quarantined)."""
    at = START + timedelta(minutes=minute)
    paths = ["/product/1", "/product/2", "/product/3", "/static/app.css", "/nowhere"]
    return [
        render_line(at + timedelta(seconds=n), session, path, client=client)
        for n, path in enumerate(paths)
    ]


def _spark_counts(bucket: str, database: str) -> dict:
    done = subprocess.run(
        [venv_python("glue"), "-c", COUNTS, bucket, database],
        env=stages.stage_env(), cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def _publish_rejected(bootstrap: str, topic: str) -> None:
    """Records staging quarantines (no event fields), one naming each of two sessions."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for session in (ERASED, KEPT):
        producer.produce(topic, json.dumps({"v": 2, "session_id": session}).encode())
    producer.flush(30)


def _every_version(s3, bucket: str, prefix: str) -> list[bytes]:
    """The bytes of every version of every object under ``prefix`` (gzip opened)."""
    bodies = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])[
                "Body"
            ].read()
            bodies.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    return bodies


def _versions(s3, bucket: str, prefix: str) -> Counter[str]:
    """Versions and delete markers per key (not of the empty folder markers Spark's S3
    connector keeps creating and deleting)."""
    listed = Counter()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if not entry["Key"].endswith("/"):
                listed[entry["Key"]] += 1
    return listed


def _erase(s3, layout: LakeLayout, person: Person, ing, database: str) -> dict:
    return erase(
        s3,
        layout,
        person,
        {"weblog": ing.collector.parse},
        lambda args: stages.run_glue_job("erase_events", args),
        database=database,
    )


def test_an_erased_session_and_client_are_gone_from_every_zone_and_stay_gone(cloud, unique):
    ing = ingestion(cloud, unique)
    s3, bucket = aws.client("s3"), ing.lake.bucket
    layout = LakeLayout(bucket)
    # One log delivered twice, the second time longer: the first version is an older version.
    first = _lines(ERASED, "10.0.0.1", 0) + _lines(KEPT, "10.0.0.2", 1)
    key = ing.put("web-01/access.log", text(first))
    ing.drain()
    cookieless = _lines(None, CLIENT_ADDRESS, 4)  # its sessions are built from its client
    whole = first + _lines(OTHER, "10.0.0.3", 2) + _lines(ERASED, "10.0.0.1", 3) + cookieless
    ing.put("web-01/access.log", text(whole))
    ing.drain()
    _publish_rejected(cloud["SHOPREC_KAFKA_BOOTSTRAP"], ing.settings.topic)
    database = f"erase_{unique}"
    staging = StagingJobArgs(
        lake_bucket=bucket,
        kafka_bootstrap=cloud["SHOPREC_KAFKA_BOOTSTRAP"],
        run_id="r1",
        topic=ing.settings.topic,
        database=database,
    )
    staged = stages.run_glue_job("stage_events", staging.to_argv())
    assert (staged["staged"], staged["quarantined"]) == (15, 2)
    training = TrainingSetJobArgs(lake_bucket=bucket, run_id="t1", database=database)
    stages.run_glue_job("build_training_set", training.to_argv())
    before = _spark_counts(bucket, database)
    assert before["table"] == before["files"] == {ERASED: 6, KEPT: 3, OTHER: 3, "null": 3}
    sessions = Counter(s for c in ("train", "validation", "latest") for s in before[c])
    assert sessions[ERASED] > 0 and sessions[KEPT] + sessions[OTHER] > 0
    assert any(s.startswith("inferred-") for s in sessions)
    landed = Counter(row["session_id"] for row in ing.landed())
    assert landed == {ERASED: 6, KEPT: 3, OTHER: 3, "": 3}
    client = next(row["client_id"] for row in ing.landed() if not row["session_id"])

    by_session = _erase(s3, layout, Person("session", ERASED), ing, database)
    by_client = _erase(s3, layout, Person("client", client), ing, database)

    # Exact counts, zone by zone: their rows gone, everyone else's all there.
    assert Counter(row["session_id"] for row in ing.landed()) == {KEPT: 3, OTHER: 3}
    after = _spark_counts(bucket, database)
    assert after["table"] == after["files"] == {KEPT: 3, OTHER: 3}
    for channel in ("train", "validation", "latest"):
        kept = {s: n for s, n in before[channel].items() if s in (KEPT, OTHER)}
        assert after[channel] == kept
    current = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
    theirs = [line in cookieless or ERASED in line for line in whole]
    assert current == [
        " " * len(line) if t else line for line, t in zip(whole, theirs, strict=True)
    ]
    quarantined = sorted(q["raw"].split('"')[-2] for q in ing.quarantined())
    assert quarantined == [f"session={KEPT}", f"session={OTHER}"]
    # No version of anything the pipeline wrote still holds them (Parquet: Spark counted).
    assert _versions(s3, bucket, "incoming/") == {key: 1}
    traces = (ERASED.encode(), client.encode(), CLIENT_ADDRESS.encode())
    for prefix in ("incoming/", "landing/", "quarantine/", "state/", "reports/"):
        bodies = _every_version(s3, bucket, prefix)
        assert bodies and not [b for b in bodies if any(t in b for t in traces)], prefix
    for prefix in ("landing/", "quarantine/", layout.STAGING_EVENTS_PREFIX + "source="):
        versions = _versions(s3, bucket, prefix)
        assert versions and set(versions.values()) == {1}, prefix

    for person, record in (
        (Person("session", ERASED), by_session),
        (Person("client", client), by_client),
    ):
        audit = s3.get_object(
            Bucket=bucket, Key=f"{layout.ERASURE_AUDIT_PREFIX}{record['request']}.json"
        )["Body"].read()
        assert person.value.encode() not in audit
        assert json.loads(audit) == record and record["sha256"] == person.digest
    zones = by_session["zones"]
    assert zones["landing"]["records"] == 6 and zones["incoming"]["records"] == 10
    assert zones["incoming"]["versions"] == 2  # the first delivery and the longer one
    assert zones["quarantine"]["records"] == 3  # two unknown pages, one staging rejection
    assert zones["staging"]["rows"] == 6
    zones = by_client["zones"]  # three views, an asset, an unknown page
    assert (zones["landing"]["records"], zones["incoming"]["records"]) == (3, 5)
    assert (zones["quarantine"]["records"], zones["staging"]["rows"]) == (1, 3)
    assert zones["training"]["sessions"] == sum(
        n for c in ("train", "validation", "latest") for s, n in before[c].items()
        if s.startswith("inferred-")
    )  # fmt: skip
    policy = TrainingPolicy()
    decision = decide_for_lake(s3, layout, policy, {"new_sessions": 0, "item_drift": 0.0})
    assert decision.train and "erasure" in decision.reason
    # A model published after the erasure answers it: the marker goes, novelty decides again.
    manifest = layout.model_prefix("v-after") + "manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest, Body=json.dumps({"train_seconds": 60}).encode())
    decision = decide_for_lake(s3, layout, policy, {"new_sessions": 0, "item_drift": 0.0})
    assert "erasure" not in decision.reason
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix=layout.RETRAIN_KEY)

    # The collector finds nothing new in the rewritten log, even with no ledger entry for it.
    ing.sweep()
    ing.drain()
    assert ing.entry(key)["outcome"] == "erased"
    ing.ledger.store.delete("objects/" + ing.ref(key).ledger_name + ".json")
    ing.sweep()
    ing.drain()
    assert ing.entry(key)["outcome"] == "erased"
    assert Counter(row["session_id"] for row in ing.landed()) == {KEPT: 3, OTHER: 3}
    # Kafka still holds the erased events: staging rewound to the topic's start skips them
    # (the records it rejects, which carry no event id, it quarantines again: README).
    for old in _versions(s3, bucket, layout.checkpoint_prefix("stage_events")):
        s3.delete_object(Bucket=bucket, Key=old)
    again = stages.run_glue_job("stage_events", staging.to_argv())
    assert (again["staged"], again["table_rows"]) == (0, {"weblog": 6})
