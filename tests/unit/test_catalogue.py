"""The shop's catalogue: the product feed it exports, and the catalogue derived for a
clickstream that comes without one (the YooChoose replay)."""

import csv
import io
from pathlib import Path

import pytest

from shoprec.local.shop import Shop
from shoprec.search.catalogue import (
    FEED_COLUMNS,
    OTHER,
    Product,
    catalogue,
    derived_catalogue,
    feed_csv,
)
from shoprec.sources import GROUP_SIZE, items_sold, replay_catalogue

SAMPLE = Path(__file__).parents[3] / "shared" / "data" / "yoochoose_rsc15_100k"


def test_the_feed_is_a_csv_of_every_product_under_its_header():
    products = [*catalogue(3, 2), Product("x,1", 'A "quoted", title', "lamp", "Aurora", 9.5)]
    rows = list(csv.reader(io.StringIO(feed_csv(products))))
    assert rows[0] == list(FEED_COLUMNS)
    assert rows[1:] == [[str(value) for value in vars(p).values()] for p in products]


def test_the_synthetic_feed_grows_with_the_shop_s_new_items():
    shop = Shop(dataset=None)
    first, third = shop.products(0), shop.products(2)
    assert len(first) == items_sold(0) and len(third) == items_sold(2) > len(first)
    assert third[: len(first)] == first == catalogue(items_sold(0), GROUP_SIZE)


def test_co_clicked_items_share_a_derived_category_and_the_result_is_deterministic():
    kettles, lamps = ["k0", "k1", "k2"], ["l0", "l1", "l2"]
    walks = [[*group[i:], *group[:i]] for group in (kettles, lamps) for i in range(3)]
    sessions = walks + [["k0", "k1"]] * 5 + [["k2", "l0"], ["loner"], ["far", "away"]]
    products = derived_catalogue(sessions, categories=2)
    category = {p.id: p.category for p in products}
    assert len({category[i] for i in kettles}) == len({category[i] for i in lamps}) == 1
    assert category["k0"] != category["l0"]
    assert category["loner"] == category["far"] == OTHER  # no seed reaches them
    assert {p.id for p in products} == {*kettles, *lamps, "loner", "far", "away"}
    assert derived_catalogue(list(reversed(sessions)), categories=2) == products
    lamp = next(p for p in products if p.id == "l0")
    assert lamp.category in lamp.title and lamp.brand in lamp.title and lamp.price > 0


def test_more_categories_than_the_kinds_get_numbered_names():
    pairs = [[f"a{n}", f"b{n}"] for n in range(40)]  # 40 separate parts of the catalogue
    names = {p.category for p in derived_catalogue(pairs, categories=40)}
    assert len(names) == 40 and "lamp" in names and "lamp-2" in names


@pytest.mark.skipif(not SAMPLE.exists(), reason="the YooChoose sample is absent (../shared/data)")
def test_the_replay_catalogue_covers_every_item_in_categories_that_follow_the_clicks():
    products = replay_catalogue(SAMPLE / "yoochoose-clicks-100k_train_full.txt")
    categories = {p.category for p in products}
    assert len(products) == 2_933 and 20 <= len(categories) <= 31
