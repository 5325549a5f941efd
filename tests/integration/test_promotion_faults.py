"""Promotion through faults on real S3 (LocalStack): a model folder with a missing or corrupt
file, an upload killed (SIGKILL) before its manifest, a training run killed mid-epoch, and the
champion pointer moved by a promotion and a rollback at once. After each, the API still
serves a complete model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from tiny_model import write_tiny_model

from shoprec import aws, registry
from shoprec.layout import CATEGORIES_FILE, CHAMPION_KEY, MODEL_FILES, LakeLayout
from shoprec.local.runtime import REPO, read_env_file, venv_python
from tests.integration.lake_balance import serve_tiny_champion, served_version

pytestmark = [pytest.mark.integration]


def _gate(champion: str | None) -> dict:
    """A promote decision recorded against ``champion`` (None: the first model)."""
    return {"decision": "promote", "serve": "model", "reason": "test", "champion_version": champion}


def _pointer_history(s3, bucket: str) -> list[tuple[str, str]]:
    """Every champion.json ever written (S3 versions), oldest first: (version, reason)."""
    listed = s3.list_object_versions(Bucket=bucket, Prefix=CHAMPION_KEY)["Versions"]
    history = []
    for entry in reversed(listed):  # S3 lists a key's versions newest first
        body = s3.get_object(Bucket=bucket, Key=CHAMPION_KEY, VersionId=entry["VersionId"])
        pointer = json.loads(body["Body"].read())
        history.append((pointer["version"], pointer["reason"]))
    return history


class Paused:
    """A registry call in its own process, stopped at a fail point until ``resume``."""

    def __init__(self, bucket: str, call: str, failpoint: str, resume: Path) -> None:
        code = (
            "import json, os\n"
            "from shoprec import aws, registry\n"
            "from shoprec.layout import LakeLayout\n"
            "s3, layout = aws.client('s3'), LakeLayout(os.environ['BUCKET'])\n"
            f"print(json.dumps({call}))\n"
        )
        self.process = subprocess.Popen(
            [venv_python("lambda"), "-c", code],
            env=_env(bucket, failpoint, resume),
            cwd=REPO,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        line = self.process.stderr.readline()
        assert line.strip() == f"FAILPOINT {failpoint}", line + self.process.stderr.read()

    def finish(self) -> dict:
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err
        return json.loads(out)


def _env(bucket: str, failpoint: str, resume: Path) -> dict[str, str]:
    return os.environ | {
        "BUCKET": bucket,
        "PYTHONPATH": str(REPO),
        "SHOPREC_FAILPOINTS": failpoint,
        "SHOPREC_FAILPOINT_RESUME": str(resume),
    }


@pytest.fixture
def lake(bucket):
    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3, LakeLayout(bucket)


def test_a_missing_or_corrupt_file_blocks_promotion(lake, tmp_path):
    s3, layout = lake
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v1", "v1", _gate(None)), "v1")
    folder = layout.model_prefix("v1")
    weights = s3.get_object(Bucket=layout.bucket, Key=folder + "weights.npz")["Body"].read()

    s3.delete_object(Bucket=layout.bucket, Key=folder + "weights.npz")
    refused = registry.promote_if_accepted(s3, layout, "v1")
    assert refused == {
        "promoted": False,
        "reason": "v1 fails verification: weights.npz is missing",
        "serving": None,
    }
    s3.put_object(Bucket=layout.bucket, Key=folder + "weights.npz", Body=weights[:-1])
    refused = registry.promote_if_accepted(s3, layout, "v1")
    assert refused["reason"] == (
        f"v1 fails verification: weights.npz has {len(weights) - 1} bytes, not {len(weights)}"
    )
    flipped = weights[:-1] + bytes([weights[-1] ^ 1])  # same size, one bit changed
    s3.put_object(Bucket=layout.bucket, Key=folder + "weights.npz", Body=flipped)
    refused = registry.promote_if_accepted(s3, layout, "v1")
    assert (
        refused["reason"]
        == "v1 fails verification: weights.npz has a sha256 other than its manifest's"
    )
    assert registry.read_champion(s3, layout) is None

    s3.put_object(Bucket=layout.bucket, Key=folder + "weights.npz", Body=weights)
    assert registry.promote_if_accepted(s3, layout, "v1")["promoted"]
    assert served_version(layout.bucket) == "v1"


def test_an_upload_killed_before_its_manifest_leaves_nothing_servable(lake, tmp_path):
    s3, layout = lake
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v1", "v1", _gate(None)), "v1")
    assert registry.promote_if_accepted(s3, layout, "v1")["promoted"]
    model = write_tiny_model(tmp_path / "v2", "v2", _gate("v1"))

    call = f"registry.publish(s3, layout, __import__('pathlib').Path({str(model)!r}), 'v2')"
    upload = Paused(layout.bucket, call, "model_files_uploaded", tmp_path / "never")
    upload.process.send_signal(signal.SIGKILL)  # the training job dies mid-upload
    assert upload.process.wait(timeout=30) == -signal.SIGKILL

    listed = s3.list_objects_v2(Bucket=layout.bucket, Prefix=layout.model_prefix("v2"))
    uploaded = sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"])
    assert uploaded == ["knn.npz", "vocabulary.json", "weights.npz"]  # no manifest
    refused = registry.promote_if_accepted(s3, layout, "v2")
    assert refused == {
        "promoted": False,
        "reason": "v2 has no manifest: its upload did not finish; nothing to promote",
        "serving": {"version": "v1", "tier": "model"},
    }
    assert served_version(layout.bucket) == "v1"

    registry.publish(s3, layout, model, "v2")  # the retried job uploads it all
    assert registry.promote_if_accepted(s3, layout, "v2")["promoted"]
    assert served_version(layout.bucket) == "v2"


def _champions(s3, layout: LakeLayout, tmp_path: Path, *versions: str) -> None:
    for version in versions:
        registry.publish(s3, layout, write_tiny_model(tmp_path / version, version), version)
        registry.promote(s3, layout, version, f"{version} by hand")


def test_a_promotion_racing_a_rollback_lands_after_it(lake, tmp_path):
    s3, layout = lake
    _champions(s3, layout, tmp_path, "v1", "v2")
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v3", "v3"), "v3")

    resume = tmp_path / "resume"
    promotion = Paused(
        layout.bucket, "registry.promote(s3, layout, 'v3', 'v3 by hand')", "champion_read", resume
    )
    registry.rollback(s3, layout)  # lands while the promotion holds the pointer it read
    resume.touch()
    assert promotion.finish()["earlier"] == ["v1"]  # recomputed on the rolled-back pointer

    assert _pointer_history(s3, layout.bucket) == [
        ("v1", "v1 by hand"),
        ("v2", "v2 by hand"),
        ("v1", "rollback from v2"),
        ("v3", "v3 by hand"),
    ]
    assert served_version(layout.bucket) == "v3"


def test_a_gated_promotion_racing_a_rollback_is_refused_with_its_reason(lake, tmp_path):
    s3, layout = lake
    _champions(s3, layout, tmp_path, "v1", "v2")
    registry.publish(s3, layout, write_tiny_model(tmp_path / "v3", "v3", _gate("v2")), "v3")

    resume = tmp_path / "resume"
    call = "registry.promote_if_accepted(s3, layout, 'v3')"
    promotion = Paused(layout.bucket, call, "champion_read", resume)
    registry.rollback(s3, layout)
    resume.touch()
    assert promotion.finish() == {
        "promoted": False,
        "reason": "champion changed to v1 after the gate compared against it; retrain",
        "serving": {"version": "v1", "tier": "model"},
    }
    assert _pointer_history(s3, layout.bucket)[-1] == ("v1", "rollback from v2")
    assert len(_pointer_history(s3, layout.bucket)) == 3
    assert served_version(layout.bucket) == "v1"


def test_concurrent_moves_of_the_pointer_all_land(lake, tmp_path):
    s3, layout = lake
    _champions(s3, layout, tmp_path, "v0")
    versions = [f"v{i}" for i in range(1, 9)]
    start = threading.Barrier(len(versions))
    errors: list[BaseException] = []

    def promote(version: str) -> None:
        client = aws.client("s3")
        start.wait()
        try:
            registry.promote(client, layout, version, "race")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    pointer = registry.read_champion(s3, layout)
    assert sorted([pointer["version"], *pointer["earlier"]]) == sorted(["v0", *versions])
    assert len(_pointer_history(s3, layout.bucket)) == 1 + len(versions)


def _training_set_in_lake(bucket: str, data_run: str, folder: Path) -> None:
    """A learnable training set (``tests/training_data.py``, written in the training runtime)
    where the training-set job leaves one: ``analytics/training/<run>/``."""
    script = REPO / "tests" / "training_data.py"
    subprocess.run([venv_python("ml"), str(script), str(folder), data_run], check=True)
    s3, prefix = aws.client("s3"), LakeLayout.training_prefix(data_run)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())


def _train_task(bucket: str, run_dir: Path, data_run: str, version: str) -> subprocess.Popen:
    """The cycle's train task (train.py as SageMaker runs it, then the upload) in a process
    group of its own, on a run folder whose settings name the test's lake."""
    run_dir.mkdir(exist_ok=True)
    settings = read_env_file() | {"SHOPREC_LAKE_BUCKET": bucket}
    (run_dir / "env").write_text("".join(f"export {k}={v}\n" for k, v in settings.items()))
    call = f"stages.train({data_run!r}, {version!r}, epochs=3, members=2, max_length=8)"
    return subprocess.Popen(
        [venv_python("lambda"), "-c", f"from shoprec.local import stages; {call}"],
        env=os.environ | {"SHOPREC_RUN_DIR": str(run_dir), "PYTHONPATH": str(REPO)},
        cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


@pytest.mark.slow
def test_a_training_run_killed_mid_epoch_leaves_nothing_servable(lake, tmp_path):
    """SIGKILL (a spot interruption, an out-of-memory kill) after the first of three epochs:
    nothing of the model reaches the lake, the champion keeps serving, and the retried run
    publishes a complete model."""
    s3, layout = lake
    serving = serve_tiny_champion(layout.bucket, tmp_path)
    _training_set_in_lake(layout.bucket, "killed", tmp_path / "training-set")

    task = _train_task(layout.bucket, tmp_path / "run", "killed", "v2")
    assert task.stdout is not None
    for line in task.stdout:
        if "epoch 1/3" in line:
            os.killpg(task.pid, signal.SIGKILL)
            break
    else:
        pytest.fail(f"the train task exited {task.wait()} before its first epoch ended")
    assert task.wait(timeout=60) == -signal.SIGKILL
    listed = s3.list_objects_v2(Bucket=layout.bucket, Prefix=layout.model_prefix("v2"))
    assert listed["KeyCount"] == 0  # nothing of it uploaded
    assert registry.read_champion(s3, layout)["version"] == serving
    assert served_version(layout.bucket) == serving

    retried = _train_task(layout.bucket, tmp_path / "run", "killed", "v2")
    output = retried.communicate(timeout=600)[0]
    assert retried.returncode == 0, output
    model = registry.download(s3, layout, "v2", tmp_path / "v2")  # every file verifies
    assert sorted(p.name for p in model.iterdir()) == sorted([*MODEL_FILES, CATEGORIES_FILE])
    decided = registry.promote_if_accepted(s3, layout, "v2")
    assert served_version(layout.bucket) == ("v2" if decided["promoted"] else serving)
