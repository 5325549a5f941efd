"""Model registry in the analytics zone: model folders and the champion pointer."""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shoprec import tiers
from shoprec.failpoints import failpoint
from shoprec.ingest.store import Conflict, JsonStore
from shoprec.layout import CATEGORIES_FILE, CHAMPION_KEY, MANIFEST_FILE, MODEL_FILES, LakeLayout
from shoprec.model_files import checksums, local_problems, problems


def publish(s3: Any, layout: LakeLayout, model_dir: Path, version: str) -> str:
    """Upload a trained model under ``analytics/models/<version>/``: every file first, then the
    manifest with each file's size and sha256 in it. A folder without its manifest is an
    interrupted upload, which promotion refuses."""
    prefix = layout.model_prefix(version)
    files = sorted(p for p in model_dir.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)
    for path in files:
        s3.upload_file(str(path), layout.bucket, prefix + path.relative_to(model_dir).as_posix())
    failpoint("model_files_uploaded")
    manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
    manifest["files"] = checksums(model_dir, files)
    s3.put_object(
        Bucket=layout.bucket,
        Key=prefix + MANIFEST_FILE,
        Body=json.dumps(manifest, indent=2).encode(),
        ContentType="application/json",
    )
    return prefix


def publish_archive(s3: Any, layout: LakeLayout, artifacts: str, version: str) -> str:
    """A SageMaker training job's ``model.tar.gz`` (an ``s3://`` URI in the lake) published
    as the model folder the API serves."""
    key = artifacts.removeprefix(f"s3://{layout.bucket}/")
    with tempfile.TemporaryDirectory() as scratch:
        archive, model = Path(scratch) / "model.tar.gz", Path(scratch) / "model"
        s3.download_file(layout.bucket, key, str(archive))
        with tarfile.open(archive) as tar:
            tar.extractall(model, filter="data")
        return publish(s3, layout, model, version)


def read_manifest(s3: Any, layout: LakeLayout, version: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=layout.bucket, Key=layout.model_prefix(version) + MANIFEST_FILE)
    return json.loads(body["Body"].read())


def _pointer_store(s3: Any, layout: LakeLayout) -> JsonStore:
    return JsonStore(s3, layout.bucket, CHAMPION_KEY[: CHAMPION_KEY.rfind("/") + 1])


_POINTER = CHAMPION_KEY[CHAMPION_KEY.rfind("/") + 1 :]


def read_champion(s3: Any, layout: LakeLayout) -> dict[str, Any] | None:
    document = _pointer_store(s3, layout).get(_POINTER)
    return document.body if document else None


def manifests_since(s3: Any, layout: LakeLayout, since: float = 0.0) -> Iterator[dict[str, Any]]:
    """The manifest of every model published (its upload complete) at or after ``since``
    (unix seconds), whether it serves or not."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=layout.bucket, Prefix=layout.MODELS_PREFIX):
        for obj in page.get("Contents", []):
            if (
                obj["Key"].endswith("/" + MANIFEST_FILE)
                and obj["LastModified"].timestamp() >= since
            ):
                yield json.loads(s3.get_object(Bucket=layout.bucket, Key=obj["Key"])["Body"].read())


def data_until(manifest: dict[str, Any]) -> str | None:
    """The last event a model trained on (the end of its training set's window)."""
    lineage = manifest.get("lineage") or {}
    return ((lineage.get("training_set") or {}).get("window") or {}).get("to")


def trained_data_until(s3: Any, layout: LakeLayout) -> str | None:
    """The end of the newest data any published model trained on, promoted or rejected: what
    a cycle's novelty is measured after, so a rejected challenger's data is not new again."""
    return max(filter(None, map(data_until, manifests_since(s3, layout))), default=None)


def training_minutes_since(s3: Any, layout: LakeLayout, since: float) -> float:
    """Minutes of training of the models published after ``since`` (unix seconds)."""
    return sum(m.get("train_seconds", 0.0) for m in manifests_since(s3, layout, since)) / 60


# The gate ranks on MRR@20 (is the next click near the top, where shoppers look) and records
# HR@20 beside it. The floor is the better V-SKNN variant on this run's validation day: a deep
# model that cannot beat it has no reason to serve, and the floor serves in its place.
GATE_METRIC = "mrr@20"
RECORDED_METRICS = ("hr@20", "mrr@20")
# Challenger and champion are judged on a day neither trained on, but they do not serve alike:
# a promoted challenger is trained again on that day too, while a kept champion serves
# tomorrow without it. A day of data is worth 5.5-7 % of MRR@20 (9 % of HR@20) on the next
# day here (README, "Quality": the freshness table, and bench/next_day.py's second cycle,
# whose kept champions scored .6131 / .3408 on train_valid where the models trained on every
# day scored .6696 / .3662), so a challenger that trails the champion by less than this share
# of GATE_METRIC is still expected to serve better tomorrow, and serves. Trained from scratch
# a challenger is level with its champion on the champion's own data (MRR ratios .994-1.008
# in the bench); warm-started (an option) it trailed by 2-4 %.
FRESHNESS_MARGIN = 0.05


def _beats(challenger: dict[str, float], other: dict[str, float], margin: float = 0.0) -> bool:
    return challenger[GATE_METRIC] > other[GATE_METRIC] * (1 - margin)


def _scores(metrics: dict[str, float]) -> str:
    return " ".join(f"{m} {metrics[m]:.4f}" for m in RECORDED_METRICS)


def _named(names: list[str], metrics: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{name} ({_scores(metrics[name])})" for name in names)


def better_floor(metrics: dict[str, Any]) -> str:
    """The V-SKNN variant that scores better on ``GATE_METRIC``: the floor a model must beat."""
    return max(
        (n for n in tiers.VSKNN_VARIANTS if n in metrics), key=lambda n: metrics[n][GATE_METRIC]
    )


def _promotion(metrics: dict[str, dict[str, float]], rivals: list[str]) -> str:
    challenger = metrics["model"]
    if "champion" not in rivals or _beats(challenger, metrics["champion"]):
        return f"challenger ({_scores(challenger)}) beats {_named(rivals, metrics)}"
    return (
        f"challenger ({_scores(challenger)}) beats {_named(rivals[:1], metrics)} and "
        f"trails {_named(['champion'], metrics)} by less than {FRESHNESS_MARGIN:.0%} on "
        f"{GATE_METRIC}: it serves, trained again on this day, which the champion has not"
    )


def gate(metrics: dict[str, dict[str, float]], champion_version: str | None) -> dict[str, Any]:
    """What a trained model folder should serve, from metrics measured on one validation day:
    ``model`` (the challenger), the V-SKNN variants and, when the champion serves a deep
    model, ``champion``. ``serve`` is ``model`` when the challenger beats the floor on
    ``GATE_METRIC`` and the champion too, or trails it by less than ``FRESHNESS_MARGIN``;
    otherwise a deep champion that beats the floor keeps serving (``reject``); otherwise no
    deep model beats the floor and the floor serves (``serve`` is the V-SKNN variant)."""
    challenger = metrics["model"]
    floor = better_floor(metrics)
    rivals = [floor, *(["champion"] if "champion" in metrics else [])]
    margins = {floor: 0.0, "champion": FRESHNESS_MARGIN}
    beaten = [name for name in rivals if not _beats(challenger, metrics[name], margins[name])]
    if not beaten:
        decision, serve, reason = "promote", tiers.MODEL, _promotion(metrics, rivals)
    elif "champion" in metrics and _beats(metrics["champion"], metrics[floor]):
        decision, serve = "reject", tiers.MODEL
        reason = (
            f"challenger ({_scores(challenger)}) does not beat {_named(beaten, metrics)}"
            + (f", trailing it by {FRESHNESS_MARGIN:.0%} or more" if beaten == ["champion"] else "")
            + "; the champion keeps serving"
        )
    else:
        decision, serve = "promote", floor
        deep = ["model", *(["champion"] if "champion" in metrics else [])]
        reason = (
            f"no deep model beats {_named([floor], metrics)}: {_named(deep, metrics)}; "
            f"the {floor} floor serves"
        )
    return {
        "decision": decision,
        "serve": serve,
        "reason": reason,
        "champion_version": champion_version,
        "metric": GATE_METRIC,
        "freshness_margin": FRESHNESS_MARGIN if "champion" in metrics else None,
        "scores": {
            name: {m: metrics[name][m] for m in RECORDED_METRICS} for name in ("model", *rivals)
        },
    }


class PointerContended(RuntimeError):
    """The champion pointer kept changing under this move: too many writers at once."""


class Refused(Exception):
    """A pointer move that no longer applies to the pointer as it now is."""


def _pointer(
    version: str, reason: str, earlier: list[str], model_package: str | None = None
) -> dict[str, Any]:
    pointer = {
        "version": version,
        "reason": reason,
        "earlier": earlier,  # former champions, most recent first: what rollback returns to
        "promoted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if model_package:  # AWS: the approved package of SageMaker's model registry it serves
        pointer["model_package"] = model_package
    return pointer


def _move_pointer(
    s3: Any,
    layout: LakeLayout,
    change: Callable[[dict[str, Any] | None], dict[str, Any]],
    attempts: int = 10,
) -> dict[str, Any]:
    """Write ``change(current pointer)`` only over the pointer it was computed from (S3
    ``If-Match`` on its ETag; ``If-None-Match`` for the first): a move that loses a race is
    computed again on the winner's pointer, so no move overwrites another unseen."""
    store = _pointer_store(s3, layout)
    for _ in range(attempts):
        current = store.get(_POINTER)
        pointer = change(current.body if current else None)
        failpoint("champion_read")
        try:
            if current is None:
                store.create(_POINTER, pointer)
            else:
                store.replace(current, pointer)
        except Conflict:
            continue
        return pointer
    raise PointerContended(f"{CHAMPION_KEY} changed under {attempts} attempts to move it")


def _promoted(
    version: str, reason: str, model_package: str | None = None
) -> Callable[[dict[str, Any] | None], dict[str, Any]]:
    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        earlier = [current["version"], *current["earlier"]] if current else []
        return _pointer(version, reason, earlier, model_package)

    return change


def promote(
    s3: Any, layout: LakeLayout, version: str, reason: str, model_package: str | None = None
) -> dict[str, Any]:
    """Make ``version`` the champion, whatever serves now (no gate, no verification)."""
    return _move_pointer(s3, layout, _promoted(version, reason, model_package))


def served_tier(manifest: dict[str, Any]) -> str:
    """The tier a model folder serves: what its gate decided (``model`` or a V-SKNN variant)."""
    return str(manifest.get("gate", {}).get("serve", tiers.MODEL))


def promote_if_accepted(
    s3: Any, layout: LakeLayout, version: str, model_package: str | None = None
) -> dict[str, Any]:
    """Apply the gate decision recorded in the model's manifest at training time; say which
    version and tier serve afterwards (``serving``: None while nothing does). In AWS mode
    the pointer also names the model package approved for it (``model_package``)."""
    document = JsonStore(s3, layout.bucket, layout.model_prefix(version)).get(MANIFEST_FILE)
    if document is None:  # (JsonStore: a 404, or a 403 on a key that is not listed)
        reason = f"{version} has no manifest: its upload did not finish; nothing to promote"
        return _refused(s3, layout, reason)
    manifest = document.body
    decision = manifest["gate"]
    if decision["decision"] != "promote":
        return _refused(s3, layout, decision["reason"])
    missing = problems(s3, layout.bucket, layout.model_prefix(version), manifest.get("files"))
    if missing:
        return _refused(s3, layout, f"{version} fails verification: {'; '.join(missing)}")
    promoted = _promoted(version, decision["reason"], model_package)

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        serving = current["version"] if current else None
        if serving != decision["champion_version"]:
            raise Refused(
                f"champion changed to {serving} after the gate compared against it; retrain"
            )
        return promoted(current)

    try:
        pointer = _move_pointer(s3, layout, change)
    except Refused as refusal:
        return _refused(s3, layout, str(refusal))
    return {"promoted": True, **pointer, "serving": _serving(version, manifest)}


def _refused(s3: Any, layout: LakeLayout, reason: str) -> dict[str, Any]:
    current = read_champion(s3, layout)
    serving = current and current["version"]
    return {
        "promoted": False,
        "reason": reason,
        "serving": serving and _serving(serving, read_manifest(s3, layout, serving)),
    }


def _serving(version: str, manifest: dict[str, Any]) -> dict[str, str]:
    return {"version": version, "tier": served_tier(manifest)}


class NothingToRollBack(RuntimeError):
    pass


class DamagedModel(RuntimeError):
    """A model folder whose files are not the bytes its manifest lists."""


def rollback(
    s3: Any, layout: LakeLayout, reason: str | None = None, only_from: str | None = None
) -> dict[str, Any]:
    """Point the champion back at the previous champion (the API follows on its next refresh),
    once its folder is verified again: its files may have changed since it last served.
    ``reason`` is recorded in the pointer; with ``only_from``, only while that version is
    the champion (a judgement of one champion never rolls back another)."""

    def change(current: dict[str, Any] | None) -> dict[str, Any]:
        if not current or not current["earlier"]:
            raise NothingToRollBack("there is no earlier champion to roll back to")
        if only_from and current["version"] != only_from:
            raise NothingToRollBack(f"{only_from} no longer serves ({current['version']} does)")
        previous, *older = current["earlier"]
        listed = read_manifest(s3, layout, previous).get("files")
        found = problems(s3, layout.bucket, layout.model_prefix(previous), listed)
        if found:
            raise DamagedModel(f"model {previous} cannot serve again: {'; '.join(found)}")
        why = f"rollback from {current['version']}" + (f": {reason}" if reason else "")
        return _pointer(previous, why, older)

    return _move_pointer(s3, layout, change)


def download(s3: Any, layout: LakeLayout, version: str, target: Path) -> Path:
    """Fetch the files serving needs (not the SavedModel) into ``target``, each checked
    against the size and sha256 its manifest lists (the categories where it lists them)."""
    target.mkdir(parents=True, exist_ok=True)
    prefix = layout.model_prefix(version)
    s3.download_file(layout.bucket, prefix + MANIFEST_FILE, str(target / MANIFEST_FILE))
    listed = json.loads((target / MANIFEST_FILE).read_text()).get("files")
    names = [n for n in MODEL_FILES if n != MANIFEST_FILE]
    names += [CATEGORIES_FILE] if CATEGORIES_FILE in (listed or {}) else []
    for name in names:
        s3.download_file(layout.bucket, prefix + name, str(target / name))
    found = local_problems(target, listed, names)
    if found:
        raise DamagedModel(f"model {version}: {'; '.join(found)}")
    return target
