"""The synthetic shop at a real shop's volume, for ``make bench-scale`` (issue 13).

A catalogue of ``items`` products in ``categories``; an item's popularity follows Zipf's law
(item of rank r, 1-based, is viewed ∝ 1/r^``zipf``). A session starts on an item drawn by
popularity, then mostly browses its category (again by popularity within it), sometimes
jumps anywhere, sometimes goes back to an item it saw, and now and then adds to the cart.
Session lengths are geometric (mean ``mean_length`` views); sessions arrive as a Poisson
process spread evenly over ``days`` (the last sessions may end on the next day) until
``events`` views have been logged.

It writes what the web servers write: access-log lines (``shoprec.weblog.render``) in time
order, one file per host and day (``<host>/access-<day>.log``, as ``shoprec.sources``), with
a share of shoppers without a session cookie. It streams: the sessions in progress sit in a
heap keyed by their next request, so memory is the catalogue's popularity tables plus the
sessions open at one moment, whatever the number of events. Seeded: the same arguments
write the same bytes.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from shoprec.sources import client_address, host_of
from shoprec.weblog.render import render_line

FIRST_ITEM_ID = 1_000_000  # item ids are FIRST_ITEM_ID + popularity rank (0-based)


@dataclass(frozen=True)
class ScaleShop:
    events: int = 1_000_000  # product views; carts come on top
    items: int = 100_000
    categories: int = 1_000
    days: int = 3
    seed: int = 7
    zipf: float = 1.0
    mean_length: float = 5.0
    same_category: float = 0.7
    repeat: float = 0.1
    cart: float = 0.05
    cookieless: float = 0.05
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)

    def _cumulative(self, count: int) -> list[float]:
        """Cumulative Zipf weights of ranks 1..count (for bisect draws)."""
        return list(itertools.accumulate(1.0 / r**self.zipf for r in range(1, count + 1)))

    def requests(self) -> Iterator[tuple[str, datetime, str]]:
        """(host, time, access-log line) of every request, in time order."""
        rng = random.Random(self.seed)
        overall = self._cumulative(self.items)
        per_category = -(-self.items // self.categories)  # item rank = category + j·categories
        within = self._cumulative(per_category)
        # mean seconds between session arrivals
        arrival_gap = self.days * 86_400.0 * self.mean_length / self.events

        def draw(cumulative: list[float]) -> int:
            return bisect.bisect(cumulative, rng.random() * cumulative[-1])

        def browse(begins: float) -> Iterator[tuple[float, str, str]]:
            """One session's requests: (seconds since start, path, method)."""
            seen = [draw(overall)]
            when = begins
            while True:
                item = FIRST_ITEM_ID + seen[-1]
                yield when, f"/product/{item}", "GET"
                if rng.random() < self.cart:
                    when += rng.uniform(2, 30)
                    yield when, f"/cart/add/{item}", "POST"
                if rng.random() * self.mean_length < 1:  # geometric length
                    return
                when += rng.expovariate(1 / 40)
                roll = rng.random()
                if roll < self.repeat and len(seen) > 1:
                    seen.append(rng.choice(seen[:-1]))
                elif roll < self.repeat + self.same_category:
                    category = seen[-1] % self.categories
                    rank = category + draw(within) * self.categories
                    seen.append(rank if rank < self.items else category)
                else:
                    seen.append(draw(overall))

        heap: list[tuple] = []  # (next request's time, session number, its requests, …)
        views = sessions = 0
        next_arrival = rng.expovariate(1 / arrival_gap)
        while views < self.events:
            if not heap or next_arrival <= heap[0][0]:
                sessions += 1
                name = f"z{self.seed}-{sessions}"
                cookie = None if rng.random() < self.cookieless else name
                steps = browse(next_arrival)
                first = next(steps)
                heapq.heappush(heap, (first[0], sessions, steps, name, cookie, first))
                next_arrival += rng.expovariate(1 / arrival_gap)
                continue
            when, number, steps, name, cookie, (_, path, method) = heapq.heappop(heap)
            moment = self.start + timedelta(seconds=when)
            line = render_line(moment, cookie, path, method=method, client=client_address(name))
            yield host_of(name), moment, line
            if method == "GET":
                views += 1
            following = next(steps, None)
            if following is not None:
                heapq.heappush(heap, (following[0], number, steps, name, cookie, following))

    def write(self, folder: Path) -> dict[str, int]:
        """Every request into ``folder/<host>/access-<day>.log``; lines written per file."""
        counts: dict[str, int] = {}
        handles: dict[str, TextIO] = {}
        day = None
        try:
            for host, moment, line in self.requests():
                today = moment.strftime("%Y-%m-%d")
                if today != day:  # logrotate: yesterday's files are complete
                    for handle in handles.values():
                        handle.close()
                    handles, day = {}, today
                name = f"{host}/access-{today}.log"
                if name not in handles:
                    (folder / host).mkdir(parents=True, exist_ok=True)
                    handles[name] = (folder / name).open("a", encoding="utf-8")
                handles[name].write(line + "\n")
                counts[name] = counts.get(name, 0) + 1
        finally:
            for handle in handles.values():
                handle.close()
        return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--events", type=int, default=ScaleShop.events)
    parser.add_argument("--items", type=int, default=ScaleShop.items)
    parser.add_argument("--days", type=int, default=ScaleShop.days)
    parser.add_argument("--seed", type=int, default=ScaleShop.seed)
    args = parser.parse_args()
    shop = ScaleShop(events=args.events, items=args.items, days=args.days, seed=args.seed)
    print(json.dumps(shop.write(args.folder), indent=2))


if __name__ == "__main__":
    main()
