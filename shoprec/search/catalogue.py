"""The shop's catalogue: what its item ids are, in words a shopper would search for.

``shoprec.sources.generate_shop`` sells items ``ITEM_BASE + n`` in co-viewed groups of
``group_size`` consecutive ``n``; here each group is one brand's line of one kind of product
(its category), and each item has a title, so a search for a kind or a brand finds the group.
A clickstream that comes without a catalogue (the YooChoose replay) gets one derived from its
clicks (``derived_catalogue``).

The shop exports its catalogue each day as a product feed (``feed_csv``: a CSV with a header
of ``FEED_COLUMNS``), which staging keeps as the products table and training ships with the
model (each item's category: the API's category filters).
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

ITEM_BASE = 100_000
KINDS = (
    "lamp", "kettle", "backpack", "sneaker", "headphone", "blender", "jacket", "camera",
    "notebook", "umbrella", "toaster", "keyboard", "monitor", "sofa", "tent", "watch",
    "helmet", "scarf", "drill", "mattress", "speaker", "printer", "bicycle", "guitar",
    "teapot", "wallet", "router", "skillet", "vacuum", "blanket",
)  # fmt: skip
BRANDS = ("Aurora", "Brisk", "Corvid", "Dune", "Ember", "Fjord", "Gale", "Halo")
OTHER = "other"  # a derived catalogue's items never co-clicked with another
STYLES = ("classic", "compact", "deluxe", "eco", "pro", "slim", "smart", "travel", "ultra")


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    category: str
    brand: str
    price: float

    def to_document(self) -> dict[str, object]:
        return asdict(self)


FEED_COLUMNS = tuple(f.name for f in fields(Product))


def kind_of(group: int) -> str:
    return KINDS[group % len(KINDS)]


def brand_of(group: int) -> str:
    return BRANDS[group // len(KINDS) % len(BRANDS)]


def product(n: int, group_size: int) -> Product:
    group = n // group_size
    kind, brand = kind_of(group), brand_of(group)
    style = STYLES[n % len(STYLES)]
    price = round(9.5 + (n * 37 % 400) * 1.25, 2)
    return Product(str(ITEM_BASE + n), f"{brand} {style} {kind} {n % group_size + 1}", kind,
                   brand, price)  # fmt: skip


def catalogue(items: int, group_size: int) -> list[Product]:
    """Every item the shop ever sells (``items`` = all groups, new ones included)."""
    return [product(n, group_size) for n in range(items)]


def feed_csv(products: Iterable[Product]) -> str:
    """The product feed: one CSV row per product under a header of ``FEED_COLUMNS``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FEED_COLUMNS)
    writer.writerows(tuple(asdict(p).values()) for p in products)
    return out.getvalue()


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _nearest_seed(seeds: list[str], together: dict[str, Counter]) -> dict[str, int]:
    """Each item a seed reaches by co-clicks → the number of the seed nearest it, a pair
    clicked one after the other ``n`` times being ``1/n`` apart (a multi-source Dijkstra;
    ties by seed order)."""
    nearest: dict[str, int] = {}
    queue = [(0.0, number, seed) for number, seed in enumerate(seeds)]
    while queue:
        distance, number, item = heapq.heappop(queue)
        if item in nearest:
            continue
        nearest[item] = number
        for other, n in together[item].items():
            if other not in nearest:
                heapq.heappush(queue, (distance + 1.0 / n, number, other))
    return nearest


def _seeds(clicks: Counter, together: dict[str, Counter], count: int) -> list[str]:
    """The ``count`` most popular items, skipping any co-clicked with one already taken (so
    each seeds its own part of the catalogue)."""
    seeds: list[str] = []
    for item, _ in sorted(clicks.items(), key=lambda pair: (-pair[1], pair[0])):
        if len(seeds) == count:
            break
        if not any(seed in together[item] for seed in seeds):
            seeds.append(item)
    return seeds


def derived_catalogue(sessions: Iterable[list[str]], categories: int = len(KINDS)) -> list[Product]:
    """A catalogue for clicks that come without one. ``categories`` seeds (the most popular
    items not co-clicked with each other) each claim the items nearest them in the co-click
    graph of consecutive clicks; an item no seed reaches is ``other``. Categories are named
    after kinds (``lamp``, ``kettle``…, then ``lamp-2``…); brand, style and price follow from a
    hash of the id. Deterministic: the same clicks give the same catalogue."""
    clicks: Counter = Counter()
    together: dict[str, Counter] = defaultdict(Counter)
    for items in sessions:
        clicks.update(items)
        for a, b in zip(items, items[1:], strict=False):
            if a != b:
                together[a][b] += 1
                together[b][a] += 1
    nearest = _nearest_seed(_seeds(clicks, together, categories), together)
    category_of = {
        item: KINDS[n % len(KINDS)] + ("" if n < len(KINDS) else f"-{n // len(KINDS) + 1}")
        for item, n in nearest.items()
    }
    products = []
    for item in sorted(clicks):
        n = _stable(item)
        brand, style = BRANDS[n % len(BRANDS)], STYLES[n // len(BRANDS) % len(STYLES)]
        category = category_of.get(item, OTHER)
        price = round(9.5 + (n % 400) * 1.25, 2)
        products.append(Product(item, f"{brand} {style} {category} {item}", category, brand, price))
    return products
