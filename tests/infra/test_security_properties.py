"""Property by property: encryption, public access, IAM conditions, MSK auth, runtimes."""

from __future__ import annotations

import json
import re

import pytest

from shoprec.deployment import GLUE_JOBS, OPERATOR_JOBS, SOURCES, Deployment

pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _template(synth, part):
    from aws_cdk.assertions import Template

    return Template.from_json(synth.template(part))


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_bucket_is_encrypted_private_and_tls_only(synthesized, env):
    synth = synthesized[env]
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) == 4  # lake, its access logs, Airflow's bucket, its access logs
    for bucket in buckets:
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    policies = synth.resources("AWS::S3::BucketPolicy")
    assert len(policies) == len(buckets)
    for policy in policies:
        assert {
            "Effect": "Deny",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }.items() <= policy["Properties"]["PolicyDocument"]["Statement"][0].items()


def test_msk_serverless_admits_iam_authenticated_clients_only(dev):
    cluster = dev.resources("AWS::MSK::ServerlessCluster")[0]["Properties"]
    assert cluster["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    ingress = [
        r["Properties"]
        for r in dev.resources("AWS::EC2::SecurityGroupIngress")
        if r["Properties"].get("FromPort") == 9098
    ]
    assert ingress and all("SourceSecurityGroupId" in rule for rule in ingress)


def test_glue_jobs_run_glue_5_in_the_vpc_with_encryption(dev):
    from aws_cdk.assertions import Match

    jobs = dev.resources("AWS::Glue::Job")
    assert sorted(j["Properties"]["Name"] for j in jobs) == sorted(
        Deployment("dev").glue_job(job) for job in GLUE_JOBS + OPERATOR_JOBS
    )
    for job in jobs:
        props = job["Properties"]
        assert props["GlueVersion"] == "5.0" and props["Command"]["Name"] == "glueetl"
        assert props["Connections"]["Connections"] and props["SecurityConfiguration"]
    _template(dev, "processing").has_resource_properties(
        "AWS::Glue::SecurityConfiguration",
        {
            "EncryptionConfiguration": {
                "S3Encryptions": [Match.object_like({"S3EncryptionMode": "SSE-KMS"})],
                "CloudWatchEncryption": Match.object_like({"CloudWatchEncryptionMode": "SSE-KMS"}),
                "JobBookmarksEncryption": Match.object_like(
                    {"JobBookmarksEncryptionMode": "CSE-KMS"}
                ),
            }
        },
    )


@pytest.mark.parametrize("source", SOURCES)
def test_collector_runs_python_312_in_the_vpc_driven_by_its_queue(dev, source):
    function = dev.resources("AWS::Lambda::Function")
    collector = [
        f for f in function if f"{source}-collector" in str(f["Properties"].get("FunctionName"))
    ]
    props = collector[0]["Properties"]
    assert props["Runtime"] == "python3.12" and len(props["Layers"]) == 2
    assert props["Environment"]["Variables"]["SHOPREC_SOURCE"] == source
    assert props["VpcConfig"]["SubnetIds"] and props["DeadLetterConfig"]["TargetArn"]
    assert "ReservedConcurrentExecutions" not in props  # leases, not a single reader
    mappings = dev.resources("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(SOURCES)  # one queue per source
    for mapping in mappings:
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = dev.resources("AWS::SQS::Queue")
    for queue in queues:
        assert "KmsMasterKeyId" in queue["Properties"]
    objects = [q for q in queues if "RedrivePolicy" in q["Properties"]]
    assert len(objects) == len(SOURCES)
    assert objects[0]["Properties"]["VisibilityTimeout"] >= 6 * props["Timeout"]


def test_object_events_reach_the_collector_through_eventbridge(dev):
    lake = dev.template("data-lake")["Resources"]
    bucket = next(
        r
        for r in lake.values()
        if r["Type"] == "AWS::S3::Bucket" and "VersioningConfiguration" in r["Properties"]
    )
    notifications = bucket["Properties"]["NotificationConfiguration"]
    assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    rules = [r["Properties"] for r in dev.resources("AWS::Events::Rule")]
    created = [
        r for r in rules if r.get("EventPattern", {}).get("detail-type") == ["Object Created"]
    ]
    keys = [rule["EventPattern"]["detail"]["object"]["key"] for rule in created]
    assert keys == [[{"prefix": f"incoming/source={source}/"}] for source in SOURCES]
    sweeps = [r for r in rules if "ScheduleExpression" in r]
    inputs = [json.loads(t["Input"]) for r in sweeps for t in r["Targets"]]
    assert inputs == [{"action": "sweep"}] * len(SOURCES)
    key_policies = [
        statement
        for k in dev.template("ingestion")["Resources"].values()
        if k["Type"] == "AWS::KMS::Key"
        for statement in k["Properties"]["KeyPolicy"]["Statement"]
    ]
    assert any(
        s["Principal"] == {"Service": "events.amazonaws.com"}
        and "kms:GenerateDataKey" in s["Action"]
        for s in key_policies
    )


def test_api_function_runs_python_312_and_the_stage_throttles(prod):
    api = prod.template("api")["Resources"]
    function = next(r for r in api.values() if r["Type"] == "AWS::Serverless::Function")
    assert function["Properties"]["Runtime"] == "python3.12"
    rest_api = api["RestAPI"]["Properties"]
    settings = rest_api["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == 500 and settings["ThrottlingBurstLimit"] == 1000
    assert "DestinationArn" in rest_api["AccessLogSetting"]
    plan = next(r for r in api.values() if r["Type"] == "AWS::ApiGateway::UsagePlan")
    assert plan["Properties"]["Throttle"] == {"RateLimit": 500, "BurstLimit": 1000}
    assert plan["Properties"]["ApiStages"][0]["ApiId"] == {"Ref": "RestAPI"}


def test_every_api_route_requires_the_key(prod):
    swagger = prod.template("api")["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    methods = [m for path in swagger["paths"].values() for m in path.values()]
    assert methods and all({"api_key": []} in m.get("security", []) for m in methods)


def _statements(synth, part):
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy")
        if policy in synth.template(part)["Resources"].values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_roles_use_the_lake_key_only_through_s3_and_list_only_their_prefixes(dev):
    for part in ("ingestion", "processing", "training", "orchestration", "api"):
        for statement in _statements(dev, part):
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if "s3:ListBucket" in actions:
                assert "s3:prefix" in statement["Condition"]["StringLike"], part
            on_lake_key = "LakeKey" in json.dumps(statement["Resource"])  # not the queues' keys
            if on_lake_key and any(a.startswith("kms:") for a in actions):
                assert "kms:ViaService" in statement["Condition"]["StringEquals"], part


def _prefixes(statement) -> list[str]:
    return re.findall(r'"(/[^"]*\*)"', json.dumps(statement["Resource"]))


def test_api_reads_only_the_models_zone_and_writes_only_its_impressions(dev):
    reads = [s for s in _statements(dev, "api") if "s3:GetObject" in s["Action"]]
    assert len(reads) == 1
    assert _prefixes(reads[0]) == ["/analytics/models/*", "/incoming/source=impressions/*"]
    writes = [s for s in _statements(dev, "api") if "s3:PutObject" in _actions(s)]
    assert len(writes) == 1 and _prefixes(writes[0]) == ["/incoming/source=impressions/*"]


def test_mwaa_passes_the_training_role_only_to_sagemaker(prod):
    passes = [s for s in _statements(prod, "orchestration") if s["Action"] == "iam:PassRole"]
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    env = prod.resources("AWS::MWAA::Environment")[0]["Properties"]
    assert env["AirflowVersion"] == "3.0.6" and env["WebserverAccessMode"] == "PRIVATE_ONLY"
    assert env["RequirementsS3Path"] == "requirements.txt" and env["DagS3Path"] == "dags"


def test_no_statement_allows_every_action(synthesized):
    for env in ("dev", "prod"):
        for policy in synthesized[env].resources("AWS::IAM::Policy"):
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Action"] != "*" and not str(statement["Action"]).endswith(":*'")


def _actions(statement) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _deleting(synth, action):
    """(stack part, lake prefix) of every statement that allows ``action``."""
    return {
        (part, prefix)
        for part in ("ingestion", "processing", "training", "orchestration", "api")
        for statement in _statements(synth, part)
        if action in _actions(statement)
        for prefix in re.findall(r'"/([^"*]*)\*"', json.dumps(statement["Resource"]))
    }


def test_only_the_writers_that_replace_or_remove_objects_may_delete(dev):
    assert _deleting(dev, "s3:DeleteObject") == {
        ("ingestion", "state/collector/source=weblog/"),  # leases of the object collectors
        ("ingestion", "state/collector/source=solr/"),
        ("ingestion", "state/collector/source=impressions/"),
        ("processing", "staging/events/"),
        ("processing", "quarantine/stage=stage/"),
        ("processing", "checkpoints/stage_events/"),
        ("processing", "staging/training/"),
        ("processing", "staging/search_labels/"),  # erasure rewrites these two as well
        ("processing", "staging/products/"),  # staging rebuilds it and the search labels
        ("processing", "state/erasure/scratch/"),
    }


def test_only_erasure_deletes_object_versions_and_only_in_the_zones_it_rewrites(dev):
    assert _deleting(dev, "s3:DeleteObjectVersion") == {
        ("processing", "staging/events/"),
        ("processing", "staging/training/"),
        ("processing", "staging/search_labels/"),
        ("processing", "state/erasure/scratch/"),
    }


def test_glue_network_interfaces_stay_in_the_connections_subnet(dev):
    for statement in _statements(dev, "processing"):
        ec2 = [a for a in _actions(statement) if a.startswith("ec2:")]
        if ec2 and statement["Resource"] == "*":
            assert all(a.startswith("ec2:Describe") for a in ec2)
        if {"ec2:DeleteNetworkInterface", "ec2:CreateTags"} & set(ec2):
            assert "ec2:Subnet" in statement["Condition"]["ArnEquals"]


def test_mwaa_publishes_metrics_only_in_its_and_the_loops_namespaces_and_deletes_nothing(prod):
    statements = _statements(prod, "orchestration")
    metrics = [s for s in statements if "cloudwatch:PutMetricData" in _actions(s)]
    assert [s["Condition"] for s in metrics] == [
        {"StringEquals": {"cloudwatch:namespace": ["AmazonMWAA", "shoprec"]}}
    ]
    assert not any("s3:DeleteObject" in _actions(s) for s in statements)


def test_the_dead_letter_queue_key_admits_eventbridge(dev):
    queues = {q["Properties"]["QueueName"]: q for q in dev.resources("AWS::SQS::Queue")}
    dead_letters = queues["shoprec-dev-weblog-collector-objects-dlq"]["Properties"]
    key_id = dead_letters["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = dev.template("ingestion")["Resources"][key_id]["Properties"]["KeyPolicy"]
    admitted = {
        action
        for statement in key["Statement"]
        if statement.get("Principal") == {"Service": "events.amazonaws.com"}
        for action in _actions(statement)
    }
    assert {"kms:GenerateDataKey", "kms:Decrypt"} <= admitted


@pytest.mark.parametrize(("env", "hours"), [("dev", "72"), ("prod", "168")])
def test_every_collector_sets_the_topic_retention_of_its_environment(synthesized, env, hours):
    functions = synthesized[env].resources("AWS::Lambda::Function")
    settings = [
        f["Properties"]["Environment"]["Variables"]
        for f in functions
        if "SHOPREC_TOPIC" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(settings) == 4  # the weblog, solr, impressions and opensearch collectors
    assert {s["SHOPREC_TOPIC_RETENTION_HOURS"] for s in settings} == {hours}
