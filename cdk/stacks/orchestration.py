"""MWAA: the Airflow environment that runs the DAG against the deployed resources.

Its bucket holds ``dags/`` (the DAGs and the shared package beside them) and
``requirements.txt`` (MWAA's constraints for the pinned Airflow); configuration options
(``shoprec.deployment.Deployment.airflow_options``) select the DAG's ``aws`` backend, its
environment and the SNS topic its failure notifier publishes to. The execution role may make
exactly the calls the DAG's operators make (``shoprec.orchestration.permissions``), on the
deployed jobs, functions, training jobs, model packages and topic.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sns as sns
from constructs import Construct

from components.buckets import access_log_bucket
from components.bundles import REPO, mwaa_bucket, pins
from components.nag import suppress
from config import EnvironmentConfig
from shoprec.layout import LakeLayout
from shoprec.metrics import NAMESPACE
from shoprec.orchestration import permissions
from stacks.data_lake import DataLakeStack
from stacks.processing import ProcessingStack
from stacks.training import TrainingStack

DAGS_FOLDER = "dags"
REQUIREMENTS = "requirements.txt"
MWAA_METRICS_NAMESPACE = "AmazonMWAA"  # where MWAA publishes its environment metrics


def airflow_version() -> str:
    return pins("airflow", ["apache-airflow"])[0].split("==")[1]


def requirements() -> str:
    """MWAA's constraints for the pinned Airflow (Python 3.12 image) and the provider pin,
    with aiobotocore (its extra: the constraints pick the version), on which the deferrable
    operators wait in the triggerer."""
    constraints = (
        "https://raw.githubusercontent.com/apache/airflow/"
        f"constraints-{airflow_version()}/constraints-3.12.txt"
    )
    return (
        f'--constraint "{constraints}"\n'
        + pins("airflow", ["apache-airflow-providers-amazon"])[0].replace("==", "[aiobotocore]==")
        + "\n"
    )


class OrchestrationStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        lake: DataLakeStack,
        processing: ProcessingStack,
        training: TrainingStack,
        collectors: dict[str, lambda_.IFunction],
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        deployment = config.deployment
        self.bucket = s3.Bucket(
            self,
            "Airflow",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,  # MWAA requires a versioned bucket
            server_access_logs_bucket=access_log_bucket(self, config.removal_policy),
            removal_policy=config.removal_policy,
        )
        upload = s3deploy.BucketDeployment(
            self,
            "DagsAndRequirements",
            sources=[s3deploy.Source.asset(str(mwaa_bucket(REPO / "mwaa_dags", requirements())))],
            destination_bucket=self.bucket,
            memory_limit=512,
        )
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("airflow.amazonaws.com"),
                iam.ServicePrincipal("airflow-env.amazonaws.com"),
            ),
            description="MWAA execution role: runs the DAG's aws backend",
        )
        self.failures = sns.Topic(
            self,
            "PipelineFailures",
            topic_name=deployment.failure_topic,
            display_name="shoprec pipeline failures",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        self._grant_airflow(deployment.mwaa_environment)
        self._grant_pipeline(config, lake, processing, training, collectors)
        group = ec2.SecurityGroup(self, "AirflowGroup", vpc=vpc, description="MWAA environment")
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "MWAA components talk to each other")
        self.airflow = mwaa.CfnEnvironment(
            self,
            "Environment",
            name=deployment.mwaa_environment,
            airflow_version=airflow_version(),
            environment_class=config.mwaa_environment_class,
            min_workers=1,
            max_workers=config.mwaa_max_workers,
            execution_role_arn=self.role.role_arn,
            source_bucket_arn=self.bucket.bucket_arn,
            dag_s3_path=DAGS_FOLDER,
            requirements_s3_path=REQUIREMENTS,
            airflow_configuration_options=deployment.airflow_options(
                self.failures.topic_arn, config.training_policy
            ),
            webserver_access_mode="PUBLIC_ONLY" if config.mwaa_public_webserver else "PRIVATE_ONLY",
            network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
                security_group_ids=[group.security_group_id],
                subnet_ids=vpc.select_subnets(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ).subnet_ids[:2],
            ),
            logging_configuration=mwaa.CfnEnvironment.LoggingConfigurationProperty(
                **{
                    f"{module}_logs": mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(
                        enabled=True, log_level="INFO"
                    )
                    for module in ("dag_processing", "scheduler", "task", "webserver", "worker")
                }
            ),
        )
        self.airflow.node.add_dependency(upload)
        self._suppress_upload_helper()

    def _suppress_upload_helper(self) -> None:
        """CDK's bucket-deployment helper: a singleton Lambda beside the stack's constructs."""
        for child in self.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                suppress(
                    child,
                    "IAM5",
                    "CDK's bucket-deployment helper reads its asset from the CDK asset bucket "
                    "and replaces the Airflow bucket's objects (prune), which needs s3:*Object*",
                )
                suppress(
                    child,
                    "IAM4",
                    "CDK's bucket-deployment helper logs with AWSLambdaBasicExecutionRole",
                )
                suppress(
                    child,
                    "L1",
                    "the runtime of CDK's bucket-deployment helper is chosen by aws-cdk-lib",
                )

    def _grant_airflow(self, name: str) -> None:
        """What every MWAA environment needs (AWS's documented execution-role policy)."""
        region, account = Aws.REGION, Aws.ACCOUNT_ID
        self.bucket.grant_read(self.role)
        for actions, resources, conditions in (
            (
                ["airflow:PublishMetrics"],
                [f"arn:{Aws.PARTITION}:airflow:{region}:{account}:environment/{name}"],
                None,
            ),
            (
                [
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                [f"arn:{Aws.PARTITION}:logs:{region}:{account}:log-group:airflow-{name}-*"],
                None,
            ),
            (["logs:DescribeLogGroups"], ["*"], None),  # no resource-level permissions
            (
                ["cloudwatch:PutMetricData"],  # on * only, so limited to MWAA's and the loop's
                ["*"],
                {"StringEquals": {"cloudwatch:namespace": [MWAA_METRICS_NAMESPACE, NAMESPACE]}},
            ),
            (
                [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                # The Celery queues live in the MWAA service's account, not in ours: the
                # account cannot be named (AWS's documented execution-role policy).
                [f"arn:{Aws.PARTITION}:sqs:{region}:*:airflow-celery-*"],
                None,
            ),
            (
                ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
                [f"arn:{Aws.PARTITION}:kms:{region}:{account}:key/*"],
                {"StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com"]}},
            ),
        ):
            self.role.add_to_policy(
                iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions)
            )

    def _grant_pipeline(
        self,
        config: EnvironmentConfig,
        lake: DataLakeStack,
        processing: ProcessingStack,
        training: TrainingStack,
        collectors: dict[str, lambda_.IFunction],
    ) -> None:
        """Exactly the calls of ``shoprec.orchestration.permissions``, on the deployment's
        own resources (the S3 calls by zone of the lake, below)."""
        deployment = config.deployment
        # one statement for every collector (a grant_invoke each would overflow the role's
        # inline policy into a managed one that the suppressions below do not reach)
        functions = [f.function_arn for f in collectors.values()]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[*functions, *(f"{arn}:*" for arn in functions)],
            )
        )
        self.failures.grant_publish(self.role)
        group = deployment.model_package_group
        for service, resources in (
            (
                "glue",
                [
                    self.format_arn(service="glue", resource="job", resource_name=job.name)
                    for job in processing.jobs.values()
                ],
            ),
            (
                "sagemaker",
                [
                    self.format_arn(
                        service="sagemaker",
                        resource="training-job",
                        resource_name=f"{deployment.training_job_prefix}-*",
                    ),
                    self.format_arn(
                        service="sagemaker", resource="model-package-group", resource_name=group
                    ),
                    self.format_arn(
                        service="sagemaker", resource="model-package", resource_name=f"{group}/*"
                    ),
                ],
            ),
            (
                "ssm",
                [
                    self.format_arn(
                        service="ssm",
                        resource="parameter",
                        resource_name=f"{deployment.parameter('')[1:]}*",
                    )
                ],
            ),
        ):
            self.role.add_to_policy(
                iam.PolicyStatement(
                    actions=sorted(permissions.iam_actions(service)), resources=resources
                )
            )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[training.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        states = [LakeLayout.collector_state_prefix(source) for source in collectors]
        lake.grant(
            self.role,
            read=[
                LakeLayout.TRAINING_JOBS_PREFIX,
                LakeLayout.run_reports_prefix("stage_events"),  # the staging job's counts
                LakeLayout.TRAINING_PREFIX,  # the training set's manifest: its novelty
                *(LakeLayout.incoming_prefix(source) for source in collectors),  # what arrived
                *states,  # the collectors' ledgers: what is ingested
            ],
            # Put, never delete: the DAG publishes SageMaker's output as the model folder and
            # moves champion.json (shoprec.registry); model folders are never removed. It reads
            # and records the feedback loop's verdicts (shoprec.feedback).
            write=[
                LakeLayout.MODELS_PREFIX,
                LakeLayout.FEEDBACK_VERDICTS_PREFIX,
                *(state + "reports/" for state in states),
            ],
        )
        suppress(
            self.role,
            "IAM5",
            "MWAA's documented execution policy (its log groups airflow-<env>-*, Celery queues "
            "airflow-celery-* in the service's account, keys only via SQS, metrics in its "
            "namespace); training jobs named <prefix>-train-*, the model group's packages; "
            "the environment's SSM parameters; lake objects under analytics/, the "
            "collectors' incoming zones and ledgers (read), their run reports (write), the "
            "staging job's run reports and the training sets (read) only",
        )
