"""Where the shop's web-server logs come from in the demo and the tests.

* ``replay_yoochoose``: renders a YooChoose-format file (``SessionId<TAB>ItemId<TAB>Time``)
  as access-log lines, one product page view per click.
* ``generate_shop``: a small seeded synthetic shop with learnable structure (items in
  co-viewed groups, browsing that mostly moves to the next item of the group), plus the
  noise real logs have (asset requests, health checks, a crawler, scanners probing unknown
  URLs) and shoppers whose browsers send no cookie (their sessions are built in Spark).

Both return log files as ``{"<host>/access-<day>.log": text}``: a fleet of web servers
behind a load balancer with sticky sessions, each rotating its log daily.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shoprec.search.catalogue import Product, catalogue, derived_catalogue
from shoprec.weblog.render import render_line

HOSTS = ("web-01", "web-02")
ITEM_BASE = 100_000  # the synthetic shop's item ids: ITEM_BASE + item number
SHOP_START = datetime(2026, 11, 1, tzinfo=UTC)  # the synthetic shop's first day
SHOP_ITEMS, GROUP_SIZE, NEW_GROUPS_PER_DAY = 600, 12, 2  # the synthetic shop's defaults


@dataclass
class LogFiles:
    files: dict[str, str] = field(default_factory=dict)
    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # input rows not rendered, by reason


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def host_of(session: str) -> str:
    """The web server a session sticks to."""
    return HOSTS[_stable(session) % len(HOSTS)]


def client_address(session: str) -> str:
    """A stable private address for a shopper."""
    n = _stable("client" + session)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def rotate_daily(lines: Iterable[tuple[str, datetime, str]]) -> LogFiles:
    """(host, time, line) → one file per host and day, lines in time order."""
    by_file: dict[str, list[str]] = defaultdict(list)
    count = 0
    for host, when, line in sorted(lines, key=lambda row: row[1]):
        by_file[f"{host}/access-{when.strftime('%Y-%m-%d')}.log"].append(line)
        count += 1
    files = {name: "\n".join(rows) + "\n" for name, rows in sorted(by_file.items())}
    return LogFiles(files=files, lines=count)


def read_yoochoose(path: Path, skipped: dict[str, int] | None = None):
    """(session id, item id, unix seconds) per valid row; bad rows are counted in ``skipped``."""
    with path.open(newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["SessionId", "ItemId", "Time"]:
            raise ValueError(f"{path}: expected header SessionId<TAB>ItemId<TAB>Time")
        for row in reader:
            try:
                session, item, seconds = row[0], row[1], float(row[2])
            except (IndexError, ValueError):
                session = item = ""
            if session and item:
                yield session, item, seconds
            elif skipped is not None:
                skipped["malformed_row"] = skipped.get("malformed_row", 0) + 1


def replay_catalogue(path: Path) -> list[Product]:
    """The catalogue derived from a YooChoose-format file's clicks (it comes without one)."""
    sessions: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for session, item, seconds in read_yoochoose(path):
        sessions[session].append((seconds, item))
    return derived_catalogue(
        [item for _, item in sorted(clicks, key=lambda click: click[0])]
        for clicks in sessions.values()
    )


def products_sold(dataset: Path | None, day_number: int) -> list[Product]:
    """What the shop sells on its day ``day_number`` (from 0): the synthetic shop's items up
    to that day, or the catalogue derived from the whole replayed ``dataset``."""
    if dataset:
        return replay_catalogue(dataset)
    return catalogue(items_sold(day_number), GROUP_SIZE)


def replay_yoochoose(path: Path) -> LogFiles:
    """Render every click of a YooChoose-format TSV as a product-page access-log line."""
    rendered: list[tuple[str, datetime, str]] = []
    skipped: dict[str, int] = {}
    for session, item, seconds in read_yoochoose(path, skipped):
        # Sorting is stable, so same-millisecond clicks keep the file's order.
        when = datetime.fromtimestamp(round(seconds, 3), tz=UTC)
        line = render_line(when, session, f"/product/{item}", client=client_address(session))
        rendered.append((host_of(session), when, line))
    logs = rotate_daily(rendered)
    logs.skipped = skipped
    return logs


def _logger(lines: list[tuple[str, datetime, str]], session: str, cookie: str | None):
    """Appends one session's requests, as its web server logs them."""
    host, client = host_of(session), client_address(session)

    def log(when: datetime, path: str, **fields: str) -> None:
        lines.append((host, when, render_line(when, cookie, path, client=client, **fields)))

    return log


def groups_shown(items: int = SHOP_ITEMS, group_size: int = GROUP_SIZE) -> int:
    """Groups in the synthetic shop on any day."""
    return -(-items // group_size)


def shop_groups(
    day: int,
    items: int = SHOP_ITEMS,
    group_size: int = GROUP_SIZE,
    new_groups_per_day: int = NEW_GROUPS_PER_DAY,
) -> tuple[list[list[int]], list[float]]:
    """The groups of item numbers the synthetic shop shows on ``day`` (from 0), newest
    first, and how popular each is (newest most)."""
    shown = groups_shown(items, group_size)
    first = day * new_groups_per_day
    groups = [
        list(range(g * group_size, (g + 1) * group_size)) for g in range(first, first + shown)
    ]
    return groups[::-1], [1.0 / (rank + 1) ** 0.8 for rank in range(shown)]


def items_sold(days: int) -> int:
    """Every item the default synthetic shop sells over ``days`` (new groups included)."""
    return (groups_shown() + NEW_GROUPS_PER_DAY * days) * GROUP_SIZE


def generate_shop(
    seed: int = 7,
    days: int = 3,
    sessions_per_day: int = 1500,
    items: int = SHOP_ITEMS,
    group_size: int = GROUP_SIZE,
    start: datetime = SHOP_START,
    cookieless: float = 0.1,
    new_groups_per_day: int = NEW_GROUPS_PER_DAY,
) -> LogFiles:
    """A synthetic shop whose sessions a sequence model can learn. Its catalogue moves: each
    day ``new_groups_per_day`` groups of new items arrive as the most popular, and as many of
    the oldest fade out of the shop."""
    rng = random.Random(seed)
    lines: list[tuple[str, datetime, str]] = []
    session_no = 0
    for day in range(days):
        today, popularity = shop_groups(day, items, group_size, new_groups_per_day)
        for _ in range(sessions_per_day):
            session_no += 1
            session = f"s{seed}-{session_no}"
            cookie = session if rng.random() > cookieless else None
            log = _logger(lines, session, cookie)
            when = start + timedelta(days=day, seconds=rng.uniform(0, 86_000))
            group = rng.choices(today, weights=popularity)[0]
            position = rng.randrange(len(group))
            for _ in range(rng.randint(2, 9)):
                item = ITEM_BASE + group[position]
                log(when, f"/product/{item}")
                if rng.random() < 0.08:
                    when += timedelta(seconds=rng.uniform(2, 30))
                    log(when, f"/cart/add/{item}", method="POST")
                when += timedelta(seconds=rng.uniform(5, 120))
                step = 1 if rng.random() < 0.75 else rng.randrange(len(group))
                position = (position + step) % len(group)
            if rng.random() < 0.05:  # noise a real server log has
                log(when, "/static/app.js")
            if rng.random() < 0.02:
                log(when, "/product/1", agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
            if rng.random() < 0.01:
                log(when, "/wp-login.php", agent="python-requests/2.31")
        for minute in range(0, 24 * 60, 30):  # the load balancer's health checks
            when = start + timedelta(days=day, minutes=minute)
            check = render_line(when, None, "/health", agent="ELB-HealthChecker/2.0")
            lines.append((HOSTS[minute // 30 % len(HOSTS)], when, check))
    return rotate_daily(lines)
