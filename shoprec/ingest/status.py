"""What has been ingested, what is still pending, and the reconciliation of one run.

``pending`` answers the DAG's question "is everything that arrived before the cutoff
ingested?". ``report`` accounts for the object versions that arrived since the previous
report (plus those still pending then): per object and in total, lines read = events +
quarantined + filtered (each by reason), events published, and objects by outcome. A
report whose counts do not balance says so (``balanced: false``), and the run fails on it.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from shoprec.ingest.reader import ObjectRef
from shoprec.ingest.store import JsonStore
from shoprec.ingest.streams import WATERMARKS, Counts, Ledger, Streams
from shoprec.ingest.sweep import incoming_objects
from shoprec.layout import LakeLayout

CURSOR = "reports/cursor.json"
SETTLE_SECONDS = 2  # S3 lists LastModified in whole seconds: leave the current one alone


def settled(cutoff: float) -> float:
    """The latest time whose arrivals a listing made now sees completely: a whole second,
    two seconds in the past at least (an object put later carries a later LastModified)."""
    return float(math.floor(min(cutoff, time.time() - SETTLE_SECONDS)))


def pending(s3: Any, ledger: Ledger, bucket: str, prefix: str, cutoff: float) -> dict[str, Any]:
    """Object versions that arrived by ``cutoff`` and are not accounted for yet."""
    arrived = [r for r in incoming_objects(s3, bucket, prefix) if r.modified <= cutoff]
    known = ledger.names()
    waiting = {r.ledger_name for r in ledger.pending()}
    return {
        "arrived": len(arrived),
        "not_ingested": sorted(r.key for r in arrived if r.ledger_name not in known),
        "tail_waiting": sorted(r.key for r in arrived if r.ledger_name in waiting),
    }


def report(
    s3: Any,
    store: JsonStore,
    ledger: Ledger,
    *,
    bucket: str,
    prefix: str,
    run_id: str,
    cutoff: float,
) -> dict[str, Any]:
    """Account for the versions that arrived in (previous cutoff, ``cutoff``], and those
    still pending at the previous report; remember what is pending now for the next."""
    cutoff = settled(cutoff)
    cursor = store.get(CURSOR)
    since = cursor.body["cutoff"] if cursor else float("-inf")
    carried = [ObjectRef.from_dict(r) for r in (cursor.body["pending"] if cursor else [])]
    window = [r for r in incoming_objects(s3, bucket, prefix) if since < r.modified <= cutoff]
    refs = {r.ledger_name: r for r in [*carried, *window]}
    totals, outcomes, objects, still = Counts(), Counter[str](), [], []
    for ref in refs.values():
        entry = ledger.get(ref)
        if entry is None or entry.body["state"] != "done":
            still.append(ref)
            continue
        counts = Counts.from_dict(entry.body.get("counts"))
        totals.add(counts)
        outcomes[entry.body["outcome"]] += 1
        objects.append(
            {"key": ref.key, "outcome": entry.body["outcome"], "balanced": counts.balanced}
            | counts.to_dict()
        )
    summary = {
        "run_id": run_id,
        "cutoff": cutoff,
        "objects": dict(outcomes) | {"pending": len(still)},
        "pending": sorted(r.key for r in still),
        "oldest_pending_seconds": round(
            cutoff - min((r.modified for r in still), default=cutoff), 1
        ),
        **totals.to_dict(),
        "balanced": totals.balanced and all(o["balanced"] for o in objects),
        "per_object": sorted(objects, key=lambda o: o["key"]),
    }
    store.put(f"reports/{run_id}.json", summary)
    store.put(CURSOR, {"cutoff": cutoff, "pending": [r.to_dict() for r in still]})
    return summary


def events_committed(store: JsonStore) -> int:
    """Events the source's collectors committed so far: what the staging table must hold,
    once staged. An object source counts them in its content streams, a pulled source
    (OpenSearch) in its watermarks."""
    watermarks = (store.get(name) for name in store.names(WATERMARKS))
    bodies = [*Streams(store, "report", 0).all(), *(doc.body for doc in watermarks if doc)]
    return sum(body["totals"]["events"] for body in bodies)


def state_store(s3: Any, bucket: str, source: str) -> JsonStore:
    return JsonStore(s3, bucket, LakeLayout.collector_state_prefix(source))


def summary(s3: Any, bucket: str, source: str, run_id: str, cutoff: float) -> dict[str, Any]:
    """One run's collect report: pending objects, the window's accounting, lake totals."""
    store, prefix = state_store(s3, bucket, source), LakeLayout.incoming_prefix(source)
    ledger = Ledger(store)
    waiting = pending(s3, ledger, bucket, prefix, cutoff)
    accounted = report(
        s3, store, ledger, bucket=bucket, prefix=prefix, run_id=run_id, cutoff=cutoff
    )
    return {
        "source": source,
        **accounted,
        "waiting": waiting,
        "events_committed": events_committed(store),
    }


def reconcile(
    collected: dict[str, Any], staged: dict[str, Any], committed_now: int
) -> dict[str, Any]:
    """The run's counts checked end to end; ``ok`` is False on any mismatch.

    Rows staged in all runs must equal the events every collector committed before staging
    (``collected['events_committed']``). Where collectors kept committing meanwhile
    (``committed_now`` is larger: the continuous AWS deployment), staged rows may lie
    between the two; fewer is always a loss."""
    before = collected["events_committed"]
    rows = staged["table_rows"].get(collected["source"], 0)
    lake_ok = rows == before if committed_now == before else before <= rows <= committed_now
    checks = {
        "collect: lines = events + quarantined + filtered": collected["balanced"],
        "stage: read = staged + duplicates + quarantined": staged["read"]
        == staged["staged"] + staged["duplicates"] + staged["quarantined"],
        f"lake: rows staged ({rows}) = events collected ({before})": lake_ok,
    }
    return {"ok": all(checks.values()), "checks": checks, "in_flight": committed_now - before}


def reconcile_sources(
    collected: list[dict[str, Any]], staged: dict[str, Any], committed_now: Callable[[str], int]
) -> dict[str, Any]:
    """``reconcile`` for each source a run collected (``committed_now(source)``: the events
    its collectors have committed by now), as one result: ``ok`` only if every source is."""
    results = {c["source"]: reconcile(c, staged, committed_now(c["source"])) for c in collected}
    return {
        "ok": all(result["ok"] for result in results.values()),
        "checks": {
            f"{source}: {check}": ok
            for source, result in results.items()
            for check, ok in result["checks"].items()
        },
        "in_flight": {source: result["in_flight"] for source, result in results.items()},
    }


def reconcile_lake(
    s3: Any, bucket: str, collected: list[dict[str, Any]], staged: dict[str, Any]
) -> dict[str, Any]:
    """``reconcile_sources`` against the events each source's collectors have committed by
    now (their state stores in the lake)."""
    return reconcile_sources(
        collected, staged, lambda source: events_committed(state_store(s3, bucket, source))
    )
