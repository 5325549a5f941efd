"""The shop's clock on the local cloud: its traffic arrives day by day, as its servers rotate.

A dataset (the YooChoose replay or the synthetic shop) is split into its days (a replayed file
that ends minutes after a midnight delivers those minutes with the day before); ``deliver``
ships the next day's files (``incoming/source=weblog/<host>/access-<day>.log``) and, as
logrotate with ``delaycompress`` and a shipper would, the previous day again, gzipped: a
copy the collector counts as ``duplicate_object``. What has been delivered is kept in
``.run/shop/state.json``, so ``make cycle`` delivers the day after the demo's last.

The synthetic shop also searches (``shoprec.search.shoppers``): each day, its catalogue is
indexed into Solr and OpenSearch and ``SEARCH_SESSIONS`` shoppers search through them on two
more storefronts (``web-03`` with Solr, ``web-04`` with OpenSearch, writing UBI documents);
their web logs arrive with the others, and Solr's request log is shipped as it grows
(``incoming/source=solr/solr-01/solr_requests.log``, a log shipper's re-upload). Once the
API serves a champion, ``RECOMMENDED_SESSIONS`` shoppers a day see its recommendations and
follow the relevant ones (``web-05``; the API logs each answer as impressions).

Each day the shop also exports its product feed (``incoming/products/products-<day>.csv``):
the synthetic shop's items so far, or for the replay the catalogue derived from its clicks
(``shoprec.search.catalogue.derived_catalogue``), which is indexed into both engines too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shoprec.local import runtime, search_servers
from shoprec.local.deliver_logs import deliver, deliver_feed, ship
from shoprec.local.rec_shoppers import api_asker, browse_day
from shoprec.schema import Source
from shoprec.search.catalogue import Product, catalogue
from shoprec.search.opensearch import OpenSearch
from shoprec.search.shoppers import index_catalogue, open_storefronts, search_day
from shoprec.search.solr import Solr
from shoprec.sources import (
    GROUP_SIZE,
    LogFiles,
    generate_shop,
    items_sold,
    products_sold,
    replay_yoochoose,
)

SYNTHETIC_DAYS = 5
# A dataset's last day with fewer lines than this share of the day before is the file ending
# just after a midnight: it arrives with that day, as a cycle run after midnight collects it.
FRAGMENT_SHARE = 0.05
SEARCH_SESSIONS = 300  # a day's searching shoppers (beside generate_shop's 1,500 browsing)
RECOMMENDED_SESSIONS = 150  # a day's shoppers who see the API's recommendations
_DAY = re.compile(r"access-(\d{4}-\d{2}-\d{2})\.log$")


def _state_file() -> Path:
    return runtime.RUN_DIR / "shop" / "state.json"


def by_day(logs: LogFiles) -> dict[str, LogFiles]:
    """The files of each day, days in order."""
    days: dict[str, LogFiles] = {}
    for name, text in sorted(logs.files.items(), key=lambda item: _DAY.search(item[0])[1]):
        day = days.setdefault(_DAY.search(name)[1], LogFiles())
        day.files[name] = text
        day.lines += text.count("\n")
    return days


def with_trailing_fragment(days: dict[str, LogFiles]) -> dict[str, LogFiles]:
    """``days`` with a last day under ``FRAGMENT_SHARE`` of the day before merged into it (the
    key stays the earlier day; each file keeps its own date)."""
    if len(days) < 2:
        return days
    *kept, (before, before_files), (_, last_files) = days.items()
    if last_files.lines >= FRAGMENT_SHARE * before_files.lines:
        return days
    merged = LogFiles(before_files.files | last_files.files, before_files.lines + last_files.lines)
    return dict(kept) | {before: merged}


@dataclass
class Shop:
    dataset: str | None  # a YooChoose-format file, or None for the synthetic shop
    delivered: list[str] = field(default_factory=list)  # days, in the order they arrived

    def days(self) -> dict[str, LogFiles]:
        if self.dataset:
            return with_trailing_fragment(by_day(replay_yoochoose(Path(self.dataset))))
        return by_day(generate_shop(days=SYNTHETIC_DAYS))

    @classmethod
    def load(cls) -> Shop | None:
        path = _state_file()
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self) -> None:
        _state_file().parent.mkdir(parents=True, exist_ok=True)
        _state_file().write_text(json.dumps({"dataset": self.dataset, "delivered": self.delivered}))

    def products(self, day_number: int) -> list[Product]:
        """What the shop sells on its day ``day_number`` (``shoprec.sources.products_sold``)."""
        return products_sold(Path(self.dataset) if self.dataset else None, day_number)

    @staticmethod
    def engines() -> tuple[Solr, OpenSearch]:
        """The engines ``make up`` started."""
        ports = runtime.Ports.from_env()
        return (
            Solr(search_servers.solr_url(ports)),
            OpenSearch(search_servers.opensearch_url(ports)),
        )

    @staticmethod
    def search(day: str) -> LogFiles:
        """The day's searching sessions, over everything the shop ever sells."""
        products = catalogue(items_sold(SYNTHETIC_DAYS), GROUP_SIZE)
        fronts = open_storefronts(products, *Shop.engines())
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        return search_day(start, SEARCH_SESSIONS, products, fronts, GROUP_SIZE)

    @staticmethod
    def recommended(day: str) -> LogFiles | None:
        """The day's shoppers who see the API's recommendations (``shoprec.local.rec_shoppers``),
        while the API serves a champion; None (and why) otherwise."""
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        try:
            return browse_day(start, RECOMMENDED_SESSIONS, api_asker(runtime.Ports.from_env().api))
        except (OSError, RuntimeError) as error:  # not started, or no champion yet (503)
            print(f"[shop] {day}: no shopper saw recommendations ({error})", flush=True)
            return None

    def deliver(self, count: int, bucket: str) -> LogFiles:
        """The next ``count`` days (with the day before each, rotated and gzipped again)."""
        days = self.days()
        upcoming = [day for day in days if day not in self.delivered][:count]
        if not upcoming:
            raise SystemExit(f"the shop has no day left to deliver (delivered {self.delivered})")
        shipped = LogFiles()
        for day in upcoming:
            products = self.products(list(days).index(day))
            deliver_feed(products, day, bucket)
            if self.dataset:  # the replay's shoppers do not search: its catalogue is indexed
                index_catalogue(products, *self.engines())
            shipped.files |= days[day].files
            shipped.lines += days[day].lines
            if self.delivered:
                rotated = days[self.delivered[-1]].files
                deliver(LogFiles(rotated, 0), bucket, compress=set(rotated))
            deliver(days[day], bucket, compress=set())
            if not self.dataset:
                searched = self.search(day)
                shipped.lines += searched.lines
                deliver(searched, bucket, compress=set())
                ship(search_servers.solr_request_log(), "solr-01", bucket, Source.SOLR.value)
                if recommended := self.recommended(day):
                    shipped.lines += recommended.lines
                    deliver(recommended, bucket, compress=set())
            self.delivered.append(day)
        self.save()
        return shipped
