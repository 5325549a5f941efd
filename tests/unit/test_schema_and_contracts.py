import json
from datetime import UTC, datetime

import pytest

from shoprec.contracts import (
    CollectorSettings,
    ContractError,
    StagingJobArgs,
    TrainingHyperparameters,
)
from shoprec.privacy import ClientHasher
from shoprec.schema import (
    COLUMNS,
    FIELD_NAMES,
    PARTITION_COLUMNS,
    SCHEMA_VERSION,
    spark_ddl,
    table_columns,
)
from shoprec.weblog.parse import WebLogParser
from shoprec.weblog.render import render_line

pytestmark = pytest.mark.unit


def _event():
    line = render_line(datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC), "s1", "/product/9")
    return WebLogParser.create("auto", ClientHasher(b"k"))(line, "incoming/x.log@0", "s@0")


def test_kafka_json_carries_the_version_and_every_field():
    record = json.loads(_event().to_json())
    assert list(record) == ["v", *FIELD_NAMES]
    assert record["v"] == SCHEMA_VERSION and record["event_time"] == "2026-01-02T03:04:05.006Z"
    assert datetime.fromisoformat(record["event_time"]) == _event().event_time


def test_every_representation_derives_from_the_event_fields():
    assert [name for name, _ in COLUMNS] == list(FIELD_NAMES)
    assert spark_ddl().count("`") == 2 * len(FIELD_NAMES)
    stored = [name for name, _ in table_columns()]
    partitions = [name for name, _ in PARTITION_COLUMNS]
    assert set(stored) | set(partitions) == set(FIELD_NAMES) | {"event_date"}
    assert not set(stored) & set(partitions)


def test_env_contract_round_trip_and_names():
    settings = CollectorSettings(kafka_bootstrap="k:9092", lake_bucket="b", batch_bytes=3)
    env = settings.to_env()
    assert set(env) == set(CollectorSettings.env_names())
    assert env["SHOPREC_BATCH_BYTES"] == "3"
    assert CollectorSettings.from_env(env) == settings


def test_env_contract_reports_missing_and_malformed_settings():
    with pytest.raises(ContractError, match="SHOPREC_KAFKA_BOOTSTRAP"):
        CollectorSettings.from_env({})
    with pytest.raises(ContractError, match="SHOPREC_BATCH_BYTES"):
        CollectorSettings.from_env({"SHOPREC_KAFKA_BOOTSTRAP": "k", "SHOPREC_BATCH_BYTES": "x"})


def test_job_arguments_round_trip_through_glue_style_argv():
    args = StagingJobArgs(lake_bucket="b", kafka_bootstrap="k:1", run_id="r1")
    argv = ["--JOB_NAME", "stage_events", *args.to_argv()]
    assert StagingJobArgs.from_argv(argv) == args
    assert set(args.to_arguments()) == set(StagingJobArgs.argument_names())


def test_hyperparameters_parse_sagemaker_style():
    hp = TrainingHyperparameters(model_version="v1", data_run="r1", epochs=2)
    assert TrainingHyperparameters.from_argv(hp.to_argv()) == hp
    assert hp.to_hyperparameters()["epochs"] == "2"


def test_a_landing_csv_row_reads_back_as_the_event_it_was_written_from():
    import csv
    import io
    from datetime import UTC, datetime

    from shoprec.ingest.engine import csv_text
    from shoprec.schema import Event

    at = datetime(2026, 11, 1, 8, 0, 1, 7000, tzinfo=UTC)
    cookie = Event("e1", at, "weblog", "view", "s1", None, "i1", None, "/p/1", 200, None,
                   "browser", "incoming/x@0", "c" * 32, "cookie")  # fmt: skip
    inferred = Event("e2", at, "weblog", "search", None, "u1", None, "shoes", "/s", 404,
                     "https://r/", "bot", "incoming/x@9", "d" * 32, "inferred")  # fmt: skip
    clicked = Event("e3", at, "weblog", "search_click", "s1", None, "i2", None, "/p/2", 200,
                    None, "browser", "incoming/x@5", "c" * 32, "cookie", "q7", 3)  # fmt: skip
    searched = Event("e4", at, "opensearch", "search", "s1", None, None, "red shoes", "/u",
                     200, None, "browser", "ubi_queries/q8", None, "cookie", "q8", hits=3,
                     results="i7 i9 i2")  # fmt: skip
    written = [cookie, inferred, clicked, searched]
    rows = list(csv.DictReader(io.StringIO(csv_text(written))))
    assert [Event.from_record(row) for row in rows] == written
    # a row landed by an older version (no hits, no results columns) reads as None for them
    older = {k: v for k, v in rows[3].items() if k not in ("hits", "results")}
    assert (Event.from_record(older).hits, Event.from_record(older).results) == (None, None)


def test_results_join_the_ids_shown_and_refuse_ids_that_are_not_tokens():
    from shoprec.schema import join_results

    assert join_results(["i7", "i9"]) == "i7 i9" and join_results([]) is None
    for bad in (["i7", "a b"], [""], ["x\ty"]):
        with pytest.raises(ValueError, match="not a token"):
            join_results(bad)
