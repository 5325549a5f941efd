"""The Spark session of a job: Glue provides its own; locally spark-defaults.conf configures it."""

from __future__ import annotations

from pyspark.sql import SparkSession


def get_spark(app_name: str) -> SparkSession:
    """Hive support = the Glue Data Catalog on Glue, an embedded metastore locally."""
    return (
        SparkSession.builder.appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .enableHiveSupport()
        .getOrCreate()
    )
