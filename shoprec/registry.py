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


def decide(manifest: dict[str, Any]) -> tuple[bool, str]:
    """The walking skeleton's gate: the model must beat the popularity baseline on HR@20."""
    model, pop = manifest["metrics"]["model"]["hr@20"], manifest["metrics"]["pop"]["hr@20"]
    if model > pop:
        return True, f"HR@20 {model:.4f} beats POP {pop:.4f}"
    return False, f"HR@20 {model:.4f} does not beat POP {pop:.4f}"


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
