"""The code version a model records in its lineage: the git commit it was built from."""

from __future__ import annotations

import subprocess
from pathlib import Path

CODE_VERSION_FILE = "CODE_VERSION"  # beside train.py in the SageMaker source bundle


def code_version(checkout: Path = Path(__file__).parents[1]) -> str:
    """``git rev-parse HEAD`` of the checkout (with ``-dirty`` when it has local changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=checkout,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if changed else head
