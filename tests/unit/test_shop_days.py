"""The shop's days as the demo delivers them: a dataset ending just after a midnight."""

from shoprec.local.shop import by_day, with_trailing_fragment
from shoprec.sources import LogFiles


def _days(lines: dict[str, int]) -> dict[str, LogFiles]:
    files = {f"incoming/web-01/access-{day}.log": "x\n" * n for day, n in lines.items()}
    return by_day(LogFiles(files, sum(lines.values())))


def test_a_last_day_of_a_few_lines_arrives_with_the_day_before():
    days = with_trailing_fragment(_days({"2014-04-05": 900, "2014-04-06": 1000, "2014-04-07": 22}))
    assert list(days) == ["2014-04-05", "2014-04-06"]
    assert days["2014-04-06"].lines == 1022
    assert sorted(days["2014-04-06"].files) == [
        "incoming/web-01/access-2014-04-06.log",
        "incoming/web-01/access-2014-04-07.log",
    ]


def test_full_days_and_a_single_day_stay_as_they_are():
    full = _days({"2014-04-06": 1000, "2014-04-07": 50})
    assert with_trailing_fragment(full) == full
    single = _days({"2014-04-07": 3})
    assert with_trailing_fragment(single) == single
