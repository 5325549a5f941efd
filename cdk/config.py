"""Typed per-environment settings, chosen with ``cdk synth -c env=<name>``."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    removal_policy: RemovalPolicy
    landing_expiry_days: int
    quarantine_expiry_days: int


ENVIRONMENTS = {
    "dev": EnvironmentConfig(
        "dev", RemovalPolicy.DESTROY, landing_expiry_days=30, quarantine_expiry_days=30
    ),
    "prod": EnvironmentConfig(
        "prod", RemovalPolicy.RETAIN, landing_expiry_days=365, quarantine_expiry_days=90
    ),
}


def config_for(name: str) -> EnvironmentConfig:
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        raise ValueError(f"unknown env {name!r}; choose one of {sorted(ENVIRONMENTS)}") from None
