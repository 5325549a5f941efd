import pytest

from chalicelib.requests import (
    MAX_BODY_BYTES,
    BadRequest,
    parse_k,
    parse_recommendation_request,
)

pytestmark = pytest.mark.unit


def test_defaults_and_valid_bodies():
    request = parse_recommendation_request(b'{"session_items": ["1", "2"]}')
    assert request.session_items == ["1", "2"] and request.k == 20
    assert request.excluded == set()
    assert parse_recommendation_request(b'{"session_items": [], "k": 100}').k == 100
    filtered = parse_recommendation_request(
        b'{"session_items": ["1"], "exclude_items": ["2"], "exclude_seen": true}'
    )
    assert filtered.excluded == {"1", "2"}


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        (b"not json", "JSON object", "body"),
        (b"[1, 2]", "JSON object", "body"),
        (b"", "JSON object", "body"),
        (b"{}", "list of item id strings", "session_items"),
        (b'{"session_items": "1"}', "list of item id strings", "session_items"),
        (b'{"session_items": [1, 2]}', "list of item id strings", "session_items"),
        (b'{"session_items": [], "k": 0}', "k must be", "k"),
        (b'{"session_items": [], "k": 101}', "k must be", "k"),
        (b'{"session_items": [], "k": "5"}', "k must be", "k"),
        (b'{"session_items": [], "k": true}', "k must be", "k"),
        (b'{"session_items": [], "extra": 1}', "unknown fields: extra", "extra"),
        (
            b'{"session_items": [' + b",".join([b'"1"'] * 201) + b"]}",
            "at most 200",
            "session_items",
        ),
        (b'{"session_items": [], "exclude_items": [2]}', "list of item id", "exclude_items"),
        (b'{"session_items": [], "exclude_seen": 1}', "true or false", "exclude_seen"),
        (b'{"session_items": ["' + b"x" * 129 + b'"]}', "at most 128 characters", "session_items"),
        (b"\xff\xfe", "JSON object", "body"),
        (b"[" * 100_000, "nests JSON deeper", "body"),
        (b" " * (MAX_BODY_BYTES + 1), f"limit of {MAX_BODY_BYTES} bytes", "body"),
    ],
)
def test_bad_bodies_get_a_clear_message_naming_the_field(body, message, field):
    with pytest.raises(BadRequest, match=message) as raised:
        parse_recommendation_request(body)
    assert raised.value.field == field


def test_k_of_a_query_string():
    assert parse_k(None) == 20 and parse_k({"k": "7"}) == 7
    for query, field in (
        ({"k": "0"}, "k"),
        ({"k": "x"}, "k"),
        ({"k": "1e3"}, "k"),
        ({"q": "1"}, "q"),
    ):
        with pytest.raises(BadRequest) as raised:
            parse_k(query)
        assert raised.value.field == field
