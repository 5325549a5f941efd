"""The synthetic shop's catalogue: what its item ids are, in words a shopper would search for.

``shoprec.sources.generate_shop`` sells items ``ITEM_BASE + n`` in co-viewed groups of
``group_size`` consecutive ``n``; here each group is one brand's line of one kind of product
(its category), and each item has a title, so a search for a kind or a brand finds the group.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ITEM_BASE = 100_000
KINDS = (
    "lamp", "kettle", "backpack", "sneaker", "headphone", "blender", "jacket", "camera",
    "notebook", "umbrella", "toaster", "keyboard", "monitor", "sofa", "tent", "watch",
    "helmet", "scarf", "drill", "mattress", "speaker", "printer", "bicycle", "guitar",
    "teapot", "wallet", "router", "skillet", "vacuum", "blanket",
)  # fmt: skip
BRANDS = ("Aurora", "Brisk", "Corvid", "Dune", "Ember", "Fjord", "Gale", "Halo")
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
