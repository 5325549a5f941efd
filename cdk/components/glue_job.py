"""One Glue 5.0 Spark job: its script as an asset, the shared package as ``--extra-py-files``,
default arguments rendered by the job's argument class, and a role of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from components.bundles import REPO
from shoprec.contracts import JobArguments
from shoprec.deployment import GLUE_TIMEOUT_MINUTES, Deployment, job_defaults

GLUE_VERSION = "5.0"  # Spark 3.5.4, Python 3.11: mirrors envs/glue.txt
# Glue's own arguments (hyphenated, unlike the jobs' ``--snake_case`` arguments).
GLUE_OWN_ARGUMENTS = (
    "--job-language",
    "--extra-py-files",
    "--enable-glue-datacatalog",
    "--enable-metrics",
    "--enable-continuous-cloudwatch-log",
    "--additional-python-modules",  # pip-installed at the run's start, through the VPC's NAT
)


class GlueJob(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        job: str,
        arguments: type[JobArguments],
        values: Mapping[str, object],
        package: s3_assets.Asset,
        connection: str,
        security_configuration: str,
        workers: int,
        python_modules: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue job {job}",
        )
        script = s3_assets.Asset(self, "Script", path=str(REPO / "glue_jobs" / job / "job.py"))
        script.grant_read(self.role)
        package.grant_read(self.role)
        defaults = {
            "--job-language": "python",
            "--extra-py-files": package.s3_object_url,
            "--enable-glue-datacatalog": "true",  # Spark's Hive metastore = the Data Catalog
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            **job_defaults(arguments, **values),
        }
        if python_modules:
            defaults["--additional-python-modules"] = ",".join(python_modules)
        self.job = glue.CfnJob(
            self,
            "Job",
            name=deployment.glue_job(job),
            role=self.role.role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            worker_type="G.1X",
            number_of_workers=workers,
            timeout=GLUE_TIMEOUT_MINUTES,
            max_retries=0,  # the DAG retries; a job rerun is idempotent anyway
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            default_arguments=defaults,
            connections=glue.CfnJob.ConnectionsListProperty(connections=[connection]),
            security_configuration=security_configuration,
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws-glue/*"
                ],
            )
        )

    @property
    def name(self) -> str:
        return self.job.name  # type: ignore[return-value]
