import json
from datetime import UTC, datetime

import pytest

from shoprec.contracts import ContractError
from shoprec.ingest.lines import Filtered, Rejection
from shoprec.privacy import ClientHasher
from shoprec.schema import Event
from shoprec.weblog.formats import compile_format, parse_clf_time
from shoprec.weblog.parse import WebLogParser
from shoprec.weblog.render import BROWSER_AGENT, render_line

pytestmark = pytest.mark.unit
WHEN = datetime(2014, 4, 1, 3, 0, 0, 123000, tzinfo=UTC)
HASHER = ClientHasher(b"test-key")


def parse(line: str, log_format: str = "auto", position: str = "s@0"):
    return WebLogParser.create(log_format, HASHER)(line, "k@0", position)


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
    event = parse(render_line(WHEN, "abc", path, method=method))
    assert isinstance(event, Event)
    assert (event.event_type, event.item_id, event.query) == (event_type, item, query)
    assert event.session_id == "abc" and event.session_source == "cookie"
    assert event.event_time == WHEN and event.user_agent_class == "browser"


def test_event_id_follows_the_content_position_not_the_key():
    line = render_line(WHEN, "abc", "/product/1")
    parser = WebLogParser.create("auto", HASHER)
    first = parser(line, "incoming/a.log@0", "stream1@0")
    renamed = parser(line, "incoming/a.log.1@0", "stream1@0")
    elsewhere = parser(line, "incoming/a.log@0", "stream1@100")
    assert first.event_id == renamed.event_id != elsewhere.event_id
    assert renamed.origin == "incoming/a.log.1@0"


def test_a_line_without_cookie_keeps_a_keyed_client_for_sessions_built_later():
    event = parse(render_line(WHEN, None, "/product/1", client="192.0.2.7"))
    assert event.session_id is None and event.session_source == "inferred"
    assert event.client_id == HASHER.client_id("192.0.2.7", BROWSER_AGENT)
    assert "192.0.2.7" not in json.dumps(event.to_record())
    other_key = WebLogParser.create("auto", ClientHasher(b"other"))(
        render_line(WHEN, None, "/product/1", client="192.0.2.7"), "k@0", "s@0"
    )
    assert other_key.client_id != event.client_id  # keyed: not a plain hash of the address


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("garbage that is not a log line", "malformed_line"),
        (render_line(WHEN, "abc", "/wp-login.php"), "unknown_url"),
        (
            render_line(WHEN, "abc", "/product/1").replace("01/Apr/2014", "99/Foo/2014"),
            "bad_timestamp",
        ),
        (render_line(WHEN, "abc", "/product/1").replace(" 200 ", " 2x0 "), "malformed_line"),
    ],
)
def test_bad_lines_are_rejected_with_a_reason(line, reason):
    result = parse(line)
    assert isinstance(result, Rejection) and result.reason == reason


@pytest.mark.parametrize(
    ("path", "method", "agent", "reason"),
    [
        ("/product/1", "GET", "Googlebot/2.1 (+http://www.google.com/bot.html)", "bot"),
        ("/product/1", "GET", "Mozilla/5.0 (compatible; bingbot/2.0)", "bot"),
        ("/health", "GET", "ELB-HealthChecker/2.0", "health_check"),
        ("/product/1", "GET", "kube-probe/1.29", "health_check"),
        ("/static/app.js", "GET", "Mozilla/5.0", "asset"),
        ("/img/shoe.PNG", "GET", "Mozilla/5.0", "asset"),
        ("/product/1", "HEAD", "Mozilla/5.0", "method"),
    ],
)
def test_requests_that_are_not_behaviour_are_filtered_with_a_reason(path, method, agent, reason):
    result = parse(render_line(WHEN, "abc", path, method=method, agent=agent))
    assert result == Filtered(reason)


NGINX_MAIN = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" "$http_x_forwarded_for" rt=$request_time '
    "sid=$cookie_sid"
)
APACHE = '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %{sid}C'
LINE_NGINX = (
    '203.0.113.9 - - [01/Apr/2014:05:00:00 +0200] "GET /product/7 HTTP/2.0" 200 42 '
    '"https://shop.example/" "Mozilla/5.0 (Mac)" "-" rt=0.004 sid=abc'
)
LINE_APACHE = (
    '203.0.113.9 - alice [01/Apr/2014:05:00:00 +0200] "GET /product/7 HTTP/1.1" 200 42 '
    '"https://shop.example/" "Mozilla/5.0 (Mac)" abc'
)
LINE_JSON = json.dumps(
    {
        "time": "2014-04-01T03:00:00+00:00",
        "remote_addr": "2001:db8::5",
        "request": "GET /product/7 HTTP/1.1",
        "status": "200",
        "http_referer": "",
        "http_user_agent": "Mozilla/5.0 (Mac)",
        "http_cookie": "theme=dark; session=abc",
    }
)
LINE_COMMON = '203.0.113.9 - - [01/Apr/2014:03:00:00 +0000] "GET /product/7 HTTP/1.1" 200 42'


@pytest.mark.parametrize(
    ("log_format", "line", "session", "user"),
    [
        (NGINX_MAIN.replace("sid=$cookie_sid", "sid=$cookie_session"), LINE_NGINX, "abc", None),
        (APACHE.replace("{sid}C", "{session}C"), LINE_APACHE, "abc", "alice"),
        ("nginx_json", LINE_JSON, "abc", None),
        ("auto", LINE_JSON, "abc", None),
        ("common", LINE_COMMON, None, None),
        ("auto", LINE_COMMON, None, None),
        ("combined", LINE_APACHE.rsplit(" ", 1)[0], None, "alice"),
    ],
)
def test_configured_formats_parse_the_same_event(log_format, line, session, user):
    event = parse(line, log_format)
    assert isinstance(event, Event), event
    assert event.event_time == datetime(2014, 4, 1, 3, 0, tzinfo=UTC)
    assert (event.item_id, event.status, event.session_id, event.user_id) == (
        "7",
        200,
        session,
        user,
    )
    assert event.client_id is not None


def test_a_format_naming_another_session_cookie_is_read_by_that_name():
    parser = WebLogParser.create(NGINX_MAIN, ClientHasher(b"k", session_cookie="sid"))
    assert parser(LINE_NGINX, "k@0", "s@0").session_id == "abc"


@pytest.mark.parametrize(
    "spec", ["not a format", '{"time": "$time_iso8601"', "$remote_addr $status"]
)
def test_unusable_formats_are_refused_with_a_clear_error(spec):
    with pytest.raises(ContractError, match="log format"):
        compile_format(spec)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/Apr/2014:03:00:00 +0000", datetime(2014, 4, 1, 3, tzinfo=UTC)),
        ("01/Apr/2014:05:00:00.5 +0200", datetime(2014, 4, 1, 3, 0, 0, 500000, tzinfo=UTC)),
        ("31/Dec/2013:22:30:00 -0430", datetime(2014, 1, 1, 3, tzinfo=UTC)),
    ],
)
def test_common_log_time_with_zones_and_fractions(text, expected):
    assert parse_clf_time(text) == expected


@pytest.mark.parametrize(
    "text", ["99/Foo/2014:03:00:00 +0000", "01/Apr/2014:03:00:00", "", "01/Apr"]
)
def test_unreadable_times_raise(text):
    with pytest.raises(ValueError):
        parse_clf_time(text)
