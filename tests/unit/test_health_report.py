"""A firing alarm's line says how old its state may be where LocalStack evaluates it less
often than CloudWatch's every minute (once per period × evaluation periods)."""

import time

import pytest

from shoprec.local.health import firing_label

pytestmark = pytest.mark.unit


def test_an_alarm_evaluated_each_minute_is_named_alone():
    state = {"since": time.time() - 500, "evaluated_every": 60}
    assert firing_label("kafka-lag", state) == "kafka-lag"


def test_an_alarm_evaluated_every_half_hour_says_how_long_it_has_fired():
    state = {"since": time.time() - 500, "evaluated_every": 1800}
    line = firing_label("silent-source-impressions", state)
    assert line.startswith("silent-source-impressions (for 50") and "every 1800s" in line
