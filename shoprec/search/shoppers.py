"""Shoppers who search, through the shop's real engines over HTTP.

Each searching session lands on one storefront: ``web-03`` searches with Solr (whose request
log records the tagged query), ``web-04`` with OpenSearch (the storefront writes the UBI
documents, as the UBI client would). A shopper looks for an item of some group: by its kind,
its brand and kind, with a typo, or for something the shop does not sell (a zero result,
then a refinement); gets the engine's ranked results; clicks one, more likely near the top
and in the group it wants (``/product/<id>?qid=…&pos=…``), or leaves; then browses on in
that item's group with the same session, so the web log and the engine describe the same
session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from shoprec.search import ubi
from shoprec.search.catalogue import Product
from shoprec.search.opensearch import PRODUCT_MAPPINGS, PRODUCTS, OpenSearch
from shoprec.search.request import LINK_POSITION, LINK_QUERY_ID
from shoprec.search.solr import Solr
from shoprec.sources import LogFiles, client_address, rotate_daily
from shoprec.weblog.render import render_line

NOT_SOLD = ("unicorn saddle", "moon boots", "quantum toaster oven", "dragon egg")
ABANDON = 0.15  # shoppers who leave the result list without a click
RELEVANT = 4.0  # how much likelier a result of the wanted group is clicked


class Storefront(Protocol):
    host: str

    def search(self, text: str, session: str, query_id: str, when: datetime) -> list[str]: ...

    def clicked(self, query_id: str, item: str, position: int, session: str,
                when: datetime) -> None: ...  # fmt: skip

    def close(self) -> None: ...


@dataclass
class SolrStorefront:
    """Solr logs the search itself; the click is in the web log's link."""

    solr: Solr
    host: str = "web-03"

    def search(self, text: str, session: str, query_id: str, when: datetime) -> list[str]:
        return self.solr.search(text, session, query_id)

    def clicked(self, query_id: str, item: str, position: int, session: str,
                when: datetime) -> None:  # fmt: skip
        return None

    def close(self) -> None:
        return None


@dataclass
class OpenSearchStorefront:
    """Searches OpenSearch and records UBI queries and clicks (written in bulk on close)."""

    engine: OpenSearch
    host: str = "web-04"
    pending: dict[str, list] = field(default_factory=lambda: {ubi.QUERIES: [], ubi.EVENTS: []})

    def search(self, text: str, session: str, query_id: str, when: datetime) -> list[str]:
        hits = self.engine.search(text)
        document = ubi.query_document(query_id, text, hits, session, when)
        self.pending[ubi.QUERIES].append((query_id, document))
        return hits

    def clicked(self, query_id: str, item: str, position: int, session: str,
                when: datetime) -> None:  # fmt: skip
        document = ubi.action_document("click", query_id, item, position, session, when)
        self.pending[ubi.EVENTS].append((None, document))

    def close(self) -> None:
        self.engine.ensure_ubi_indices()
        for index, documents in self.pending.items():
            self.engine.index(index, documents)
            documents.clear()


def index_catalogue(products: list[Product], solr: Solr, opensearch: OpenSearch) -> None:
    """Index the catalogue into both engines (again: an update)."""
    solr.index(p.to_document() for p in products)
    opensearch.ensure_index(PRODUCTS, PRODUCT_MAPPINGS)
    opensearch.index(PRODUCTS, ((p.id, p.to_document()) for p in products))


def open_storefronts(products: list[Product], solr: Solr, opensearch: OpenSearch) -> list:
    """Index the catalogue into both engines and open a storefront on each."""
    index_catalogue(products, solr, opensearch)
    return [SolrStorefront(solr), OpenSearchStorefront(opensearch)]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def query_for(wanted: Product, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(NOT_SOLD)
    if roll < 0.15:
        return _typo(wanted.category, rng)
    if roll < 0.55:
        return f"{wanted.brand} {wanted.category}".lower()
    return wanted.category


def choose(hits: list[str], wanted: set[str], rng: random.Random) -> int | None:
    """The clicked position (from 1), or None when the shopper leaves."""
    if rng.random() < ABANDON:
        return None
    weights = [(RELEVANT if item in wanted else 1.0) / rank for rank, item in enumerate(hits, 1)]
    return rng.choices(range(1, len(hits) + 1), weights=weights)[0]


@dataclass
class _Visit:
    """One searching session's requests, as its storefront's web server logs them."""

    front: Storefront
    session: str
    lines: list[tuple[str, datetime, str]]

    def log(self, path: str, when: datetime) -> None:
        client = client_address(self.session)
        line = render_line(when, self.session, path, client=client)
        self.lines.append((self.front.host, when, line))


def _shop(visit: _Visit, wanted: Product, products: list[Product], group_size: int,
          when: datetime, rng: random.Random) -> None:  # fmt: skip
    order = {p.id: n for n, p in enumerate(products)}
    first = order[wanted.id] // group_size * group_size
    group = {p.id for p in products[first : first + group_size]}
    text, hits, query_id = query_for(wanted, rng), [], ""
    for attempt in range(2):  # after a zero result, the shopper refines once
        query_id = f"{visit.session}-{attempt}"
        visit.log("/search?" + urlencode({"q": text}), when)
        hits = visit.front.search(text, visit.session, query_id, when)
        if hits:
            break
        text, when = wanted.category, when + timedelta(seconds=rng.uniform(3, 20))
    position = choose(hits, group, rng) if hits else None
    if position is None:
        return
    when += timedelta(seconds=rng.uniform(2, 40))
    item = hits[position - 1]
    link = urlencode({LINK_QUERY_ID: query_id, LINK_POSITION: position})
    visit.log(f"/product/{item}?{link}", when)
    visit.front.clicked(query_id, item, position, visit.session, when)
    if item not in order:
        return  # not the shop's (another catalogue shares the engine)
    n = order[item]
    base = n // group_size * group_size
    for step in range(1, rng.randint(1, 4) + 1):  # browses on in the item's group
        when += timedelta(seconds=rng.uniform(5, 90))
        visit.log(f"/product/{products[base + (n - base + step) % group_size].id}", when)


def search_day(
    start: datetime,
    sessions: int,
    products: list[Product],
    storefronts: list[Storefront],
    group_size: int,
    seed: int = 7,
) -> LogFiles:
    """One day of searching sessions on the storefronts (``products``: the indexed catalogue,
    in item order)."""
    rng = random.Random(f"{seed}-{start:%Y-%m-%d}")
    lines: list[tuple[str, datetime, str]] = []
    for number in range(sessions):
        session = f"q{seed}-{start:%Y%m%d}-{number}"
        visit = _Visit(storefronts[number % len(storefronts)], session, lines)
        when = start + timedelta(seconds=rng.uniform(0, 86_000))
        _shop(visit, rng.choice(products), products, group_size, when, rng)
    for front in storefronts:
        front.close()
    return rotate_daily(lines)
