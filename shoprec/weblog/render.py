"""Writing access-log lines the way the shop's web servers do (the generator and the replayer).

The combined log format, optionally followed by the Cookie header (``"%{Cookie}i"``), with
milliseconds in ``%t`` (``01/Apr/2014:03:00:00.123 +0000``).
"""

from __future__ import annotations

from datetime import UTC, datetime

BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"


def format_log_time(when: datetime) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%d/%b/%Y:%H:%M:%S.") + f"{when.microsecond // 1000:03d} +0000"


def render_line(
    when: datetime,
    session_id: str | None,
    path: str,
    *,
    method: str = "GET",
    status: int = 200,
    user: str = "-",
    referrer: str = "-",
    agent: str = BROWSER_AGENT,
    client: str = "10.0.0.1",
) -> str:
    """One access-log line (without the newline); no Cookie field when ``session_id`` is None."""
    line = (
        f'{client} - {user} [{format_log_time(when)}] "{method} {path} HTTP/1.1" {status} 512 '
        f'"{referrer}" "{agent}"'
    )
    return line if session_id is None else f'{line} "session={session_id}"'
