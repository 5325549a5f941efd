"""Pure Spark transforms of the Glue jobs (imported only where pyspark runs)."""
