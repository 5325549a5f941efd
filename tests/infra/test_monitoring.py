"""The monitoring stack: every alarm of ``shoprec.alarms`` with the environment's thresholds,
notifying the pipeline's topic, and the one dashboard of the loop."""

from __future__ import annotations

import json

import pytest

from config import config_for
from shoprec.alarms import alarm_specs
from shoprec.metrics import NAMESPACE

pytestmark = [pytest.mark.infra, pytest.mark.slow]


def _by_name(resources: dict) -> dict[str, dict]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_alarm_condition_is_deployed_with_the_environments_threshold(synthesized, env):
    template = synthesized[env].template("monitoring")
    alarms = _by_name(template["Resources"])
    specs = alarm_specs(config_for(env).alarms)
    assert set(alarms) == {spec.alarm_name(env) for spec in specs}
    for spec in specs:
        alarm = alarms[spec.alarm_name(env)]
        assert (alarm["Namespace"], alarm["MetricName"]) == (NAMESPACE, spec.metric)
        assert alarm["Threshold"] == spec.threshold
        assert alarm["ComparisonOperator"] == spec.comparison
        assert alarm["Period"] == spec.period_seconds
        statistic = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
        assert statistic == spec.statistic
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims == spec.dimensions(env)
        assert alarm["TreatMissingData"] == "notBreaching"
        [action] = alarm["AlarmActions"]
        assert "PipelineFailures" in json.dumps(action)  # the orchestration stack's topic


def test_prod_is_stricter_than_dev():
    dev, prod = config_for("dev").alarms, config_for("prod").alarms
    assert prod.quarantine_percent < dev.quarantine_percent
    assert prod.api_p99_ms < dev.api_p99_ms and prod.api_5xx_percent < dev.api_5xx_percent


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_one_dashboard_shows_every_stage_and_the_alarms(synthesized, env):
    [dashboard] = synthesized[env].resources("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("Lines", "QuarantineRatio", "KafkaLag", "ModelHitRate20", "Promoted",
                   "Latency", "RunFailed"):  # fmt: skip
        assert f'\\"{metric}\\"' in body
    assert "alarm" in body.lower() and "p99" in body
