"""Operations: the alarms of ``shoprec.alarms`` with this environment's thresholds, notifying
the on-call topic (the pipeline's failure topic: one subscription gets both), and one
dashboard that shows the loop end to end, stage by stage."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import EnvironmentConfig
from shoprec.alarms import ABOVE, AT_LEAST, BELOW, AlarmSpec, alarm_specs
from shoprec.deployment import COLLECTED_SOURCES
from shoprec.metrics import (
    ALL_SOURCES,
    API,
    COLLECT,
    DAG,
    GATE,
    METRICS,
    NAMESPACE,
    STAGING,
    TRAINING,
    dimensions,
)

COMPARISONS = {
    ABOVE: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    AT_LEAST: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    BELOW: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
}
WIDTH = 24  # a dashboard row


class MonitoringStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        topic: sns.ITopic,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.env_name = config.name
        self.alarms = [self._alarm(spec, topic) for spec in alarm_specs(config.alarms)]
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Loop",
            dashboard_name=config.deployment.stack_name("loop"),
            default_interval=Duration.days(7),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=WIDTH)
        )
        for stage, names, source in (
            (COLLECT, ("Lines", "Events", "Quarantined", "Filtered"), None),
            (COLLECT, ("QuarantineRatio", "PendingObjects", "OldestPendingAge"), None),
            (STAGING, ("RowsRead", "RowsStaged", "Duplicates", "RowsQuarantined", "KafkaLag"),
             ALL_SOURCES),
            (TRAINING, ("ModelHitRate20", "VsknnHitRate20", "ModelMrr20", "VsknnMrr20"),
             ALL_SOURCES),
            (TRAINING, ("Examples", "Epochs", "TrainingMinutes"), ALL_SOURCES),
            (GATE, ("Promoted", "ChampionAgeHours"), ALL_SOURCES),
            (API, ("Requests", "Status4xx", "Status5xx", "ServedChampionAgeHours"), ALL_SOURCES),
            (API, ("TierModel", "TierVsknn", "TierPopular", "Latency"), ALL_SOURCES),
            (DAG, ("RunFailed",), ALL_SOURCES),
        ):  # fmt: skip
            self.dashboard.add_widgets(*self._graphs(stage, names, source))

    def _metric(
        self, name: str, source: str, statistic: str, period: int, label: str | None = None
    ) -> cloudwatch.Metric:
        """(A label makes an alarm's metric a query: graphs only.)"""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map=dimensions(METRICS[name].stage, source, self.env_name),
            statistic=statistic,
            period=Duration.seconds(period),
            label=label,
        )

    def _alarm(self, spec: AlarmSpec, topic: sns.ITopic) -> cloudwatch.Alarm:
        alarm = self._metric(spec.metric, spec.source, spec.statistic, spec.period_seconds)
        created = alarm.create_alarm(
            self,
            spec.name,
            alarm_name=spec.alarm_name(self.env_name),
            alarm_description=spec.description,
            threshold=spec.threshold,
            evaluation_periods=1,
            comparison_operator=COMPARISONS[spec.comparison],
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        created.add_alarm_action(actions.SnsAction(topic))
        created.add_ok_action(actions.SnsAction(topic))
        return created

    def _graphs(
        self, stage: str, names: tuple[str, ...], source: str | None
    ) -> list[cloudwatch.GraphWidget]:
        """One graph per metric group: per source for the collectors (``source`` None)."""
        sources = COLLECTED_SOURCES if source is None else (source,)
        return [
            cloudwatch.GraphWidget(
                title=f"{stage}: {name}",
                left=[self._metric(name, s, _statistic(name), 3600) for s in sources],
                width=WIDTH // len(names),
            )
            for name in names
        ]


def _statistic(name: str) -> str:
    """Counts add up over a period; levels, ages and scores show their worst (latency p99)."""
    if name == "Latency":
        return "p99"
    return "Sum" if METRICS[name].unit in ("Count", "Bytes") else "Maximum"
