"""cdk-nag suppressions, each with its reason beside it at the call site."""

from __future__ import annotations

from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct


def suppress(
    construct: IConstruct, rule: str, reason: str, applies_to: list[str] | None = None
) -> None:
    """Suppress ``AwsSolutions-<rule>`` on a construct and its children, for a written reason."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=f"AwsSolutions-{rule}", reason=reason, applies_to=applies_to)],
        apply_to_children=True,
    )
