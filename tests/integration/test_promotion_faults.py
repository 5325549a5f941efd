"""Promotion through faults on real S3 (LocalStack): a model folder with a missing or corrupt
file, an upload killed (SIGKILL) before its manifest, and the champion pointer moved by a
promotion and a rollback at once. After each, the API still serves a complete model."""

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
from shoprec.layout import CHAMPION_KEY, LakeLayout
from shoprec.local.runtime import REPO, venv_python

pytestmark = [pytest.mark.integration]


def _gate(champion: str | None) -> dict:
    """A promote decision recorded against ``champion`` (None: the first model)."""
    return {"decision": "promote", "serve": "model", "reason": "test", "champion_version": champion}


def _served_version(s3, layout: LakeLayout) -> str:
    from api.chalicelib.champion import ChampionHolder

    model = ChampionHolder(s3, layout, refresh_seconds=0).get()
    assert model.recommend(["a"], 3).items  # complete: it loads and answers
    return model.version


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
    assert _served_version(s3, layout) == "v1"


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
    assert _served_version(s3, layout) == "v1"

    registry.publish(s3, layout, model, "v2")  # the retried job uploads it all
    assert registry.promote_if_accepted(s3, layout, "v2")["promoted"]
    assert _served_version(s3, layout) == "v2"


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
    assert _served_version(s3, layout) == "v3"


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
    assert _served_version(s3, layout) == "v1"


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
