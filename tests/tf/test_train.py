"""train.py in SageMaker script mode: artifacts, report, warm start over two cycles, and
parity of the NumPy serving artifact with the TensorFlow model on validation prefixes."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from training_data import category, write_training_set

from shoprec import serving
from shoprec.contracts import TrainingHyperparameters
from shoprec.evaluation import next_item_cases
from shoprec.knn import SessionIndex
from shoprec.layout import TRAINING_SET_CHANNELS
from shoprec.model import (
    build_member,
    champion_rows,
    fits,
    left_pad,
    serving_weights,
    warm_start,
)
from shoprec.serving import SessionRecommender

pytestmark = [pytest.mark.tf, pytest.mark.slow]
TRAIN = Path(__file__).parents[2] / "sagemaker" / "training" / "train.py"
V1_DATA_UNTIL = "1970-01-01T02:48:19"  # 10,099 s


def _train(
    root: Path,
    version: str,
    items: range,
    fresh: range,
    champion: Path | None = None,
    data_until: str | None = None,
    epochs: int = 3,
    warm_start: bool = False,
) -> Path:
    """One SageMaker-style run: channels on disk, ``SM_*`` variables, train.py's main. The
    latest day also walks over ``fresh``, items that no training session has; ``data_until``:
    the end of the training set's window, as its manifest (the lineage channel) says."""
    inputs = root / version / "input"
    write_training_set(inputs, version, items, fresh, data_until)
    env = {"SM_MODEL_DIR": str(root / version)}
    for name in TRAINING_SET_CHANNELS:
        env[f"SM_CHANNEL_{name.upper()}"] = str(inputs / name)
    lineage = root / version / "lineage"
    lineage.mkdir()
    (inputs / "manifest.json").rename(lineage / "manifest.json")
    env["SM_CHANNEL_LINEAGE"] = str(lineage)
    env["SM_CHANNEL_CHAMPION"] = str(champion or root / "no-champion")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        spec = importlib.util.spec_from_file_location("train", TRAIN)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        hp = TrainingHyperparameters(
            model_version=version,
            data_run=f"run-{version}",
            epochs=epochs,
            members=2,
            max_length=8,
            warm_start=warm_start,
        )
        module.main([*hp.to_argv(), "--model_dir", "s3://ignored"])
    return root / version


@pytest.fixture(scope="module")
def cycles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Day N trains on items 1000..1059, and its latest day brings 1060..1064; day N+1
    warm-starts from it (asked to: ``warm_start``), trains on 1010..1069 (1000..1009 have left the window) and its
    latest day brings 1070..1074. Day N's data ends amid day N+1's validation sessions (ends
    10,000..10,199 s): the gate of N+1 judges on the 100 that end later."""
    root = tmp_path_factory.mktemp("sm")
    first = _train(root, "v1", range(1000, 1060), range(1060, 1065), data_until=V1_DATA_UNTIL)
    second = _train(root, "v2", range(1010, 1070), range(1070, 1075), first, warm_start=True)
    return first, second


def _manifest(model: Path) -> dict:
    return json.loads((model / "manifest.json").read_text())


def test_writes_model_artifacts_report_and_an_honest_manifest(cycles):
    model = cycles[0]
    manifest = _manifest(model)
    assert manifest["model_version"] == "v1" and manifest["data_run"] == "run-v1"
    assert manifest["hyperparameters"]["epochs"] == "3"
    metrics = manifest["metrics"]
    assert set(metrics) == {"model", "pop", "spop", "sr", "vsknn", "vsknn_idf"}
    assert json.loads((model / "metrics.json").read_text()) == metrics
    assert len({m["predictions"] for m in metrics.values()}) == 1  # same split, same run
    assert metrics["model"]["hr@20"] > metrics["pop"]["hr@20"]  # POP cannot learn sequences
    curves = manifest["learning_curves"]
    assert (
        len(curves["loss"]) == len(curves["hr@20"]) == 3 and curves["loss"][-1] < curves["loss"][0]
    )
    lineage = manifest["lineage"]
    assert lineage["training_set"]["source_partitions"] == ["event_date=x"]
    assert manifest["judged"] == {"sessions": 200, "of": 200, "after": None}  # no champion
    assert lineage["seed"] == 42 and lineage["warm_start_from"] is None
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", lineage["code_version"])  # this checkout
    assert manifest["gate"]["champion_version"] is None
    # The walk is learnable in order; V-SKNN ignores order: the model serves.
    assert (manifest["gate"]["decision"], manifest["gate"]["serve"]) == ("promote", "model")
    item_ids = json.loads((model / "vocabulary.json").read_text())
    categories = json.loads((model / "categories.json").read_text())
    # the feed's categories, aligned with the vocabulary; the new items of the latest day have
    # theirs too; padding and the item the feed lacks (1064) have none
    expected = [None] + [None if i == "1064" else category(i) for i in item_ids[1:]]
    assert categories == expected and "1063" in item_ids and "1064" in item_ids
    assert manifest["categorised_items"] == len(item_ids) - 2
    report = (model / "report.html").read_text()
    assert report.count("<svg") == 4 and "<script" not in report
    assert (model / "saved_model" / "1" / "saved_model.pb").exists()


def test_the_served_model_trained_on_the_latest_day_and_serves_its_new_items(cycles):
    model = cycles[0]
    served = _manifest(model)["served_training"]
    assert served["with_latest_day"] and len(served["loss"]) == 3  # the same epochs again
    assert (served["sessions"], served["latest_sessions"]) == (2000, 500)
    assert served["trained_through"] == pytest.approx(10_499.0)  # the newest session
    vocabulary = json.loads((model / "vocabulary.json").read_text())
    assert vocabulary[-5:] == [str(i) for i in range(1060, 1065)]  # first seen on that day
    served = serving.load(model)
    answer = served.recommend(["1060", "1061"], 5)
    assert answer.tier == "model" and "1062" in [item for item, _ in answer.items]
    floor = SessionIndex.load(model / "knn.npz")
    assert floor.sessions == 2000 and floor.catalogue == len(vocabulary)  # every session


def test_the_second_cycle_warm_starts_and_the_vocabulary_follows_the_window(cycles):
    first, second = cycles
    old = json.loads((first / "vocabulary.json").read_text())
    new = json.loads((second / "vocabulary.json").read_text())
    kept = [item for item in old[1:] if int(item) >= 1010]  # in the champion's order
    assert new[: len(kept) + 1] == [old[0], *kept]
    assert sorted(new[len(kept) + 1 :]) == [str(i) for i in range(1065, 1075)]
    assert not {str(i) for i in range(1000, 1010)} & set(new)  # aged out
    assert _manifest(second)["vocabulary_change"] == {"new_items": 10, "aged_out": 10}
    manifest = _manifest(second)
    assert manifest["lineage"]["warm_start_from"] == "v1"
    assert manifest["gate"]["champion_version"] == "v1"
    assert set(manifest["gate"]["scores"]) - {"vsknn", "vsknn_idf"} == {"model", "champion"}
    champion, model = manifest["metrics"]["champion"], manifest["metrics"]["model"]
    assert champion["predictions"] == model["predictions"]  # the same validation data:
    # the sessions the champion has not trained on
    assert manifest["judged"] == {"sessions": 100, "of": 200, "after": V1_DATA_UNTIL}
    assert model["hr@20"] > champion["hr@20"]  # it learned the new items the champion lacks
    served = SessionRecommender.load(second)
    assert served.recommend(["1066"], 5).tier == "model"


def test_a_champion_of_an_earlier_architecture_is_recorded_but_not_run(cycles, tmp_path):
    """A serving folder whose weight arrays this code does not have (an older model)."""
    older = tmp_path / "v0"
    shutil.copytree(cycles[0], older, ignore=shutil.ignore_patterns("input", "saved_model"))
    with np.load(older / "weights.npz") as weights:
        renamed = {k.replace("item_bias", "dense_bias"): weights[k] for k in weights.files}
    np.savez(older / "weights.npz", **renamed)
    model = _train(
        tmp_path, "v3", range(1000, 1060), range(1060, 1062), older, epochs=1, warm_start=True
    )
    manifest = _manifest(model)
    assert manifest["gate"]["champion_version"] == "v1"  # the version the pointer names
    assert "champion" not in manifest["metrics"] and manifest["lineage"]["warm_start_from"] is None


def test_warm_start_carries_the_rows_of_kept_items_and_starts_new_ones_fresh(cycles):
    champion = SessionRecommender.load(cycles[0])
    item_ids = [champion.item_ids[0], *champion.item_ids[:10:-1], "new1", "new2"]  # 10 aged out
    rows = champion_rows(champion.item_ids, item_ids)
    member = build_member(len(item_ids), 128, 8, dropout=0.0)
    warm_start(member, 1, champion.scorer.weights, rows)
    weights = serving_weights([member])
    started = champion.scorer.members[1]
    kept = rows[:-2]
    np.testing.assert_array_equal(weights["member0.embedding"][:-2], started["embedding"][kept])
    np.testing.assert_array_equal(weights["member0.item_bias"][:-2], started["item_bias"][kept])
    np.testing.assert_array_equal(weights["member0.gru_kernel"], started["gru_kernel"])
    assert np.abs(weights["member0.embedding"][-2:]).sum() > 0  # new items: fresh rows


@pytest.mark.parametrize("cycle", [0, 1])
def test_numpy_serving_matches_the_tensorflow_model_on_validation_prefixes(cycles, cycle):
    import tensorflow as tf

    model = cycles[cycle]
    served = SessionRecommender.load(model)
    validation = pq.read_table(model / "input" / "validation").column("items").to_pylist()
    prefixes, _ = next_item_cases([[served.index[i] for i in s] for s in validation])
    batch = left_pad(prefixes, served.max_length)
    exported = tf.saved_model.load(str(model / "saved_model" / "1"))
    expected = exported.serve(tf.constant(batch)).numpy()[:, 1:]
    logits = served.scorer.scores(batch)[:, 1:]
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    top = np.argsort(-logits, axis=1, kind="stable")[:, :20]
    same = (top == np.argsort(-expected, axis=1, kind="stable")[:, :20]).all(axis=1)
    assert same.mean() >= 0.99  # exact ties may order differently


def test_a_champion_with_another_embedding_size_is_not_started_from():
    champion = serving_weights([build_member(10, 4, 8, 0.0)])
    assert fits(build_member(12, 4, 8, 0.0), 0, champion)  # more items: rows are carried
    assert not fits(build_member(12, 8, 8, 0.0), 0, champion)  # wider rows: a fresh start
    assert not fits(build_member(12, 4, 8, 0.0), 1, champion)  # no member of that number
