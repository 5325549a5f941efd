"""SageMaker: the training execution role, the script-mode source, the model registry.

Training jobs are started per run by the DAG (they are runs, not resources); what they need
is published in SSM under ``shoprec.deployment`` names. Trained models are kept in the
analytics zone (``analytics/models/<version>/`` + the champion pointer, shoprec.registry);
the model package group records them for SageMaker's registry view.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from components.bundles import pins, training_source
from components.nag import suppress
from config import EnvironmentConfig
from shoprec.layout import LakeLayout
from shoprec.orchestration import training_job as job_template
from stacks.data_lake import DataLakeStack

# AWS Deep Learning Containers registry; the tag follows envs/ml.lock's TensorFlow.
DLC_ACCOUNT = "763104351884"
DLC_REPOSITORY = "tensorflow-training"


def inference_image() -> str:
    """The serving image of a registered model package: the TensorFlow Serving container the
    SageMaker SDK names for the same TensorFlow (``shoprec/orchestration/training_job.json``)."""
    return f"{DLC_ACCOUNT}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/{job_template.image('inference')}"


def training_image() -> str:
    version = pins("ml", ["tensorflow-cpu"])[0].split("==")[1]
    return (
        f"{DLC_ACCOUNT}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/{DLC_REPOSITORY}:{version}-cpu-py312"
    )


class TrainingStack(Stack):
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
        deployment = config.deployment
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="SageMaker training jobs of the recommender",
        )
        lake.grant(
            self.role,
            # the training set, and the champion's folder (warm start, the gate's comparison)
            read=[LakeLayout.TRAINING_PREFIX, LakeLayout.MODELS_PREFIX],
            write=[LakeLayout.TRAINING_JOBS_PREFIX],
        )
        source = s3_assets.Asset(self, "Source", path=str(training_source()))
        source.grant_read(self.role)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[
                    f"arn:{Aws.PARTITION}:ecr:{Aws.REGION}:{DLC_ACCOUNT}:repository/{DLC_REPOSITORY}"
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/TrainingJobs:*"
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/TrainingJobs"}
                },
            )
        )
        suppress(
            self.role,
            "IAM5",
            "S3 objects only under staging/training/ and analytics/models/ (input) and "
            "analytics/training-jobs/ (output) plus the source asset; ecr:GetAuthorizationToken and "
            "cloudwatch:PutMetricData exist only on * (the latter limited by namespace); "
            "log streams are named per job",
        )
        self.registry = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=deployment.model_package_group,
            model_package_group_description="Session recommenders trained by the DAG",
        )
        self.source_uri = source.s3_object_url
        for construct_id, name, value in (
            ("RoleArn", deployment.training_role_parameter, self.role.role_arn),
            ("Image", deployment.training_image_parameter, training_image()),
            ("SourceUri", deployment.training_source_parameter, self.source_uri),
            ("InstanceType", deployment.training_instance_parameter, config.training_instance_type),
            ("InferenceImage", deployment.inference_image_parameter, inference_image()),
        ):
            ssm.StringParameter(self, construct_id, parameter_name=name, string_value=value)
