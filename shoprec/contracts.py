"""Typed contracts between CDK, the Lambdas, the Glue jobs, SageMaker and the DAG.

Each class is the single definition of a set of names: environment variables of a Lambda,
arguments of a Glue job, hyperparameters of the training job. Producers render them with
``to_env`` / ``to_arguments`` / ``to_hyperparameters``; consumers parse them back with the
matching ``from_*``. A renamed field changes both sides at once.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, get_type_hints

ENV_PREFIX = "SHOPREC_"
DEFAULT_TOPIC = "clickstream.events"
DEFAULT_DATABASE = "shoprec"
EVENTS_TABLE = "events"

T = TypeVar("T", bound="_Contract")


class ContractError(ValueError):
    """A missing or malformed setting (the message names it)."""


def _convert(name: str, raw: str, type_: Any) -> Any:
    try:
        if type_ is bool:
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValueError(raw)
            return raw.lower() in {"true", "1"}
        if type_ in (int, float):
            return type_(raw)
    except ValueError:
        raise ContractError(f"{name}: expected {type_.__name__}, got {raw!r}") from None
    return raw


def _render(value: Any) -> str:
    """A setting as text; booleans as ``true``/``false``, which ``_convert`` reads back."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclasses.dataclass(frozen=True)
class _Contract:
    @classmethod
    def _from_mapping(cls: type[T], values: Mapping[str, str], key_of: Any) -> T:
        hints = get_type_hints(cls)
        kwargs = {}
        for field in dataclasses.fields(cls):
            key = key_of(field.name)
            if key in values:
                kwargs[field.name] = _convert(key, values[key], hints[field.name])
            elif field.default is dataclasses.MISSING:
                raise ContractError(f"missing required setting {key}")
        return cls(**kwargs)

    def _items(self) -> list[tuple[str, str]]:
        return [(f.name, _render(getattr(self, f.name))) for f in dataclasses.fields(self)]


class EnvContract(_Contract):
    """Settings read from environment variables ``SHOPREC_<FIELD>``."""

    @staticmethod
    def env_name(field: str) -> str:
        return ENV_PREFIX + field.upper()

    @classmethod
    def env_names(cls) -> list[str]:
        return [cls.env_name(f.name) for f in dataclasses.fields(cls)]

    @classmethod
    def from_env(cls: type[T], environ: Mapping[str, str]) -> T:
        return cls._from_mapping(environ, cls.env_name)  # type: ignore[attr-defined]

    def to_env(self) -> dict[str, str]:
        return {self.env_name(name): value for name, value in self._items()}


class JobArguments(_Contract):
    """Glue job arguments ``--<field>`` (Glue passes them as ``--name value`` pairs)."""

    # the field each run gives (the deployed job carries every other one as a default)
    per_run = "run_id"

    @classmethod
    def argument_names(cls) -> list[str]:
        return [f"--{f.name}" for f in dataclasses.fields(cls)]

    @classmethod
    def from_argv(cls: type[T], argv: Sequence[str]) -> T:
        pairs: dict[str, str] = {}
        it = iter(argv)
        for token in it:
            if token.startswith("--"):
                value = next(it, None)
                if value is None:
                    raise ContractError(f"argument {token} has no value")
                pairs[token] = value
        return cls._from_mapping(pairs, lambda name: f"--{name}")

    def to_arguments(self) -> dict[str, str]:
        return {f"--{name}": value for name, value in self._items()}

    def to_argv(self) -> list[str]:
        return [token for pair in self.to_arguments().items() for token in pair]


@dataclasses.dataclass(frozen=True)
class KafkaSettings(EnvContract):
    kafka_bootstrap: str
    kafka_auth: str = "plaintext"  # plaintext (local Kafka) | iam (MSK, SASL OAUTHBEARER)
    topic: str = DEFAULT_TOPIC
    # How long the topic keeps events (its retention.ms, set on every producer start): longer
    # than any staging outage may last, or staging loses what it never read. CDK sets it per
    # environment; this default is the local one.
    topic_retention_hours: int = 168


@dataclasses.dataclass(frozen=True)
class CollectorSettings(KafkaSettings):
    """Environment of a collector Lambda (README, "Delivering logs")."""

    lake_bucket: str = ""
    source: str = "weblog"
    queue_url: str = ""  # its own queue: continuations are sent there, the sweep enqueues there
    client_hash_secret: str = ""  # Secrets Manager secret holding the client-hash key
    log_format: str = "auto"  # preset, nginx/Apache format string or nginx JSON template
    session_cookie: str = "session"
    batch_bytes: int = 4 << 20  # one landing file, one publish, one commit
    budget_bytes: int = 256 << 20  # read per invocation; the rest continues in the next
    lease_seconds: int = 900  # a stream's lease: the function's timeout
    tail_grace_seconds: int = 3600  # an unterminated last line waits this long for the rest
    sweep_min_age_seconds: int = 300  # the sweep leaves younger objects to their notification
    publish_timeout_seconds: int = 60
    env: str = "local"  # the deployment (dev, prod): the metrics' Environment dimension


@dataclasses.dataclass(frozen=True)
class ApiSettings(EnvContract):
    """Environment of the recommendation API."""

    lake_bucket: str
    champion_refresh_seconds: int = 60
    env: str = "local"  # the deployment (dev, prod): the metrics' Environment dimension
    # impressions (shoprec.impressions): put as one object per this many lines or seconds
    impression_batch: int = 500
    impression_flush_seconds: float = 10.0


@dataclasses.dataclass(frozen=True)
class StagingJobArgs(JobArguments):
    lake_bucket: str
    kafka_bootstrap: str
    run_id: str
    kafka_auth: str = "plaintext"
    topic: str = DEFAULT_TOPIC
    database: str = DEFAULT_DATABASE
    table: str = EVENTS_TABLE


@dataclasses.dataclass(frozen=True)
class TrainingSetJobArgs(JobArguments):
    lake_bucket: str
    run_id: str
    database: str = DEFAULT_DATABASE
    table: str = EVENTS_TABLE
    validation_days: float = 1.0
    min_item_support: int = 1
    session_gap_minutes: int = 30  # sessions of cookieless clients end after this pause
    window_days: int = 30  # the sliding window of event dates a training set reads
    reference_until: str = ""  # the end of the last trained model's data: what is new is after


@dataclasses.dataclass(frozen=True)
class CompactionJobArgs(JobArguments):
    """The ``compact_events`` job: the staged partitions of closed days, each rewritten into
    ``max_files`` files when it holds more (``shoprec.spark.compaction``)."""

    lake_bucket: str
    run_id: str
    # The lake's clock (YYYY-MM-DD); blank: the newest event date catalogued (a replayed
    # history's clock is its own). Days before it less closed_after_days are closed.
    until: str = ""
    closed_after_days: int = 2  # late events of a day arrive for that long
    lookback_days: int = 7  # closed days looked at (older ones were compacted by earlier runs)
    max_files: int = 1
    database: str = DEFAULT_DATABASE
    table: str = EVENTS_TABLE

    def closed_days(self, until: str) -> tuple[str, str]:
        """The event dates compacted: from the first (included) to the second (excluded)."""
        end = datetime.date.fromisoformat(until) - datetime.timedelta(self.closed_after_days)
        return (end - datetime.timedelta(self.lookback_days)).isoformat(), end.isoformat()


@dataclasses.dataclass(frozen=True)
class ReplayJobArgs(JobArguments):
    """The ``replay_landing`` job (``shoprec.replay``): the landing zone's events of the ingest
    dates ``first`` to ``last`` (YYYY-MM-DD, both included) of one source, published again."""

    lake_bucket: str
    kafka_bootstrap: str
    run_id: str
    # the ingest dates, both included: each run gives them (blank defaults fail the run)
    first: str = ""
    last: str = ""
    source: str = "weblog"
    kafka_auth: str = "plaintext"
    topic: str = DEFAULT_TOPIC
    topic_retention_hours: int = KafkaSettings.topic_retention_hours

    def days(self) -> tuple[datetime.date, datetime.date]:
        """The first and last ingest date; a ``ContractError`` unless both are dates in order."""
        try:
            first, last = map(datetime.date.fromisoformat, (self.first, self.last))
        except ValueError:
            dates = f"{self.first!r}, {self.last!r}"
            raise ContractError(f"--first, --last: expected YYYY-MM-DD, got {dates}") from None
        if last < first:
            raise ContractError(f"--last {self.last} is before --first {self.first}")
        return first, last

    def kafka(self) -> KafkaSettings:
        """The producer's settings (``shoprec.kafka.Publisher``), as the collectors' are."""
        names = {f.name for f in dataclasses.fields(KafkaSettings)}
        return KafkaSettings(**{name: getattr(self, name) for name in names})


@dataclasses.dataclass(frozen=True)
class ErasureJobArgs(JobArguments):
    """The ``erase_events`` job: one erasure request (``shoprec.erasure``) over the Parquet."""

    per_run = "request"
    lake_bucket: str
    request: str
    database: str = DEFAULT_DATABASE
    table: str = EVENTS_TABLE
    session_gap_minutes: int = TrainingSetJobArgs.session_gap_minutes


@dataclasses.dataclass(frozen=True)
class TrainingHyperparameters(JobArguments):
    """SageMaker hyperparameters of ``sagemaker/training/train.py`` (passed as ``--name value``)."""

    model_version: str
    data_run: str
    # Defaults: tuned on the next day of YooChoose train_tr (train_valid), confirmed on the day
    # before it (README, "Quality: the served model on the day after its data").
    epochs: int = 8
    members: int = 2  # independently trained GRUs; the model serves their mean probability
    embedding_dim: int = 128
    batch_size: int = 128
    learning_rate: float = 0.003  # at the start; it decays along a cosine to zero
    label_smoothing: float = 0.1
    dropout: float = 0.4
    max_length: int = 10
    seed: int = 42
    # The loss: a softmax over the whole catalogue up to this many items, a sampled softmax
    # above it (``sampled_negatives`` log-uniform negatives by popularity rank, logQ-corrected:
    # shoprec.model.sampled_trainer), so that an epoch's cost stops growing with the catalogue
    # (docs/scaling.md). 0: always sampled.
    full_softmax_items: int = 20_000
    sampled_negatives: int = 1024
    # Start the members from the champion's weights (its rows of the items both know) instead
    # of from scratch. Off: on the next day, warm-started members trailed members trained from
    # scratch on the same data by ~3 % of MRR@20, at the same cost (README, "Warm start").
    warm_start: bool = False

    def sampled_softmax(self, catalogue_size: int) -> bool:
        """Whether the loss samples its negatives for a catalogue of this many rows (the
        padding row 0 included)."""
        return catalogue_size - 1 > self.full_softmax_items

    def to_hyperparameters(self) -> dict[str, str]:
        return dict(self._items())
