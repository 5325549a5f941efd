"""The Solr source end to end on the real server: the shop indexes and searches over HTTP, Solr
writes its request log, a shipper re-uploads it as it grows, the Solr collector turns it into
search events exactly once, with what it cannot read quarantined."""

import pytest

from shoprec.local.deliver_logs import ship
from shoprec.local.search_servers import solr_request_log, solr_url
from shoprec.search.solr import Solr
from tests.integration.ingestion import ingestion

pytestmark = pytest.mark.integration

CATALOGUE = [
    {"id": "901", "title": "Wireless headphones pro", "category": "headphones", "brand": "Sonic"},
    {"id": "902", "title": "Wireless earbuds", "category": "headphones", "brand": "Sonic"},
    {"id": "903", "title": "Gaming laptop ultra", "category": "laptops", "brand": "Zed"},
]


def _events(lake, session):
    return [row for row in lake.landed() if row["session_id"] == session]


def test_searches_become_events_once_as_the_log_grows(cloud, search, unique):
    solr, session = Solr(solr_url(search)), f"s-{unique}"
    solr.index(CATALOGUE)
    found = solr.search("wireless headphones", session, f"{unique}-1")
    assert {"901", "902"} <= set(found) and "903" not in found
    assert solr.search(f"nothing{unique}", session, f"{unique}-2") == []

    lake = ingestion(cloud, unique, source="solr")
    ship(solr_request_log(), "solr-01", lake.lake.bucket, source="solr")
    lake.drain()
    first = _events(lake, session)
    assert [(e["event_type"], e["query"]) for e in first] == [
        ("search", "wireless headphones"),
        ("zero_result", f"nothing{unique}"),
    ]
    assert {e["source"] for e in first} == {"solr"}
    # the landing CSV: the log's hits=N (all found, a page of at most 10 shown); no ids
    assert int(first[0]["hits"]) >= len(found) and first[1]["hits"] == "0"
    assert first[0]["results"] == first[1]["results"] == ""

    solr.search("laptop", session, f"{unique}-3")
    ship(solr_request_log(), "solr-01", lake.lake.bucket, source="solr")  # grown: re-uploaded
    lake.drain()
    events = _events(lake, session)
    assert [e["query"] for e in events] == ["wireless headphones", f"nothing{unique}", "laptop"]
    assert len({e["event_id"] for e in lake.landed()}) == len(lake.landed())
    totals = lake.totals()
    assert totals.filtered["not_a_search"] >= 1  # the health checks' pings
    published = [r for r in lake.published() if r["session_id"] == session]
    assert len(published) == 3


def test_lines_it_cannot_read_are_quarantined_with_a_reason(cloud, search, unique):
    lake = ingestion(cloud, unique, source="solr")
    real = solr_request_log().read_text().splitlines()[-1]
    lake.put("solr-02/solr_requests.log", f"{real}\nnot a request line\n".encode())
    lake.drain()
    assert [q["reason"] for q in lake.quarantined()] == ["malformed_line"]
    assert lake.totals().quarantined == {"malformed_line": 1}
