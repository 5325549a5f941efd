"""The shop's OpenSearch Service domain (UBI indices) and least-privilege access to it.

In the VPC's private subnets, HTTPS only, encrypted at rest and between nodes; clients reach
it through its security group on 443 and sign with SigV4 (IAM identity policies: no
resource policy opens it). ``grant_ubi_read`` lets a role read exactly the UBI indices with
a point in time: GET/POST on ``ubi_*`` and on ``_search`` (a PIT search names no index),
DELETE on ``_search/point_in_time`` (closing its PIT).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from components.nag import suppress
from shoprec.search import ubi

VERSION = opensearch.EngineVersion.OPENSEARCH_2_19  # what runs locally (tools/jars/opensearch)
LOG_POLICY_WRITER = "AWS679f53fac002430cb0da5b7982bd2287"  # CDK's AwsCustomResource singleton


class SearchDomain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        removal_policy: RemovalPolicy,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.clients = ec2.SecurityGroup(self, "Clients", vpc=vpc, description="UBI readers")
        group = ec2.SecurityGroup(self, "DomainGroup", vpc=vpc, description="OpenSearch domain")
        group.add_ingress_rule(self.clients, ec2.Port.tcp(443), "HTTPS from its clients")
        subnet = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets[0]
        self.domain = opensearch.Domain(
            self,
            "Domain",
            version=VERSION,
            vpc=vpc,
            vpc_subnets=[ec2.SubnetSelection(subnets=[subnet])],
            security_groups=[group],
            capacity=opensearch.CapacityConfig(
                data_nodes=1, data_node_instance_type="t3.small.search", multi_az_with_standby_enabled=False
            ),
            ebs=opensearch.EbsOptions(volume_size=10),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                app_log_enabled=True,
                slow_index_log_enabled=True,
                slow_search_log_group=logs.LogGroup(self, "SlowSearch", retention=log_retention, removal_policy=removal_policy),
                app_log_group=logs.LogGroup(self, "App", retention=log_retention, removal_policy=removal_policy),
                slow_index_log_group=logs.LogGroup(self, "SlowIndex", retention=log_retention, removal_policy=removal_policy),
            ),
            removal_policy=removal_policy,
        )  # fmt: skip
        suppress(self.domain, "OS3", "in the VPC, reached through its security group only")
        suppress(
            self.domain, "OS4", "one data node: the UBI indices are small; no dedicated masters"
        )
        suppress(self.domain, "OS5", "IAM identity policies with SigV4; no anonymous access policy")
        suppress(
            self.domain, "OS7", "one node in one zone: UBI documents can be re-sent by clients"
        )
        suppress(self.domain, "IAM5", "CDK's log-group policy resource: PutResourcePolicy on *")
        # The log groups' resource policy is written by CDK's singleton custom resource
        log_policy_writer = Stack.of(self).node.find_child(LOG_POLICY_WRITER)
        suppress(log_policy_writer, "IAM4", "CDK's custom resource: the basic execution role")

    @property
    def url(self) -> str:
        return f"https://{self.domain.domain_endpoint}"

    def grant_ubi_read(self, grantee: iam.IGrantable) -> None:
        arn = self.domain.domain_arn
        indices = [f"{arn}/{index}" for index in ubi.MAPPINGS] + [
            f"{arn}/{index}/*" for index in ubi.MAPPINGS
        ]
        statements = [
            iam.PolicyStatement(
                actions=["es:ESHttpGet", "es:ESHttpPost"], resources=[*indices, f"{arn}/_search"]
            ),
            iam.PolicyStatement(
                actions=["es:ESHttpDelete"], resources=[f"{arn}/_search/point_in_time"]
            ),
        ]
        for statement in statements:
            grantee.grant_principal.add_to_principal_policy(statement)
