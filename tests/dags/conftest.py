"""Airflow reads its configuration at import: point it at a throwaway home first.

``moto`` starts moto in server mode (``moto_server.py``) on a free port for the AWS-mode
tests, and points boto3, the provider's hooks and aiobotocore (deferrable triggers) at it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest


def pytest_configure(config):
    home = tempfile.mkdtemp(prefix="airflow-home-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from .aws_world import start_moto

    with start_moto() as endpoint:
        saved = dict(os.environ)
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
        )
        os.environ.pop("AWS_PROFILE", None)
        yield endpoint
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def world(moto_server: str):
    """What CDK deploys, freshly made on an empty moto (``aws_world.World``)."""
    from .aws_world import World

    world = World(moto_server)
    world.reset()
    world.deploy()
    return world


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The metadata database ``dag.test`` runs on (SQLite in the throwaway home)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.utils import db

    db.initdb()
    DagBundlesManager().sync_bundles_to_db()
