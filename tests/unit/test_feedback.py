"""The feedback loop's pure parts: the recommended link in the web log, the impression lines,
CTR from the staging job's counts, and the sequential test's error rates by simulation."""

import json
import random
from datetime import UTC, datetime

import pytest

from shoprec.feedback import KEEP, ROLLBACK, WAIT, Counts, SequentialTest, counts_by, ctr_table
from shoprec.impressions import ImpressionParser, impression_lines
from shoprec.ingest.lines import Rejection
from shoprec.privacy import ClientHasher
from shoprec.schema import Event
from shoprec.weblog.parse import WebLogParser
from shoprec.weblog.render import render_line

pytestmark = pytest.mark.unit
WHEN = datetime(2026, 11, 2, 9, 30, 0, 250000, tzinfo=UTC)
WEBLOG = WebLogParser.create("auto", ClientHasher(b"test-key"))


def test_a_product_link_from_a_recommendation_keeps_its_id_in_the_view():
    event = WEBLOG(render_line(WHEN, "s1", "/product/42?rec=r-123"), "k@0", "s@0")
    assert isinstance(event, Event)
    assert (event.event_type, event.item_id, event.recommendation_id) == ("view", "42", "r-123")
    assert event.to_record()["recommendation_id"] == "r-123"
    plain = WEBLOG(render_line(WHEN, "s1", "/product/42"), "k@0", "s@0")
    assert plain.event_type == "view" and plain.recommendation_id is None


def test_a_search_result_link_stays_a_search_click():
    event = WEBLOG(render_line(WHEN, "s1", "/product/42?qid=q1&pos=3"), "k@0", "s@0")
    assert (event.event_type, event.query_id, event.position) == ("search_click", "q1", 3)
    assert event.recommendation_id is None


def test_each_item_shown_is_one_impression_event_at_its_position():
    lines = impression_lines("r-1", "v2", "model", "/recommendations", ["7", "9", "4"], WHEN)
    parser = ImpressionParser()
    events = [parser(line, f"k@{n}", f"s@{n}") for n, line in enumerate(lines)]
    assert [(e.item_id, e.position) for e in events] == [("7", 1), ("9", 2), ("4", 3)]
    first = events[0]
    assert (first.event_type, first.source, first.session_source) == (
        "impression",
        "impressions",
        "none",
    )
    assert (first.recommendation_id, first.model_version, first.tier) == ("r-1", "v2", "model")
    assert first.event_time == WHEN and first.url == "/recommendations"
    assert len({e.event_id for e in events}) == 3
    assert Event.from_record({k: "" if v is None else str(v) for k, v in first.to_record().items()})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("not json", "malformed_line"),
        (json.dumps({"recommendation_id": "r"}), "malformed_line"),
        (impression_lines("r", "v", "model", "/popular", ["1"], WHEN)[0].replace("2026-", "x"),
         "bad_timestamp"),
        (impression_lines("r", "v", "model", "/popular", ["1"], WHEN)[0].replace(
            '"position":1', '"position":0'), "malformed_line"),
    ],
)  # fmt: skip
def test_bad_impression_lines_are_rejected_with_a_reason(line, reason):
    parsed = ImpressionParser()(line, "k@0", "s@0")
    assert isinstance(parsed, Rejection) and parsed.reason == reason


ROWS = [
    {"model_version": "v1", "tier": "model", "position": 1, "impressions": 100, "clicks": 12},
    {"model_version": "v1", "tier": "model", "position": 2, "impressions": 100, "clicks": 6},
    {"model_version": "v1", "tier": "popular", "position": 1, "impressions": 50, "clicks": 1},
    {"model_version": "v2", "tier": "model", "position": 1, "impressions": 80, "clicks": 4},
]


def test_ctr_per_model_version_tier_and_position():
    assert counts_by(ROWS, "model_version") == {("v1",): Counts(250, 19), ("v2",): Counts(80, 4)}
    by_tier = ctr_table(ROWS, "model_version", "tier")
    assert by_tier[0] == {
        "model_version": "v1",
        "tier": "model",
        "impressions": 200,
        "clicks": 18,
        "ctr": 0.09,
    }
    assert [r["ctr"] for r in ctr_table(ROWS, "position")] == [round(17 / 230, 4), 0.06]


def test_no_verdict_before_the_minimum_sample():
    test = SequentialTest(min_impressions=1000)
    verdict = test.judge(Counts(999, 0), Counts(5000, 500))
    assert verdict.decision == WAIT and "999 impressions" in verdict.reason
    assert test.judge(Counts(1000, 0), Counts(5000, 500)).decision == ROLLBACK
    assert test.judge(Counts(5000, 500), Counts(5000, 500)).decision == KEEP


def _run(test: SequentialTest, p_previous: float, p_champion: float, rng: random.Random) -> str:
    """One simulated champion's life: the previous champion's CTR measured on its minimum
    sample, then the champion judged once per cycle of 500 impressions until a verdict."""
    n0 = test.min_impressions
    previous = Counts(n0, sum(rng.random() < p_previous for _ in range(n0)))
    champion = Counts()
    for _ in range(200):
        clicks = sum(rng.random() < p_champion for _ in range(500))
        champion += Counts(500, clicks)
        verdict = test.judge(champion, previous)
        if verdict.decision != WAIT:
            return verdict.decision
    return WAIT


@pytest.mark.slow
def test_error_rates_by_simulation():
    """alpha: rolling back a champion as good as its predecessor; beta: keeping one 20 %
    worse. Nominal 0.05 and 0.2 (Wald: at most 0.0625 and 0.21 with p0 known); p0 estimated
    from 2,000 impressions adds to alpha, the bound checked here is 0.1 (and 0.25 for beta)."""
    test, rng, runs = SequentialTest(), random.Random(11), 2000
    false_rollbacks = sum(_run(test, 0.1, 0.1, rng) == ROLLBACK for _ in range(runs)) / runs
    missed = sum(_run(test, 0.1, 0.08, rng) != ROLLBACK for _ in range(runs)) / runs
    print(f"alpha measured {false_rollbacks:.3f}, beta measured {missed:.3f}")
    assert false_rollbacks <= 0.1
    assert missed <= 0.25
