"""Play the shop's web servers: deliver access logs into the lake's incoming prefix.

``python -m shoprec.local.deliver_logs [--dataset FILE]`` replays a YooChoose-format file,
or, without one, writes the seeded synthetic shop's logs; ``--file LOG --host HOST`` ships
one log file of your own. As logrotate with ``compress`` and ``delaycompress`` leaves them,
each host's older days arrive gzipped and its newest day as plain text, each under
``incoming/source=weblog/<host>/``; the shop's product feed of the last day arrives with them
(``incoming/products/``). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

from shoprec import aws
from shoprec.layout import LakeLayout
from shoprec.local.runtime import LOCAL_BUCKET
from shoprec.search.catalogue import Product, feed_csv
from shoprec.sources import LogFiles, generate_shop, products_sold, replay_yoochoose

SYNTHETIC_DAYS = 3  # the synthetic shop's days it delivers


def _newest_per_host(names: list[str]) -> set[str]:
    newest: dict[str, str] = {}
    for name in names:
        host = name.split("/", 1)[0]
        newest[host] = max(newest.get(host, name), name)
    return set(newest.values())


def deliver(
    logs: LogFiles, bucket: str, source: str = "weblog", compress: set[str] | None = None
) -> list[str]:
    """Put the files under the source's incoming prefix; ``compress`` names the files that
    arrive gzipped (by default each host's older days, as logrotate leaves them)."""
    s3, keys = aws.client("s3"), []
    compressed = (
        compress if compress is not None else set(logs.files) - _newest_per_host(list(logs.files))
    )
    for name, text in logs.files.items():
        body, key = text.encode(), LakeLayout.incoming_prefix(source) + name
        if name in compressed:
            body, key = gzip.compress(body, mtime=0), key + ".gz"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        keys.append(key)
        print(f"[deliver] s3://{bucket}/{key} ({text.count(chr(10))} lines)", flush=True)
    return keys


def deliver_feed(products: list[Product], day: str, bucket: str) -> str:
    """The day's product feed, as the shop exports it."""
    key = LakeLayout.product_feed_key(day)
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=feed_csv(products).encode())
    print(f"[deliver] s3://{bucket}/{key} ({len(products)} products)", flush=True)
    return key


def ship(path: Path, host: str, bucket: str, source: str = "weblog") -> dict[str, object]:
    """One file as it is (plain or compressed), as a log shipper uploads it."""
    key = f"{LakeLayout.incoming_prefix(source)}{host}/{path.name}"
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    summary = {"shipped": f"s3://{bucket}/{key}", "bytes": path.stat().st_size}
    print(json.dumps({"deliver": summary}), flush=True)
    return summary


def main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, help="YooChoose-format TSV to replay")
    parser.add_argument("--file", type=Path, help="one access log of your own to ship")
    parser.add_argument("--host", default="web-03", help="the host that wrote --file")
    parser.add_argument("--bucket", default=LOCAL_BUCKET)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.file:
        return ship(args.file, args.host, args.bucket)
    if args.dataset:
        logs = replay_yoochoose(args.dataset)
    else:
        logs = generate_shop(seed=args.seed, days=SYNTHETIC_DAYS)
    products = products_sold(args.dataset, SYNTHETIC_DAYS)  # every item it sold
    keys = deliver(logs, args.bucket)
    last_day = max(name.rsplit("access-", 1)[1][:10] for name in logs.files)
    deliver_feed(products, last_day, args.bucket)
    summary = {
        "dataset": str(args.file or args.dataset or "synthetic shop"),
        "lines": logs.lines,
        "files": len(keys),
        "skipped_rows": logs.skipped,
        "products": len(products),
    }
    print(json.dumps({"deliver": summary}), flush=True)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
