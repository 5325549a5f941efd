"""Who may call the API and how often: one API key, a usage plan with throttling and quota.

Plain API Gateway resources (they deploy on LocalStack too), attached to a REST API's stage
whatever created it (the Chalice app in AWS, the LocalStack variant's proxy locally).
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_apigateway as apigateway
from constructs import Construct

from config import ApiLimits


class ApiAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api_id: str,
        stage: str,
        limits: ApiLimits,
        name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = apigateway.CfnApiKey(
            self, "Key", name=f"{name}-client", enabled=True, description="Client key of the API"
        )
        self.plan = apigateway.CfnUsagePlan(
            self,
            "Plan",
            usage_plan_name=name,
            api_stages=[apigateway.CfnUsagePlan.ApiStageProperty(api_id=rest_api_id, stage=stage)],
            throttle=apigateway.CfnUsagePlan.ThrottleSettingsProperty(
                rate_limit=limits.rate_per_second, burst_limit=limits.burst
            ),
            quota=apigateway.CfnUsagePlan.QuotaSettingsProperty(
                limit=limits.requests_per_day, period="DAY"
            ),
        )
        apigateway.CfnUsagePlanKey(
            self, "PlanKey", key_id=self.key.ref, key_type="API_KEY", usage_plan_id=self.plan.ref
        )
        CfnOutput(
            self,
            "ApiKeyId",
            value=self.key.ref,
            description="aws apigateway get-api-key --include-value --api-key <id>",
        )
