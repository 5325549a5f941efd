"""The collector Lambdas: raw logs in ``incoming/`` → ``landing/`` CSV + the Kafka topic; and
the OpenSearch collector, which pulls the shop's UBI documents from its domain.

Event-driven, one function per source (``shoprec.deployment.SOURCES``): S3 sends "Object
Created" events to EventBridge, a rule per source's prefix puts them on the collector's
queue, and an SQS event source mapping invokes the function with batches (partial batch
failures reported). A scheduled sweep invokes the same function to find what no event
brought and to finalise waiting tails. No reserved concurrency: the collectors' leases in
the lake (``shoprec.ingest.streams``) keep two invocations off the same content, and the DAG
no longer invokes the function (it waits for the ledger). Settings from
``CollectorSettings``; the shared package, Powertools and the Kafka client as layers.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from components.bundles import REPO, lambda_dependencies, shared_package
from components.collector_state import CollectorQueues, client_hash_key
from components.nag import suppress
from components.search_domain import SearchDomain
from config import EnvironmentConfig
from shoprec.contracts import CollectorSettings, KafkaSettings
from shoprec.deployment import SOURCES
from shoprec.kafka import PRODUCER_LIBRARIES, PRODUCER_OPTIONS, producer_permissions
from shoprec.layout import LakeLayout
from shoprec.schema import Source
from shoprec.search.ubi_collector import OpenSearchCollectorSettings
from stacks.data_lake import DataLakeStack
from stacks.streaming import StreamingStack

RUNTIME = lambda_.Runtime.PYTHON_3_12  # mirrors envs/lambda.txt (wheels tested here)
LIBRARIES = (
    *PRODUCER_LIBRARIES,
    "aws-lambda-powertools",
    "typing_extensions",  # Powertools needs it; the runtime's boto3 brings jmespath
    "crawlerdetect",
)
TIMEOUT = Duration.minutes(5)  # CollectorSettings.budget_bytes is read well within it
# AWS: a queue's visibility timeout at least six times its function's timeout.
VISIBILITY = Duration.minutes(30)


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
                "Libraries",
                code=lambda_.Code.from_asset(str(lambda_dependencies(*LIBRARIES))),
                compatible_runtimes=[RUNTIME],
                description="Kafka client, MSK IAM signer, Powertools, CrawlerDetect "
                "(envs/lambda.lock pins)",
            ),
        ]
        self.client_hash_key = client_hash_key(self, config.deployment)
        self.collectors = {source: self._collector(source) for source in SOURCES}
        self.search = SearchDomain(
            self,
            "Search",
            vpc=vpc,
            removal_policy=config.removal_policy,
            log_retention=config.log_retention,
        )
        self.collectors[Source.OPENSEARCH.value] = self._ubi_collector()
        suppress(
            self,
            "L1",
            "python3.12 is the runtime the collectors' wheels (envs/lambda.txt) are built and "
            "tested for; moving runtimes is a deliberate change of envs/lambda.txt",
        )

    def _collector_function(
        self, source: str, settings: KafkaSettings, **options: object
    ) -> lambda_.Function:
        """A collector Lambda: its handler folder, the layers, its settings as environment, in
        the VPC's private subnets, with its own log group (``options``: what differs)."""
        return lambda_.Function(
            self,
            f"{source.title()}Collector",
            function_name=self.config.deployment.collector_function(source),
            runtime=RUNTIME,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(REPO / "lambdas" / f"{source}_collector")),
            layers=self.layers,
            environment=settings.to_env(),
            timeout=TIMEOUT,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            log_group=logs.LogGroup(
                self,
                f"{source.title()}CollectorLogs",
                retention=self.config.log_retention,
                removal_policy=self.config.removal_policy,
            ),
            **options,
        )

    def _collector(self, source: str) -> lambda_.Function:
        deployment = self.config.deployment
        queues = CollectorQueues(
            self,
            f"{source.title()}Queues",
            deployment=deployment,
            source=source,
            visibility=VISIBILITY,
        )
        settings = CollectorSettings(
            kafka_bootstrap=self.streaming.cluster_arn,  # resolved to brokers at run time
            kafka_auth="iam",
            topic=self.streaming.topic,
            topic_retention_hours=self.config.kafka_retention_hours,
            lake_bucket=self.lake.bucket.bucket_name,
            source=source,
            queue_url=queues.objects.queue_url,
            client_hash_secret=self.client_hash_key.secret_name,
            lease_seconds=int(TIMEOUT.to_seconds()),
            env=self.config.name,
        )
        function = self._collector_function(
            source,
            settings,
            memory_size=1024,
            security_groups=[self.streaming.clients],
            dead_letter_queue=queues.dead_letters,  # failed scheduled sweeps
            retry_attempts=2,
        )
        self._route_object_events(source, queues)
        function.add_event_source(
            sources.SqsEventSource(
                queues.objects,
                batch_size=10,
                max_batching_window=Duration.seconds(20),
                report_batch_item_failures=True,
                max_concurrency=self.config.collector_max_concurrency,
            )
        )
        events.Rule(
            self,
            f"{source.title()}Sweep",
            schedule=events.Schedule.rate(Duration.minutes(self.config.sweep_schedule_minutes)),
            targets=[
                targets.LambdaFunction(
                    function,
                    event=events.RuleTargetInput.from_object({"action": "sweep"}),
                    dead_letter_queue=queues.dead_letters,
                    retry_attempts=2,
                )
            ],
        )
        self.lake.grant(
            function,
            read=[LakeLayout.incoming_prefix(source)],
            write=[
                LakeLayout.landing_prefix(source),
                LakeLayout.quarantine_prefix("collect", source),
            ],
            # the state store removes its markers once their object is done (streams.py)
            delete=[LakeLayout.collector_state_prefix(source)],
        )
        queues.objects.grant_send_messages(function)  # continuations and the sweep's finds
        self.client_hash_key.grant_read(function)
        self.streaming.grant_produce(function, producer_permissions(PRODUCER_OPTIONS))
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
            "quarantine/, its state); the MSK topic ARN ends in the cluster's generated UUID",
        )
        return function

    def _ubi_collector(self) -> lambda_.Function:
        """Pulls the UBI documents from the domain when the DAG's collect step invokes it."""
        source = Source.OPENSEARCH.value
        settings = OpenSearchCollectorSettings(
            kafka_bootstrap=self.streaming.cluster_arn,
            kafka_auth="iam",
            topic=self.streaming.topic,
            topic_retention_hours=self.config.kafka_retention_hours,
            lake_bucket=self.lake.bucket.bucket_name,
            opensearch_url=self.search.url,
            opensearch_auth="iam",
            region=Aws.REGION,
            env=self.config.name,
        )
        function = self._collector_function(
            source,
            settings,
            memory_size=512,
            security_groups=[self.streaming.clients, self.search.clients],
        )
        self.lake.grant(
            function,
            write=[
                LakeLayout.landing_prefix(source),
                LakeLayout.quarantine_prefix("collect", source),
                LakeLayout.collector_state_prefix(source),
            ],
        )
        self.search.grant_ubi_read(function)
        self.streaming.grant_produce(function, producer_permissions(PRODUCER_OPTIONS))
        suppress(
            function,
            "IAM4",
            "AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are the scoped "
            "AWS policies for its log streams and its ENIs",
        )
        suppress(
            function,
            "IAM5",
            "object access is limited to the source's zone prefixes; domain access to the UBI "
            "indices' documents; the MSK topic ARN ends in the cluster's generated UUID",
        )
        return function

    def _route_object_events(self, source: str, queues: CollectorQueues) -> None:
        """S3 → EventBridge → the collector's queue, for objects under the source's prefix."""
        events.Rule(
            self,
            f"{source.title()}ObjectCreated",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.lake.bucket.bucket_name]},
                    "object": {"key": [{"prefix": LakeLayout.incoming_prefix(source)}]},
                },
            ),
            targets=[targets.SqsQueue(queues.objects, dead_letter_queue=queues.dead_letters)],
        )
