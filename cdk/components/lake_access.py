"""Least-privilege access to zones of the lake: object actions under named prefixes only."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

# Object versions too: a collector reads exactly the version it was notified of.
READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]
WRITE_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload"]
DELETE_ACTIONS = ["s3:DeleteObject"]


def _objects(bucket: s3.IBucket, prefixes: Sequence[str]) -> list[str]:
    return [bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes]


def grant_prefixes(
    grantee: iam.IGrantable,
    bucket: s3.IBucket,
    key: kms.IKey,
    *,
    read: Sequence[str] = (),
    write: Sequence[str] = (),
    delete: Sequence[str] = (),
) -> None:
    """Read ``read`` prefixes, read and write ``write`` prefixes, read, write and delete
    ``delete`` prefixes (where a writer replaces or removes objects); list only below them."""
    readable = [*read, *write, *delete]
    writable = [*write, *delete]
    if not readable:
        raise ValueError("grant at least one prefix")
    statements = [
        iam.PolicyStatement(actions=READ_ACTIONS, resources=_objects(bucket, readable)),
        iam.PolicyStatement(
            actions=["s3:ListBucket", "s3:ListBucketVersions"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in readable]}},
        ),
        iam.PolicyStatement(
            actions=["kms:Decrypt", *(["kms:GenerateDataKey"] if writable else [])],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}},
        ),
    ]
    if writable:
        statements.append(
            iam.PolicyStatement(actions=WRITE_ACTIONS, resources=_objects(bucket, writable))
        )
    if delete:
        statements.append(
            iam.PolicyStatement(actions=DELETE_ACTIONS, resources=_objects(bucket, delete))
        )
    for statement in statements:
        grantee.grant_principal.add_to_principal_policy(statement)
