"""Model registry in the analytics zone: model folders and the champion pointer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

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
# HR@20 beside it. The floor is the strongest baseline: a model that cannot beat it has no
# reason to serve.
GATE_METRIC = "mrr@20"
RECORDED_METRICS = ("hr@20", "mrr@20")
FLOOR = "vsknn"


def _beats(challenger: dict[str, float], other: dict[str, float]) -> bool:
    return challenger[GATE_METRIC] > other[GATE_METRIC]


def _scores(metrics: dict[str, float]) -> str:
    return " ".join(f"{m} {metrics[m]:.4f}" for m in RECORDED_METRICS)


def gate(metrics: dict[str, dict[str, float]], champion_version: str | None) -> dict[str, Any]:
    """The promotion decision of a trained model, from metrics measured on one validation set:
    ``model`` (the challenger), ``champion`` (the serving model, when there is one) and the
    ``vsknn`` floor. The challenger must beat both on ``GATE_METRIC``."""
    challenger, floor = metrics["model"], metrics[FLOOR]
    rivals = {FLOOR: floor} | ({"champion": metrics["champion"]} if champion_version else {})
    beaten = [name for name, rival in rivals.items() if not _beats(challenger, rival)]
    verdict = "does not beat" if beaten else "beats"
    reason = f"challenger ({_scores(challenger)}) {verdict} " + ", ".join(
        f"{name} ({_scores(rivals[name])})" for name in (beaten or rivals)
    )
    return {
        "decision": "reject" if beaten else "promote",
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


def promote_if_accepted(s3: Any, layout: LakeLayout, version: str) -> dict[str, Any]:
    """Apply the gate decision recorded in the model's manifest at training time."""
    decision = read_manifest(s3, layout, version)["gate"]
    current = read_champion(s3, layout)
    serving = current["version"] if current else None
    if decision["decision"] != "promote":
        return {"promoted": False, "reason": decision["reason"]}
    if serving != decision["champion_version"]:
        reason = f"champion changed to {serving} after the gate compared against it; retrain"
        return {"promoted": False, "reason": reason}
    return {"promoted": True, **promote(s3, layout, version, decision["reason"])}


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
