"""CDK app: ``cdk synth -c env=dev`` (no credentials needed). Stacks grow with the system."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from config import config_for  # noqa: E402
from stacks.data_lake import DataLakeStack  # noqa: E402


def build(app: cdk.App) -> cdk.App:
    config = config_for(app.node.try_get_context("env") or "dev")
    DataLakeStack(app, f"shoprec-{config.name}-data-lake", config=config)
    return app


if __name__ == "__main__":
    build(cdk.App()).synth()
