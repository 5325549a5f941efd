"""Every AWS API call of the DAG's AWS mode, and the IAM action that allows it.

One list, checked from both sides: the AWS-mode tests run the tasks against moto and fail on a
call that is not listed here (``tests/dags``), and the infrastructure tests fail when the MWAA
execution role lacks one of these actions (``tests/infra``). Object calls on the lake are
granted by zone (``LakeLayout`` prefixes) in the orchestration stack.
"""

from __future__ import annotations

# botocore service name → operations the DAG's operators, sensors, hooks and tasks send
CALLS: dict[str, tuple[str, ...]] = {
    "ssm": ("GetParameters",),  # the deployment's values, once per run
    "lambda": ("Invoke",),  # the collectors: sweeps (asynchronous), the OpenSearch pull
    "glue": ("GetJob", "StartJobRun", "GetJobRun", "BatchStopJobRun"),
    "sagemaker": (
        "DescribeTrainingJob",
        "CreateTrainingJob",
        "CreateModelPackageGroup",  # the provider's operator ensures the group (CDK made it)
        "CreateModelPackage",
        "UpdateModelPackage",  # a package the gate approved, whose promotion was refused
    ),
    "sns": ("Publish",),  # the failure notifier
    "cloudwatch": ("PutMetricData",),  # the stages' metrics (shoprec.metrics; namespace-bound)
    "s3": (
        "HeadObject",
        "GetObject",
        "PutObject",
        "ListObjectsV2",
        "ListObjectVersions",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    ),
}
# Where the IAM action is not named ``<service>:<operation>``.
_IAM = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}


def iam_action(service: str, operation: str) -> str:
    return _IAM.get((service, operation), f"{service}:{operation}")


def iam_actions(service: str) -> set[str]:
    """The IAM actions one service's calls need."""
    return {iam_action(service, operation) for operation in CALLS[service]}


def unlisted(calls: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Recorded ``(service, operation)`` calls this module does not list."""
    return {(s, o) for s, o in calls if o not in CALLS.get(s, ())}
