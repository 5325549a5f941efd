"""Logs delivered as real fleets deliver them, each case with exact counts (LocalStack + Kafka).

Late and out-of-order keys from several hosts, gzip by content, renamed and duplicate
copies, a file re-delivered longer, a partial last line completed later or finalised,
content that changed, invalid UTF-8, over-long lines, cookieless logs, bots and privacy.
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from shoprec import aws
from shoprec.privacy import ClientHasher, client_hash_key
from shoprec.sources import generate_shop
from shoprec.weblog.parse import WebLogParser
from tests.integration.ingestion import (
    PREFIX,
    gzipped,
    ingestion,
    outcomes,
    text,
    view_lines,
)

pytestmark = [pytest.mark.integration]


@pytest.fixture
def lake(cloud, unique):
    return ingestion(cloud, unique)


def _published_once(lake, expected: int) -> None:
    """Kafka holds each expected event exactly once, and the landing zone the same rows."""
    records = lake.published()
    assert len(records) == expected and len({r["event_id"] for r in records}) == expected
    assert sorted(r["event_id"] for r in lake.landed()) == sorted(r["event_id"] for r in records)


def test_late_and_out_of_order_keys_from_several_hosts_are_all_ingested(lake):
    lake.put("web-02/access-2026-11-02.log", text(view_lines(10, "b")))
    lake.drain()
    lake.put("web-01/access-2026-11-01.log", text(view_lines(8, "a")))  # sorts before
    lake.put("web-02/access-2026-11-01.log", text(view_lines(6, "c")))  # a late older day
    lake.drain()
    entries = [lake.entry(PREFIX + n) for n in ("web-02/access-2026-11-02.log",
               "web-01/access-2026-11-01.log", "web-02/access-2026-11-01.log")]  # fmt: skip
    assert outcomes(entries) == {"ingested": 3}
    assert [e["counts"]["events"] for e in entries] == [10, 8, 6]
    _published_once(lake, 24)


def test_gzip_is_recognised_by_its_bytes_not_its_name(lake):
    lake.put("web-01/gzip-named-plain.log", gzipped(text(view_lines(5, "a"))))
    lake.put("web-01/plain-named.log.gz", text(view_lines(4, "b")))
    members = gzipped(text(view_lines(3, "c"))) + gzipped(text(view_lines(2, "c", start=3)))
    lake.put("web-01/two-members.log", members)
    lake.drain()
    counts = [lake.entry(PREFIX + n)["counts"] for n in
              ("web-01/gzip-named-plain.log", "web-01/plain-named.log.gz", "web-01/two-members.log")]  # fmt: skip
    assert [c["events"] for c in counts] == [5, 4, 5]
    _published_once(lake, 14)


def test_a_corrupt_gzip_keeps_its_readable_lines_and_quarantines_the_rest(lake):
    whole = gzipped(text(view_lines(400, "a")))
    lake.put("web-01/cut.log.gz", whole[: len(whole) // 2])
    lake.drain()
    counts = lake.entry(PREFIX + "web-01/cut.log.gz")["counts"]
    assert counts["quarantined"] == {"corrupt_compression": 1}
    assert 0 < counts["events"] < 400 and counts["lines"] == counts["events"] + 1
    (record,) = lake.quarantined()
    assert record["reason"] == "corrupt_compression" and record["detail"].startswith("gzip")
    _published_once(lake, counts["events"])


def test_renamed_and_redelivered_copies_are_counted_as_duplicates_not_ingested(lake):
    body = text(view_lines(10, "a"))
    original = lake.put("web-01/access.log", body)
    lake.drain()
    lake.s3.copy_object(
        Bucket=lake.lake.bucket,
        CopySource={"Bucket": lake.lake.bucket, "Key": original},
        Key=PREFIX + "web-01/access.log.1",
    )  # logrotate's rename
    lake.put("web-01/access.log.2.gz", gzipped(body))  # rotated and compressed
    lake.put("shipper-retry/access.log", body)  # an at-least-once shipper's second upload
    lake.put("web-01/access.log", body)  # the same bytes again under the same key
    lake.drain()
    copies = [lake.entry(PREFIX + n) for n in ("web-01/access.log.1", "web-01/access.log.2.gz",
              "shipper-retry/access.log", "web-01/access.log")]  # fmt: skip
    assert outcomes(copies) == {"duplicate_object": 4}
    assert all(c["counts"]["lines"] == 0 for c in copies)
    assert lake.totals().events == 10
    _published_once(lake, 10)


def test_a_file_delivered_again_longer_continues_and_its_partial_line_completes(lake):
    lines = view_lines(8, "a")
    cut = len(lines[5]) // 2
    first = text(lines[:5]) + lines[5][:cut].encode()  # a shipper caught mid-write
    key = lake.put("web-01/access.log", first)
    lake.drain()
    v1 = lake.ref(key)
    assert lake.entry(key)["state"] == "partial" and lake.entry(key)["tail_pending"] == cut
    assert lake.collector.sweep() == {"unnotified": [], "tails_due": []}  # still within grace

    lake.put("web-01/access.log", text(lines))  # the whole file, later
    lake.drain()
    assert lake.entry(key)["counts"]["events"] == 3 and lake.entry(key)["outcome"] == "ingested"

    lake.clock.offset = lake.settings.tail_grace_seconds + 1  # v1 is final now
    assert lake.sweep()["tails_due"] == [key]
    lake.drain()
    first_copy = lake.entry(key, v1)  # its five lines, its tail completed by the longer copy
    assert (first_copy["outcome"], first_copy["counts"]["events"]) == ("ingested", 5)
    assert lake.quarantined() == [] and lake.totals().lines == 8
    _published_once(lake, 8)


def test_an_unterminated_last_line_is_quarantined_once_when_final(lake):
    lines = view_lines(4, "a")
    key = lake.put("web-01/access.log", text(lines[:3]) + lines[3].encode())
    lake.drain()
    assert lake.entry(key)["state"] == "partial"
    lake.clock.offset = lake.settings.tail_grace_seconds + 1
    lake.sweep()
    lake.drain()
    entry = lake.entry(key)
    assert entry["state"] == "done" and entry["counts"]["quarantined"] == {"truncated_line": 1}
    assert entry["counts"]["lines"] == 4 and entry["counts"]["events"] == 3
    lake.sweep()  # nothing left to do: not quarantined twice
    lake.drain()
    (record,) = lake.quarantined()
    assert base64.b64decode(record["raw_base64"]).startswith(b"ip-")  # redacted address
    compressed = lake.put("web-02/cut.log.gz", gzipped(text(view_lines(2, "b")) + b"no newline"))
    lake.drain()  # a compressed file is final at once
    assert lake.entry(compressed)["counts"]["quarantined"] == {"truncated_line": 1}
    _published_once(lake, 5)


def test_content_changed_in_the_part_already_read_is_a_reported_conflict(lake):
    lines = view_lines(6, "a")
    key = lake.put("web-01/access.log", text(lines))
    lake.drain()
    rewritten = [*lines[:5], lines[5].replace("/product/5", "/product/9"), *view_lines(2, "a", 6)]
    lake.put("web-01/access.log", text(rewritten))
    lake.drain()
    entry = lake.entry(key)
    assert entry["outcome"] == "conflict" and "differ" in entry["detail"]
    assert lake.totals().events == 6
    _published_once(lake, 6)


def test_invalid_utf8_and_overlong_lines_are_quarantined_with_their_bytes(lake):
    good = view_lines(3, "a")
    broken = good[1].replace("Mozilla", "Moz\udcffilla").encode("utf-8", "surrogateescape")
    long = good[2].replace("/product/2", "/product/" + "9" * 70_000).encode()
    key = lake.put("web-01/access.log", text(good[:1]) + broken + b"\n" + long + b"\n")
    lake.drain()
    counts = lake.entry(key)["counts"]
    assert counts["events"] == 1
    assert counts["quarantined"] == {"invalid_encoding": 1, "line_too_long": 1}
    records = {r["reason"]: r for r in lake.quarantined()}
    raw = base64.b64decode(records["invalid_encoding"]["raw_base64"])
    assert b"Moz\xffilla" in raw and b"10.1.2.3" not in raw  # the bytes kept, the address not
    kept = base64.b64decode(records["line_too_long"]["raw_base64"])
    assert kept.endswith(b"9999") and 64 << 10 <= len(kept) < (64 << 10) + 64  # the head only
    _published_once(lake, 1)


def test_cookieless_logs_bots_and_health_checks_are_counted_and_no_personal_data_lands(lake):
    logs = generate_shop(seed=11, days=1, sessions_per_day=300, cookieless=0.5)
    hasher = ClientHasher(client_hash_key(lake.settings.client_hash_secret))
    parse = WebLogParser.create("auto", hasher)
    expected = {"events": 0, "filtered": {}}
    for name, body in logs.files.items():
        lake.put(name, body.encode())
        for line in body.splitlines():
            parsed = parse(line, "k@0", "s@0")
            reason = getattr(parsed, "reason", None)
            if reason is None:
                expected["events"] += 1
            elif type(parsed).__name__ == "Filtered":
                expected["filtered"][reason] = expected["filtered"].get(reason, 0) + 1
    lake.drain()
    totals = lake.totals()
    assert totals.events == expected["events"] and dict(totals.filtered) == expected["filtered"]
    assert set(expected["filtered"]) == {"health_check", "bot", "asset"}
    landed = lake.landed()
    inferred = [r for r in landed if r["session_source"] == "inferred"]
    assert inferred and all(r["session_id"] == "" and len(r["client_id"]) == 32 for r in inferred)
    addresses = {
        line.split(" ", 1)[0] for body in logs.files.values() for line in body.splitlines()
    }
    everything = json.dumps(landed) + json.dumps(lake.quarantined())
    assert not [address for address in addresses if address in everything]
    _published_once(lake, expected["events"])


def test_a_malformed_message_goes_to_the_dead_letter_queue_and_spares_its_batch(lake):
    sqs = aws.client("sqs")
    key = lake.put("web-01/access.log", text(view_lines(3, "a")))
    sqs.send_message(QueueUrl=lake.settings.queue_url, MessageBody="this is not a notification")
    lake.drain()
    assert lake.entry(key)["counts"]["events"] == 3
    dead = sqs.receive_message(QueueUrl=lake.lake.dead_letters["weblog"], WaitTimeSeconds=2)
    assert [m["Body"] for m in dead["Messages"]] == ["this is not a notification"]


@pytest.mark.slow
def test_a_large_object_is_read_in_budgeted_invocations_in_bounded_memory(cloud, unique):
    """64 MB through the real handler process in 4 MiB invocations of 1 MiB batches: every
    line exactly once, and the process's peak memory grows by far less than the object."""
    lake = ingestion(cloud, unique, batch_bytes=1 << 20, budget_bytes=4 << 20)
    small = lake.put("web-01/small.log", text(view_lines(1000, "small")))
    small_run = _collector_run(lake)
    block = text(view_lines(10_000, "large"))
    copies = (64 << 20) // len(block) + 1
    large = lake.put("web-01/large.log", text(view_lines(1, "first")) + block * copies)
    large_run = _collector_run(lake)
    lines = 1 + 10_000 * copies
    assert large_run["invocations"] >= (64 << 20) // (4 << 20)  # continued, message by message
    assert lake.entry(large)["counts"]["events"] == lines
    assert lake.entry(small)["counts"]["events"] == 1000
    growth = large_run["peak_rss_mb"] - small_run["peak_rss_mb"]
    assert growth < 32, (small_run, large_run)  # reading it whole would add 64 MB at least
    assert lake.totals().events == lines + 1000


def _collector_run(lake) -> dict:
    done = lake.run(stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    output, _ = done.communicate(timeout=600)
    assert done.returncode == 0
    return json.loads(output.strip().splitlines()[-1])["event_source"]
