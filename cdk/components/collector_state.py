"""What a collector keeps between runs (its watermark) and where failed runs go (a DLQ).

Both are resource types LocalStack's free edition deploys, so the LocalStack variant uses
this same construct.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from components.nag import suppress
from shoprec.collector import Watermark
from shoprec.deployment import Deployment


class CollectorState(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, deployment: Deployment, source: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.watermark = ssm.StringParameter(
            self,
            "Watermark",
            parameter_name=deployment.watermark_parameter(source),
            string_value=json.dumps(asdict(Watermark())),
            description=f"{source} collector watermark (last object and byte offset read)",
        )
        self.key = kms.Key(self, "QueueKey", enable_key_rotation=True)
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        suppress(
            self.dead_letters,
            "SQS3",
            "this queue is the dead-letter queue itself (of the collector's async invocations)",
        )
