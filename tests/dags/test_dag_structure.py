"""The DAG parses cleanly, with the stages in order, and does no work at import."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from shoprec.deployment import COLLECTED_SOURCES

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


def test_backend_is_chosen_by_param_or_by_the_airflow_options_mwaa_sets(monkeypatch):
    from shoprec.aws_stages import AwsStages
    from shoprec.deployment import Deployment
    from shoprec.local import stages

    dag_file = _dag_module()
    assert dag_file._backend("local") is stages
    assert dag_file._backend("configured") is stages  # no option set: the local cloud
    for option, value in Deployment("prod").airflow_options().items():
        section, key = option.split(".")
        monkeypatch.setenv(f"AIRFLOW__{section.upper()}__{key.upper()}", value)
    backend = dag_file._backend("configured")
    assert isinstance(backend, AwsStages) and backend.deployment == Deployment("prod")
    with pytest.raises(ValueError, match="unknown backend"):
        dag_file._backend("gcp")
