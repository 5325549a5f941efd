from pathlib import Path

import pytest

from shoprec.ingest.lines import Filtered, Rejection
from shoprec.privacy import ClientHasher
from shoprec.schema import Event
from shoprec.sources import generate_shop, host_of, replay_yoochoose
from shoprec.weblog.parse import WebLogParser

pytestmark = pytest.mark.unit
PARSE = WebLogParser.create("auto", ClientHasher(b"k"))


def _parsed(text: str):
    return [PARSE(line, f"k@{i}", f"s@{i}") for i, line in enumerate(text.splitlines())]


def test_replay_renders_every_click_in_time_order_on_the_sessions_host(tmp_path: Path):
    tsv = tmp_path / "clicks.tsv"
    tsv.write_text(
        "SessionId\tItemId\tTime\n"
        "1\t10\t1396310400.5\n1\t11\t1396310460.25\n"
        "2\t10\t1396310401\nbroken-row\n3\t12\t1396396800\n"
    )
    logs = replay_yoochoose(tsv)
    assert logs.lines == 4 and logs.skipped == {"malformed_row": 1}
    assert sorted(logs.files) == sorted(
        {
            f"{host_of(s)}/access-{day}.log"
            for s, day in [("1", "2014-04-01"), ("2", "2014-04-01"), ("3", "2014-04-02")]
        }
    )
    events = [
        e for name, text in sorted(logs.files.items()) if "04-01" in name for e in _parsed(text)
    ]
    by_session = {(e.session_id, e.item_id, e.event_time.microsecond) for e in events}
    assert by_session == {("1", "10", 500000), ("1", "11", 250000), ("2", "10", 0)}
    first = _parsed(logs.files[f"{host_of('1')}/access-2014-04-01.log"])
    assert [e.item_id for e in first if e.session_id == "1"] == ["10", "11"]


def test_replay_refuses_a_file_without_the_expected_header(tmp_path: Path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a,b,c\n")
    with pytest.raises(ValueError, match="expected header"):
        replay_yoochoose(bad)


def test_generator_is_seeded_spread_over_hosts_and_as_noisy_as_a_real_log():
    first = generate_shop(seed=3, days=1, sessions_per_day=300)
    assert first.files == generate_shop(seed=3, days=1, sessions_per_day=300).files
    assert {name.split("/")[0] for name in first.files} == {"web-01", "web-02"}
    parsed = [p for text in first.files.values() for p in _parsed(text)]
    events = [p for p in parsed if isinstance(p, Event)]
    assert len(events) > 0.85 * len(parsed)
    assert {e.session_source for e in events} == {"cookie", "inferred"}
    assert {p.reason for p in parsed if isinstance(p, Filtered)} == {"health_check", "bot", "asset"}
    assert {p.reason for p in parsed if isinstance(p, Rejection)} <= {"unknown_url"}
