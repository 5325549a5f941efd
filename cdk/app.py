"""CDK app: ``cdk synth -c env=dev`` (no credentials needed). One stack per part of the
architecture; cdk-nag's AwsSolutions pack checks all of them at synth.

``-c env=local`` builds the LocalStack variant instead (data lake + ``LocalEdgeStack``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from cdk_nag import AwsSolutionsChecks  # noqa: E402

from config import EnvironmentConfig, config_for  # noqa: E402
from stacks.api import ApiStack  # noqa: E402
from stacks.data_lake import DataLakeStack  # noqa: E402
from stacks.ingestion import IngestionStack  # noqa: E402
from stacks.local_edge import LocalEdgeStack  # noqa: E402
from stacks.monitoring import MonitoringStack  # noqa: E402
from stacks.network import NetworkStack  # noqa: E402
from stacks.orchestration import OrchestrationStack  # noqa: E402
from stacks.processing import ProcessingStack  # noqa: E402
from stacks.streaming import StreamingStack  # noqa: E402
from stacks.training import TrainingStack  # noqa: E402

LOCAL_API = "http://127.0.0.1:8000"


def _aws(app: cdk.App, config: EnvironmentConfig, lake: DataLakeStack) -> None:
    name = config.deployment.stack_name
    network = NetworkStack(app, name("network"), config=config)
    vpc = network.vpc
    streaming = StreamingStack(app, name("streaming"), config=config, vpc=vpc)
    ingestion = IngestionStack(
        app, name("ingestion"), config=config, vpc=vpc, lake=lake, streaming=streaming
    )
    processing = ProcessingStack(
        app, name("processing"), config=config, vpc=vpc, lake=lake, streaming=streaming
    )
    training = TrainingStack(app, name("training"), config=config, lake=lake)
    orchestration = OrchestrationStack(
        app,
        name("orchestration"),
        config=config,
        vpc=vpc,
        lake=lake,
        processing=processing,
        training=training,
        collectors=dict(ingestion.collectors),
    )
    ApiStack(app, name("api"), config=config, lake=lake)
    MonitoringStack(app, name("monitoring"), config=config, topic=orchestration.failures)


def build(app: cdk.App) -> cdk.App:
    config = config_for(app.node.try_get_context("env") or "dev")
    lake = DataLakeStack(app, config.deployment.stack_name("data-lake"), config=config)
    if config.name == "local":
        upstream = app.node.try_get_context("api_upstream") or LOCAL_API
        LocalEdgeStack(app, config.deployment.stack_name("edge"), config=config, upstream=upstream)
    else:
        _aws(app, config, lake)
    cdk.Tags.of(app).add("project", "shoprec")
    cdk.Tags.of(app).add("environment", config.name)
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    return app


if __name__ == "__main__":
    build(cdk.App()).synth()
