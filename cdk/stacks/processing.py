"""Glue: the Data Catalog (database, events table from ``shoprec.schema``, the tables each
staging run rebuilds from ``shoprec.tables``), the network
connection that puts the jobs beside MSK, and the Spark jobs: staging (with its checkpoints),
the training set, the compaction of closed days, and the operator's jobs: the replay of landed
days and the Parquet step of an erasure."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from components.bundles import pins, shared_package
from components.glue_job import GlueJob
from components.nag import suppress
from config import EnvironmentConfig
from shoprec.contracts import (
    CompactionJobArgs,
    ErasureJobArgs,
    ReplayJobArgs,
    StagingJobArgs,
    TrainingSetJobArgs,
)
from shoprec.deployment import COLLECTED_SOURCES
from shoprec.kafka import PRODUCER_LIBRARIES, PRODUCER_OPTIONS, producer_permissions
from shoprec.layout import LakeLayout
from shoprec.schema import PARTITION_COLUMNS, table_columns
from shoprec.tables import PRODUCTS, REBUILT
from stacks.data_lake import DataLakeStack
from stacks.streaming import StreamingStack

PARQUET = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}
# What Glue needs to place a job's network interfaces in the VPC: EC2's Describe actions have
# no resource-level permissions (on * only); the others are scoped in _vpc_job_statements.
VPC_DESCRIBE_ACTIONS = [
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeRouteTables",
]
GLUE_ENI_TAG = "aws-glue-service-resource"  # the tag Glue puts on the interfaces it creates
CATALOG_READ = [
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
    "glue:GetUserDefinedFunctions",
]
CATALOG_WRITE = ["glue:CreatePartition", "glue:BatchCreatePartition"]
CATALOG_MOVE = ["glue:UpdatePartition"]  # compaction moves a partition to its new files
CATALOG_DROP = ["glue:DeletePartition"]  # erasure drops a partition it left empty
MIN_WORKERS = 2  # the fewest G.1X workers a Glue 5.0 job runs with


def _columns(columns: tuple[tuple[str, str], ...]) -> list[glue.CfnTable.ColumnProperty]:
    return [glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in columns]


class ProcessingStack(Stack):
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
        deployment = config.deployment
        layout = LakeLayout(lake.bucket.bucket_name)
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(name=deployment.glue_database),
        )
        self.database_name = deployment.glue_database
        self.events_table = self._parquet_table(
            "EventsTable",
            deployment.events_table,
            table_columns(),
            layout.uri(LakeLayout.STAGING_EVENTS_PREFIX),
            PARTITION_COLUMNS,
        )
        # the tables each staging run rebuilds beside the events: search labels, products
        for table in REBUILT:
            self._parquet_table(
                f"{table.name.title().replace('_', '')}Table",
                table.name,
                table.columns,
                layout.uri(table.prefix),
            )

        # Jobs run in the VPC (to reach MSK): the security group must admit itself (Glue's rule).
        group = ec2.SecurityGroup(self, "Jobs", vpc=vpc, description="Glue job workers")
        group.add_ingress_rule(group, ec2.Port.all_tcp(), "Glue workers talk to each other")
        subnet = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets[0]
        security_groups = [group.security_group_id, streaming.clients.security_group_id]
        connection = glue.CfnConnection(
            self,
            "MskConnection",
            catalog_id=Aws.ACCOUNT_ID,
            connection_input=glue.CfnConnection.ConnectionInputProperty(
                name=f"{deployment.prefix}-msk-network",
                description="Puts Glue workers in the VPC beside MSK Serverless",
                connection_type="NETWORK",
                physical_connection_requirements=glue.CfnConnection.PhysicalConnectionRequirementsProperty(
                    availability_zone=subnet.availability_zone,
                    subnet_id=subnet.subnet_id,
                    security_group_id_list=security_groups,
                ),
            ),
        )
        logs_key = kms.Key(
            self, "JobLogsKey", enable_key_rotation=True, removal_policy=config.removal_policy
        )
        logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws-glue/*"
                    }
                },
            )
        )
        security = glue.CfnSecurityConfiguration(
            self,
            "Security",
            name=f"{deployment.prefix}-jobs",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=lake.key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=logs_key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=logs_key.key_arn
                ),
            ),
        )
        package = s3_assets.Asset(self, "SharedPackage", path=str(shared_package("zip")))
        common = {
            "deployment": deployment,
            "package": package,
            "connection": connection.ref,
            "security_configuration": security.ref,
            "workers": config.glue_workers,
        }
        catalog = {"database": deployment.glue_database, "table": deployment.events_table}
        self.staging = GlueJob(
            self,
            "StageEvents",
            job="stage_events",
            arguments=StagingJobArgs,
            values={
                "lake_bucket": lake.bucket.bucket_name,
                "kafka_bootstrap": streaming.cluster_arn,  # resolved to brokers at run time
                "kafka_auth": "iam",
                "topic": streaming.topic,
                **catalog,
            },
            **common,
        )
        self.training_set = GlueJob(
            self,
            "BuildTrainingSet",
            job="build_training_set",
            arguments=TrainingSetJobArgs,
            values={"lake_bucket": lake.bucket.bucket_name, **catalog},
            **common,
        )
        self.compaction = GlueJob(
            self,
            "CompactEvents",
            job="compact_events",
            arguments=CompactionJobArgs,
            values={"lake_bucket": lake.bucket.bucket_name, **catalog},
            **common,
        )
        # Replay (README, "Replay on AWS"): an operator's job, never the DAG's, so it stays out of
        # self.jobs (the jobs MWAA may start). One Python process publishes, as a collector
        # does: the fewest workers Glue 5.0 allows, the collectors' Kafka libraries.
        self.replay = GlueJob(
            self,
            "ReplayLanding",
            job="replay_landing",
            arguments=ReplayJobArgs,
            values={
                "lake_bucket": lake.bucket.bucket_name,
                "kafka_bootstrap": streaming.cluster_arn,
                "kafka_auth": "iam",
                "topic": streaming.topic,
                "topic_retention_hours": config.kafka_retention_hours,
            },
            python_modules=pins("lambda", PRODUCER_LIBRARIES),
            **(common | {"workers": MIN_WORKERS}),
        )
        # it reads landed events and publishes them: nothing else in the lake, the topic only
        lake.grant(self.replay.role, read=[LakeLayout.landing_prefix(s) for s in COLLECTED_SOURCES])
        streaming.grant_produce(self.replay.role, producer_permissions(PRODUCER_OPTIONS))
        # Erasure (README, "Erasure"): an operator's job too, the Parquet step of one request
        self.erasure = GlueJob(
            self,
            "EraseEvents",
            job="erase_events",
            arguments=ErasureJobArgs,
            values={"lake_bucket": lake.bucket.bucket_name, **catalog},
            **common,
        )
        staged = LakeLayout.STAGING_EVENTS_PREFIX
        # It rewrites the Parquet zones that hold the person (only the files that hold them)
        # and deletes the old files with every version and delete marker: a person's rows
        # left in an older version are not erased. Its scratch folder goes the same way.
        rewritten = [
            staged,
            LakeLayout.TRAINING_PREFIX,
            LakeLayout.SEARCH_LABELS_PREFIX,
            LakeLayout.ERASURE_SCRATCH_PREFIX,
        ]
        lake.grant(
            self.erasure.role,
            read=[LakeLayout.ERASURE_REQUESTS_PREFIX],
            write=[LakeLayout.ERASED_IDS_PREFIX],  # the erasure list, which staging reads
            delete=rewritten,
        )
        self.erasure.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:DeleteObjectVersion"],
                resources=[lake.bucket.arn_for_objects(f"{prefix}*") for prefix in rewritten],
            )
        )
        # Spark deletes where it writes: its commit protocol's _temporary files, overwritten
        # outputs, the streaming checkpoint's superseded files.
        lake.grant(
            self.staging.role,
            read=[LakeLayout.PRODUCT_FEED_PREFIX],  # the shop's product feeds
            write=[LakeLayout.run_reports_prefix("stage_events")],  # its counts, for the DAG
            delete=[
                staged,
                *(table.prefix for table in REBUILT),  # overwritten whole by each run
                LakeLayout.quarantine_prefix("stage"),
                LakeLayout.checkpoint_prefix("stage_events"),
            ],
        )
        lake.grant(
            self.training_set.role,
            read=[staged, PRODUCTS.prefix],
            delete=[LakeLayout.TRAINING_PREFIX],
        )
        # it writes a closed day's new files, then deletes the old ones (shoprec.spark.compaction)
        lake.grant(
            self.compaction.role,
            write=[LakeLayout.run_reports_prefix("compact_events")],
            delete=[staged],
        )
        streaming.grant_consume(self.staging.role)
        catalog_arns = [
            self.format_arn(service="glue", resource="catalog"),
            self.format_arn(
                service="glue", resource="database", resource_name=deployment.glue_database
            ),
            *(
                self.format_arn(
                    service="glue",
                    resource="table",
                    resource_name=f"{deployment.glue_database}/{table}",
                )
                for table in (deployment.events_table, *(t.name for t in REBUILT))
            ),
        ]
        for job, actions in (
            (self.staging, CATALOG_READ + CATALOG_WRITE),
            (self.training_set, CATALOG_READ),
            (self.compaction, CATALOG_READ + CATALOG_MOVE),
            (self.erasure, CATALOG_READ + CATALOG_DROP),
        ):
            job.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=catalog_arns))
        for job in (self.staging, self.training_set, self.compaction, self.replay, self.erasure):
            for statement in self._vpc_job_statements(subnet, security_groups):
                job.role.add_to_policy(statement)
            logs_key.grant_encrypt_decrypt(job.role)
            suppress(
                job.role,
                "IAM5",
                "S3 objects only under the job's zone prefixes and its two assets; EC2 Describe "
                "actions exist only on *; network interfaces only in the connection's subnet; "
                "log groups under /aws-glue/ (Glue names them per run)",
            )
        self.jobs = {
            "stage_events": self.staging,
            "build_training_set": self.training_set,
            "compact_events": self.compaction,
        }

    def _parquet_table(
        self,
        construct_id: str,
        name: str,
        columns: tuple[tuple[str, str], ...],
        location: str,
        partitions: tuple[tuple[str, str], ...] = (),
    ) -> glue.CfnTable:
        table = glue.CfnTable(
            self,
            construct_id,
            catalog_id=Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=name,
                table_type="EXTERNAL_TABLE",
                parameters={"classification": "parquet", "EXTERNAL": "TRUE"},
                partition_keys=_columns(partitions) if partitions else None,
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=_columns(columns),
                    location=location,
                    input_format=PARQUET["input_format"],
                    output_format=PARQUET["output_format"],
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=PARQUET["serde"]
                    ),
                ),
            ),
        )
        table.node.add_dependency(self.database)
        return table

    def _vpc_job_statements(
        self, subnet: ec2.ISubnet, security_groups: list[str]
    ) -> list[iam.PolicyStatement]:
        """Glue creates the workers' interfaces in the connection's subnet with its security
        groups, tags them, and deletes them after the run: nowhere else."""

        def ec2_arn(resource: str, name: str) -> str:
            return self.format_arn(service="ec2", resource=resource, resource_name=name)

        interfaces = ec2_arn("network-interface", "*")
        in_subnet = {"ArnEquals": {"ec2:Subnet": ec2_arn("subnet", subnet.subnet_id)}}
        return [
            iam.PolicyStatement(actions=VPC_DESCRIBE_ACTIONS, resources=["*"]),
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    interfaces,
                    ec2_arn("subnet", subnet.subnet_id),
                    *(ec2_arn("security-group", group) for group in security_groups),
                ],
            ),
            iam.PolicyStatement(
                actions=["ec2:DeleteNetworkInterface"], resources=[interfaces], conditions=in_subnet
            ),
            iam.PolicyStatement(
                actions=["ec2:CreateTags", "ec2:DeleteTags"],
                resources=[interfaces],
                conditions=in_subnet
                | {"ForAllValues:StringEquals": {"aws:TagKeys": [GLUE_ENI_TAG]}},
            ),
        ]
