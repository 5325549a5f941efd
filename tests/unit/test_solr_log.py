"""Solr 9.10 request-log lines (as the real server wrote them) → search events."""

import pytest

from shoprec.ingest.lines import Filtered, Rejection
from shoprec.schema import Event
from shoprec.search.solr_log import SolrRequestLogParser, request_params

pytestmark = pytest.mark.unit

PREFIX = "2026-12-01 18:16:09.984 INFO  (qtp1589466857-21-null-7) [ x:products t:null-7] "
SEARCH = (
    PREFIX + "o.a.s.c.S.Request webapp=/solr path=/select params={q=wireless+héadphones"
    "&shoprec.session=s7-12&shoprec.qid=q-abc&fl=id&rows=10&wt=json} hits=1 status=0 QTime=16"
)
ZERO = (
    "2026-12-01 18:16:10.011 INFO  (qtp1589466857-18-null-8) [ x:products t:null-8] "
    "o.a.s.c.S.Request webapp=/solr path=/select params={q=zzzz&shoprec.session=s7-12"
    "&shoprec.qid=q-abd} hits=0 status=0 QTime=5"
)
FAILED = (
    "2026-12-01 18:16:10.029 INFO  (qtp1589466857-21-null-9) [ x:products t:null-9] "
    "o.a.s.c.S.Request webapp=/solr path=/select params={q=title:[bad&defType=lucene"
    "&shoprec.session=s7-12&shoprec.qid=q-abe} status=400 QTime=4"
)
ESCAPED = (
    "2026-12-01 18:16:10.043 INFO  (qtp1589466857-19-null-10) [ x:products t:null-10] "
    "o.a.s.c.S.Request webapp=/solr path=/select params={q=a%26b%3Dc+%2B&shoprec.session=s1"
    "&shoprec.qid=q1} hits=0 status=0 QTime=1"
)
PING = (
    "2026-12-01 18:16:04.620 INFO  (qtp1589466857-16-null-4) [ x:products t:null-4] "
    "o.a.s.c.S.Request webapp=/solr path=/admin/ping params={wt=json} hits=0 status=0 QTime=1"
)
UNTAGGED = (
    "2026-12-01 13:03:10.762 INFO  (qtp1800976873-19-null-5) [ x:products t:null-5] "
    "o.a.s.c.S.Request webapp=/solr path=/select params={q=title:wireless&fl=id,title,price"
    "&rows=3} hits=25 status=0 QTime=43"
)

parse = SolrRequestLogParser()


def _parse(line: str):
    return parse(line, "incoming/source=solr/solr-01/solr_requests.log@0", "stream@0")


def test_a_tagged_search_is_a_search_event_of_its_session():
    event = _parse(SEARCH)
    assert isinstance(event, Event)
    assert (event.source, event.event_type, event.session_id) == ("solr", "search", "s7-12")
    assert event.query == "wireless héadphones"
    assert event.event_time.isoformat() == "2026-12-01T18:16:09.984000+00:00"
    assert event.query_id == "q-abc" and "shoprec.qid=q-abc" in event.url
    assert event.event_id == _parse(SEARCH).event_id  # deterministic
    # the log's hits=N; which ids were shown, Solr's request log does not say
    assert (event.hits, event.results) == (1, None)


def test_no_hits_is_a_zero_result_event_and_escaped_values_are_decoded():
    assert (_parse(ZERO).event_type, _parse(ZERO).hits) == ("zero_result", 0)
    assert _parse(ESCAPED).query == "a&b=c +"
    assert request_params("q=a%26b%3Dc+%2B&rows=3&rows=5") == {"q": "a&b=c +", "rows": "3"}


@pytest.mark.parametrize(
    ("line", "reason"),
    [(PING, "not_a_search"), (FAILED, "failed_search"), (UNTAGGED, "untagged_search")],
)
def test_lines_that_are_not_shopper_searches_are_filtered(line, reason):
    assert _parse(line) == Filtered(reason)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("java.lang.IllegalStateException: boom", "malformed_line"),
        (SEARCH.replace("hits=1 ", "hits=x "), "malformed_line"),
        (SEARCH.replace("2026-12-01", "2026-13-01"), "bad_timestamp"),
        (SEARCH.replace("q=wireless+héadphones&", "q=+&"), "missing_query"),
    ],
)
def test_lines_that_cannot_be_read_are_rejected_with_their_reason(line, reason):
    rejected = _parse(line)
    assert isinstance(rejected, Rejection) and rejected.reason == reason
