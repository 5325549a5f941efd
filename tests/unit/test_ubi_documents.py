"""UBI documents → events: queries are searches (or zero results), clicks are search clicks
at their position; documents that break the schema are rejected with their reason."""

from datetime import UTC, datetime

import pytest

from shoprec.ingest.lines import Filtered, Rejection
from shoprec.search import ubi

pytestmark = pytest.mark.unit

WHEN = datetime(2026, 11, 1, 12, 0, 0, 250000, tzinfo=UTC)


def test_a_query_document_is_a_search_of_its_session():
    document = ubi.query_document("q1", "red shoes", ["7", "9"], "s1", WHEN)
    event = ubi.parse_document(ubi.QUERIES, "q1", document)
    assert (event.source, event.event_type, event.query, event.query_id) == (
        "opensearch", "search", "red shoes", "q1")  # fmt: skip
    assert event.event_time == WHEN and event.session_id == "s1"
    assert (event.hits, event.results) == (2, "7 9")  # the hit ids shown, in rank order
    nothing = ubi.parse_document(ubi.QUERIES, "q2", ubi.query_document("q2", "zzz", [], "s1", WHEN))
    assert (nothing.event_type, nothing.hits, nothing.results) == ("zero_result", 0, None)


@pytest.mark.parametrize("hits", ["7 9", [7, 9], ["7", "a b"], ["7", ""]])
def test_hit_ids_that_are_not_a_list_of_id_tokens_are_rejected(hits):
    document = ubi.query_document("q1", "red shoes", [], "s1", WHEN) | {
        "query_response_hit_ids": hits
    }
    rejected = ubi.parse_document(ubi.QUERIES, "q1", document)
    assert isinstance(rejected, Rejection) and rejected.reason == "bad_field"


def test_a_click_is_a_search_click_at_its_position_and_ids_follow_the_document():
    document = ubi.action_document("click", "q1", "9", 2, "s1", WHEN)
    event = ubi.parse_document(ubi.EVENTS, "d1", document)
    assert (event.event_type, event.item_id, event.position) == ("search_click", "9", 2)
    assert event.event_id == ubi.parse_document(ubi.EVENTS, "d1", document).event_id
    assert event.event_id != ubi.parse_document(ubi.EVENTS, "d2", document).event_id
    hover = ubi.action_document("hover", "q1", "9", 2, "s1", WHEN)
    assert ubi.parse_document(ubi.EVENTS, "d3", hover) == Filtered("other_action")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"timestamp": "yesterday"}, "bad_timestamp"),
        ({"timestamp": "2026-11-01T12:00:00"}, "bad_timestamp"),  # no zone
        ({"session_id": None, "client_id": None}, "missing_session"),
        ({"query_id": ""}, "missing_field"),
        ({"event_attributes": "7"}, "missing_field"),
        ({"event_attributes": {"object": {"object_id": "7"}, "position": {"ordinal": 0}}},
         "bad_field"),
    ],
)  # fmt: skip
def test_documents_that_break_the_schema_are_rejected(change, reason):
    document = ubi.action_document("click", "q1", "9", 2, "s1", WHEN) | change
    rejected = ubi.parse_document(ubi.EVENTS, "d1", document)
    assert isinstance(rejected, Rejection) and rejected.reason == reason
