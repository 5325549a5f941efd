"""Invoke a Lambda handler in-process, as the Lambda runtime would (LocalStack cannot run it).

``python -m shoprec.local.invoke <handler.py> '<event json>'`` prints ``{"lambda_result": ...}``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    function_name: str
    timeout_seconds: float = 900.0  # the Lambda maximum, as the collectors are deployed
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    memory_limit_in_mb: int = 1024

    @property
    def invoked_function_arn(self) -> str:  # Powertools' Logger records it
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000)


def load_handler(path: Path) -> Handler:
    spec = importlib.util.spec_from_file_location(f"handler_{path.parent.name}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def main(argv: list[str]) -> None:
    path, event = Path(argv[0]), json.loads(argv[1]) if len(argv) > 1 else {}
    result = load_handler(path)(event, LocalContext(function_name=path.parent.name))
    print(json.dumps({"lambda_result": result}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
