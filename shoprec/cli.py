"""What the operator commands share (``make rollback``, ``replay``, ``erase``,
``api-fallback``): the lake they act on."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from shoprec.contracts import ApiSettings

LAKE_BUCKET_ENV = ApiSettings.env_name("lake_bucket")


def parse_with_lake(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """``parser``'s arguments and ``--bucket``, the lake (default: ``$SHOPREC_LAKE_BUCKET``,
    which ``.run/env`` sets for the local cloud); an error without either."""
    parser.add_argument("--bucket", default=os.environ.get(LAKE_BUCKET_ENV))
    args = parser.parse_args(argv)
    if not args.bucket:
        parser.error(f"--bucket (or {LAKE_BUCKET_ENV}) is required")
    return args
