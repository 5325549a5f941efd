"""The data lake: one bucket, zones as prefixes (shoprec.layout), encrypted, TLS-only."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from components.buckets import access_log_bucket
from components.lake_access import grant_prefixes
from config import EnvironmentConfig


class DataLakeStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(
            self, "LakeKey", enable_key_rotation=True, removal_policy=config.removal_policy
        )
        self.access_logs = access_log_bucket(self, config.removal_policy)
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
                    prefix="incoming/", expiration=Duration.days(config.incoming_expiry_days)
                ),
                s3.LifecycleRule(
                    prefix="landing/", expiration=Duration.days(config.landing_expiry_days)
                ),
                s3.LifecycleRule(
                    prefix="quarantine/", expiration=Duration.days(config.quarantine_expiry_days)
                ),
                # The bucket is versioned: what expires or is overwritten stays as a noncurrent
                # version until this rule removes it (and the delete markers left behind).
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(
                        config.noncurrent_version_expiry_days
                    ),
                    expired_object_delete_marker=True,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
        )
        # Object events go to EventBridge (the collectors' rules route them): no bucket
        # notification resource, hence no Lambda-backed custom resource and no cross-stack
        # cycle between the bucket and the collectors' queues.
        cfn_bucket = self.bucket.node.default_child
        cfn_bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        ssm.StringParameter(
            self,
            "LakeBucketName",
            parameter_name=config.deployment.lake_bucket_parameter,
            string_value=self.bucket.bucket_name,
            description="Name of the data lake bucket (read by the DAG's aws backend)",
        )

    def grant(
        self,
        grantee: iam.IGrantable,
        *,
        read: Sequence[str] = (),
        write: Sequence[str] = (),
        delete: Sequence[str] = (),
    ) -> None:
        """Object access under the given zone prefixes only, and the key as far as S3 uses it."""
        grant_prefixes(grantee, self.bucket, self.key, read=read, write=write, delete=delete)
