"""The staging zone's tables beside the events (``shoprec.schema``), each rebuilt whole by
every staging run: their names, columns (name, Spark/Hive type) and folders. Shared by the
Spark jobs that write them and the CDK stack that catalogues them (no Spark here)."""

from __future__ import annotations

from dataclasses import dataclass

from shoprec.layout import LakeLayout


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    prefix: str  # its folder in the lake


# Per query: what was asked, by whom, when, what it showed, and what was clicked
# (shoprec.spark.search_labels).
SEARCH_LABELS = Table(
    "search_labels",
    (
        ("query_id", "string"),
        ("engine", "string"),
        ("query", "string"),
        ("zero_result", "boolean"),
        ("session_id", "string"),
        ("searched_at", "timestamp"),
        ("clicked_item", "string"),
        ("position", "int"),
        ("clicked_at", "timestamp"),
        ("hits", "int"),
        ("results", "string"),
    ),
    LakeLayout.SEARCH_LABELS_PREFIX,
)
# Each product's row from the latest product feed that lists it (shoprec.spark.products).
PRODUCTS = Table(
    "products",
    (
        ("item_id", "string"),
        ("title", "string"),
        ("category", "string"),
        ("brand", "string"),
        ("price", "double"),
        ("feed_date", "date"),
    ),
    LakeLayout.PRODUCTS_PREFIX,
)
REBUILT = (SEARCH_LABELS, PRODUCTS)
