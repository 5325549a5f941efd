from datetime import UTC, datetime

import pytest

from shoprec.schema import Event
from shoprec.weblog import Rejection, parse_line, render_line

pytestmark = pytest.mark.unit
WHEN = datetime(2014, 4, 1, 3, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "method", "event_type", "item", "query"),
    [
        ("/product/214536502", "GET", "view", "214536502", None),
        ("/cart/add/42", "POST", "add_to_cart", "42", None),
        ("/checkout/42", "POST", "purchase", "42", None),
        ("/search?q=red+shoes", "GET", "search", None, "red shoes"),
        ("/", "GET", "page", None, None),
        ("/category/shoes", "GET", "page", None, None),
    ],
)
def test_rendered_lines_parse_back(path, method, event_type, item, query):
    line = render_line(WHEN, "abc", path, method=method)
    event = parse_line(line, "weblog", "k@0")
    assert isinstance(event, Event)
    assert (event.event_type, event.item_id, event.query) == (event_type, item, query)
    assert event.session_id == "abc" and event.event_time == WHEN
    assert event.user_agent_class == "browser"


def test_event_id_is_deterministic_and_depends_on_origin():
    line = render_line(WHEN, "abc", "/product/1")
    first, again = parse_line(line, "weblog", "k@0"), parse_line(line, "weblog", "k@0")
    elsewhere = parse_line(line, "weblog", "k@100")
    assert first.event_id == again.event_id != elsewhere.event_id


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("garbage that is not a log line", "malformed_line"),
        (render_line(WHEN, "abc", "/static/app.js"), "unknown_url"),
        (
            render_line(WHEN, "abc", "/product/1").replace("01/Apr/2014", "99/Foo/2014"),
            "bad_timestamp",
        ),
        (render_line(WHEN, "abc", "/product/1").rsplit(' "session=', 1)[0], "missing_session"),
        (render_line(WHEN, "abc", "/product/1", method="DELETE"), "unknown_url"),
    ],
)
def test_bad_lines_are_rejected_with_a_reason(line, reason):
    result = parse_line(line, "weblog", "k@0")
    assert isinstance(result, Rejection) and result.reason == reason


def test_bots_are_classified():
    line = render_line(WHEN, "abc", "/product/1", agent="Googlebot/2.1")
    assert parse_line(line, "weblog", "k@0").user_agent_class == "bot"


def test_time_without_milliseconds_parses():
    line = render_line(WHEN, "abc", "/product/1").replace(":00.123 +0000", ":00 +0000")
    assert parse_line(line, "weblog", "k@0").event_time == WHEN.replace(microsecond=0)
