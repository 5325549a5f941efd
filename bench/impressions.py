"""What logging impressions costs an answer: ``POST /recommendations`` in process (the app's
own code, Chalice's test client) on a tiny model, p50 and p99 with the impression log putting
its batches to S3 (LocalStack, ``make up``) and with a log that keeps nothing, alternating.

``PYTHONPATH=.:api:tests .venvs/lambda/bin/python bench/impressions.py`` prints JSON."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import app as api
from chalice.test import Client
from tiny_model import write_tiny_model

from shoprec import aws, serving
from shoprec.local.runtime import read_env_file

REQUESTS = 4000


class _Nothing:
    def record(self, lines: list[str]) -> None:
        return None


def _quantiles(seconds: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(seconds, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}


def main() -> dict[str, object]:
    os.environ.update(read_env_file())
    with tempfile.TemporaryDirectory() as scratch:
        model = serving.load(write_tiny_model(Path(scratch), "bench"))

    class _Serving:
        def get(self) -> serving.Recommender:
            return model

        def current(self) -> serving.Recommender:
            return model

    api.champion = lambda: _Serving()
    logged = api.impressions()
    body = json.dumps({"session_items": ["a", "b"], "k": 5})
    headers = {"Content-Type": "application/json"}
    timings: dict[str, list[float]] = {"impressions": [], "none": []}
    with Client(api.app) as client:
        for n in range(REQUESTS):
            name = "impressions" if n % 2 else "none"
            api.impressions = (lambda: logged) if n % 2 else _Nothing
            started = time.perf_counter()
            client.http.post("/recommendations", body=body, headers=headers)
            timings[name].append(time.perf_counter() - started)
    logged.flush()
    prefix = "incoming/source=impressions/" + logged.instance
    listed = aws.client("s3").list_objects_v2(Bucket=logged.layout.bucket, Prefix=prefix)
    result = {
        "requests_each": REQUESTS // 2,
        **{name: _quantiles(values) for name, values in timings.items()},
        "objects_put": listed.get("KeyCount", 0),
        "batch_lines": logged.batch,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
