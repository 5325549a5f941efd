"""Structured logs: one JSON object per line, each carrying the component and run id."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any


class _JsonFormatter(logging.Formatter):
    def __init__(self, component: str, run_id: str) -> None:
        super().__init__()
        self.component, self.run_id = component, run_id

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "component": self.component,
            "run_id": self.run_id,
            "msg": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["error"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure(component: str, run_id: str, stream: Any = sys.stderr) -> logging.Logger:
    """Route this process's logs through the JSON formatter and return its logger."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_JsonFormatter(component, run_id))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("py4j").setLevel(logging.WARNING)  # chatty, and logs at interpreter exit
    return logging.getLogger(component)


def log(logger: logging.Logger, msg: str, **fields: Any) -> None:
    logger.info(msg, extra={"fields": fields})


def report_run(
    logger: logging.Logger, s3: Any, bucket: str, key: str, job: str, summary: dict[str, Any]
) -> None:
    """A job's summary: at ``key`` (where the DAG reads it), in the log, and as the last line
    of stdout (``{job: summary}``, which the local stages read)."""
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(summary).encode())
    log(logger, f"{job} done", **summary)
    print(json.dumps({job: summary}))
