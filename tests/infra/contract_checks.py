"""Checks that a synthesized deployment and the code agree on names; each returns the
differences it finds (empty = in agreement), so a test can also show that drift is caught."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from shoprec.contracts import EnvContract, JobArguments
from shoprec.deployment import GLUE_JOBS, Deployment

GLUE_OWN_PREFIXES = ("--job-", "--extra-", "--enable-", "--additional-")


def _difference(what: str, deployed: Iterable[str], code: Iterable[str]) -> list[str]:
    deployed, code = set(deployed), set(code)
    return (
        [f"{what}: deployed only {sorted(deployed - code)}, code only {sorted(code - deployed)}"]
        if deployed != code
        else []
    )


def environment_drift(function: dict[str, Any], settings: type[EnvContract]) -> list[str]:
    """A function's environment variables against the settings class its handler parses."""
    variables = function["Properties"]["Environment"]["Variables"]
    return _difference(f"{settings.__name__} env", variables, settings.env_names())


def job_argument_drift(job: dict[str, Any], arguments: type[JobArguments]) -> list[str]:
    """A Glue job's default arguments (plus the run's own, ``--run_id`` or the erasure's
    ``--request``) against its class."""
    defaults = job["Properties"]["DefaultArguments"]
    own = [name for name in defaults if not name.startswith(GLUE_OWN_PREFIXES)]
    return _difference(
        f"{arguments.__name__} arguments",
        [*own, f"--{arguments.per_run}"],
        arguments.argument_names(),
    )


def table_drift(table: dict[str, Any], columns: tuple, partitions: tuple) -> list[str]:
    table_input = table["Properties"]["TableInput"]
    deployed = [(c["Name"], c["Type"]) for c in table_input["StorageDescriptor"]["Columns"]]
    keys = [(c["Name"], c["Type"]) for c in table_input.get("PartitionKeys", [])]
    problems = (
        [] if deployed == list(columns) else [f"columns {deployed} != schema {list(columns)}"]
    )
    return problems + (
        [] if keys == list(partitions) else [f"partitions {keys} != {list(partitions)}"]
    )


def names(resources: list[dict[str, Any]], prop: str) -> set[str]:
    return {r["Properties"][prop] for r in resources if isinstance(r["Properties"].get(prop), str)}


def dag_reference_drift(deployed: dict[str, set[str]], deployment: Deployment) -> list[str]:
    """Every name the DAG's aws backend calls must be one the stacks create."""
    wanted = {
        "functions": {deployment.collector_function(s) for s in ("weblog",)},
        "glue jobs": {deployment.glue_job(j) for j in GLUE_JOBS},
        "parameters": {
            deployment.lake_bucket_parameter,
            deployment.training_role_parameter,
            deployment.training_image_parameter,
            deployment.training_source_parameter,
            deployment.training_instance_parameter,
            deployment.inference_image_parameter,
        },
    }
    return [
        f"{kind}: the DAG calls {sorted(missing)}, not deployed"
        for kind, names_ in wanted.items()
        if (missing := names_ - deployed[kind])
    ]


def renamed(settings: type, old: str, new: str) -> type:
    """The class with one field renamed: the drift a contract test must catch."""
    fields = [
        (new if f.name == old else f.name, f.type, dataclasses.field(default=f.default))
        if f.default is not dataclasses.MISSING
        else (new if f.name == old else f.name, f.type)
        for f in dataclasses.fields(settings)
    ]
    return dataclasses.make_dataclass(
        f"Drifted{settings.__name__}", fields, bases=settings.__mro__[1:2], frozen=True
    )


def role_statements(template: dict[str, Any], function_name: str) -> list[dict[str, Any]]:
    """The policy statements attached to a function's role, in one stack's template."""
    resources = template["Resources"]
    function = next(
        r for r in resources.values() if r["Properties"].get("FunctionName") == function_name
    )
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def kafka_grant_drift(
    statements: list[dict[str, Any]], permissions: dict[str, list[str]]
) -> list[str]:
    """Actions a producer needs (``shoprec.kafka.producer_permissions``) that no statement
    grants together with the rest of its kind (cluster actions, topic actions)."""
    problems = []
    for kind, needed in permissions.items():
        actions = [
            set(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
            for s in statements
            if s["Effect"] == "Allow"
        ]
        if not any(set(needed) <= granted for granted in actions):
            problems.append(f"{kind} actions {needed}: no statement grants them all")
    return problems


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {
        action
        for s in statements
        if s["Effect"] == "Allow"
        for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }


def pipeline_grant_drift(
    statements: list[dict[str, Any]], needed: dict[str, set[str]]
) -> list[str]:
    """A role's grants on the services the DAG calls (``needed``: service → IAM actions, from
    ``shoprec.orchestration.permissions``): every action granted, and no other action of
    those services, but S3's (the lake's zone grants also allow object versions and
    aborting uploads)."""
    granted, problems = _actions(statements), []
    for service, actions in needed.items():
        deployed = {a for a in granted if a.startswith(f"{service}:")}
        if missing := actions - deployed:
            problems.append(f"{service}: the DAG calls {sorted(missing)}, not granted")
        if service != "s3" and (extra := deployed - actions):
            problems.append(f"{service}: granted {sorted(extra)}, never called")
    return problems
