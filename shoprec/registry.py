"""Model registry in the analytics zone: model folders and the champion pointer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from shoprec import tiers
from shoprec.layout import CHAMPION_KEY, MANIFEST_FILE, MODEL_FILES, LakeLayout


def publish(s3: Any, layout: LakeLayout, model_dir: Path, version: str) -> str:
    """Upload every file of a trained model under ``analytics/models/<version>/``."""
    prefix = layout.model_prefix(version)
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        s3.upload_file(str(path), layout.bucket, prefix + path.relative_to(model_dir).as_posix())
    return prefix


def read_manifest(s3: Any, layout: LakeLayout, version: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=layout.bucket, Key=layout.model_prefix(version) + MANIFEST_FILE)
    return json.loads(body["Body"].read())


def read_champion(s3: Any, layout: LakeLayout) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=layout.bucket, Key=CHAMPION_KEY)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def champion_data_until(s3: Any, layout: LakeLayout) -> str | None:
    """The last event the champion trained on (its training set's window), if one serves."""
    champion = read_champion(s3, layout)
    if champion is None:
        return None
    lineage = read_manifest(s3, layout, champion["version"]).get("lineage") or {}
    return ((lineage.get("training_set") or {}).get("window") or {}).get("to")


def training_minutes_since(s3: Any, layout: LakeLayout, since: float) -> float:
    """Minutes of training of the models published after ``since`` (unix seconds)."""
    seconds = 0.0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=layout.bucket, Prefix=layout.MODELS_PREFIX):
        for obj in page.get("Contents", []):
            if (
                obj["Key"].endswith("/" + MANIFEST_FILE)
                and obj["LastModified"].timestamp() >= since
            ):
                body = s3.get_object(Bucket=layout.bucket, Key=obj["Key"])["Body"].read()
                seconds += json.loads(body).get("train_seconds", 0.0)
    return seconds / 60


# The gate ranks on MRR@20 (is the next click near the top, where shoppers look) and records
# HR@20 beside it. The floor is the better V-SKNN variant on this run's validation day: a deep
# model that cannot beat it has no reason to serve, and the floor serves in its place.
GATE_METRIC = "mrr@20"
RECORDED_METRICS = ("hr@20", "mrr@20")


def _beats(challenger: dict[str, float], other: dict[str, float]) -> bool:
    return challenger[GATE_METRIC] > other[GATE_METRIC]


def _scores(metrics: dict[str, float]) -> str:
    return " ".join(f"{m} {metrics[m]:.4f}" for m in RECORDED_METRICS)


def _named(names: list[str], metrics: dict[str, dict[str, float]]) -> str:
    return ", ".join(f"{name} ({_scores(metrics[name])})" for name in names)


def gate(metrics: dict[str, dict[str, float]], champion_version: str | None) -> dict[str, Any]:
    """What a trained model folder should serve, from metrics measured on one validation day:
    ``model`` (the challenger), the V-SKNN variants and, when the champion serves a deep
    model, ``champion``. ``serve`` is ``model`` when the challenger beats the champion and
    the floor on ``GATE_METRIC``; otherwise a deep champion that beats the floor keeps serving
    (``reject``); otherwise no deep model beats the floor and the floor serves (``serve`` is
    the V-SKNN variant)."""
    challenger = metrics["model"]
    floor = max(
        (n for n in tiers.VSKNN_VARIANTS if n in metrics), key=lambda n: metrics[n][GATE_METRIC]
    )
    rivals = [floor, *(["champion"] if "champion" in metrics else [])]
    beaten = [name for name in rivals if not _beats(challenger, metrics[name])]
    if not beaten:
        decision, serve = "promote", tiers.MODEL
        reason = f"challenger ({_scores(challenger)}) beats {_named(rivals, metrics)}"
    elif "champion" in metrics and _beats(metrics["champion"], metrics[floor]):
        decision, serve = "reject", tiers.MODEL
        reason = (
            f"challenger ({_scores(challenger)}) does not beat {_named(beaten, metrics)}; "
            "the champion keeps serving"
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
        "scores": {
            name: {m: metrics[name][m] for m in RECORDED_METRICS} for name in ("model", *rivals)
        },
    }


def _write_champion(
    s3: Any, layout: LakeLayout, version: str, reason: str, earlier: list[str]
) -> dict[str, Any]:
    pointer = {
        "version": version,
        "reason": reason,
        "earlier": earlier,  # former champions, most recent first: what rollback returns to
        "promoted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    s3.put_object(Bucket=layout.bucket, Key=CHAMPION_KEY, Body=json.dumps(pointer).encode())
    return pointer


def promote(s3: Any, layout: LakeLayout, version: str, reason: str) -> dict[str, Any]:
    current = read_champion(s3, layout)
    earlier = [current["version"], *current["earlier"]] if current else []
    return _write_champion(s3, layout, version, reason, earlier)


def served_tier(manifest: dict[str, Any]) -> str:
    """The tier a model folder serves: what its gate decided (``model`` or a V-SKNN variant)."""
    return str(manifest.get("gate", {}).get("serve", tiers.MODEL))


def promote_if_accepted(s3: Any, layout: LakeLayout, version: str) -> dict[str, Any]:
    """Apply the gate decision recorded in the model's manifest at training time; say which
    version and tier serve afterwards (``serving``: None while nothing does)."""
    manifest = read_manifest(s3, layout, version)
    decision = manifest["gate"]
    current = read_champion(s3, layout)
    serving = current["version"] if current else None
    if decision["decision"] != "promote":
        result = {"promoted": False, "reason": decision["reason"]}
    elif serving != decision["champion_version"]:
        reason = f"champion changed to {serving} after the gate compared against it; retrain"
        result = {"promoted": False, "reason": reason}
    else:
        pointer = promote(s3, layout, version, decision["reason"])
        return {"promoted": True, **pointer, "serving": _serving(version, manifest)}
    return result | {"serving": serving and _serving(serving, read_manifest(s3, layout, serving))}


def _serving(version: str, manifest: dict[str, Any]) -> dict[str, str]:
    return {"version": version, "tier": served_tier(manifest)}


class NothingToRollBack(RuntimeError):
    pass


def rollback(s3: Any, layout: LakeLayout) -> dict[str, Any]:
    """Point the champion back at the previous champion (the API follows on its next refresh)."""
    current = read_champion(s3, layout)
    if not current or not current["earlier"]:
        raise NothingToRollBack("there is no earlier champion to roll back to")
    previous, *older = current["earlier"]
    return _write_champion(s3, layout, previous, f"rollback from {current['version']}", older)


def download(s3: Any, layout: LakeLayout, version: str, target: Path) -> Path:
    """Fetch the files serving needs (not the SavedModel) into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        s3.download_file(layout.bucket, layout.model_prefix(version) + name, str(target / name))
    return target
