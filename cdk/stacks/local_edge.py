"""LocalStack variant of the edge of the system: the collectors' state and the API's door.

LocalStack's free edition cannot run Lambdas here (no Docker), so this stack deploys what
around them it can: each collector's queue and dead-letter queue and the client-hash key
(``CollectorQueues`` and ``client_hash_key``, the constructs the ingestion stack uses) and
the API key, usage plan and stage, whose REST API forwards to the Chalice app served by
``chalice local`` instead of a Lambda.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigateway
from constructs import Construct

from components.api_access import ApiAccess
from components.collector_state import CollectorQueues, client_hash_key
from components.nag import suppress
from config import EnvironmentConfig
from shoprec.deployment import SOURCES
from stacks.api import STAGE
from stacks.ingestion import VISIBILITY


class LocalEdgeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        upstream: str,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        deployment = config.deployment
        client_hash_key(self, deployment)
        for source in SOURCES:
            CollectorQueues(
                self,
                f"{source.title()}Queues",
                deployment=deployment,
                source=source,
                visibility=VISIBILITY,
            )
        api = apigateway.RestApi(
            self,
            "Api",
            rest_api_name=deployment.stack_name("api"),
            cloud_watch_role=False,
            deploy_options=apigateway.StageOptions(stage_name=STAGE),
        )
        api.root.add_proxy(
            any_method=True,
            default_integration=apigateway.HttpIntegration(
                f"{upstream.rstrip('/')}/{{proxy}}",
                http_method="ANY",
                proxy=True,
                options=apigateway.IntegrationOptions(
                    request_parameters={
                        "integration.request.path.proxy": "method.request.path.proxy"
                    }
                ),
            ),
            default_method_options=apigateway.MethodOptions(
                api_key_required=True,
                request_parameters={"method.request.path.proxy": True},
            ),
        )
        ApiAccess(
            self,
            "Access",
            rest_api_id=api.rest_api_id,
            stage=api.deployment_stage.stage_name,
            limits=config.api_limits,
            name=deployment.stack_name("api"),
        )
        CfnOutput(self, "RestApiId", value=api.rest_api_id)
        for rule in ("APIG1", "APIG2", "APIG3", "APIG4", "APIG6", "COG4"):
            suppress(
                api,
                rule,
                "LocalStack-only stand-in of the front door, to test the key and usage plan; "
                "the deployed API (ApiStack) has stage logging and throttling (asserted in "
                "tests/infra) and the Chalice app validates every request",
            )
