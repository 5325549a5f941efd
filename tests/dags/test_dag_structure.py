"""The DAG parses cleanly, with the stages in order, and does no work at import."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from shoprec.deployment import (
    COLLECTED_SOURCES,
    GLUE_JOBS,
    OPERATOR_JOBS,
    PULLED_SOURCES,
    SOURCES,
)

pytestmark = [pytest.mark.dags]
DAGS = Path(__file__).parents[2] / "mwaa_dags"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):
    from airflow.models import DagBag

    return DagBag(dag_folder=str(DAGS), include_examples=False)


def test_every_dag_imports_and_is_named_after_its_file(dagbag):
    assert dagbag.import_errors == {}
    assert {dag.fileloc and Path(dag.fileloc).stem for dag in dagbag.dags.values()} == set(
        dagbag.dags
    )


def test_stages_run_in_pipeline_order(dagbag):
    dag = dagbag.dags["clickstream_training"]
    collects = {
        f"collect_{source}" for source in COLLECTED_SOURCES
    }  # one step per source, in parallel
    assert {t.task_id for t in dag.roots} == collects
    assert dag.get_task("anything_new").upstream_task_ids == collects
    order = [
        "collect_weblog",
        "anything_new",
        "stage_events",
        "reconcile",
        "build_training_set",
        "worth_training",
        "train_model",
        "promote_model",
    ]
    assert [t.task_id for t in dag.topological_sort() if t.task_id in order] == order
    for upstream, downstream in pairwise(order):
        assert upstream in dag.get_task(downstream).upstream_task_ids
    # the reconciliation checks each collector's counts against the staged rows
    assert dag.get_task("reconcile").upstream_task_ids == collects | {"stage_events"}
    # the live CTR test judges the champion on what each staging run counted
    assert dag.get_task("judge_champion").upstream_task_ids == {"stage_events"}
    assert dag.max_active_runs == 1 and dag.catchup is False


def test_dag_file_makes_no_clients_and_reads_no_variables_at_import():
    text = (DAGS / "clickstream_training.py").read_text()
    header = text.split("def _current", 1)[0]
    for forbidden in ("boto3", "Variable.get", "os.environ", "shoprec.local"):
        assert forbidden not in header


def _dag_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("dag_file", DAGS / "clickstream_training.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parse(monkeypatch, options: dict[str, str]):
    for option, value in options.items():
        section, key = option.split(".")
        monkeypatch.setenv(f"AIRFLOW__{section.upper()}__{key.upper()}", value)
    return _dag_module().clickstream_training()


def test_the_airflow_options_mwaa_sets_choose_the_providers_operators_at_parse_time(
    monkeypatch,
):
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
    from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

    from shoprec.continuous import TrainingPolicy
    from shoprec.deployment import Deployment

    local = _parse(monkeypatch, {})  # no option set: the local stand-ins
    assert local.get_task("stage_events").__class__.__name__ == "_PythonDecoratedOperator"
    assert local.default_args["retries"] == 1  # the LocalExecutor race; a failure shows soon
    topic = "arn:aws:sns:eu-west-1:123456789012:shoprec-prod-pipeline-failures"
    aws = _parse(monkeypatch, Deployment("prod").airflow_options(topic, TrainingPolicy()))
    for job in ("stage_events", "build_training_set"):
        glue = aws.get_task(job)
        assert isinstance(glue, GlueJobOperator) and glue.deferrable and glue.stop_job_run_on_kill
        assert glue.job_name == Deployment("prod").glue_job(job)
    # the cycle runs the DAG's Glue jobs, and never an operator's (the replay: README)
    jobs = {t.job_name for t in aws.tasks if isinstance(t, GlueJobOperator)}
    assert jobs == {Deployment("prod").glue_job(job) for job in GLUE_JOBS}
    assert not jobs & {Deployment("prod").glue_job(job) for job in OPERATOR_JOBS}
    train = aws.get_task("train_model")
    assert isinstance(train, SageMakerTrainingOperator) and train.deferrable
    assert train.retries == 3 and train.retry_exponential_backoff
    assert train.on_failure_callback  # the SNS notifier
    (staging,) = aws.get_task("stage_events").outlets  # an Asset: training follows it
    # one collect step per source: the object sources swept and waited for, the pulled one
    # (OpenSearch) its collector Lambda invoked synchronously
    collects = {f"collect_{source}" for source in COLLECTED_SOURCES}
    assert aws.get_task("anything_new").upstream_task_ids == collects
    after = {"run_settings", "staging_report"}
    assert aws.get_task("reconcile").upstream_task_ids == collects | after
    for source in SOURCES:
        sweep = aws.get_task(f"start_sweep_{source}")
        assert isinstance(sweep, LambdaInvokeFunctionOperator)
        assert sweep.function_name == Deployment("prod").collector_function(source)
    for source in PULLED_SOURCES:
        pull = aws.get_task(f"pull_{source}")
        assert isinstance(pull, LambdaInvokeFunctionOperator)
        assert pull.function_name == Deployment("prod").collector_function(source)
        assert pull.invocation_type == "RequestResponse"
        assert f"collect_{source}" in pull.downstream_task_ids
    assert staging.uri.startswith("shoprec://prod/staging/events")
    monkeypatch.setenv("AIRFLOW__SHOPREC__BACKEND", "gcp")
    with pytest.raises(ValueError, match="unknown backend"):
        _dag_module()
