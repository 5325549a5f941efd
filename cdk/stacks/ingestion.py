"""The collector Lambdas: new raw logs in ``incoming/`` → ``landing/`` CSV + the Kafka topic.

One function per source (``shoprec.deployment.SOURCES``), the shared package and the Kafka
client as layers, settings from ``CollectorSettings`` (the handler parses the same class),
a watermark parameter, a dead-letter queue for failed asynchronous runs, and, where the
config asks for one, a schedule (otherwise the DAG's ``collect`` task invokes it).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from components.bundles import REPO, lambda_dependencies, shared_package
from components.collector_state import CollectorState
from components.nag import suppress
from config import EnvironmentConfig
from shoprec.contracts import CollectorSettings
from shoprec.deployment import SOURCES
from shoprec.layout import LakeLayout
from stacks.data_lake import DataLakeStack
from stacks.streaming import StreamingStack

RUNTIME = lambda_.Runtime.PYTHON_3_12  # mirrors envs/lambda.txt (wheels tested here)
KAFKA_CLIENT = ("confluent-kafka", "aws-msk-iam-sasl-signer-python")


class IngestionStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        lake: DataLakeStack,
        streaming: StreamingStack,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config, self.vpc, self.lake, self.streaming = config, vpc, lake, streaming
        self.layers = [
            lambda_.LayerVersion(
                self,
                "SharedPackage",
                code=lambda_.Code.from_asset(str(shared_package("layer"))),
                compatible_runtimes=[RUNTIME],
                description="shoprec, the shared domain package",
            ),
            lambda_.LayerVersion(
                self,
                "KafkaClient",
                code=lambda_.Code.from_asset(str(lambda_dependencies(*KAFKA_CLIENT))),
                compatible_runtimes=[RUNTIME],
                description="confluent-kafka and the MSK IAM signer (envs/lambda.lock pins)",
            ),
        ]
        self.collectors = {source: self._collector(source) for source in SOURCES}
        suppress(
            self,
            "L1",
            "python3.12 is the runtime the collectors' wheels (envs/lambda.txt) are built and "
            "tested for; moving runtimes is a deliberate change of envs/lambda.txt",
        )

    def _collector(self, source: str) -> lambda_.Function:
        deployment = self.config.deployment
        state = CollectorState(self, f"{source.title()}State", deployment=deployment, source=source)
        settings = CollectorSettings(
            kafka_bootstrap=self.streaming.cluster_arn,  # resolved to brokers at run time
            kafka_auth="iam",
            topic=self.streaming.topic,
            lake_bucket=self.lake.bucket.bucket_name,
            source=source,
            watermark_parameter=state.watermark.parameter_name,
        )
        function = lambda_.Function(
            self,
            f"{source.title()}Collector",
            function_name=deployment.collector_function(source),
            runtime=RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(REPO / "lambdas" / f"{source}_collector")),
            layers=self.layers,
            environment=settings.to_env(),
            memory_size=1024,
            timeout=Duration.minutes(5),  # settings.max_objects bounds the work per run
            reserved_concurrent_executions=1,  # one reader moves the watermark at a time
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.streaming.clients],
            dead_letter_queue=state.dead_letters,
            retry_attempts=2,
            log_group=logs.LogGroup(
                self,
                f"{source.title()}CollectorLogs",
                retention=self.config.log_retention,
                removal_policy=self.config.removal_policy,
            ),
        )
        self.lake.grant(
            function,
            read=[LakeLayout.incoming_prefix(source)],
            write=[
                LakeLayout.landing_prefix(source),
                LakeLayout.quarantine_prefix("collect", source),
            ],
        )
        state.watermark.grant_read(function)
        state.watermark.grant_write(function)
        self.streaming.grant_produce(function)
        if self.config.collector_schedule_minutes:
            events.Rule(
                self,
                f"{source.title()}Schedule",
                schedule=events.Schedule.rate(
                    Duration.minutes(self.config.collector_schedule_minutes)
                ),
                targets=[
                    targets.LambdaFunction(
                        function, dead_letter_queue=state.dead_letters, retry_attempts=2
                    )
                ],
            )
        suppress(
            function,
            "IAM4",
            "AWSLambdaBasicExecutionRole (its own log streams) and AWSLambdaVPCAccessExecutionRole "
            "(ENIs in the VPC, which the EC2 API only grants on *) are the scoped AWS policies",
        )
        suppress(
            function,
            "IAM5",
            "object access is limited to the source's zone prefixes (incoming/, landing/, "
            "quarantine/); the MSK topic ARN ends in the cluster's generated UUID",
        )
        return function
