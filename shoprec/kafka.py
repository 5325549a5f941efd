"""Kafka producer for the collectors: local PLAINTEXT, or MSK with IAM (SASL OAUTHBEARER)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from shoprec.contracts import KafkaSettings
from shoprec.failpoints import failpoint
from shoprec.schema import Event


class PublishError(RuntimeError):
    pass


def _msk_iam_token(_config: Any) -> tuple[str, float]:
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    from shoprec import aws

    # Lambda sets AWS_REGION; a Glue job's boto3 knows its region without it
    region = os.environ.get("AWS_REGION") or aws.client("kafka").meta.region_name
    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    return token, expiry_ms / 1000


def bootstrap_servers(kafka_bootstrap: str) -> str:
    """``host:port,...`` as given, or the IAM brokers of an MSK cluster given by its ARN (MSK
    Serverless publishes no broker list to CloudFormation, so deployments pass the ARN)."""
    if not kafka_bootstrap.startswith("arn:"):
        return kafka_bootstrap
    from shoprec import aws

    brokers = aws.client("kafka").get_bootstrap_brokers(ClusterArn=kafka_bootstrap)
    return brokers["BootstrapBrokerStringSaslIam"]


# The producer's third-party libraries (pinned in envs/lambda.lock): the collector Lambdas
# bundle them, the replay job installs them.
PRODUCER_LIBRARIES = ("confluent-kafka", "aws-msk-iam-sasl-signer-python")
# Producer options independent of where the cluster is. Idempotence: the producer's own
# retries add no duplicates (on MSK it needs kafka-cluster:WriteDataIdempotently).
PRODUCER_OPTIONS: dict[str, Any] = {
    "enable.idempotence": True,
    "linger.ms": 20,
    "compression.type": "lz4",
    "batch.size": 1_000_000,
}


def producer_permissions(options: dict[str, Any]) -> dict[str, list[str]]:
    """The MSK IAM actions a producer with these options needs, on the cluster and on its
    topic (which it creates on first use: ``ensure_topic``). CDK grants exactly these."""
    cluster = ["kafka-cluster:Connect"]
    if options.get("enable.idempotence"):
        cluster.append("kafka-cluster:WriteDataIdempotently")
    topic = [
        "kafka-cluster:DescribeTopic",
        "kafka-cluster:CreateTopic",
        "kafka-cluster:WriteData",
        "kafka-cluster:DescribeTopicDynamicConfiguration",  # ensure_topic's retention check
        "kafka-cluster:AlterTopicDynamicConfiguration",
    ]
    return {"cluster": cluster, "topic": topic}


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    config: dict[str, Any] = {"bootstrap.servers": bootstrap_servers(settings.kafka_bootstrap)}
    config.update(PRODUCER_OPTIONS)
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


def ensure_topic(
    config: dict[str, Any], topic: str, retention_hours: int, timeout: float = 30
) -> None:
    """Create the topic unless it exists, and give it ``retention_hours`` unless it has them
    (idempotent; the same calls locally and on MSK)."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({k: v for k, v in config.items() if k in _ADMIN_KEYS})
    retention = {"retention.ms": str(retention_hours * 3_600_000)}
    if topic not in admin.list_topics(timeout=timeout).topics:
        new = NewTopic(topic, num_partitions=TOPIC_PARTITIONS, config=retention)
        try:
            admin.create_topics([new])[topic].result(timeout)
            return
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # a concurrent creator
                raise
    if topic_retention_ms(admin, topic, timeout) != int(retention["retention.ms"]):
        _set_retention(admin, topic, retention["retention.ms"], timeout)


def topic_retention_ms(admin: Any, topic: str, timeout: float = 30) -> int:
    from confluent_kafka.admin import ConfigResource

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    described = admin.describe_configs([resource])[resource].result(timeout)
    return int(described["retention.ms"].value)


def _set_retention(admin: Any, topic: str, retention_ms: str, timeout: float) -> None:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

    entry = ConfigEntry("retention.ms", retention_ms, incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
    admin.incremental_alter_configs([resource])[resource].result(timeout)


_ADMIN_KEYS = {"bootstrap.servers", "security.protocol", "sasl.mechanisms", "oauth_cb"}


class Publisher:
    """Publishes events keyed by session (or client, before sessions exist): one session
    stays in order. Raises ``PublishError`` unless every event is acknowledged within
    ``timeout`` seconds; the producer is then discarded, the next call starts a new one."""

    def __init__(self, settings: KafkaSettings, timeout: float = 60.0) -> None:
        self.settings, self.timeout = settings, timeout
        self._producer: Any = None

    def _ready(self) -> Any:
        if self._producer is None:
            from confluent_kafka import Producer

            config = producer_config(self.settings)
            settings = self.settings
            ensure_topic(config, settings.topic, settings.topic_retention_hours, self.timeout)
            self._producer = Producer(config | {"message.timeout.ms": int(self.timeout * 1000)})
        return self._producer

    def __call__(self, events: Sequence[Event]) -> int:
        producer, topic, half = self._ready(), self.settings.topic, len(events) // 2
        failures: list[str] = []

        def on_delivery(error: Any, _message: Any) -> None:
            if error is not None:
                failures.append(str(error))

        sent = 0
        for event in events:
            key = event.session_id or event.client_id or event.event_id
            while True:
                try:
                    producer.produce(topic, key=key, value=event.to_json(), on_delivery=on_delivery)
                    break
                except BufferError:  # local queue full: let deliveries drain
                    producer.poll(0.5)
            sent += 1
            if sent % 1000 == 0:
                producer.poll(0)
            if sent == half:
                failpoint("mid_publish")
        remaining = producer.flush(self.timeout + 5)
        if remaining or failures:
            self._producer = None
            raise PublishError(f"{remaining} undelivered, {len(failures)} failed: {failures[:3]}")
        return sent
