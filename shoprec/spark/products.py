"""The products table: the latest row of each product in the shop's product feeds.

Each staging run rebuilds it from every feed under ``incoming/products/`` (``products-<day>.csv``,
plain or gzipped, with the header ``shoprec.search.catalogue.FEED_COLUMNS``). A feed is the
whole catalogue as of its day, so a product missing from later feeds keeps its last row: the
clicks on it still have a category. A row that breaks the feed's schema is set aside with its
reason (``rejected``), never staged. The training set ships each product's category with the
model (``categories``), for the API's category filters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from shoprec.search.catalogue import FEED_COLUMNS
from shoprec.spark.staging import ddl
from shoprec.tables import PRODUCTS

TABLE, COLUMNS = PRODUCTS.name, PRODUCTS.columns
REQUIRED = ("id", "title", "category")
_CORRUPT = "_corrupt_record"
_FEED_DATE = r"products-(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$"


def _price() -> F.Column:
    return F.expr("try_cast(price AS double)")


@contextmanager
def parsing_every_field(spark: SparkSession) -> Iterator[None]:
    """Spark's CSV column pruning parses only the fields a query reads, so a count would miss
    a row with too many fields (``malformed_row``): off for the feeds' actions."""
    key = "spark.sql.csv.parser.columnPruning.enabled"
    before = spark.conf.get(key)
    spark.conf.set(key, "false")
    try:
        yield
    finally:
        spark.conf.set(key, before)


def read_feeds(spark: SparkSession, uri: str) -> DataFrame | None:
    """Every feed row as text, with its raw line where it has the wrong number of fields and
    the feed's file; None where no feed has arrived yet."""
    schema = ddl(tuple((name, "string") for name in FEED_COLUMNS) + ((_CORRUPT, "string"),))
    try:
        feeds = (
            spark.read.schema(schema)
            .options(header=True, mode="PERMISSIVE", columnNameOfCorruptRecord=_CORRUPT)
            .csv(uri)
        )
    except AnalysisException:  # the folder does not exist: nothing delivered
        return None
    return feeds.withColumn("feed", F.input_file_name())


def _reason() -> F.Column:
    blank = [F.when(F.col(n).isNull() | (F.trim(n) == ""), F.lit(n)) for n in REQUIRED]
    missing = F.array_compact(F.array(*blank))
    price = _price()
    return (
        F.when(F.col(_CORRUPT).isNotNull(), "malformed_row")
        .when(F.size(missing) > 0, F.concat(F.lit("missing_fields:"), F.array_join(missing, ",")))
        .when(F.size(F.split(F.trim("id"), r"\s+")) > 1, "item_id_not_a_token")
        .when((F.trim("price") != "") & (price.isNull() | (price < 0)), "bad_price")
        .when(F.regexp_extract("feed", _FEED_DATE, 1) == "", "feed_name_without_a_day")
    )


def latest_products(feeds: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(each product's row from its latest feed, in ``COLUMNS``; the rejected rows with their
    raw line, reason and feed). Run their actions ``parsing_every_field``."""
    checked = feeds.withColumn("reason", _reason())
    rows = checked.where(F.col("reason").isNull()).select(
        F.trim("id").alias("item_id"),
        F.trim("title").alias("title"),
        F.trim("category").alias("category"),
        F.trim("brand").alias("brand"),
        _price().alias("price"),
        F.to_date(F.regexp_extract("feed", _FEED_DATE, 1)).alias("feed_date"),
    )
    newest_first = Window.partitionBy("item_id").orderBy(
        F.col("feed_date").desc(), *(F.col(n) for n, _ in COLUMNS[1:5])
    )
    latest = rows.withColumn("rank", F.row_number().over(newest_first)).where("rank = 1")
    raw = F.coalesce(F.col(_CORRUPT), F.concat_ws(",", *FEED_COLUMNS))
    rejected = checked.where(F.col("reason").isNotNull()).select(raw.alias("raw"), "reason", "feed")
    return latest.select(*(n for n, _ in COLUMNS)), rejected


def categories(spark: SparkSession, database: str) -> DataFrame:
    """Each staged product's category (none before the first feed was staged)."""
    if spark.catalog.tableExists(f"`{database}`.`{TABLE}`"):
        return spark.table(f"`{database}`.`{TABLE}`").select("item_id", "category")
    return spark.createDataFrame([], "item_id string, category string")
