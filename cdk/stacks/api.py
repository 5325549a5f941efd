"""The recommendation API: the Chalice app (API Gateway + Lambda) through ``chalice.cdk``.

Every route needs the API key of the usage plan (throttling and a daily quota per key);
the stage throttles and logs access too. The function's role reads ``analytics/models/``
only (the champion pointer and the model folders it names), nothing else of the lake.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from aws_cdk import Annotations, Fn, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from chalice.cdk import Chalice
from constructs import Construct

from components.api_access import ApiAccess
from components.bundles import api_project
from components.nag import suppress
from config import EnvironmentConfig
from shoprec.contracts import ApiSettings
from shoprec.layout import LakeLayout
from shoprec.schema import Source
from stacks.data_lake import DataLakeStack

STAGE = "api"
ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.json_with_standard_fields(
    caller=False,
    http_method=True,
    ip=True,
    protocol=True,
    request_time=True,
    resource_path=True,
    response_length=True,
    status=True,
    user=False,
).to_string()


@contextlib.contextmanager
def _chalice_import_scope() -> Iterator[None]:
    """Chalice packages by importing the project's ``app`` module, and leaves it and the
    project on the import path; this CDK app is a module named ``app`` too. Keep them apart."""
    saved_path, saved_modules = list(sys.path), dict(sys.modules)
    for name in ("app", "chalicelib"):
        sys.modules.pop(name, None)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name in ("app", "chalicelib"):
            sys.modules.pop(name, None)
            if name in saved_modules:
                sys.modules[name] = saved_modules[name]


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        lake: DataLakeStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.role = iam.Role(
            self,
            "FunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSLambdaBasicExecutionRole"
                )
            ],
        )
        # it serves the champion and puts its impressions where their collector reads them
        lake.grant(
            self.role,
            read=[LakeLayout.MODELS_PREFIX],
            write=[LakeLayout.incoming_prefix(Source.IMPRESSIONS.value)],
        )
        self.settings = ApiSettings(lake_bucket=lake.bucket.bucket_name, env=config.name)
        with _chalice_import_scope():
            self.chalice = Chalice(
                self,
                "App",
                source_dir=str(api_project()),
                stage_config={
                    "api_gateway_stage": STAGE,
                    "manage_iam_role": False,
                    "iam_role_arn": self.role.role_arn,
                    "environment_variables": self.settings.to_env(),
                    "lambda_memory_size": 1024,
                    "lambda_timeout": 30,
                },
            )
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=config.removal_policy
        )
        limits = config.api_limits
        rest_api = self.chalice.get_resource("RestAPI")
        rest_api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": limits.rate_per_second,
                    "ThrottlingBurstLimit": limits.burst,
                    "LoggingLevel": "ERROR",
                    "MetricsEnabled": True,
                }
            ],
        )
        rest_api.add_property_override(
            "AccessLogSetting",
            {"DestinationArn": access_logs.log_group_arn, "Format": ACCESS_LOG_FORMAT},
        )
        self.access = ApiAccess(
            self,
            "Access",
            rest_api_id=rest_api.ref,
            stage=Fn.ref("RestAPI.Stage"),  # SAM's reference to the stage it generates
            limits=limits,
            name=config.deployment.stack_name("api"),
        )
        # CDK checks templates before the SAM transform, which is what resolves this Ref
        # (cfn-lint in tests/infra checks it after the transform).
        Annotations.of(self.access.plan).acknowledge_warning(
            "CloudFormation-Validate::F1020", "RestAPI.Stage is SAM's reference to its stage"
        )
        self._account_logging()
        suppress(
            self.role,
            "IAM4",
            "AWSLambdaBasicExecutionRole lets the function write its own log streams only",
        )
        suppress(
            self.role,
            "IAM5",
            "reads objects under analytics/models/ only: the champion pointer and model folders",
        )

    def _account_logging(self) -> None:
        """API Gateway's account-wide role for writing stage logs to CloudWatch."""
        role = iam.Role(
            self,
            "ApiGatewayLogging",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        suppress(
            role,
            "IAM4",
            "AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for API "
            "Gateway's logging role",
        )
