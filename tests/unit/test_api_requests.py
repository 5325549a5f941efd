import pytest

from api.chalicelib.requests import BadRequest, parse_recommendation_request

pytestmark = pytest.mark.unit


def test_defaults_and_valid_bodies():
    request = parse_recommendation_request(b'{"session_items": ["1", "2"]}')
    assert request.session_items == ["1", "2"] and request.k == 20
    assert parse_recommendation_request(b'{"session_items": [], "k": 100}').k == 100


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b"", "JSON object"),
        (b'{"session_items": "1"}', "list of item id strings"),
        (b'{"session_items": [1, 2]}', "list of item id strings"),
        (b'{"session_items": [], "k": 0}', "k must be"),
        (b'{"session_items": [], "k": 101}', "k must be"),
        (b'{"session_items": [], "k": "5"}', "k must be"),
        (b'{"session_items": [], "k": true}', "k must be"),
        (b'{"session_items": [], "extra": 1}', "unknown fields: extra"),
        (b'{"session_items": [' + b",".join([b'"1"'] * 201) + b"]}", "at most 200"),
        (b"\xff\xfe", "JSON object"),
    ],
)
def test_bad_bodies_get_a_clear_message(body, message):
    with pytest.raises(BadRequest, match=message):
        parse_recommendation_request(body)
