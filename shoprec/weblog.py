"""Web-server access logs: the combined log format with a session cookie.

``%h %l %u [%t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{Cookie}i"`` where ``%t`` may
carry milliseconds (``01/Apr/2014:03:00:00.123 +0000``). One module renders and parses the
format, so the replayer, the generator and the collector cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from shoprec.schema import Event, EventType, UserAgentClass, event_id

_LINE = re.compile(
    r"^(?P<host>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<size>\S+) '
    r'"(?P<referrer>[^"]*)" "(?P<agent>[^"]*)"(?: "(?P<cookie>[^"]*)")?\s*$'
)
_BOT = re.compile(r"bot|crawl|spider|slurp", re.IGNORECASE)
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"


@dataclass(frozen=True)
class Rejection:
    """A line that is not an event, with the reason it was set aside."""

    reason: str
    detail: str


def format_log_time(when: datetime) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%d/%b/%Y:%H:%M:%S.") + f"{when.microsecond // 1000:03d} +0000"


def render_line(
    when: datetime,
    session_id: str,
    path: str,
    *,
    method: str = "GET",
    status: int = 200,
    user: str = "-",
    referrer: str = "-",
    agent: str = BROWSER_AGENT,
    host: str = "10.0.0.1",
) -> str:
    """One access-log line (without the newline)."""
    return (
        f'{host} - {user} [{format_log_time(when)}] "{method} {path} HTTP/1.1" {status} 512 '
        f'"{referrer}" "{agent}" "session={session_id}"'
    )


def _parse_time(text: str) -> datetime:
    for pattern in ("%d/%b/%Y:%H:%M:%S.%f %z", "%d/%b/%Y:%H:%M:%S %z"):
        try:
            return datetime.strptime(text, pattern).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(text)


def _route(path: str) -> tuple[EventType, str | None, str | None] | None:
    """(event type, item id, query) for a known URL shape, else None."""
    url = urlsplit(path)
    parts = [p for p in url.path.split("/") if p]
    if len(parts) == 2 and parts[0] == "product":
        return EventType.VIEW, parts[1], None
    if len(parts) == 3 and parts[:2] == ["cart", "add"]:
        return EventType.ADD_TO_CART, parts[2], None
    if len(parts) == 2 and parts[0] == "checkout":
        return EventType.PURCHASE, parts[1], None
    if parts == ["search"]:
        query = parse_qs(url.query).get("q", [""])[0]
        return (EventType.SEARCH, None, query) if query else None
    if not parts or (len(parts) == 2 and parts[0] == "category"):
        return EventType.PAGE, None, None
    return None


def _session(cookie: str | None) -> str | None:
    for part in (cookie or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "session" and value:
            return value
    return None


def agent_class(agent: str) -> UserAgentClass:
    if _BOT.search(agent):
        return UserAgentClass.BOT
    return UserAgentClass.BROWSER if agent.startswith("Mozilla/") else UserAgentClass.OTHER


def parse_line(line: str, source: str, origin: str) -> Event | Rejection:
    """Parse one raw line into an event, or say why it is not one."""
    match = _LINE.match(line)
    if match is None:
        return Rejection("malformed_line", "does not match the combined log format")
    try:
        when = _parse_time(match["time"])
    except ValueError:
        return Rejection("bad_timestamp", match["time"])
    method, _, rest = match["request"].partition(" ")
    path = rest.rsplit(" ", 1)[0] if " " in rest else rest
    routed = _route(path) if method in {"GET", "POST"} else None
    if routed is None:
        return Rejection("unknown_url", f"{method} {path}"[:200])
    session_id = _session(match["cookie"])
    if session_id is None:
        return Rejection("missing_session", "no session cookie")
    event_type, item_id, query = routed
    return Event(
        event_id=event_id(source, origin, line),
        event_time=when,
        source=source,
        event_type=event_type.value,
        session_id=session_id,
        user_id=None if match["user"] == "-" else match["user"],
        item_id=item_id,
        query=query,
        url=path,
        status=int(match["status"]),
        referrer=None if match["referrer"] == "-" else match["referrer"],
        user_agent_class=agent_class(match["agent"]).value,
        origin=origin,
    )
