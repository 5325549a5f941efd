"""Shared fixtures. ``cloud`` gives the real local stand-ins (LocalStack, Kafka), ``search``
the shop's search engines (Solr, OpenSearch).

The suite reuses services already started for it (``tools/run-tests`` starts them once,
under its own run folder and ports), or starts them itself and stops them afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from shoprec.local.runtime import Ports


@pytest.fixture(scope="session")
def cloud() -> Iterator[dict[str, str]]:
    from shoprec.local import services
    from shoprec.local.runtime import Ports, read_env_file

    ports = Ports.from_env()
    running = read_env_file() and all(
        s.ready() for s in (services.localstack(ports), services.kafka(ports))
    )
    env = read_env_file() if running else services.up(ports)
    saved = dict(os.environ)
    os.environ.update(env)
    yield env
    os.environ.clear()
    os.environ.update(saved)
    if not running:
        services.down(ports)


@pytest.fixture(scope="session")
def search() -> Iterator[Ports]:
    """Solr and OpenSearch, started once per session unless already running."""
    from shoprec.local import process, search_servers
    from shoprec.local.runtime import Ports

    ports = Ports.from_env()
    engines = search_servers.services(ports)
    running = all(process.recorded_pid(s) and s.ready() for s in engines)
    if not running:
        for engine in engines:
            process.start(engine)
    yield ports
    if not running:
        for engine in engines:
            process.stop(engine)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for buckets, topics and parameters of one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def bucket(cloud: dict[str, str], unique: str) -> str:
    from shoprec import aws

    name = f"test-{unique}"
    aws.client("s3").create_bucket(Bucket=name)
    return name
