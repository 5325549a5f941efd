"""Shoppers who see the API's recommendations and follow them: the demo's feedback.

Each session browses one group of the synthetic shop as ``generate_shop``'s shoppers do
(mostly on to the group's next item). Before each step it asks the API for ``K`` items on
the session so far; when the item it goes to next is among them, at position p, it follows
the recommended link (``/product/<item>?rec=<recommendation_id>``) with probability
``FOLLOW / sqrt(p)``, and otherwise reaches the item another way (a plain ``/product/<item>``).
A recommended item the shopper does not want is never clicked. So clicks depend on relevance:
a model that predicts the next item earns clicks, one that does not earns almost none. The
sessions are logged by their own storefront, ``web-05``.
"""

from __future__ import annotations

import http.client
import json
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from shoprec.feedback import LINK_RECOMMENDATION
from shoprec.sources import (
    ITEM_BASE,
    SHOP_START,
    LogFiles,
    client_address,
    rotate_daily,
    shop_groups,
)
from shoprec.weblog.render import render_line

HOST = "web-05"
K = 5
FOLLOW = 0.8  # a shopper who sees its next item first follows the link this often

# session items so far, k → (recommendation_id, items shown)
Ask = Callable[[list[str], int], tuple[str, list[str]]]


def api_asker(port: int, host: str = "127.0.0.1") -> Ask:
    """``POST /recommendations`` on the API over one kept-alive connection."""
    connection = http.client.HTTPConnection(host, port, timeout=30)

    def ask(items: list[str], k: int) -> tuple[str, list[str]]:
        body = json.dumps({"session_items": items, "k": k})
        connection.request("POST", "/recommendations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"the API answered {response.status}: {answer}")
        return answer["recommendation_id"], [i["item_id"] for i in answer["items"]]

    return ask


def followed(shown: list[str], wanted: str, rng: random.Random) -> bool:
    """Whether the shopper follows the recommendation to the item it wants next."""
    if wanted not in shown:
        return False
    return rng.random() < FOLLOW / math.sqrt(shown.index(wanted) + 1)


def browse_day(start: datetime, sessions: int, ask: Ask, seed: int = 5) -> LogFiles:
    """A day's sessions of shoppers who see recommendations, as ``web-05`` logs them."""
    rng = random.Random(f"{seed}-{start:%Y-%m-%d}")
    groups, popularity = shop_groups((start - SHOP_START).days)
    lines: list[tuple[str, datetime, str]] = []
    for number in range(sessions):
        session = f"rec{seed}-{start:%Y%m%d}-{number}"
        client = client_address(session)
        group = rng.choices(groups, weights=popularity)[0]
        position = rng.randrange(len(group))
        when = start + timedelta(seconds=rng.uniform(0, 86_000))
        viewed = [str(ITEM_BASE + group[position])]
        path = f"/product/{viewed[0]}"
        for _ in range(rng.randint(2, 9)):
            lines.append((HOST, when, render_line(when, session, path, client=client)))
            recommendation_id, shown = ask(viewed, K)
            step = 1 if rng.random() < 0.75 else rng.randrange(len(group))
            position = (position + step) % len(group)
            wanted = str(ITEM_BASE + group[position])
            path = f"/product/{wanted}"
            if followed(shown, wanted, rng):
                path += f"?{LINK_RECOMMENDATION}={recommendation_id}"
            viewed.append(wanted)
            when += timedelta(seconds=rng.uniform(5, 120))
        lines.append((HOST, when, render_line(when, session, path, client=client)))
    return rotate_daily(lines)
