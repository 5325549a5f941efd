"""Every stack synthesizes offline, passes cdk-nag (AwsSolutions) and cfn-lint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow]
PARTS = (
    "data-lake",
    "network",
    "streaming",
    "ingestion",
    "processing",
    "training",
    "orchestration",
    "api",
    "monitoring",
)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_part_of_the_architecture_has_its_stack(synthesized, env):
    assert set(synthesized[env].templates) == {f"shoprec-{env}-{part}" for part in PARTS}


def test_local_variant_holds_only_what_localstack_deploys(synthesized):
    local = synthesized["local"]
    kinds = {r["Type"] for t in local.templates.values() for r in t["Resources"].values()}
    assert set(local.templates) == {"shoprec-local-data-lake", "shoprec-local-edge"}
    supported = {
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::KMS::Key",
        "AWS::SSM::Parameter",
        "AWS::SQS::Queue",
        "AWS::SQS::QueuePolicy",
        "AWS::SecretsManager::Secret",
    }
    assert kinds - supported <= {
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::ApiKey",
        "AWS::ApiGateway::UsagePlan",
        "AWS::ApiGateway::UsagePlanKey",
    }


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_cdk_nag_finds_nothing_unsuppressed(synthesized, env):
    findings = [
        (level, path, text)
        for level, path, text in synthesized[env].messages
        if "AwsSolutions-" in text or "CdkNagValidationFailure" in text
    ]
    assert findings == []


@pytest.mark.parametrize("env", ["dev", "prod", "local"])
def test_cfn_lint_reports_no_errors(synthesized, env):
    templates = sorted(str(p) for p in Path(synthesized[env].outdir).glob("*.template.json"))
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", *templates],
        capture_output=True,
        text=True,
    )
    # exit status: a bit mask, 2 = errors (4 warnings and 8 informational are allowed)
    errors = [line for line in result.stdout.splitlines() if line.split(":")[5].startswith("E")]
    assert result.returncode & ~(4 | 8) == 0 and errors == [], result.stdout + result.stderr
