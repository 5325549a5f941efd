"""MSK Serverless: the clickstream topic between the collectors and the staging job.

Clients authenticate with IAM (SASL OAUTHBEARER / AWS_MSK_IAM); nothing else is enabled.
MSK Serverless has no bootstrap-broker attribute in CloudFormation and no topic resource, so
the cluster ARN is published (SSM and the clients' settings) and the clients resolve the
brokers at run time (``kafka:GetBootstrapBrokers``); the collector creates its topic on
first use (``shoprec.kafka.ensure_topic``), the same code that runs against local Kafka.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_msk as msk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config import EnvironmentConfig
from shoprec.contracts import DEFAULT_TOPIC

MSK_IAM_PORT = 9098


class StreamingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        deployment = config.deployment
        self.clients = ec2.SecurityGroup(
            self, "KafkaClients", vpc=vpc, description="Members may connect to the MSK cluster"
        )
        brokers = ec2.SecurityGroup(self, "Brokers", vpc=vpc, description="MSK Serverless")
        brokers.add_ingress_rule(
            self.clients, ec2.Port.tcp(MSK_IAM_PORT), "Kafka clients (IAM auth, TLS)"
        )
        self.cluster = msk.CfnServerlessCluster(
            self,
            "Cluster",
            cluster_name=deployment.kafka_cluster,
            client_authentication=msk.CfnServerlessCluster.ClientAuthenticationProperty(
                sasl=msk.CfnServerlessCluster.SaslProperty(
                    iam=msk.CfnServerlessCluster.IamProperty(enabled=True)
                )
            ),
            vpc_configs=[
                msk.CfnServerlessCluster.VpcConfigProperty(
                    subnet_ids=vpc.select_subnets(
                        subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                    ).subnet_ids,
                    security_groups=[brokers.security_group_id],
                )
            ],
        )
        ssm.StringParameter(
            self,
            "ClusterArn",
            parameter_name=deployment.kafka_cluster_parameter,
            string_value=self.cluster_arn,
            description="ARN of the MSK Serverless cluster (clients resolve its brokers)",
        )
        self.topic = DEFAULT_TOPIC

    @property
    def cluster_arn(self) -> str:
        return self.cluster.attr_arn

    def _arn(self, kind: str, name: str) -> str:
        """``arn:...:<kind>/<cluster name>/<cluster uuid>/<name>`` (topic or group)."""
        uuid = Fn.select(2, Fn.split("/", self.cluster.attr_arn))
        return (
            f"arn:{Aws.PARTITION}:kafka:{Aws.REGION}:{Aws.ACCOUNT_ID}:{kind}/"
            f"{self.cluster.cluster_name}/{uuid}/{name}"
        )

    def _grant(
        self,
        grantee: iam.IGrantable,
        cluster_actions: list[str],
        topic_actions: list[str],
        *extra: iam.PolicyStatement,
    ) -> None:
        statements = [
            iam.PolicyStatement(
                actions=[*cluster_actions, "kafka:GetBootstrapBrokers"],
                resources=[self.cluster_arn],
            ),
            iam.PolicyStatement(actions=topic_actions, resources=[self._arn("topic", self.topic)]),
            *extra,
        ]
        for statement in statements:
            grantee.grant_principal.add_to_principal_policy(statement)

    def grant_produce(self, grantee: iam.IGrantable, permissions: dict[str, list[str]]) -> None:
        """What a producer needs, as ``shoprec.kafka.producer_permissions`` derives it from the
        producer's options (idempotence needs kafka-cluster:WriteDataIdempotently)."""
        self._grant(grantee, permissions["cluster"], permissions["topic"])

    def grant_consume(self, grantee: iam.IGrantable) -> None:
        """Read the topic; Spark's Kafka source uses generated ``spark-kafka-source-*`` groups."""
        self._grant(
            grantee,
            ["kafka-cluster:Connect"],
            ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
            iam.PolicyStatement(
                actions=["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                resources=[self._arn("group", "spark-kafka-source-*")],
            ),
        )
