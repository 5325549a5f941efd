"""The local stand-in of CloudWatch Logs' metric extraction: a Lambda's embedded-metric-format
documents (its stdout under ``shoprec.local.event_source`` or ``chalice local``) become
``PutMetricData`` calls on LocalStack's CloudWatch, as CloudWatch makes metrics of them in AWS.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

from shoprec import aws


def metric_data(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, PutMetricData entries) per directive of one EMF document."""
    meta = document["_aws"]
    stamp = meta["Timestamp"] / 1000
    out = []
    for directive in meta["CloudWatchMetrics"]:
        entries = []
        for dimension_set in directive["Dimensions"]:
            dims = [{"Name": name, "Value": str(document[name])} for name in dimension_set]
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                for v in value if isinstance(value, list) else [value]:
                    entries.append(
                        {
                            "MetricName": metric["Name"],
                            "Dimensions": dims,
                            "Value": float(v),
                            "Unit": metric.get("Unit", "None"),
                            "Timestamp": stamp,
                        }
                    )
        out.append((directive["Namespace"], entries))
    return out


def forward(line: str, client: Any = None) -> bool:
    """Put the metrics of ``line`` if it is an EMF document; say whether it was one."""
    try:
        document = json.loads(line)
    except ValueError:
        return False
    if not isinstance(document, dict) or "_aws" not in document:
        return False
    cloudwatch = client or aws.client("cloudwatch")
    for namespace, entries in metric_data(document):
        for start in range(0, len(entries), 500):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=entries[start : start + 500])
    return True


class ForwardingStdout:
    """A process's stdout whose EMF lines go to CloudWatch, put on a background thread (a
    request never waits for it); every other line passes through."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.pending = stream, ""
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._forward, name="emf-forwarder", daemon=True).start()

    def _forward(self) -> None:
        while True:
            line = self.lines.get()
            try:
                forward(line)
            except Exception as error:  # metrics are lost, the process goes on
                self.stream.write(f"metrics not forwarded: {type(error).__name__}: {error}\n")

    def write(self, text: str) -> int:
        self.pending += text
        *complete, self.pending = self.pending.split("\n")
        for line in complete:
            if line.startswith('{"_aws"'):
                self.lines.put(line)
            else:
                self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
