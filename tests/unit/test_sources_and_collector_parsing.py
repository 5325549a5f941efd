from pathlib import Path

import pytest

from shoprec.collector import _Batch, _parse_object, split_lines
from shoprec.sources import generate_shop, replay_yoochoose
from shoprec.weblog import parse_line

pytestmark = pytest.mark.unit


def test_replay_renders_every_click_in_time_order(tmp_path: Path):
    tsv = tmp_path / "clicks.tsv"
    tsv.write_text(
        "SessionId\tItemId\tTime\n"
        "1\t10\t1396310400.5\n1\t11\t1396310460.25\n"
        "2\t10\t1396310401\nbroken-row\n3\t12\t1396396800\n"
    )
    logs = replay_yoochoose(tsv)
    assert logs.lines == 4 and logs.skipped == {"malformed_row": 1}
    assert list(logs.files) == ["access-2014-04-01.log", "access-2014-04-02.log"]
    first_day = logs.files["access-2014-04-01.log"].splitlines()
    events = [parse_line(line, "weblog", f"k@{i}") for i, line in enumerate(first_day)]
    assert [(e.session_id, e.item_id) for e in events] == [("1", "10"), ("2", "10"), ("1", "11")]
    assert events[0].event_time.microsecond == 500000


def test_replay_refuses_a_file_without_the_expected_header(tmp_path: Path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a,b,c\n")
    with pytest.raises(ValueError, match="expected header"):
        replay_yoochoose(bad)


def test_generator_is_seeded_and_mostly_clean():
    first, again = (
        generate_shop(seed=3, days=1, sessions_per_day=50),
        generate_shop(seed=3, days=1, sessions_per_day=50),
    )
    assert first.files == again.files
    lines = [line for text in first.files.values() for line in text.splitlines()]
    parsed = [parse_line(line, "weblog", f"k@{i}") for i, line in enumerate(lines)]
    views = [p for p in parsed if getattr(p, "event_type", None) == "view"]
    assert len(views) > 0.8 * len(lines)


def test_split_lines_tracks_offsets_and_a_truncated_tail():
    data = b"one\ntwo\nthr"
    assert list(split_lines(data, 100)) == [
        (100, "one", True),
        (104, "two", True),
        (108, "thr", False),
    ]


def test_parse_object_quarantines_with_reasons_and_keeps_valid_lines():
    good = generate_shop(seed=1, days=1, sessions_per_day=3).files
    text = next(iter(good.values()))
    lines = text.splitlines()
    data = "\n".join([lines[0], "not a log line", lines[1], lines[2][:40]]).encode()
    batch = _Batch()
    _parse_object(batch, "incoming/a.log", data, 0, "weblog")
    assert len(batch.events) == 2
    assert [r["reason"] for r in batch.rejected] == ["malformed_line", "truncated_line"]
    assert batch.rejected[0]["raw"] == "not a log line"
    assert batch.rejected[0]["origin"].startswith("incoming/a.log@")
