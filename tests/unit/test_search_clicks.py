"""A product link followed from a result list (``?qid=…&pos=…``) is a ``search_click``: the
web log says which result of which query the shopper chose."""

from datetime import UTC, datetime

import pytest

from shoprec.privacy import ClientHasher
from shoprec.weblog.parse import WebLogParser
from shoprec.weblog.render import render_line

pytestmark = pytest.mark.unit

WHEN = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
parse = WebLogParser.create("auto", ClientHasher(b"test-key"))


def _event(path: str):
    return parse(render_line(WHEN, "s1", path), "k@0", "s@0")


def test_a_result_link_is_a_search_click_at_its_position():
    event = _event("/product/100042?qid=q-7&pos=3")
    assert (event.event_type, event.item_id) == ("search_click", "100042")
    assert (event.query_id, event.position, event.session_id) == ("q-7", 3, "s1")
    assert event.to_record()["position"] == 3


@pytest.mark.parametrize(
    "path", ["/product/100042", "/product/100042?qid=q-7", "/product/100042?qid=q-7&pos=0"]
)
def test_a_product_link_without_a_whole_result_position_is_a_view(path):
    event = _event(path)
    assert (event.event_type, event.query_id, event.position) == ("view", None, None)
