"""The local lake as the AWS deployment shapes it: what ``cdk deploy`` creates around the bucket.

A versioned bucket; per source a queue of object-created events with a dead-letter queue
(redrive after ``max_receive`` tries), fed by the bucket's S3 → SQS notification on the
source's incoming prefix (AWS routes the same events through EventBridge: ``cdk/stacks/
ingestion.py``); and the client-hash key as a Secrets Manager secret. Idempotent: ``make up``
and the tests call it on every start.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shoprec.deployment import SOURCES, Deployment
from shoprec.layout import LakeLayout

LOCAL = Deployment("local")


@dataclass(frozen=True)
class LocalLake:
    bucket: str
    queues: dict[str, str]  # source → queue URL
    dead_letters: dict[str, str]  # source → dead-letter queue URL
    secret: str  # the client-hash key's secret name


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def provision(
    s3: Any,
    sqs: Any,
    secretsmanager: Any,
    bucket: str,
    sources: tuple[str, ...] = SOURCES,
    deployment: Deployment = LOCAL,
    visibility_seconds: int = 300,
    max_receive: int = 5,
) -> LocalLake:
    s3.create_bucket(Bucket=bucket)  # idempotent for the owner
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    queues, dead_letters, targets = {}, {}, []
    for source in sources:
        dlq_url, dlq_arn = _queue(sqs, deployment.collector_dead_letter_queue(source), {})
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}
        url, arn = _queue(
            sqs,
            deployment.collector_queue(source),
            {"VisibilityTimeout": str(visibility_seconds), "RedrivePolicy": json.dumps(redrive)},
        )
        queues[source], dead_letters[source] = url, dlq_url
        # LocalStack matches filter rules against the URL-encoded key (seen 2026-12-01: the
        # prefix incoming/source=weblog/ never matches incoming/source%3Dweblog/...); AWS
        # matches the key itself. The encoded prefix is the same filter on LocalStack.
        encoded = quote(LakeLayout.incoming_prefix(source), safe="/")
        prefix = {"Name": "prefix", "Value": encoded}
        targets.append(
            {
                "QueueArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [prefix]}},
            }
        )
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": targets}
    )
    secret = deployment.client_hash_secret
    # An existing key is kept: client ids stay stable across restarts of the same lake.
    with contextlib.suppress(secretsmanager.exceptions.ResourceExistsException):
        secretsmanager.create_secret(Name=secret, SecretString=secrets.token_hex(32))
    return LocalLake(bucket, queues, dead_letters, secret)
