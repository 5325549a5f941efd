"""The shop searches for real: its catalogue is indexed into Solr and OpenSearch, its shoppers
query them over HTTP, click ranked results and browse on; the web logs, Solr's request log
and the UBI documents describe the same sessions, and the collectors read them back."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from shoprec.local.search_servers import solr_request_log, solr_url
from shoprec.privacy import ClientHasher
from shoprec.schema import Event
from shoprec.search import ubi
from shoprec.search.catalogue import catalogue
from shoprec.search.shoppers import open_storefronts, search_day
from shoprec.search.solr import Solr
from shoprec.search.solr_log import SolrRequestLogParser
from shoprec.weblog.parse import WebLogParser

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 3, tzinfo=UTC)


def test_shoppers_search_click_and_browse_through_both_engines(search, ubi_engine):
    products, engine = catalogue(items=240, group_size=12), ubi_engine
    fronts = open_storefronts(products, Solr(solr_url(search)), engine)
    logs = search_day(DAY, 60, products, fronts, group_size=12, seed=5)

    assert sorted(logs.files) == ["web-03/access-2026-11-03.log", "web-04/access-2026-11-03.log"]
    parse = WebLogParser.create("auto", ClientHasher(b"k"))
    events = {
        host: [parse(line, "k@0", f"s@{n}") for n, line in enumerate(text.splitlines())]
        for host, text in ((name.split("/")[0], text) for name, text in logs.files.items())
    }
    kinds = Counter(e.event_type for host in events.values() for e in host)
    assert kinds["search"] >= 60 and kinds["search_click"] >= 30 and kinds["view"] > 0
    clicks = [e for host in events.values() for e in host if e.event_type == "search_click"]
    positions = Counter(e.position for e in clicks)
    assert positions[1] > positions.get(5, 0)  # the top result draws the most clicks

    # Solr's own log has every web-03 search, tagged with its session and query id
    solr_searches = [
        e for n, line in enumerate(solr_request_log().read_text().splitlines())
        if isinstance(e := SolrRequestLogParser()(line, "k@0", f"s@{n}"), Event)
        and e.session_id.startswith("q5-20261103-")
    ]  # fmt: skip
    web03 = [e for e in events["web-03"] if e.event_type == "search"]
    assert len(solr_searches) == len(web03)
    assert {e.session_id for e in solr_searches} == {e.session_id for e in web03}
    assert "zero_result" in {e.event_type for e in solr_searches}

    # OpenSearch holds a UBI query per web-04 search and a click per web-04 result click
    count = engine._call("GET", f"/{ubi.QUERIES}/_count")["count"]
    assert count == sum(e.event_type == "search" for e in events["web-04"])
    clicked = engine._call("GET", f"/{ubi.EVENTS}/_count")["count"]
    assert clicked == sum(e.event_type == "search_click" for e in events["web-04"])


REPLAYED = """SessionId\tItemId\tTime
1\t214001\t1396310400
1\t214002\t1396310460
2\t214002\t1396314000
2\t214001\t1396314060
2\t214003\t1396314120
3\t214004\t1396396800
3\t214005\t1396396860
"""


def test_the_replay_ships_a_derived_catalogue_and_indexes_it_into_both_engines(
    search, bucket, tmp_path, monkeypatch
):
    """The YooChoose replay comes without a catalogue: each day it delivers the one derived
    from its clicks as the product feed, and the engines can find its products."""
    import csv
    import io

    from shoprec import aws
    from shoprec.layout import LakeLayout
    from shoprec.local import shop as shop_module
    from shoprec.local.search_servers import opensearch_url
    from shoprec.search.catalogue import FEED_COLUMNS
    from shoprec.search.opensearch import OpenSearch

    dataset = tmp_path / "clicks.tsv"
    dataset.write_text(REPLAYED)
    monkeypatch.setattr(shop_module, "_state_file", lambda: tmp_path / "state.json")
    shop = shop_module.Shop(str(dataset))
    shop.deliver(2, bucket)

    s3 = aws.client("s3")
    feeds = {day: s3.get_object(Bucket=bucket, Key=LakeLayout.product_feed_key(day))
             for day in ("2014-04-01", "2014-04-02")}  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(feeds["2014-04-02"]["Body"].read().decode())))
    assert list(rows[0]) == list(FEED_COLUMNS)
    assert [r["id"] for r in rows] == ["214001", "214002", "214003", "214004", "214005"]
    category = {r["id"]: r["category"] for r in rows}
    assert category["214001"] == category["214002"] == category["214003"]
    assert category["214004"] == category["214005"] != category["214001"]
    wanted = category["214004"]
    assert set(Solr(solr_url(search)).search(wanted, "s", "q", rows=50)) >= {"214004", "214005"}
    assert set(OpenSearch(opensearch_url(search)).search(wanted, 50)) >= {"214004", "214005"}
