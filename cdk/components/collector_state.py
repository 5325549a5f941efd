"""What a collector needs around it: its queue of object events (with a dead-letter queue)
and, shared by every collector, the key of the client hash.

The queues and the secret are resource types LocalStack's free edition deploys, so the
LocalStack variant uses these same constructs.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from components.nag import suppress
from shoprec.deployment import Deployment

# A message is retried this many times before it waits in the dead-letter queue (the sweep
# still finds its object: a message there is a warning, not a loss).
MAX_RECEIVES = 5


class CollectorQueues(Construct):
    """The queue a collector consumes (S3 object events, its own continuations) and its DLQ.

    Encrypted with a key EventBridge may use, since EventBridge delivers the S3 events."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        source: str,
        visibility: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "QueueKey", enable_key_rotation=True)
        self.key.grant(
            iam.ServicePrincipal("events.amazonaws.com"), "kms:GenerateDataKey", "kms:Decrypt"
        )
        self.dead_letters = self._queue(
            "DeadLetters", deployment.collector_dead_letter_queue(source)
        )
        self.objects = self._queue(
            "Objects",
            deployment.collector_queue(source),
            visibility_timeout=visibility,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=MAX_RECEIVES, queue=self.dead_letters
            ),
        )
        suppress(
            self.dead_letters,
            "SQS3",
            "this queue is the dead-letter queue itself (of the object queue and of the "
            "collector's scheduled sweeps)",
        )

    def _queue(self, construct_id: str, name: str, **options: Any) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            queue_name=name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            **options,
        )


def client_hash_key(scope: Construct, deployment: Deployment) -> secretsmanager.Secret:
    """The key of the keyed client hash (``shoprec.privacy``), generated at deployment."""
    secret = secretsmanager.Secret(
        scope,
        "ClientHashKey",
        secret_name=deployment.client_hash_secret,
        description="Key of the client hash: client addresses never reach the lake",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=64, exclude_punctuation=True
        ),
    )
    suppress(
        secret,
        "SMG4",
        "rotating this key renames every client (sessions of cookieless shoppers split at the "
        "switch): rotate deliberately, at a day boundary, not on a schedule",
    )
    return secret
