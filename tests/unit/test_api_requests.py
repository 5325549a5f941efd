import json

import pytest

from chalicelib.requests import (
    MAX_BODY_BYTES,
    MAX_CATEGORIES,
    MAX_CATEGORY_LENGTH,
    MAX_ITEM_ID_LENGTH,
    MAX_ITEMS,
    BadRequest,
    parse_k,
    parse_popular_query,
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
    assert filtered.categories == filtered.exclude_categories == filtered.purchased_items == []


def test_purchases_are_excluded_only_when_asked_and_categories_pass_through():
    body = {"session_items": ["1"], "purchased_items": ["3"], "categories": ["shoes", "hats"]}
    request = parse_recommendation_request(json.dumps(body).encode())
    assert request.excluded == set() and request.categories == ["shoes", "hats"]
    body |= {"exclude_purchased": True, "exclude_categories": ["bags"]}
    request = parse_recommendation_request(json.dumps(body).encode())
    assert request.excluded == {"3"} and request.exclude_categories == ["bags"]


def test_the_largest_body_the_schema_admits_fits_whatever_its_escaping():
    """Each list full, of its longest strings, every character a surrogate pair's escape."""
    escaped = "\\ud83d\\ude00"  # one character, 12 bytes

    def strings(count: int, length: int) -> str:
        return "[" + ",".join([f'"{escaped * length}"'] * count) + "]"

    items, categories = (
        strings(MAX_ITEMS, MAX_ITEM_ID_LENGTH),
        strings(MAX_CATEGORIES, MAX_CATEGORY_LENGTH),
    )
    body = (
        f'{{"session_items": {items}, "exclude_items": {items}, "purchased_items": {items}, '
        f'"categories": {categories}, "exclude_categories": {categories}, "k": 100, '
        '"exclude_seen": false, "exclude_purchased": false}'
    ).encode()
    assert len(body) <= MAX_BODY_BYTES
    request = parse_recommendation_request(body)
    assert len(request.exclude_categories) == MAX_CATEGORIES
    assert len(request.purchased_items[0]) == MAX_ITEM_ID_LENGTH


def _body(**fields) -> bytes:
    return json.dumps({"session_items": [], **fields}).encode()


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
        (_body(purchased_items="1"), "list of item id", "purchased_items"),
        (_body(purchased_items=["1"] * 201), "at most 200 items", "purchased_items"),
        (_body(purchased_items=["x" * 129]), "at most 128 characters", "purchased_items"),
        (_body(exclude_purchased="yes"), "true or false", "exclude_purchased"),
        (_body(categories="shoes"), "list of category", "categories"),
        (_body(categories=[None]), "list of category", "categories"),
        (_body(categories=["c"] * 51), "at most 50 categories", "categories"),
        (
            _body(exclude_categories=["x" * 129]),
            "category may be at most 128 characters",
            "exclude_categories",
        ),
        (_body(exclude_categories=[7]), "list of category", "exclude_categories"),
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
    with pytest.raises(BadRequest) as raised:
        parse_k({"category": "shoes"})  # /popular's alone
    assert raised.value.field == "category"


def test_popular_takes_one_category():
    assert parse_popular_query(None) == (20, None)
    assert parse_popular_query({"k": "3", "category": "shoes"}) == (3, "shoes")
    for query, field in (
        ({"category": "x" * 129}, "category"),
        ({"categories": "shoes"}, "categories"),
        ({"category": "shoes", "k": "0"}, "k"),
    ):
        with pytest.raises(BadRequest) as raised:
            parse_popular_query(query)
        assert raised.value.field == field
