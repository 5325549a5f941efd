"""``make sql Q="<SQL>"``: Spark SQL against the local catalogue, the Athena stand-in.

Same database and table names as the Glue Data Catalog in AWS (``shoprec.events``), the
Parquet files of the local lake underneath. Runs in the Glue venv with the local jobs' Spark
configuration; prints the result as a table (``--json``: one JSON object per row).

``python -m shoprec.local.sql "select source, count(*) from shoprec.events group by source"``
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from shoprec.local.stages import spark_defaults, stage_env


def run(query: str) -> list[dict[str, object]]:
    os.environ["SPARK_CONF_DIR"] = str(spark_defaults(stage_env()))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from shoprec.spark.session import get_spark

    spark = get_spark("sql")
    spark.sparkContext.setLogLevel("ERROR")
    return [row.asDict() for row in spark.sql(query).collect()]


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    cells = [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body, f"({len(rows)} rows)"])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("query")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)
    rows = run(args.query)
    if args.json:
        for row in rows:
            print(json.dumps(row, default=str))
    else:
        print(_table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
