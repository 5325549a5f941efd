from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark(cloud: dict[str, str]) -> Iterator[object]:
    """One local Spark for the session, configured as the local Glue jobs are."""
    from shoprec.local.stages import spark_defaults
    from shoprec.spark.session import get_spark

    os.environ["SPARK_CONF_DIR"] = str(spark_defaults(os.environ | cloud))
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = get_spark("tests")
    yield session
    session.stop()
