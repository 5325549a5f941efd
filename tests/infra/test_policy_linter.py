"""A policy linter (cloudsplaining) over every IAM policy of the synthesized templates, beside
cdk-nag: each finding is either absent or suppressed below with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow]

# cloudsplaining's risk classes (PolicyDocument properties). The "without_constraints" ones
# flag actions allowed on Resource "*".
CHECKS = (
    "allows_privilege_escalation",
    "allows_data_exfiltration_actions",
    "permissions_management_without_constraints",
    "write_actions_without_constraints",
    "tagging_actions_without_constraints",
    "credentials_exposure",
    "service_wildcard",
)
# (stack part, check, action) → why the finding stays.
SUPPRESSED = {
    ("training", "credentials_exposure", "ecr:GetAuthorizationToken"): (
        "SageMaker pulls the TensorFlow training image with it; the action exists only on * "
        "and the token reaches only repositories whose policies admit the role"
    ),
}


def _policies(template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield properties["PolicyDocument"]
        elif resource["Type"] == "AWS::IAM::Role":
            yield from (policy["PolicyDocument"] for policy in properties.get("Policies", []))


def _resolved(resource: Any) -> Any:
    """CloudFormation functions (Fn::Join, Fn::GetAtt, Ref) name one resource, never "*"."""
    if isinstance(resource, list):
        return [_resolved(r) for r in resource]
    return resource if isinstance(resource, str) else "arn:aws:cloudformation:::resolved"


def findings(synth) -> set[tuple[str, str, str]]:
    from cloudsplaining.scan.policy_document import PolicyDocument

    found = set()
    for stack, template in synth.templates.items():
        part = stack.removeprefix(f"shoprec-{synth.env}-")
        for document in _policies(template):
            statements = [
                s | {"Resource": _resolved(s.get("Resource", "*"))} for s in document["Statement"]
            ]
            linted = PolicyDocument({"Version": "2012-10-17", "Statement": statements})
            for check in CHECKS:
                found |= {(part, check, action) for action in getattr(linted, check)}
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_policy_linter_finds_nothing_unexplained(synthesized, env):
    assert findings(synthesized[env]) - SUPPRESSED.keys() == set()


def test_every_suppression_still_matches_a_finding(dev):
    assert SUPPRESSED.keys() <= findings(dev)  # a stale reason is removed, not kept


def test_a_grant_on_every_resource_is_caught(dev):
    from dataclasses import replace

    statement = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}
    role = {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {}}]}}
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"] = [statement]
    widened = replace(dev, templates={"shoprec-dev-api": {"Resources": {"Wide": role}}})
    assert findings(widened) == {("api", "write_actions_without_constraints", "s3:PutObject")}
