"""Erasure rewrites a folder whose files are of two schema versions (staged before and after
``hits`` and ``results``) without losing the newer columns of the rows it keeps."""

from __future__ import annotations

import pytest

from shoprec import aws
from shoprec.layout import LakeLayout
from shoprec.spark.erasure import Folders, erase_rows

pytestmark = [pytest.mark.spark, pytest.mark.integration]


def test_a_folder_of_two_schema_versions_keeps_the_newer_columns(spark, bucket):
    layout = LakeLayout(bucket)
    folder = "staging/search_labels/"
    older = spark.createDataFrame(
        [("q1", "gone"), ("q2", "kept-4")], "query_id string, session_id string"
    )
    newer = spark.createDataFrame(
        [("q3", "gone", 5, "a b c d e"), ("q4", "kept-5", 2, "i7 i9")],
        "query_id string, session_id string, hits int, results string",
    )
    # the older file first: read as one file's schema, the folder would have no hits
    older.coalesce(1).write.parquet(layout.uri(f"{folder}a-version-4/", "s3a"))
    newer.coalesce(1).write.parquet(layout.uri(f"{folder}b-version-5/", "s3a"))
    s3 = aws.client("s3")
    for key in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]:
        if key.endswith(".parquet"):  # both files side by side in the folder itself
            name = key.rsplit("/", 2)[1]
            s3.copy_object(Bucket=bucket, Key=f"{folder}{name}.parquet",
                           CopySource={"Bucket": bucket, "Key": key})  # fmt: skip
        s3.delete_object(Bucket=bucket, Key=key)
    folders = Folders(s3, layout, "scratch/test/")
    erased = spark.createDataFrame([("gone",)], "session_id string")

    assert erase_rows(spark, folders, folder, "session_id", erased, "t") == (2, 2)

    left = {
        r["query_id"]: r.asDict() for r in spark.read.parquet(layout.uri(folder, "s3a")).collect()
    }
    assert set(left) == {"q2", "q4"}
    assert (left["q4"]["hits"], left["q4"]["results"]) == (2, "i7 i9")
    assert left["q2"]["hits"] is None and left["q2"]["session_id"] == "kept-4"
