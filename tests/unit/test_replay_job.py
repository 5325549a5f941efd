"""The replay job's arguments (``glue_jobs/replay_landing``): what the deployed job's defaults
and an operator's ``start-job-run`` give it, as Glue passes them, parsed back."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest

from shoprec.contracts import ContractError, KafkaSettings, ReplayJobArgs
from shoprec.deployment import job_defaults, run_arguments

JOB = Path(__file__).parents[2] / "glue_jobs" / "replay_landing" / "job.py"
CLUSTER = "arn:aws:kafka:eu-west-1:123456789012:cluster/shoprec-dev-events/abc-1"


@pytest.fixture(scope="module")
def replay_job():
    spec = importlib.util.spec_from_file_location("replay_landing_job", JOB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _glue_argv(**run: str) -> list[str]:
    """Glue's own arguments, the job's defaults (as CDK renders them), then the run's."""
    defaults = job_defaults(
        ReplayJobArgs,
        lake_bucket="lake",
        kafka_bootstrap=CLUSTER,
        kafka_auth="iam",
        topic_retention_hours=72,
    )
    passed = defaults | run_arguments(ReplayJobArgs, **run)
    glue = [
        "--JOB_ID",
        "j_1",
        "--JOB_RUN_ID",
        "jr_1",
        "--job-bookmark-option",
        "job-bookmark-disable",
    ]
    return [*glue, *(token for pair in passed.items() for token in pair), "--JOB_NAME", "replay"]


def test_a_run_parses_the_deployed_defaults_and_the_operators_dates():
    argv = _glue_argv(run_id="outage-1", first="2026-11-01", last="2026-11-03")
    args = ReplayJobArgs.from_argv(argv)
    assert args == ReplayJobArgs(
        lake_bucket="lake",
        kafka_bootstrap=CLUSTER,
        run_id="outage-1",
        first="2026-11-01",
        last="2026-11-03",
        kafka_auth="iam",
        topic_retention_hours=72,
    )
    assert args.days() == (date(2026, 11, 1), date(2026, 11, 3))
    # the producer is configured as the collectors' is: IAM on the cluster, the same topic
    assert args.kafka() == KafkaSettings(
        kafka_bootstrap=CLUSTER, kafka_auth="iam", topic_retention_hours=72
    )
    assert ReplayJobArgs.from_argv(args.to_argv()) == args


@pytest.mark.parametrize(
    ("run", "error"),
    [
        ({"run_id": "r"}, "expected YYYY-MM-DD"),  # the dates are the run's to give
        ({"run_id": "r", "first": "2026-11-01", "last": "11/03"}, "expected YYYY-MM-DD"),
        ({"run_id": "r", "first": "2026-11-03", "last": "2026-11-01"}, "before --first"),
    ],
)
def test_a_run_without_a_valid_range_fails_before_it_publishes(replay_job, run, error):
    # no Kafka is reachable at CLUSTER: the job fails on its arguments, before any connection
    with pytest.raises(ContractError, match=error):
        replay_job.main(_glue_argv(**run))


def test_an_operator_cannot_pass_an_argument_the_job_does_not_have():
    with pytest.raises(ValueError, match="no argument"):
        run_arguments(ReplayJobArgs, run_id="r", start="2026-11-01")
