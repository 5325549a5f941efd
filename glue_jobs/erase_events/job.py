"""Glue job: one erasure request (``shoprec.erasure``) over the Parquet zones.

Staged events: the person's rows found by the SHA-256 of their id or on the erasure list; only
the partitions that hold them are rewritten, a partition left empty is dropped from the
catalogue, and the staged ids join the erasure list (Kafka may still hold those events).
Training sets and search labels: the person's sessions (cookie sessions, and the sessions
built from their client, as the training-set job builds them) are taken out, and each
training set's manifest counts what is left.
"""

from __future__ import annotations

import json
import sys

from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from shoprec import aws, logs
from shoprec.contracts import ErasureJobArgs
from shoprec.layout import SESSION_CHANNELS, TRAINING_SET_MANIFEST, LakeLayout
from shoprec.schema import PARTITION_COLUMNS
from shoprec.spark.erasure import Folders, erase_rows, theirs
from shoprec.spark.session import get_spark
from shoprec.spark.sessions import assign_sessions
from shoprec.spark.staging import partition_location, partition_spec


def main(argv: list[str]) -> dict[str, object]:
    args = ErasureJobArgs.from_argv(argv)
    logger = logs.configure("erase_events", args.request)
    layout, s3 = LakeLayout(args.lake_bucket), aws.client("s3")
    spark = get_spark("erase_events")
    request = json.loads(
        s3.get_object(
            Bucket=layout.bucket, Key=f"{layout.ERASURE_REQUESTS_PREFIX}{args.request}.json"
        )["Body"].read()
    )
    ids_key = f"{layout.ERASED_IDS_PREFIX}{args.request}.txt"
    listed = spark.read.text(layout.uri(ids_key, "s3a")).withColumnRenamed("value", "event_id")
    folders = Folders(s3, layout, f"{layout.ERASURE_SCRATCH_PREFIX}{args.request}/")
    names = [n for n, _ in PARTITION_COLUMNS]
    table = f"`{args.database}`.`{args.table}`"
    try:  # through the catalogue: a compacted partition's files are where it locates them
        staged = spark.table(table)
    except AnalysisException:  # nothing staged yet
        staged = None
    found = None
    if staged is not None:  # one person's rows: held apart from the files rewritten below
        rows = theirs(staged, request["column"], request["digest"], listed)
        found = spark.createDataFrame(rows.collect(), rows.schema)
    counts = {"staging": {"rows": 0, "partitions": 0, "dropped_partitions": 0}}
    for number, partition in enumerate(found.select(*names).distinct().collect() if found else []):
        located = partition_location(spark, table, tuple(partition))
        folder = layout.key(located).rstrip("/") + "/"
        dropped, left = erase_rows(spark, folders, folder, "event_id", found, f"p{number}")
        counts["staging"]["rows"] += dropped
        counts["staging"]["partitions"] += 1
        if not left:
            spec = partition_spec(tuple(partition))
            spark.sql(f"ALTER TABLE {table} DROP IF EXISTS PARTITION ({spec})")
            counts["staging"]["dropped_partitions"] += 1
    if found is not None:  # the erasure list: what landing named, and what staging held
        every = {r[0] for r in listed.collect()} | {
            r[0] for r in found.select("event_id").collect()
        }
        s3.put_object(
            Bucket=layout.bucket,
            Key=ids_key,
            Body="".join(f"{i}\n" for i in sorted(every)).encode(),
        )
        sessions = assign_sessions(found, args.session_gap_minutes)
        sessions = sessions.select("session_id").where(F.col("session_id").isNotNull())
    else:
        sessions = spark.createDataFrame([], "session_id string")
    sessions = sessions.distinct().persist()

    def sessions_in(folder: str) -> object:
        """The person's sessions, and (for a session cookie) the folder's rows named by it."""
        if request["column"] != "session_id":
            return sessions
        frame = spark.read.parquet(layout.uri(folder, "s3a"))
        named = frame.where(F.sha2("session_id", 256) == request["digest"]).select("session_id")
        return sessions.unionByName(named)

    counts["training"] = {"sessions": 0, "sets": 0}
    for run in folders.folders(layout.TRAINING_PREFIX):
        manifest_key = run + TRAINING_SET_MANIFEST
        manifest = json.loads(s3.get_object(Bucket=layout.bucket, Key=manifest_key)["Body"].read())
        changed = False
        for channel in SESSION_CHANNELS:
            folder = f"{run}{channel}/"
            name = f"{run.rstrip('/').rsplit('/', 1)[1]}-{channel}"
            dropped, _ = erase_rows(spark, folders, folder, "session_id", sessions_in(folder), name)
            if dropped:
                manifest["sessions"][channel] -= dropped
                counts["training"]["sessions"] += dropped
                changed = True
        if changed:
            manifest["erasures"] = [*manifest.get("erasures", []), args.request]
            s3.put_object(
                Bucket=layout.bucket, Key=manifest_key, Body=json.dumps(manifest).encode()
            )
            counts["training"]["sets"] += 1
    labels = layout.SEARCH_LABELS_PREFIX
    dropped = 0
    if any(True for _ in folders.keys(labels)):
        dropped, _ = erase_rows(spark, folders, labels, "session_id", sessions_in(labels), "labels")
    counts["search_labels"] = {"rows": dropped}
    folders.clear_scratch()
    counts["versions"] = folders.old_versions
    logs.log(logger, "erased", **counts)
    print(json.dumps({"erase_events": counts}))
    return counts


if __name__ == "__main__":
    main(sys.argv[1:])
