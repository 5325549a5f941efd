"""Events for tests: a web-log view as the collector would publish it."""

from datetime import datetime

from shoprec.schema import Event


def view(
    event_id: str,
    event_time: datetime,
    item_id: str,
    origin: str,
    session_id: str | None,
    session_source: str = "cookie",
) -> Event:
    return Event(
        event_id=event_id,
        event_time=event_time,
        source="weblog",
        event_type="view",
        session_id=session_id,
        user_id=None,
        item_id=item_id,
        query=None,
        url=f"/product/{item_id}",
        status=200,
        referrer=None,
        user_agent_class="browser",
        origin=origin,
        client_id="c" * 32,
        session_source=session_source,
    )
