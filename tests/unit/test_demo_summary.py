"""The demo's last lines: which version and tier serve and why, and an error answer printed
as an answer (no traceback)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from shoprec.local.demo import ask, cycles_that_worked
from shoprec.local.summary import feedback_lines, reconciliation, serving_line

pytestmark = pytest.mark.unit


def test_the_serving_line_names_version_tier_and_reason():
    promoted = {"promoted": True, "reason": "no deep model beats vsknn_idf (...)"}
    promoted["serving"] = {"version": "v2", "tier": "vsknn_idf"}
    assert serving_line(promoted) == "v2, vsknn_idf tier (no deep model beats vsknn_idf (...))"
    kept = {"promoted": False, "reason": "does not beat champion", "serving": promoted["serving"]}
    assert serving_line(kept) == "v2, vsknn_idf tier (kept: does not beat champion)"
    nothing = {"promoted": False, "reason": "champion changed", "serving": None}
    assert serving_line(nothing).startswith("nothing serves yet (champion changed)")


def test_the_feedback_lines_give_ctr_per_model_version_and_the_last_verdict():
    counted = [
        {"model_version": "v1", "tier": "model", "position": 1, "impressions": 1000, "clicks": 90},
        {"model_version": "v1", "tier": "model", "position": 2, "impressions": 1000, "clicks": 30},
        {"model_version": "v2", "tier": "vsknn", "position": 1, "impressions": 500, "clicks": 5},
    ]
    reports = [
        {"stage_events": {"feedback": counted[:1]}},
        {"stage_events": {"feedback": counted}, "judge_champion": {"decision": "rollback",
                                                                   "reason": "CTR 0.01 ..."}},
    ]  # fmt: skip
    assert feedback_lines(reports) == [
        "  v1:    2,000 impressions    120 clicks  CTR 0.0600",
        "  v2:      500 impressions      5 clicks  CTR 0.0100",
        "  judge: rollback: CTR 0.01 ...",
    ]
    assert feedback_lines([{"collect": {}}]) == ["  no impressions staged yet"]


class _Unavailable(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"error": "no model has been promoted yet"}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_an_error_status_is_returned_as_the_answer():
    server = HTTPServer(("127.0.0.1", 0), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        curl, answer = ask(server.server_port, "POST", "/recommendations", {"k": 5})
    finally:
        server.shutdown()
    assert curl.endswith(f":{server.server_port}/recommendations -d '{{\"k\": 5}}'")
    assert answer == 'HTTP 503 {"error": "no model has been promoted yet"}'


def test_the_demo_shows_the_runs_that_did_the_work_between_those_it_waited_for():
    def run(name):
        return {"dag_run_id": name}

    reports = {
        "r0": {"collect": {"events": 0}},  # quiet, before the first awaited: not shown
        "r1": {"stage_events": {"staged": 5}, "train": {}},  # awaited
        "r2": {"stage_events": {"staged": 0}},  # quiet
        "r3": {"stage_events": {"staged": 7}, "train": {}},  # started late: staged the next day
        "r4": {"stage_events": {"staged": 0}},  # awaited: that day's interval
        "r5": {"stage_events": {"staged": 9}},  # after the last awaited: not shown
    }
    every = [run(name) for name in reports]
    runs, shown = cycles_that_worked(every, [run("r1"), run("r4")], reports.__getitem__)
    assert [r["dag_run_id"] for r in runs] == ["r1", "r3", "r4"]
    assert shown == [reports["r1"], reports["r3"], reports["r4"]]


def test_the_reconciliation_counts_each_source_and_the_product_feeds():
    collect = {"source": "weblog", "objects": {"new": 2}, "lines": 10, "events": 8, "pending": [],
               "quarantined": {"malformed_line": 1}, "filtered": {"asset": 1}, "published": 8}  # fmt: skip
    staged = {"read": 8, "staged": 7, "duplicates": 1, "quarantined": 0}
    report = {"collect": collect, "stage_events": staged, "reconcile": {"checks": {"x": True}}}
    without_feed = reconciliation(report)
    assert without_feed[-1] == "  ok       x" and len(without_feed) == 5
    staged["products"] = {"staged": 612, "quarantined": 3}
    assert reconciliation(report)[4] == (
        "product feeds                   612  products staged + quarantined rows 3"
    )
