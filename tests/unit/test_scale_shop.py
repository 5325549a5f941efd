"""The scale generator: seeded, Zipf-shaped, time-ordered, and parsed by the collector's parser."""

import math
from collections import Counter

import pytest

from shoprec.local.scale_shop import FIRST_ITEM_ID, ScaleShop
from shoprec.privacy import ClientHasher
from shoprec.schema import Event
from shoprec.weblog.parse import WebLogParser

pytestmark = pytest.mark.unit
SHOP = ScaleShop(events=20_000, items=5_000, categories=50, days=2, seed=3)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    return folder, SHOP.write(folder)


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(written, tmp_path):
    folder, counts = written
    again = SHOP.write(tmp_path / "again")
    assert again == counts
    assert all((tmp_path / "again" / n).read_bytes() == (folder / n).read_bytes() for n in counts)
    other = ScaleShop(events=2_000, items=5_000, categories=50, days=2, seed=4)
    assert [line for *_, line in other.requests()][:50] != [line for *_, line in SHOP.requests()][
        :50
    ]


def test_every_line_parses_into_an_event_in_time_order(written):
    folder, counts = written
    parse = WebLogParser.create("auto", ClientHasher(b"k"))
    views = Counter()
    for name in counts:
        previous = None
        for n, line in enumerate((folder / name).read_text().splitlines()):
            event = parse(line, name, f"{name}@{n}")
            assert isinstance(event, Event), (line, event)
            assert previous is None or event.event_time >= previous
            previous = event.event_time
            views[event.event_type] += 1
    assert views["view"] == SHOP.events
    assert 0 < views["add_to_cart"] < 0.1 * SHOP.events
    assert {name.split("/")[0] for name in counts} == {"web-01", "web-02"}
    assert len({name.split("-", 2)[-1] for name in counts}) >= SHOP.days


def test_popularity_follows_zipf_and_sessions_have_realistic_lengths():
    items, sessions = Counter(), Counter()
    for _, _, line in SHOP.requests():
        if '"GET /product/' in line:
            items[int(line.split("/product/")[1].split()[0]) - FIRST_ITEM_ID] += 1
            sessions[line.rsplit("session=", 1)[-1] if "session=" in line else line[:15]] += 1
    # log(count) against log(rank) over the head: the slope is about -zipf
    ranked = [count for _, count in items.most_common(100)]
    xs = [math.log(r) for r in range(1, 101)]
    ys = [math.log(c) for c in ranked]
    mx, my = sum(xs) / 100, sum(ys) / 100
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    assert -1.3 < slope < -0.7
    assert len(items) > 0.5 * SHOP.items  # the long tail is visited too
    mean = sum(sessions.values()) / len(sessions)
    assert 3 < mean < 8 and max(sessions.values()) > 15
