"""When a cycle trains: when there is enough new behaviour or the catalogue drifted, and the
day's training budget allows it.

The training-set job measures, within its window, what is new since the data of the last
model trained ended (``novelty``: sessions ending later, and the Jensen-Shannon distance
between the item click distributions before and after). The reference is the last model
*trained*, not the champion: after a rejected challenger the next cycle does not train again
on the data it was just judged on. ``decide`` turns that, the minutes already spent training
today and the environment's policy into a decision with its reason. The policy (thresholds
and the training window) is a set of Airflow options: CDK sets MWAA's per environment
(``cdk/config.py``), the local console takes the defaults.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from shoprec.contracts import TrainingSetJobArgs


@dataclass(frozen=True)
class TrainingPolicy:
    min_new_sessions: int = 200
    min_item_drift: float = 0.1
    max_training_minutes_per_day: float = 120.0
    # Drift measured on fewer new sessions is noise (4 sessions of a day's last minutes
    # measured 0.97 on the YooChoose replay): it then does not count.
    min_drift_sessions: int = 50

    # The sliding window of event dates a training set reads.
    window_days: int = TrainingSetJobArgs.window_days

    @classmethod
    def from_options(cls, option: Any) -> TrainingPolicy:
        """``option(name, default)``: how the environment configures it (Airflow options)."""
        return cls(**{f.name: type(f.default)(option(f.name, f.default)) for f in fields(cls)})

    def to_options(self, section: str) -> dict[str, str]:
        """The Airflow options (``<section>.<name>``) that configure this policy."""
        return {f"{section}.{f.name}": str(getattr(self, f.name)) for f in fields(self)}


def jensen_shannon(before: Mapping[str, int], after: Mapping[str, int]) -> float:
    """Distance (0..1, base 2) between two click distributions over items."""
    total_before, total_after = sum(before.values()), sum(after.values())
    if not total_before or not total_after:
        return 1.0 if total_before or total_after else 0.0
    divergence = 0.0
    for item in before.keys() | after.keys():
        p = before.get(item, 0) / total_before
        q = after.get(item, 0) / total_after
        m = (p + q) / 2
        divergence += sum(x * math.log2(x / m) for x in (p, q) if x) / 2
    return math.sqrt(max(divergence, 0.0))


SINCE = "since the last trained model's data"  # what novelty is measured after


@dataclass(frozen=True)
class Decision:
    train: bool
    reason: str
    budget_seconds: float  # what the day's budget leaves this training run

    def to_dict(self) -> dict[str, Any]:
        return {"train": self.train, "reason": self.reason, "budget_seconds": self.budget_seconds}


def decide(
    policy: TrainingPolicy, novelty: Mapping[str, Any], champion: str | None, minutes_today: float
) -> Decision:
    left = max(policy.max_training_minutes_per_day - minutes_today, 0.0)
    budget = f"{minutes_today:.1f} of {policy.max_training_minutes_per_day:g} training minutes used today"
    if left <= 0:
        return Decision(False, f"the day's training budget is spent ({budget})", 0.0)
    new, drift = novelty["new_sessions"], novelty["item_drift"]
    if champion is None:
        return Decision(True, f"no model serves yet ({budget})", left * 60)
    if new >= policy.min_new_sessions:
        why = f"{new} new sessions {SINCE} (≥ {policy.min_new_sessions})"
    elif drift >= policy.min_item_drift and new >= policy.min_drift_sessions:
        why = f"item drift {drift:.3f} {SINCE} (≥ {policy.min_item_drift:g})"
    elif new < policy.min_drift_sessions:
        return Decision(
            False,
            f"only {new} new sessions {SINCE}: too few to train on "
            f"(< {policy.min_new_sessions}) or to measure drift on (< {policy.min_drift_sessions})",
            left * 60,
        )
    else:
        return Decision(
            False,
            f"only {new} new sessions (< {policy.min_new_sessions}) and item drift "
            f"{drift:.3f} (< {policy.min_item_drift:g}) {SINCE}",
            left * 60,
        )
    return Decision(True, f"{why} ({budget})", left * 60)


DAY_SECONDS = 24 * 3600


def decide_for_lake(
    s3: Any, layout: Any, policy: TrainingPolicy, novelty: Mapping[str, Any]
) -> Decision:
    """The decision for this lake: its champion and the training minutes of the last day."""
    from shoprec import registry

    champion = registry.read_champion(s3, layout)
    minutes = registry.training_minutes_since(s3, layout, time.time() - DAY_SECONDS)
    erased = erasure_pending(s3, layout)
    if erased is not None:  # novelty and the day's budget wait: the models hold erased data
        left = max(policy.max_training_minutes_per_day - minutes, 0.0)
        budget = (left or policy.max_training_minutes_per_day) * 60
        return Decision(True, f"an erasure at {erased} (no model trained since)", budget)
    return decide(policy, novelty, champion and champion["version"], minutes)


def erasure_pending(s3: Any, layout: Any) -> str | None:
    """When an erasure asked for a retrain (``shoprec.erasure``) that no model published since
    answers; the marker is removed once one has (ISO time, or None)."""
    from shoprec import registry
    from shoprec.ingest.store import JsonStore

    store = JsonStore(s3, layout.bucket, "")
    marker = store.get(layout.RETRAIN_KEY)
    if marker is None:
        return None
    if any(registry.manifests_since(s3, layout, marker.body["requested_at"])):
        store.delete(layout.RETRAIN_KEY)
        return None
    return marker.body["requested"]
