"""The fallback packaged with the API: popular items that a cold start serves while no
champion can be loaded (before the first promotion, or with S3 unreachable), as the
``popular`` tier (``shoprec.serving.PopularRecommender``). Without the file such a start
answers 503 with the reason.

``make api-fallback`` writes it from the lake's champion (its manifest's popular items)
before a deploy packages the API; a shop may also write it by hand:
``{"from": "<where the list comes from>", "popular_items": ["<item id>", ...]}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from shoprec import aws, registry, serving
from shoprec.cli import parse_with_lake
from shoprec.layout import LakeLayout

FALLBACK_FILE = Path(__file__).with_name("fallback.json")  # git-ignored: the shop's data
logger = logging.getLogger(__name__)


def load(path: Path = FALLBACK_FILE) -> serving.Recommender | None:
    """The packaged fallback, or None: without the file, or with one that is not a fallback
    list (logged: a hand-written file's mistake must not stop a champion from serving)."""
    if not path.exists():
        return None
    try:
        return serving.PopularRecommender.load(path)
    except ValueError as error:
        logger.error("packaged fallback not served: %s", error)
        return None


def write_from_champion(s3: object, layout: LakeLayout, path: Path = FALLBACK_FILE) -> dict:
    """The champion's popular items as the fallback; returns what was written."""
    pointer = registry.read_champion(s3, layout)
    if pointer is None:
        raise LookupError(f"no champion in s3://{layout.bucket}: nothing to package")
    manifest = registry.read_manifest(s3, layout, pointer["version"])
    fallback = {"from": pointer["version"], "popular_items": manifest["popular_items"]}
    path.write_text(json.dumps(fallback))
    return fallback


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    args = parse_with_lake(parser, argv)
    try:
        fallback = write_from_champion(aws.client("s3"), LakeLayout(args.bucket))
    except LookupError as error:
        raise SystemExit(f"api-fallback: {error}") from None
    items = len(fallback["popular_items"])
    print(f"api-fallback: {items} popular items of {fallback['from']} in {FALLBACK_FILE}")


if __name__ == "__main__":
    main(sys.argv[1:])
