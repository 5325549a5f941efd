"""The API's routes in process (Chalice's test client) on a tiny model, per tier."""

import json
from pathlib import Path

import app as api
import pytest
from chalice.test import Client
from tiny_model import write_tiny_model

from chalicelib.champion import NoChampion
from chalicelib.openapi import document
from shoprec import serving

pytestmark = pytest.mark.unit
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


class Serving:
    """A holder that serves one model folder (or nothing)."""

    def __init__(self, model: serving.Recommender | None):
        self.model = model

    def get(self) -> serving.Recommender:
        if self.model is None:
            raise NoChampion("no model has been promoted yet")
        return self.model

    def current(self) -> serving.Recommender | None:
        return self.model


class Shown:
    """The impression log: keeps the lines it is given (``shoprec.impressions``)."""

    def __init__(self):
        self.lines: list[dict] = []

    def record(self, lines: list[str]) -> None:
        self.lines.extend(map(json.loads, lines))


@pytest.fixture
def shown(monkeypatch):
    log = Shown()
    monkeypatch.setattr(api, "impressions", lambda: log)
    return log


# The product feed's categories of a..e (e: not in the feed); the popular order is c a b e d.
CATEGORIES = ["shoes", "hats", "shoes", "bags", None]


def _serving(monkeypatch, model: serving.Recommender) -> Client:
    monkeypatch.setattr(api, "champion", lambda: Serving(model))
    return Client(api.app)


@pytest.fixture(params=["model", "vsknn"])
def client(request, tmp_path, monkeypatch, shown):
    folder = write_tiny_model(tmp_path, "v1", {"serve": request.param}, categories=CATEGORIES)
    with _serving(monkeypatch, serving.load(folder)) as client:
        yield client


def test_every_answer_is_an_impression_under_its_recommendation_id(client, shown):
    answer = _post(client, {"session_items": ["a", "b"], "k": 3}).json_body
    popular = client.http.get("/popular?k=2").json_body
    assert answer["recommendation_id"] != popular["recommendation_id"]
    assert [(i["recommendation_id"], i["position"], i["item_id"]) for i in shown.lines] == [
        *((answer["recommendation_id"], n, i["item_id"]) for n, i in enumerate(answer["items"], 1)),
        *((popular["recommendation_id"], n, i["item_id"]) for n, i in enumerate(popular["items"], 1)),
    ]  # fmt: skip
    first = shown.lines[0]
    assert (first["model_version"], first["tier"], first["route"]) == (
        "v1",
        answer["tier"],
        "/recommendations",
    )
    assert shown.lines[-1]["route"] == "/popular" and shown.lines[-1]["tier"] == "popular"
    assert _post(client, {"session_items": "nope"}).status_code == 400
    assert len(shown.lines) == 5  # an error is no impression


def _post(client, body: dict | bytes):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.http.post(
        "/recommendations", body=raw, headers={"Content-Type": "application/json"}
    )


def test_every_item_carries_its_score_and_explanation_and_the_answer_its_tier(client):
    answer = _post(client, {"session_items": ["a", "b"], "k": 3}).json_body
    assert answer["tier"] in ("model", "vsknn") and len(answer["items"]) == 3
    for item in answer["items"]:
        assert isinstance(item["score"], float)
        assert item["explanation"] == "popular" or item["explanation"]["because"] in ("a", "b")
    cold = _post(client, {"session_items": []}).json_body
    assert cold["tier"] == "popular" and {i["explanation"] for i in cold["items"]} == {"popular"}


def test_filters_still_answer_k_items(client):
    answer = _post(
        client,
        {"session_items": ["a", "b"], "k": 3, "exclude_items": ["c"], "exclude_seen": True},
    ).json_body
    assert {i["item_id"] for i in answer["items"]} == {"d", "e"}  # the only eligible items
    answer = _post(client, {"session_items": ["a"], "k": 3, "exclude_items": ["b"]}).json_body
    assert len(answer["items"]) == 3 and "b" not in [i["item_id"] for i in answer["items"]]


def _ids(response) -> list[str]:
    assert response.status_code == 200
    return [item["item_id"] for item in response.json_body["items"]]


def test_a_category_filter_keeps_only_its_items_and_still_answers_k(client):
    shoes = {"session_items": ["a", "b"], "categories": ["shoes"]}
    assert sorted(_ids(_post(client, shoes | {"k": 2}))) == ["a", "c"]
    assert sorted(_ids(_post(client, shoes | {"k": 3}))) == ["a", "c"]  # the only shoes
    either = _post(client, shoes | {"k": 3, "categories": ["shoes", "bags"]})
    assert sorted(_ids(either)) == ["a", "c", "d"]
    assert either.json_body["tier"] in ("model", "vsknn")
    two = _ids(_post(client, shoes | {"k": 2, "categories": ["shoes", "bags"]}))
    assert len(two) == 2 and set(two) <= {"a", "c", "d"}
    cold = _post(client, {"session_items": ["nope"], "k": 3, "categories": ["hats", "bags"]})
    assert _ids(cold) == ["b", "d"] and cold.json_body["tier"] == "category_popular"
    unfiltered = _post(client, {"session_items": [], "k": 2, "categories": []})
    assert unfiltered.json_body["tier"] == "popular" and _ids(unfiltered) == ["c", "a"]


def test_excluded_categories_keep_the_items_outside_the_feed(client):
    answer = _post(client, {"session_items": ["a"], "k": 5, "exclude_categories": ["shoes"]})
    assert sorted(_ids(answer)) == ["b", "d", "e"]
    shoes = {"session_items": ["a"], "k": 5, "categories": ["shoes", "bags"]}
    shoes |= {"exclude_categories": ["bags"], "exclude_items": ["c"]}
    assert _ids(_post(client, shoes)) == ["a"]


def test_purchased_items_are_excluded_only_when_asked(client):
    bought = {"session_items": ["a"], "k": 5, "purchased_items": ["b", "c"]}
    assert sorted(_ids(_post(client, bought))) == ["a", "b", "c", "d", "e"]
    answer = _post(client, bought | {"exclude_purchased": True})
    assert sorted(_ids(answer)) == ["a", "d", "e"]  # all eligible: 3 of k=5
    cold = _post(client, bought | {"session_items": [], "k": 2, "exclude_purchased": True})
    assert _ids(cold) == ["a", "e"]


def test_an_unknown_category_answers_no_items(client):
    for answer in (
        _post(client, {"session_items": ["a"], "categories": ["socks"]}),
        _post(client, {"session_items": [], "categories": ["socks"]}),
        client.http.get("/popular?category=socks"),
    ):
        assert _ids(answer) == []
    assert answer.json_body["tier"] == "category_popular"


def test_popular_of_a_category(client, shown):
    shoes = client.http.get("/popular?category=shoes&k=1")
    assert _ids(shoes) == ["c"] and shoes.json_body["tier"] == "category_popular"
    assert _ids(client.http.get("/popular?category=shoes")) == ["c", "a"]
    assert _ids(client.http.get("/popular?category=&k=3")) == []  # no item's category is ""
    assert shown.lines[0]["tier"] == "category_popular"


@pytest.mark.parametrize("serve", ["model", "vsknn"])
def test_a_model_without_the_feeds_categories_serves_and_a_category_keeps_no_item(
    tmp_path, monkeypatch, shown, serve
):
    folder = write_tiny_model(tmp_path, "v0", {"serve": serve})
    with _serving(monkeypatch, serving.load(folder)) as client:
        session = {"session_items": ["a"], "k": 3}
        assert len(_ids(_post(client, session))) == 3
        assert _ids(_post(client, session | {"categories": ["shoes"]})) == []
        assert len(_ids(_post(client, session | {"exclude_categories": ["shoes"]}))) == 3
        assert _ids(client.http.get("/popular?category=shoes")) == []
        assert _ids(client.http.get("/popular?k=2")) == ["c", "a"]


def test_the_packaged_fallback_keeps_no_item_for_a_category(tmp_path, monkeypatch, shown):
    path = tmp_path / "fallback.json"
    path.write_text('{"from": "v7", "popular_items": ["c", "a", "b"]}')
    with _serving(monkeypatch, serving.PopularRecommender.load(path)) as client:
        answer = _post(client, {"session_items": ["a"], "categories": ["shoes"]})
        assert _ids(answer) == [] and answer.json_body["tier"] == "popular"
        assert _ids(client.http.get("/popular?category=shoes")) == []
        unfiltered = _post(client, {"session_items": [], "exclude_categories": ["shoes"]})
        assert _ids(unfiltered) == ["c", "a", "b"]


def test_similar_popular_and_current_model(client):
    similar = client.http.get("/items/d/similar?k=2").json_body
    assert len(similar["items"]) == 2 and "d" not in [i["item_id"] for i in similar["items"]]
    unknown = client.http.get("/items/nope/similar")
    assert unknown.status_code == 404 and unknown.json_body["field"] == "item_id"
    popular = client.http.get("/popular?k=2").json_body
    assert [i["item_id"] for i in popular["items"]] == ["c", "a"] and popular["tier"] == "popular"
    current = client.http.get("/models/current").json_body
    assert current["model_version"] == "v1" and current["gate"]["serve"] in ("model", "vsknn")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/popular?k=0", "k"),
        ("/popular?k=101", "k"),
        ("/popular?category=" + "x" * 129, "category"),
        ("/popular?categories=shoes", "categories"),
        ("/items/d/similar?category=shoes", "category"),  # /popular's alone
        ("/items/" + "x" * 129 + "/similar", "item_id"),
    ],
)
def test_query_limits_are_400s_naming_the_field(client, path, field):
    response = client.http.get(path)
    assert response.status_code == 400 and response.json_body["field"] == field


def test_a_deeply_nested_body_is_a_400(client):
    response = _post(client, b"[" * 100_000)
    assert response.status_code == 400 and response.json_body["field"] == "body"


def test_no_champion_is_a_503_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(api, "champion", lambda: Serving(None))
    with Client(api.app) as client:
        for response in (
            client.http.get("/health"),
            client.http.get("/popular"),
            client.http.get("/models/current"),
            _post(client, {"session_items": ["a"]}),
        ):
            assert response.status_code == 503
            assert response.json_body == {"error": "no model has been promoted yet", "field": None}


def test_the_served_and_committed_openapi_documents_are_the_generated_one():
    with Client(api.app) as client:
        served = client.http.get("/openapi.json").json_body
    assert served == document(api.app)
    assert json.loads(DOCUMENT.read_text()) == served, "regenerate: make openapi"


def test_a_broken_packaged_fallback_is_logged_and_not_served(tmp_path, caplog):
    from chalicelib import fallback

    path = tmp_path / "fallback.json"
    path.write_text('{"from": "hand", "popular_items": ')
    assert fallback.load(path) is None
    assert "packaged fallback not served" in caplog.text and "not a fallback list" in caplog.text
    assert fallback.load(tmp_path / "absent.json") is None
