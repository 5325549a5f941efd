"""Play the shop's web servers: deliver access logs into the lake's incoming prefix.

``python -m shoprec.local.deliver_logs [--dataset FILE]`` replays a YooChoose-format file,
or, without one, writes the seeded synthetic shop's logs. Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shoprec import aws
from shoprec.layout import LakeLayout
from shoprec.local.runtime import LOCAL_BUCKET
from shoprec.sources import LogFiles, generate_shop, replay_yoochoose


def deliver(logs: LogFiles, bucket: str, source: str = "weblog") -> list[str]:
    s3 = aws.client("s3")
    keys = []
    for name, text in logs.files.items():
        key = LakeLayout.incoming_prefix(source) + name
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
        keys.append(key)
        print(f"[deliver] s3://{bucket}/{key} ({text.count(chr(10))} lines)", flush=True)
    return keys


def main(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, help="YooChoose-format TSV to replay")
    parser.add_argument("--bucket", default=LOCAL_BUCKET)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logs = replay_yoochoose(args.dataset) if args.dataset else generate_shop(seed=args.seed)
    keys = deliver(logs, args.bucket)
    summary = {
        "dataset": str(args.dataset or "synthetic shop"),
        "lines": logs.lines,
        "files": len(keys),
        "skipped_rows": logs.skipped,
    }
    print(json.dumps({"deliver": summary}), flush=True)
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
