"""One line of Solr's request log → a search event, a rejection with its reason, or a filtered line.

The line is the one Solr 9.10 writes for each core request (logger ``o.a.s.c.S.Request``,
MDC block ``[ x:<core> ...]``; times in the server's zone, UTC here)::

  2026-12-01 13:03:10.762 INFO  (qtp1800976873-19-null-5) [ x:products t:null-5] o.a.s.c.S.Request
  webapp=/solr path=/select params={q=wireless&shoprec.session=s1&shoprec.qid=q1} hits=25 status=0 QTime=43

(one line in the log). ``params`` are URL-encoded as Solr prints them (space as ``+``, ``&``
and ``=`` inside values escaped). A ``/select`` the shop tagged with a session becomes a
``search`` (``hits`` > 0) or ``zero_result`` event with the query's id and its ``hits``
(the log names no ids of the results shown: the event's ``results`` stay empty). Pings,
updates, admin calls and untagged queries are filtered; failed requests (no ``hits``) too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from shoprec.ingest.lines import Filtered, Parsed, Rejection
from shoprec.schema import Event, EventType, SessionSource, Source, UserAgentClass, event_id
from shoprec.search.request import QUERY_ID_PARAM, SESSION_PARAM

_LINE = re.compile(
    r"(?P<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) +(?P<level>[A-Z]+) +\(.*?\) "
    r"\[(?P<mdc>[^\]]*)\] (?P<logger>\S+) webapp=(?P<webapp>\S*) path=(?P<path>\S+) "
    r"params=\{(?P<params>.*)\}(?: hits=(?P<hits>\d+))? status=(?P<status>-?\d+) QTime=\d+"
)
SEARCH_PATH = "/select"


def request_params(encoded: str) -> dict[str, str]:
    """Solr's ``params={...}`` text as a dict (the first value of a repeated name)."""
    params: dict[str, str] = {}
    for pair in encoded.split("&"):
        name, _, value = pair.partition("=")
        params.setdefault(unquote_plus(name), unquote_plus(value))
    return params


@dataclass(frozen=True)
class SolrRequestLogParser:
    """The Solr ``LineParser``."""

    source: str = Source.SOLR.value

    def __call__(self, line: str, origin: str, position: str) -> Parsed:
        line = line.rstrip("\r")
        match = _LINE.fullmatch(line)
        if match is None:
            return Rejection("malformed_line", "not a Solr request log line")
        if match["path"] != SEARCH_PATH:
            return Filtered("not_a_search")
        if match["hits"] is None or match["status"] != "0":
            return Filtered("failed_search")
        params = request_params(match["params"])
        session = params.get(SESSION_PARAM)
        if not session:
            return Filtered("untagged_search")  # not the shop's: an admin, a health check
        query = params.get("q", "").strip()
        if not query:
            return Rejection("missing_query", "a tagged search without q")
        try:
            when = datetime.strptime(match["time"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        except ValueError:
            return Rejection("bad_timestamp", match["time"])
        found = int(match["hits"])
        return Event(
            event_id=event_id(self.source, position, line),
            event_time=when,
            source=self.source,
            event_type=(EventType.SEARCH if found else EventType.ZERO_RESULT).value,
            session_id=session,
            user_id=None,
            item_id=None,
            query=query,
            url=f"{match['webapp']}{match['path']}?{match['params']}",
            status=200,  # Solr's status 0: the request succeeded
            referrer=None,
            user_agent_class=UserAgentClass.BROWSER.value,  # a shopper's search, sent by the shop
            origin=origin,
            session_source=SessionSource.COOKIE.value,
            query_id=params.get(QUERY_ID_PARAM) or None,
            hits=found,  # the log has no ids of the results shown: ``results`` stays empty
        )
