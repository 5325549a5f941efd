"""The VPC every in-VPC component runs in: MSK, the collector Lambdas, Glue jobs, MWAA.

Private subnets with a NAT for AWS APIs and MWAA's package installs; S3 through a gateway
endpoint (the lake's traffic never crosses the NAT). Where the config asks for them, the
AWS APIs the components call are reached through PrivateLink instead of the NAT.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from config import EnvironmentConfig

# APIs called from inside the VPC: SSM (watermarks), KMS (lake key), CloudWatch Logs and
# metrics (every component), SQS (MWAA's Celery queue), Glue (catalogue), STS, SageMaker.
INTERFACE_ENDPOINTS = {
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Glue": ec2.InterfaceVpcEndpointAwsService.GLUE,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
}


class NetworkStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
            ],
            restrict_default_security_group=False,  # a Lambda-backed custom resource otherwise
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(
                    self,
                    "FlowLogs",
                    retention=config.log_retention,
                    removal_policy=config.removal_policy,
                )
            ),
        )
        if config.interface_endpoints:
            for name, service in INTERFACE_ENDPOINTS.items():
                endpoint = self.vpc.add_interface_endpoint(
                    name, service=service, private_dns_enabled=True
                )
                NagSuppressions.add_resource_suppressions(
                    endpoint,
                    [
                        NagPackSuppression(
                            id="CdkNagValidationFailure",
                            reason="EC23 cannot read the ingress CIDR, which is the VPC's own "
                            "(a token at synth): HTTPS from inside the VPC only",
                        )
                    ],
                    apply_to_children=True,
                )

    @property
    def private_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
