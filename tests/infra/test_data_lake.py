"""The synthesized data lake: properties LocalStack would drop silently are asserted here."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.infra]


@pytest.fixture(scope="module")
def template(prod):
    from aws_cdk.assertions import Template

    return Template.from_json(prod.template("data-lake"))


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
                        Match.object_like({"Prefix": "incoming/", "ExpirationInDays": 90}),
                        Match.object_like({"Prefix": "landing/", "ExpirationInDays": 365}),
                        Match.object_like({"Prefix": "quarantine/", "ExpirationInDays": 90}),
                        Match.object_like(
                            {
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                "ExpiredObjectDeleteMarker": True,
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                            }
                        ),
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


def test_bucket_name_is_published_where_the_aws_backend_reads_it(template):
    from shoprec.deployment import Deployment

    name = Deployment("prod").lake_bucket_parameter
    template.has_resource_properties("AWS::SSM::Parameter", {"Name": name})


def test_unknown_environment_is_refused():
    from config import config_for

    with pytest.raises(ValueError, match="unknown env"):
        config_for("staging")
