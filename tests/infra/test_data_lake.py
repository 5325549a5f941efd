"""The synthesized data lake: properties LocalStack would drop silently are asserted here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.infra]
sys.path.insert(0, str(Path(__file__).parents[2] / "cdk"))


@pytest.fixture(scope="module")
def template():
    import aws_cdk as cdk
    from app import build
    from aws_cdk.assertions import Template

    app = build(cdk.App(context={"env": "prod"}))
    return Template.from_stack(app.node.find_child("shoprec-prod-data-lake"))


def test_lake_bucket_is_kms_encrypted_versioned_and_private(template):
    from aws_cdk.assertions import Match

    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": Match.object_like(
                                {"SSEAlgorithm": "aws:kms"}
                            ),
                            "BucketKeyEnabled": True,
                        }
                    )
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "lake/"}),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like({"Prefix": "landing/", "ExpirationInDays": 365}),
                        Match.object_like({"Prefix": "quarantine/", "ExpirationInDays": 90}),
                    ]
                )
            },
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_lake_policy_denies_plain_http(template):
    from aws_cdk.assertions import Match

    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_watermark_parameter_name_is_the_collectors_default(template):
    from shoprec.contracts import CollectorSettings

    name = CollectorSettings(kafka_bootstrap="x").watermark_parameter
    template.has_resource_properties("AWS::SSM::Parameter", {"Name": name})


def test_unknown_environment_is_refused():
    from config import config_for

    with pytest.raises(ValueError, match="unknown env"):
        config_for("staging")
