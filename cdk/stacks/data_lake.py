"""The data lake: one bucket, zones as prefixes (shoprec.layout), encrypted, TLS-only."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config import EnvironmentConfig
from shoprec.contracts import CollectorSettings


class DataLakeStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(
            self, "LakeKey", enable_key_rotation=True, removal_policy=config.removal_policy
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=config.removal_policy,
        )
        self.bucket = s3.Bucket(
            self,
            "Lake",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="lake/",
            removal_policy=config.removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    prefix="landing/", expiration=Duration.days(config.landing_expiry_days)
                ),
                s3.LifecycleRule(
                    prefix="quarantine/", expiration=Duration.days(config.quarantine_expiry_days)
                ),
            ],
        )
        self.watermark = ssm.StringParameter(
            self,
            "WeblogWatermark",
            parameter_name=CollectorSettings.__dataclass_fields__["watermark_parameter"].default,
            string_value='{"key": "", "offset": 0}',
            description="Web-log collector watermark (last object and byte offset read)",
        )
