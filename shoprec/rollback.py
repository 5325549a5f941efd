"""``python -m shoprec.rollback --bucket <lake bucket>``: the previous champion serves again.

Works against AWS or LocalStack alike (the AWS variables choose); ``make rollback`` runs it on
the local cloud. The API re-reads the pointer within ``SHOPREC_CHAMPION_REFRESH_SECONDS``.
"""

from __future__ import annotations

import argparse
import json
import sys

from shoprec import aws, registry
from shoprec.cli import parse_with_lake
from shoprec.layout import LakeLayout


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    args = parse_with_lake(parser, argv)
    try:
        pointer = registry.rollback(aws.client("s3"), LakeLayout(args.bucket))
    except (registry.NothingToRollBack, registry.DamagedModel) as error:
        raise SystemExit(f"rollback: {error}") from None
    print(json.dumps({"rollback": pointer}))


if __name__ == "__main__":
    main(sys.argv[1:])
