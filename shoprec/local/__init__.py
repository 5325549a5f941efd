"""The local stand-in cloud and the DAG's local backend."""
