"""The pure parts of ingestion: line splitting, notifications, redaction."""

import json
import random

import pytest

from shoprec.ingest.lines import LineSplitter
from shoprec.ingest.notifications import (
    CONTINUE,
    MalformedMessage,
    message_for,
    refs_from_message,
)
from shoprec.ingest.reader import ObjectRef
from shoprec.privacy import ClientHasher

pytestmark = pytest.mark.unit
PREFIX = "incoming/source=weblog/"


def _split(data: bytes, start: int = 0, max_line: int = 64, chunk: int = 7):
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    splitter = LineSplitter(chunks, start, max_line)
    lines = [(line.offset, line.raw, line.length) for line in splitter]
    return lines, (splitter.tail_offset, splitter.tail, splitter.tail_bytes)


def test_lines_carry_their_offsets_and_the_tail_is_left_over():
    lines, tail = _split(b"one\ntwo\n\nthree\nfou", start=100)
    assert lines == [(100, b"one", 3), (104, b"two", 3), (108, b"", 0), (109, b"three", 5)]
    assert tail == (115, b"fou", 3)


@pytest.mark.parametrize("seed", range(20))
def test_any_chunking_gives_the_same_lines(seed):
    rng = random.Random(seed)
    data = b"\n".join(
        bytes(rng.randrange(97, 123) for _ in range(rng.randrange(0, 90))) for _ in range(30)
    )
    reference, reference_tail = _split(data, chunk=len(data) or 1)
    for chunk in (1, 2, 5, 13, 64, 1000):
        assert _split(data, chunk=chunk) == (reference, reference_tail)
    whole = data.split(b"\n")
    assert [raw for _, raw, _ in reference] == [w[:64] for w in whole[:-1]]


def test_a_line_over_the_limit_is_cut_but_its_length_and_end_are_kept():
    lines, tail = _split(b"a" * 200 + b"\nok\n" + b"b" * 150, max_line=64)
    (offset, raw, length), second = lines
    assert (offset, len(raw), length) == (0, 64, 200) and second == (201, b"ok", 2)
    assert tail == (204, b"b" * 64, 150)


def _s3_notification(key: str, bucket: str = "lake", name: str = "ObjectCreated:Put") -> str:
    obj = {"key": key, "size": 12, "eTag": "abc", "versionId": "v1", "sequencer": "1"}
    record = {"eventName": name, "eventTime": "2026-11-01T12:00:00.000Z"}
    return json.dumps({"Records": [record | {"s3": {"bucket": {"name": bucket}, "object": obj}}]})


def test_s3_notifications_name_the_object_version_with_its_key_decoded():
    (ref,) = refs_from_message(_s3_notification(PREFIX + "web-01/a+b%3D.log"), "lake", PREFIX)
    assert ref == ObjectRef(PREFIX + "web-01/a b=.log", "abc", 12, "v1", 1793534400.0)


def test_eventbridge_object_created_events_are_read_too():
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2026-11-01T12:00:00Z",
        "detail": {
            "bucket": {"name": "lake"},
            "object": {"key": PREFIX + "web-01/a b.log", "size": 5, "etag": "e", "version-id": "v"},
        },
    }
    (ref,) = refs_from_message(json.dumps(event), "lake", PREFIX)
    assert (ref.key, ref.etag, ref.size, ref.version) == (PREFIX + "web-01/a b.log", "e", 5, "v")


def test_own_messages_round_trip_and_others_announce_nothing():
    ref = ObjectRef(PREFIX + "web-01/x y+z.log", "e", 9, None, 1793534400.0)
    assert refs_from_message(message_for(ref, "lake", CONTINUE), "lake", PREFIX) == [ref]
    assert refs_from_message(json.dumps({"Event": "s3:TestEvent"}), "lake", PREFIX) == []
    assert refs_from_message(_s3_notification("landing/x.csv"), "lake", PREFIX) == []
    assert refs_from_message(_s3_notification(PREFIX + "a"), "other-bucket", PREFIX) == []
    removed = _s3_notification(PREFIX + "a", name="ObjectRemoved:Delete")
    assert refs_from_message(removed, "lake", PREFIX) == []


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", '{"Records": [{"eventName": "ObjectCreated:Put"}]}', "{}"]
)
def test_malformed_messages_raise_so_they_reach_the_dead_letter_queue(body):
    with pytest.raises(MalformedMessage):
        refs_from_message(body, "lake", PREFIX)


def test_redaction_keeps_no_address_and_only_the_session_cookie():
    hasher = ClientHasher(b"key")
    line = (
        '198.51.100.4 - - [01/Apr/2014:03:00:00 +0000] "GET /x?a=b HTTP/1.1" 200 5 '
        '"http://198.51.100.9/?q=1" "Mozilla/5.0" "track=42; session=abc; pref=x"'
    )
    redacted = hasher.redact(line)
    assert "198.51.100" not in redacted and hasher.address_token("198.51.100.4") in redacted
    assert redacted.endswith('"session=abc"') and "track" not in redacted
    assert '"GET /x?a=b HTTP/1.1"' in redacted and "03:00:00" in redacted
    ipv6 = hasher.redact('{"remote_addr":"2001:db8::1","http_cookie":"a=1"}')
    assert "2001:db8" not in ipv6 and '"http_cookie":"-"' in ipv6
