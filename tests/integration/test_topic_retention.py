"""The topic's retention on the real local Kafka broker: set when the topic is created, set
again when it differs, left alone when it does not."""

import pytest

from shoprec.contracts import KafkaSettings
from shoprec.kafka import Publisher, ensure_topic, topic_retention_ms

pytestmark = [pytest.mark.integration]
HOUR_MS = 3_600_000


def test_the_topic_gets_the_retention_its_settings_name(cloud, unique):
    from confluent_kafka.admin import AdminClient

    bootstrap = cloud["SHOPREC_KAFKA_BOOTSTRAP"]
    settings = KafkaSettings(bootstrap, topic=f"test.retention.{unique}", topic_retention_hours=5)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    assert Publisher(settings)([]) == 0  # the producer's start creates the topic
    assert topic_retention_ms(admin, settings.topic) == 5 * HOUR_MS

    config = {"bootstrap.servers": bootstrap}
    ensure_topic(config, settings.topic, retention_hours=48)  # an environment's new setting
    assert topic_retention_ms(admin, settings.topic) == 48 * HOUR_MS
    ensure_topic(config, settings.topic, retention_hours=48)
    assert topic_retention_ms(admin, settings.topic) == 48 * HOUR_MS
