"""The shop's search engines run as the project starts them: real servers, capped heap,
OpenSearch as an unprivileged user."""

import json
import os
import urllib.request

import pytest

from shoprec.local import process, search_servers

pytestmark = pytest.mark.integration


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def _command_line(service: process.Service) -> list[str]:
    pid = process.recorded_pid(service)
    assert pid, f"{service.name} is not running"
    return open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0")


def test_solr_serves_the_products_core_with_a_capped_heap(search):
    answer = _get(f"{search_servers.solr_url(search)}/admin/ping?wt=json")
    assert answer["status"] == "OK"
    assert "-Xmx512m" in _command_line(search_servers.solr(search))


def test_opensearch_runs_unprivileged_with_a_capped_heap(search):
    info = _get(search_servers.opensearch_url(search))
    assert info["version"]["number"] == search_servers.OPENSEARCH_VERSION
    service = search_servers.opensearch(search)
    assert "-Xmx512m" in _command_line(service)
    owner = os.stat(f"/proc/{process.recorded_pid(service)}").st_uid
    assert owner != 0
