"""The stacks and the code use the same names; and a name changed on one side is caught."""

from __future__ import annotations

import copy
import json

import pytest

from shoprec.contracts import (
    ApiSettings,
    CollectorSettings,
    CompactionJobArgs,
    ErasureJobArgs,
    ReplayJobArgs,
    StagingJobArgs,
    TrainingSetJobArgs,
)
from shoprec.deployment import OPERATOR_JOBS, Deployment
from shoprec.kafka import PRODUCER_LIBRARIES, PRODUCER_OPTIONS, producer_permissions
from shoprec.orchestration import permissions
from shoprec.schema import PARTITION_COLUMNS, table_columns
from shoprec.tables import REBUILT

from .contract_checks import (
    dag_reference_drift,
    environment_drift,
    job_argument_drift,
    kafka_grant_drift,
    names,
    pipeline_grant_drift,
    renamed,
    role_statements,
    table_drift,
)

pytestmark = [pytest.mark.infra, pytest.mark.slow]
JOBS = {
    "stage_events": StagingJobArgs,
    "build_training_set": TrainingSetJobArgs,
    "compact_events": CompactionJobArgs,
    "replay_landing": ReplayJobArgs,
    "erase_events": ErasureJobArgs,
}


def _collector(synth):
    name = Deployment(synth.env).collector_function("weblog")
    return next(
        f
        for f in synth.resources("AWS::Lambda::Function")
        if f["Properties"].get("FunctionName") == name
    )


def _job(synth, job):
    name = Deployment(synth.env).glue_job(job)
    return next(j for j in synth.resources("AWS::Glue::Job") if j["Properties"]["Name"] == name)


def _deployed(synth):
    return {
        "functions": names(synth.resources("AWS::Lambda::Function"), "FunctionName"),
        "glue jobs": names(synth.resources("AWS::Glue::Job"), "Name"),
        "parameters": names(synth.resources("AWS::SSM::Parameter"), "Name"),
    }


def test_collector_environment_is_the_handlers_settings(dev):
    assert environment_drift(_collector(dev), CollectorSettings) == []


def test_api_environment_is_the_apps_settings(dev):
    function = next(
        r
        for r in dev.template("api")["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    )
    assert environment_drift(function, ApiSettings) == []


@pytest.mark.parametrize("job", sorted(JOBS))
def test_glue_default_arguments_are_the_jobs_argument_class(dev, job):
    assert job_argument_drift(_job(dev, job), JOBS[job]) == []


def test_glue_table_columns_are_the_event_schema(dev):
    table = dev.resources("AWS::Glue::Table")[0]
    assert table["Properties"]["TableInput"]["Name"] == Deployment("dev").events_table
    assert table_drift(table, table_columns(), PARTITION_COLUMNS) == []


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_everything_the_dags_aws_backend_calls_is_deployed(synthesized, env):
    synth = synthesized[env]
    assert dag_reference_drift(_deployed(synth), Deployment(env)) == []
    airflow = synth.resources("AWS::MWAA::Environment")[0]["Properties"]
    topic = _failure_topic(synth)  # its ARN is known once deployed: the topic's Ref
    from config import config_for

    options = Deployment(env).airflow_options(topic, config_for(env).training_policy)
    assert airflow["AirflowConfigurationOptions"] == options
    assert airflow["Name"] == Deployment(env).mwaa_environment


def _failure_topic(synth):
    resources = synth.template("orchestration")["Resources"]
    (topic,) = (
        {"Ref": logical_id}
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::SNS::Topic"
        and r["Properties"]["TopicName"] == Deployment(synth.env).failure_topic
    )
    return topic


def _mwaa_statements(synth):
    resources = synth.template("orchestration")["Resources"]
    role = synth.resources("AWS::MWAA::Environment")[0]["Properties"]["ExecutionRoleArn"]
    return [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy"
        and {"Ref": role["Fn::GetAtt"][0]} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _needed():
    return {service: permissions.iam_actions(service) for service in permissions.CALLS}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_mwaa_role_may_make_exactly_the_calls_of_the_dags_operators(synthesized, env):
    assert pipeline_grant_drift(_mwaa_statements(synthesized[env]), _needed()) == []


def test_a_call_the_role_may_not_make_is_caught_and_so_is_an_unused_grant(dev):
    statements = _mwaa_statements(dev)
    needed = _needed()
    needed["glue"] = needed["glue"] - {"glue:BatchStopJobRun"}  # the grant beyond the calls
    assert pipeline_grant_drift(statements, needed)
    needed["glue"] = needed["glue"] | {"glue:BatchStopJobRun", "glue:ResetJobBookmark"}
    assert pipeline_grant_drift(statements, needed)


# Drift on either side is caught: each check fails when one name changes.
def test_a_renamed_environment_variable_is_caught(dev):
    function = copy.deepcopy(_collector(dev))
    variables = function["Properties"]["Environment"]["Variables"]
    variables["SHOPREC_QUEUE"] = variables.pop("SHOPREC_QUEUE_URL")
    assert environment_drift(function, CollectorSettings)
    drifted = renamed(CollectorSettings, "queue_url", "queue")
    assert environment_drift(_collector(dev), drifted)


def test_a_renamed_job_argument_is_caught(dev):
    job = copy.deepcopy(_job(dev, "stage_events"))
    job["Properties"]["DefaultArguments"]["--kafka_topic"] = job["Properties"][
        "DefaultArguments"
    ].pop("--topic")
    assert job_argument_drift(job, StagingJobArgs)
    assert job_argument_drift(
        _job(dev, "stage_events"), renamed(StagingJobArgs, "topic", "kafka_topic")
    )


@pytest.mark.parametrize("rebuilt", REBUILT, ids=lambda table: table.name)
def test_the_tables_staging_rebuilds_are_catalogued_with_their_columns(dev, rebuilt):
    tables = {t["Properties"]["TableInput"]["Name"]: t for t in dev.resources("AWS::Glue::Table")}
    assert table_drift(tables[rebuilt.name], rebuilt.columns, ()) == []
    location = tables[rebuilt.name]["Properties"]["TableInput"]["StorageDescriptor"]["Location"]
    assert json.dumps(location).endswith(f'/{rebuilt.prefix}"]]}}')


def test_a_changed_schema_column_is_caught(dev):
    table = dev.resources("AWS::Glue::Table")[0]
    columns = tuple(("item" if n == "item_id" else n, t) for n, t in table_columns())
    assert table_drift(table, columns, PARTITION_COLUMNS)


def test_a_job_renamed_in_the_stack_is_caught(dev):
    deployed = _deployed(dev)
    deployed["glue jobs"] = {
        name.replace("stage-events", "stage") for name in deployed["glue jobs"]
    }
    assert dag_reference_drift(deployed, Deployment("dev"))


def _collector_statements(synth):
    name = Deployment(synth.env).collector_function("weblog")
    return role_statements(synth.template("ingestion"), name)


def test_the_collector_may_do_everything_its_kafka_producer_does(dev):
    needed = producer_permissions(PRODUCER_OPTIONS)  # derived from the producer's options
    assert "kafka-cluster:WriteDataIdempotently" in needed["cluster"]  # idempotence is on
    assert kafka_grant_drift(_collector_statements(dev), needed) == []


def test_a_producer_option_its_grant_lacks_is_caught(dev):
    statements = copy.deepcopy(_collector_statements(dev))
    for statement in statements:  # the grant as it was before idempotence was accounted for
        if isinstance(statement["Action"], list):
            statement["Action"] = [
                a for a in statement["Action"] if a != "kafka-cluster:WriteDataIdempotently"
            ]
    assert kafka_grant_drift(statements, producer_permissions(PRODUCER_OPTIONS))
    without = producer_permissions(PRODUCER_OPTIONS | {"enable.idempotence": False})
    assert kafka_grant_drift(statements, without) == []


def _job_statements(synth, job):
    """The policy statements attached to a Glue job's role."""
    resources = synth.template("processing")["Resources"]
    role = {"Ref": _job(synth, job)["Properties"]["Role"]["Fn::GetAtt"][0]}
    return [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and role in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _listed(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_the_replay_job_publishes_as_the_collectors_do(dev):
    from components.bundles import pins

    job = _job(dev, "replay_landing")["Properties"]
    defaults = job["DefaultArguments"]
    # the collectors' producer, with their pinned libraries, on the deployment's MSK with IAM
    assert defaults["--additional-python-modules"] == ",".join(pins("lambda", PRODUCER_LIBRARIES))
    assert defaults["--kafka_auth"] == "iam" and "--first" in defaults and "--last" in defaults
    assert job["NumberOfWorkers"] == 2  # one process publishes: the fewest Glue allows
    statements = _job_statements(dev, "replay_landing")
    assert kafka_grant_drift(statements, producer_permissions(PRODUCER_OPTIONS)) == []


def test_the_replay_job_reads_landing_and_writes_the_topic_only(dev):
    statements = _job_statements(dev, "replay_landing")
    actions = {action for s in statements for action in _listed(s)}
    # no catalogue, no lake writes or deletes, no other Kafka use than producing
    assert not {a for a in actions if a.startswith("glue:")}
    assert not {a for a in actions if a.startswith("s3:") and ("Put" in a or "Delete" in a)}
    assert not {"kafka-cluster:ReadData", "kafka-cluster:AlterGroup"} & actions
    listed = [s for s in statements if "s3:ListBucket" in _listed(s)]
    prefixes = {p for s in listed for p in s["Condition"]["StringLike"]["s3:prefix"]}
    assert prefixes and all(p.startswith("landing/source=") for p in prefixes)
    for statement in statements:  # Kafka actions only on the cluster and its one topic
        if any(a.startswith("kafka") for a in _listed(statement)):
            assert statement["Resource"] != "*"
            assert "group/" not in str(statement["Resource"])


def test_the_erasure_job_may_drop_partitions_and_reaches_no_kafka(dev):
    actions = {a for s in _job_statements(dev, "erase_events") for a in _listed(s)}
    from stacks.processing import CATALOG_READ

    # the catalogue as the other jobs read it, and a partition left empty dropped
    assert {a for a in actions if a.startswith("glue:")} == {
        *CATALOG_READ,
        "glue:DeletePartition",
    }
    assert not {a for a in actions if a.startswith("kafka")}
    defaults = _job(dev, "erase_events")["Properties"]["DefaultArguments"]
    assert "--request" not in defaults  # each run names its request


def test_the_dag_may_start_neither_operator_job(dev):
    glue = [s for s in _mwaa_statements(dev) if any(a.startswith("glue:") for a in _listed(s))]
    for job in OPERATOR_JOBS:
        assert Deployment("dev").glue_job(job) not in str([s["Resource"] for s in glue])
