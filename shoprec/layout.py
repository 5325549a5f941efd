"""Where everything lives in the data lake (one bucket, zones as prefixes)."""

from __future__ import annotations

from dataclasses import dataclass

CHAMPION_KEY = "analytics/models/champion.json"
# What serving needs from a model folder (the SavedModel beside them is for endpoints):
# the deep model's NumPy weights, the V-SKNN floor's session index, the item ids of both.
WEIGHTS_FILE = "weights.npz"
KNN_FILE = "knn.npz"
VOCABULARY_FILE = "vocabulary.json"
MANIFEST_FILE = "manifest.json"
MODEL_FILES = (WEIGHTS_FILE, KNN_FILE, VOCABULARY_FILE, MANIFEST_FILE)
# Each vocabulary item's category from the shop's product feed (a JSON list aligned with the
# vocabulary, null for padding and items the feed does not list): the API's category filters.
# Served when the manifest lists it; a model trained before the feed existed has none.
CATEGORIES_FILE = "categories.json"
METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
# A training set's counts, split time and source partitions, beside its Parquet folders.
TRAINING_SET_MANIFEST = "manifest.json"
# latest: the validation window's sessions with every item, which the served model also
# learns from after the gate (train.py); products: each staged product's category, which the
# model folder carries (CATEGORIES_FILE).
SESSION_CHANNELS = ("train", "validation", "latest")  # a person's sessions (erasure rewrites them)
TRAINING_SET_CHANNELS = (*SESSION_CHANNELS, "vocabulary", "products")


@dataclass(frozen=True)
class LakeLayout:
    bucket: str

    def uri(self, key: str, scheme: str = "s3") -> str:
        """``s3://bucket/key`` (or ``s3a://`` for Hadoop's S3 connector)."""
        return f"{scheme}://{self.bucket}/{key}"

    def key(self, uri: str) -> str:
        """The key a URI of this bucket names, whatever its scheme (``uri``'s inverse)."""
        return uri.split(f"://{self.bucket}/", 1)[1]

    # Raw logs as the shop's servers deliver them (the collectors' input).
    @staticmethod
    def incoming_prefix(source: str) -> str:
        return f"incoming/source={source}/"

    # The shop's daily product feed (``shoprec.search.catalogue.feed_csv``): not clickstream,
    # so no collector reads it; staging keeps its latest row per item as the products table.
    PRODUCT_FEED_PREFIX = "incoming/products/"

    @classmethod
    def product_feed_key(cls, day: str) -> str:
        return f"{cls.PRODUCT_FEED_PREFIX}products-{day}.csv"

    @staticmethod
    def landing_prefix(source: str) -> str:
        return f"landing/source={source}/"

    @classmethod
    def landing_key(cls, source: str, ingest_date: str, batch_id: str) -> str:
        return f"{cls.landing_prefix(source)}ingest_date={ingest_date}/{batch_id}.csv"

    @classmethod
    def quarantine_key(cls, stage: str, source: str, ingest_date: str, batch_id: str) -> str:
        return f"{cls.quarantine_prefix(stage, source)}ingest_date={ingest_date}/{batch_id}.jsonl"

    @staticmethod
    def quarantine_prefix(stage: str, source: str | None = None) -> str:
        return f"quarantine/stage={stage}/" + (f"source={source}/" if source else "")

    @staticmethod
    def collector_state_prefix(source: str) -> str:
        """The collector's memory: content streams, the object ledger, run reports."""
        return f"state/collector/source={source}/"

    @staticmethod
    def run_reports_prefix(stage: str) -> str:
        """Each stage's summaries of its runs, where the DAG reads them whichever backend ran."""
        return f"reports/{stage}/"

    @classmethod
    def run_report_key(cls, stage: str, run_id: str) -> str:
        return f"{cls.run_reports_prefix(stage)}{run_id}.json"

    # Erasure (shoprec.erasure): each request's digest (never the id) and erased event ids (the
    # erasure list staging filters), the audit records, and the marker that forces a retrain.
    ERASURE_REQUESTS_PREFIX = "state/erasure/requests/"
    ERASED_IDS_PREFIX = "state/erasure/event_ids/"
    ERASURE_AUDIT_PREFIX = "state/erasure/audit/"
    ERASURE_SCRATCH_PREFIX = "state/erasure/scratch/"
    RETRAIN_KEY = "state/erasure/retrain.json"

    # The feedback loop's final verdict on each champion (shoprec.feedback)
    FEEDBACK_VERDICTS_PREFIX = "state/feedback/verdicts/"

    STAGING_EVENTS_PREFIX = "staging/events/"
    SEARCH_LABELS_PREFIX = "staging/search_labels/"  # rebuilt from the events by each staging run
    PRODUCTS_PREFIX = "staging/products/"  # rebuilt from the product feeds by each staging run

    @staticmethod
    def checkpoint_prefix(job: str) -> str:
        return f"checkpoints/{job}/"

    TRAINING_PREFIX = "staging/training/"
    MODELS_PREFIX = "analytics/models/"
    # SageMaker's own output (model.tar.gz per training job) before it is published.
    TRAINING_JOBS_PREFIX = "analytics/training-jobs/"

    @classmethod
    def training_prefix(cls, run_id: str) -> str:
        return f"{cls.TRAINING_PREFIX}{run_id}/"

    @classmethod
    def model_prefix(cls, version: str) -> str:
        return f"{cls.MODELS_PREFIX}{version}/"

    @classmethod
    def training_channels(cls, data_run: str, champion: str | None) -> dict[str, str]:
        """SageMaker input channel → S3 key prefix: the training set, its manifest (lineage)
        and, when a model serves, the champion's folder (warm start and the gate)."""
        run = cls.training_prefix(data_run)
        channels = {name: f"{run}{name}/" for name in TRAINING_SET_CHANNELS}
        channels["lineage"] = run + TRAINING_SET_MANIFEST
        if champion:
            channels["champion"] = cls.model_prefix(champion)
        return channels
