"""Search events of both engines and the web log: a Solr search (from a real request-log
line) clicked at position 2, an OpenSearch zero result, an OpenSearch search whose click both
UBI and the web log recorded. (The web-log parser needs the Lambda runtime's bot patterns,
which the Glue runtime lacks: its result-link events are written out here, as it makes them.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shoprec.schema import Event
from shoprec.search import ubi
from shoprec.search.solr_log import SolrRequestLogParser

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
SOLR = (
    "2026-11-02 09:00:00.100 INFO  (qtp1-1-null-1) [ x:products t:null-1] o.a.s.c.S.Request "
    "webapp=/solr path=/select params={q=aurora+lamp&rows=10&fl=id&wt=json&shoprec.session=s1"
    "&shoprec.qid=s1-0} hits=12 status=0 QTime=3"
)


def _web_click(n: int, session: str, item: str, query_id: str, position: int, when: datetime):
    return Event(
        event_id=f"web-click-{n}",
        event_time=when,
        source="weblog",
        event_type="search_click",
        session_id=session,
        user_id=None,
        item_id=item,
        query=None,
        url=f"/product/{item}?qid={query_id}&pos={position}",
        status=200,
        referrer=None,
        user_agent_class="browser",
        origin=f"incoming/source=weblog/web-03/access.log@{n}",
        query_id=query_id,
        position=position,
    )


def search_events() -> list[Event]:
    solr_search = SolrRequestLogParser()(SOLR, "k@0", "solr@0")
    web_click = _web_click(1, "s1", "100003", "s1-0", 2, T0 + timedelta(seconds=9))
    ubi_query = ubi.parse_document(
        ubi.QUERIES, "s2-0", ubi.query_document("s2-0", "kettle", [], "s2", T0)
    )
    ubi_click_query = ubi.parse_document(
        ubi.QUERIES, "s3-0", ubi.query_document("s3-0", "brisk kettle", ["100020"], "s3", T0)
    )
    ubi_click = ubi.parse_document(
        ubi.EVENTS, "c1",
        ubi.action_document("click", "s3-0", "100020", 1, "s3", T0 + timedelta(seconds=4)),
    )  # fmt: skip
    # the same click as the web-04 server logged it: one label, not two
    web_copy = _web_click(2, "s3", "100020", "s3-0", 1, T0 + timedelta(seconds=4))
    return [solr_search, web_click, ubi_query, ubi_click_query, ubi_click, web_copy]
