"""Synthesized apps, once per session: dev and prod (AWS) and local (the LocalStack variant).

Synthesis is offline: no credentials; the first synth after a pin change fetches the
collector's and the API's wheels from PyPI into git-ignored caches.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[2]
sys.path.insert(0, str(REPO / "cdk"))
ENVIRONMENTS = ("dev", "prod", "local")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # chalice package wants one
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass
class Synthesized:
    env: str
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name → template
    messages: list[tuple[str, str, str]]  # (level, construct path, text)

    def template(self, part: str) -> dict[str, Any]:
        return self.templates[f"shoprec-{self.env}-{part}"]

    def resources(self, kind: str) -> list[dict[str, Any]]:
        return [
            resource
            for template in self.templates.values()
            for resource in template["Resources"].values()
            if resource["Type"] == kind
        ]


def _synth(env: str, outdir: Path) -> Synthesized:
    import aws_cdk as cdk
    from app import build

    assembly = build(cdk.App(outdir=str(outdir), context={"env": env})).synth()
    return Synthesized(
        env=env,
        outdir=outdir,
        templates={stack.stack_name: stack.template for stack in assembly.stacks},
        messages=[
            (message.level.name, message.id, str(message.entry.data))
            for stack in assembly.stacks
            for message in stack.messages
        ],
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    return {env: _synth(env, tmp_path_factory.mktemp(f"cdk-{env}")) for env in ENVIRONMENTS}


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["dev"]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["prod"]
