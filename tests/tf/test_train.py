"""train.py in SageMaker script mode, and parity of the NumPy serving artifact with TF."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shoprec.contracts import TrainingHyperparameters
from shoprec.model import left_pad
from shoprec.serving import SessionRecommender

pytestmark = [pytest.mark.tf, pytest.mark.slow]
TRAIN = Path(__file__).parents[2] / "sagemaker" / "training" / "train.py"


def _sessions(rng: random.Random, count: int, items: int = 60) -> list[list[str]]:
    """Learnable sessions: mostly walk to the next item."""
    result = []
    for _ in range(count):
        position = rng.randrange(items)
        session = []
        for _ in range(rng.randint(2, 6)):
            session.append(str(1000 + position))
            position = (position + 1) % items if rng.random() < 0.9 else rng.randrange(items)
        result.append(session)
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sm")
    rng = random.Random(0)
    train, validation = _sessions(rng, 1500), _sessions(rng, 200)
    items = sorted({i for s in train for i in s})
    ends = pa.array(range(len(train)), pa.int64()).cast(pa.timestamp("us"))
    channels = {
        "train": pa.table({"items": train, "end_time": ends}),
        "validation": pa.table(
            {"items": [[i for i in s if i in items] for s in validation], "end_time": ends[:200]}
        ),
        "vocabulary": pa.table(
            {
                "item_id": items,
                "item_index": list(range(1, len(items) + 1)),
                "clicks": [1] * len(items),
            }
        ),
    }
    env = {"SM_MODEL_DIR": str(root / "model")}
    for name, table in channels.items():
        (root / name).mkdir()
        pq.write_table(table, root / name / "part-0.parquet")
        env[f"SM_CHANNEL_{name.upper()}"] = str(root / name)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        spec = importlib.util.spec_from_file_location("train", TRAIN)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        hp = TrainingHyperparameters(model_version="v-test", data_run="r-test", epochs=4)
        module.main([*hp.to_argv(), "--model_dir", "s3://ignored"])
    return root / "model"


def test_writes_model_artifacts_and_an_honest_manifest(trained: Path):
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["model_version"] == "v-test" and manifest["data_run"] == "r-test"
    assert manifest["hyperparameters"]["epochs"] == "4"
    metrics = manifest["metrics"]
    assert set(metrics) == {"model", "pop", "spop", "sr", "vsknn"}
    assert len({m["predictions"] for m in metrics.values()}) == 1  # same split, same run
    assert metrics["model"]["hr@20"] > metrics["pop"]["hr@20"]  # POP cannot learn sequences
    assert len(manifest["loss"]) == 4 and manifest["loss"][-1] < manifest["loss"][0]
    assert (trained / "saved_model" / "1" / "saved_model.pb").exists()


def test_numpy_serving_matches_the_tensorflow_model(trained: Path):
    import tensorflow as tf

    served = SessionRecommender.load(trained)
    exported = tf.saved_model.load(str(trained / "saved_model" / "1"))
    rng = np.random.default_rng(1)
    prefixes = [list(rng.integers(1, served.catalogue_size + 1, size=n)) for n in (1, 3, 7, 25)]
    tf_logits = exported.serve(tf.constant(left_pad(prefixes, served.max_length))).numpy()
    for prefix, expected in zip(prefixes, tf_logits, strict=True):
        logits = served.scorer.scores(prefix[-served.max_length :])
        np.testing.assert_allclose(logits[1:], expected[1:], rtol=1e-4, atol=1e-4)
        assert list(np.argsort(-logits[1:])[:20]) == list(np.argsort(-expected[1:])[:20])
