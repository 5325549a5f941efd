"""Kafka producer for the collectors: local PLAINTEXT, or MSK with IAM (SASL OAUTHBEARER)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from shoprec.contracts import KafkaSettings
from shoprec.schema import Event


class PublishError(RuntimeError):
    pass


def _msk_iam_token(_config: Any) -> tuple[str, float]:
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(os.environ["AWS_REGION"])
    return token, expiry_ms / 1000


def bootstrap_servers(kafka_bootstrap: str) -> str:
    """``host:port,...`` as given, or the IAM brokers of an MSK cluster given by its ARN (MSK
    Serverless publishes no broker list to CloudFormation, so deployments pass the ARN)."""
    if not kafka_bootstrap.startswith("arn:"):
        return kafka_bootstrap
    from shoprec import aws

    brokers = aws.client("kafka").get_bootstrap_brokers(ClusterArn=kafka_bootstrap)
    return brokers["BootstrapBrokerStringSaslIam"]


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap_servers(settings.kafka_bootstrap),
        "enable.idempotence": True,  # no duplicates from the producer's own retries
        "linger.ms": 20,
        "compression.type": "lz4",
    }
    if settings.kafka_auth == "iam":
        config.update(
            {
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "OAUTHBEARER",
                "oauth_cb": _msk_iam_token,
            }
        )
    elif settings.kafka_auth != "plaintext":
        raise ValueError(f"kafka_auth must be plaintext or iam, not {settings.kafka_auth!r}")
    return config


TOPIC_PARTITIONS = 6  # MSK Serverless topics are created explicitly (no auto-creation)


def ensure_topic(config: dict[str, Any], topic: str, timeout: float = 30) -> None:
    """Create the topic unless it exists (idempotent; the same call locally and on MSK)."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({k: v for k, v in config.items() if k in _ADMIN_KEYS})
    if topic in admin.list_topics(timeout=timeout).topics:
        return
    future = admin.create_topics([NewTopic(topic, num_partitions=TOPIC_PARTITIONS)])[topic]
    try:
        future.result(timeout)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # a concurrent creator
            raise


_ADMIN_KEYS = {"bootstrap.servers", "security.protocol", "sasl.mechanisms", "oauth_cb"}


def publish(settings: KafkaSettings, events: Iterable[Event], timeout: float = 60) -> int:
    """Publish events keyed by session (one session stays in order); raise unless all land."""
    from confluent_kafka import Producer

    config = producer_config(settings)
    ensure_topic(config, settings.topic)
    producer = Producer(config)
    failures: list[str] = []

    def on_delivery(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    sent = 0
    for event in events:
        while True:
            try:
                producer.produce(
                    settings.topic,
                    key=event.session_id,
                    value=event.to_json(),
                    on_delivery=on_delivery,
                )
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.5)
        sent += 1
        producer.poll(0)
    remaining = producer.flush(timeout)
    if remaining or failures:
        raise PublishError(f"{remaining} undelivered, {len(failures)} failed: {failures[:3]}")
    return sent
