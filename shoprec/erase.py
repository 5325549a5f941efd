"""``python -m shoprec.erase --session <id> | --client <keyed client hash>``: erase one person's
events from every zone of the lake (``shoprec.erasure``), write the audit record, and make the
next cycle retrain. ``make erase`` runs it on the local cloud, where the Parquet step runs on
local Spark as the ``erase_events`` Glue job would.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from shoprec import aws
from shoprec.cli import parse_with_lake
from shoprec.collectors import parser_for
from shoprec.deployment import SOURCES
from shoprec.erasure import Person, erase
from shoprec.layout import LakeLayout
from shoprec.privacy import ClientHasher, client_hash_key


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--session", help="the session cookie's value")
    who.add_argument("--client", help="the keyed client hash (client_id), for cookieless lines")
    args = parse_with_lake(parser, argv)
    person = Person("session", args.session) if args.session else Person("client", args.client)
    from shoprec.local import stages  # the local cloud's collectors and Spark

    parsers = {}
    for source in SOURCES:
        settings = stages.collector_settings(source)
        hasher = ClientHasher(client_hash_key(settings.client_hash_secret), settings.session_cookie)
        parsers[source] = parser_for(settings, hasher)
    record = erase(
        aws.client("s3"),
        LakeLayout(args.bucket),
        person,
        parsers,
        lambda job_args: stages.run_glue_job("erase_events", job_args),
    )
    print(json.dumps({"erase": record}))
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
