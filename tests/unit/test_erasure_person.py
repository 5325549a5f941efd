"""Who an erasure names, and how: by the id in records, by a token in raw lines, and by the
SHA-256 of the id everywhere it is written down."""

from __future__ import annotations

import hashlib

import pytest

from shoprec.contracts import ErasureJobArgs
from shoprec.erasure import Person


def test_a_session_is_found_as_a_whole_token_only():
    person = Person("session", "s1")
    assert person.named_in('"GET /product/1" "Mozilla" "theme=dark; session=s1"')
    assert person.named_in("params={q=tv&shoprec.session=s1&shoprec.qid=q1}")
    assert not person.named_in('"session=s10"')
    assert not person.named_in('"session=xs1"')


def test_a_client_is_matched_on_its_column_and_never_on_raw_text():
    person = Person("client", "c" * 32)
    assert person.column == "client_id"
    assert person.owns({"client_id": "c" * 32, "session_id": None})
    assert not person.owns({"session_id": "c" * 32})
    assert not person.named_in("c" * 32)


def test_the_digest_is_what_spark_sha2_computes_and_the_job_gets_only_it():
    person = Person("session", "s1")
    assert person.digest == hashlib.sha256(b"s1").hexdigest()
    args = ErasureJobArgs(lake_bucket="lake", request=f"20261201T000000Z-{person.digest[:12]}")
    assert "s1" not in " ".join(args.to_argv()).replace(person.digest[:12], "")


@pytest.mark.parametrize(("kind", "value"), [("user", "u1"), ("session", "")])
def test_only_a_session_or_a_client_can_be_erased(kind, value):
    with pytest.raises(ValueError):
        Person(kind, value)


def test_the_weblog_parser_names_the_person_of_lines_that_are_not_events():
    from datetime import UTC, datetime

    from shoprec.privacy import ClientHasher
    from shoprec.weblog.parse import WebLogParser
    from shoprec.weblog.render import render_line

    hasher = ClientHasher(b"key")
    parser = WebLogParser.create("auto", hasher)
    when = datetime(2026, 11, 1, tzinfo=UTC)
    asset = render_line(when, "s1", "/static/app.css", client="10.0.0.9")  # filtered
    unknown = render_line(when, None, "/nowhere", client="10.0.0.9")  # rejected
    event = parser(render_line(when, None, "/product/1", client="10.0.0.9"), "k@0", "s@0")
    assert parser.identity(asset) == ("s1", event.client_id)
    assert parser.identity(unknown) == (None, event.client_id)
    assert parser.identity("not a log line") == (None, None)
