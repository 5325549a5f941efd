"""One access-log line → a clickstream event, a rejection with its reason, or a filtered line.

A product link followed from a recommendation carries the answer's id (``rec=``): the view
keeps it as ``recommendation_id``, which ties the click to the impression (``shoprec.feedback``).

Sessions: the session cookie when the line carries one (``session_source = cookie``);
otherwise the event keeps the keyed client id and the Spark jobs build sessions from it with
an inactivity gap (``session_source = inferred``), where lines of every host and file meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from shoprec.feedback import LINK_RECOMMENDATION
from shoprec.ingest.lines import Filtered, Parsed, Rejection
from shoprec.privacy import ClientHasher
from shoprec.schema import Event, EventType, SessionSource, UserAgentClass, event_id
from shoprec.search.request import LINK_POSITION, LINK_QUERY_ID
from shoprec.weblog.filters import filter_reason
from shoprec.weblog.formats import LogFormat, compile_format, event_time


@dataclass(frozen=True)
class _Route:
    event_type: EventType
    item_id: str | None = None
    query: str | None = None
    query_id: str | None = None
    position: int | None = None
    recommendation_id: str | None = None


def _result_click(item: str, params: dict[str, list[str]]) -> _Route | None:
    """A product link followed from a result list carries the query's id and the position."""
    query_id = params.get(LINK_QUERY_ID, [""])[0]
    position = params.get(LINK_POSITION, [""])[0]
    if query_id and position.isdigit() and int(position) > 0:
        return _Route(EventType.SEARCH_CLICK, item, query_id=query_id, position=int(position))
    return None


def _route(path: str) -> _Route | None:
    """What a known URL shape of the shop means, else None."""
    target, _, query = path.partition("#")[0].partition("?")
    if "://" in target:  # absolute form, as proxies log it
        target = urlsplit(target).path
    parts = [p for p in target.split("/") if p]
    if len(parts) == 2 and parts[0] == "product":
        params = parse_qs(query)
        followed = params.get(LINK_RECOMMENDATION, [""])[0] or None
        return _result_click(parts[1], params) or _Route(
            EventType.VIEW, parts[1], recommendation_id=followed
        )
    if len(parts) == 3 and parts[:2] == ["cart", "add"]:
        return _Route(EventType.ADD_TO_CART, parts[2])
    if len(parts) == 2 and parts[0] == "checkout":
        return _Route(EventType.PURCHASE, parts[1])
    if parts == ["search"]:
        searched = parse_qs(query).get("q", [""])[0]
        return _Route(EventType.SEARCH, query=searched) if searched else None
    if not parts or (len(parts) == 2 and parts[0] == "category"):
        return _Route(EventType.PAGE)
    return None


def agent_class(agent: str) -> UserAgentClass:
    return UserAgentClass.BROWSER if agent.startswith("Mozilla/") else UserAgentClass.OTHER


def _request(fields: dict[str, str]) -> tuple[str, str]:
    """(method, path) from ``$request`` or from separate method and URI fields."""
    if "request" in fields:
        method, _, rest = fields["request"].partition(" ")
        return method, rest.rsplit(" ", 1)[0] if " " in rest else rest
    return fields.get("method", "GET"), fields.get("uri", "")


@dataclass(frozen=True)
class WebLogParser:
    """The web-log ``LineParser`` for one configured log format."""

    log_format: LogFormat
    hasher: ClientHasher
    source: str = "weblog"

    @classmethod
    def create(cls, log_format: str, hasher: ClientHasher, source: str = "weblog"):
        return cls(compile_format(log_format), hasher, source)

    def _session(self, fields: dict[str, str]) -> str | None:
        cookie = self.hasher.session_cookie
        if value := fields.get(f"cookie:{cookie}"):
            return value
        kept = self.hasher.session_only(fields.get("cookie", ""))
        return None if kept == "-" else kept.partition("=")[2]

    def identity(self, line: str) -> tuple[str | None, str | None]:
        """(session id, keyed client id) of any line the format reads, whatever its request
        (the eraser finds a person's filtered and rejected lines by it)."""
        fields = self.log_format.parse(line.rstrip("\r"))
        if fields is None:
            return None, None
        address = fields.get("client")
        client = self.hasher.client_id(address, fields.get("agent", "")) if address else None
        return self._session(fields), client

    def __call__(self, line: str, origin: str, position: str) -> Parsed:
        line = line.rstrip("\r")
        fields = self.log_format.parse(line)
        if fields is None:
            return Rejection("malformed_line", "does not match the log format")
        try:
            when = event_time(fields)
        except (ValueError, OverflowError):
            when = None
        status = fields.get("status", "")
        if when is None:
            return Rejection("bad_timestamp", "no readable time")
        if not (status.isdigit() and len(status) == 3):
            return Rejection("malformed_line", f"status {status[:20]!r}")
        method, path = _request(fields)
        agent = fields.get("agent", "")
        if reason := filter_reason(method, path, agent):
            return Filtered(reason)
        routed = _route(path)
        if routed is None:
            return Rejection("unknown_url", f"{method} {path}"[:200])
        session_id, address = self._session(fields), fields.get("client")
        if session_id is None and address is None:
            return Rejection("missing_session", "no session cookie and no client address")
        user = fields.get("user", "-")
        referrer = fields.get("referrer", "-")
        return Event(
            event_id=event_id(self.source, position, line),
            event_time=when,
            source=self.source,
            event_type=routed.event_type.value,
            session_id=session_id,
            user_id=None if user == "-" else user,
            item_id=routed.item_id,
            query=routed.query,
            url=path,
            status=int(status),
            referrer=None if referrer == "-" else referrer,
            user_agent_class=agent_class(agent).value,
            origin=origin,
            client_id=self.hasher.client_id(address, agent) if address else None,
            session_source=(SessionSource.COOKIE if session_id else SessionSource.INFERRED).value,
            query_id=routed.query_id,
            position=routed.position,
            recommendation_id=routed.recommendation_id,
        )
