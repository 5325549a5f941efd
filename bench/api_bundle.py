"""Benchmark: the API's Lambda bundle, as ``cdk deploy`` packages it (issue 11).

Runs in the CDK runtime (``.venvs/infra``): the Chalice project the API stack deploys
(``components.bundles.api_project``: the app, ``chalicelib``, the shared package in
``vendor/``) is packaged by Chalice as its CDK construct packages it (its dependencies built
for Lambda's Linux). Reports the deployment zip's size, zipped and unzipped, beside Lambda's
limits, and what takes the room. JSON on stdout; progress on stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "cdk"))

from chalice.api import package_app  # noqa: E402

from components.bundles import api_project  # noqa: E402

ZIPPED_LIMIT_MB = 50  # a zip uploaded directly (larger ones go through S3)
UNZIPPED_LIMIT_MB = 250  # the function and its layers, unzipped
MB = 1e6


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # offline: it only names things
    with tempfile.TemporaryDirectory() as scratch:
        print("[bench api_bundle] packaging the API as its CDK construct does", file=sys.stderr)
        started = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):
            package_app(project_dir=str(api_project()), output_dir=scratch, stage="api")
        seconds = time.perf_counter() - started
        bundle = Path(scratch) / "deployment.zip"
        members = zipfile.ZipFile(bundle).infolist()
        by_top = Counter()
        for member in members:
            by_top[member.filename.split("/")[0]] += member.file_size
        unzipped = sum(by_top.values())
        result = {
            "zipped_mb": round(bundle.stat().st_size / MB, 1),
            "unzipped_mb": round(unzipped / MB, 1),
            "files": len(members),
            "limits_mb": {"zipped_direct_upload": ZIPPED_LIMIT_MB, "unzipped": UNZIPPED_LIMIT_MB},
            "largest_mb": {name: round(size / MB, 1) for name, size in by_top.most_common(5)},
            "package_seconds": round(seconds, 1),
        }
    json.dump({"api_bundle": result}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
