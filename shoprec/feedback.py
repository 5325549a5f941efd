"""The feedback loop: click-through rate per model version, tier and position, and the
sequential test that rolls a champion back when its live CTR falls below its predecessor's.

A click is a product view that followed a recommended link (``rec=<recommendation_id>``,
``shoprec.weblog.parse``) to an item that answer showed; an impression is an item an answer
showed (``shoprec.impressions``). The staging job counts both per (model_version, tier,
position) over everything staged (``shoprec.spark.feedback``); this module only reads those
counts, so the DAG's Airflow workers need no Spark.

**The test** (``SequentialTest``): Wald's sequential probability ratio test on the champion's
impressions, each a Bernoulli trial, of H0 "the champion's CTR equals the previous
champion's" (p0, measured on the previous champion's impressions) against H1 "it is
``drop`` (relatively) lower" (p1 = p0 (1 - drop)). The log-likelihood ratio
``clicks ln(p1/p0) + misses ln((1-p1)/(1-p0))`` is compared with ln((1-beta)/alpha) (roll back:
H1) and ln(beta/(1-alpha)) (keep: H0); between them, wait for more impressions. Nominal error
rates: alpha = 0.05 (rolling back a champion as good as its predecessor) and beta = 0.2
(keeping one whose CTR is 20 % lower); Wald's bounds make the true rates at most
alpha/(1-beta) = 0.0625 and beta/(1-alpha) = 0.21 when p0 is known. No verdict before both
models have ``min_impressions`` (2,000) impressions: p0 is an estimate, and its error adds to
alpha (``tests/unit/test_feedback.py`` measures both rates by simulation, p0 estimated from
its minimum sample: alpha 0.075 and beta 0.127 over 2,000 simulated champions each). The DAG
looks once per cycle (a group-sequential use of Wald's boundaries, which only lowers both
rates), and a verdict is final for that champion (recorded in ``state/feedback/verdicts/``):
looking again after a "keep" would spend alpha again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shoprec import registry
from shoprec.ingest.store import JsonStore
from shoprec.layout import LakeLayout

LINK_RECOMMENDATION = "rec"  # on a product link shown by the API: the answer's recommendation_id
ROLLBACK, KEEP, WAIT = "rollback", "keep", "wait"


@dataclass(frozen=True)
class Counts:
    impressions: int = 0
    clicks: int = 0

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.impressions + other.impressions, self.clicks + other.clicks)


def counts_by(rows: Iterable[Mapping[str, Any]], *keys: str) -> dict[tuple, Counts]:
    """The staging job's rows (model_version, tier, position, impressions, clicks) summed by
    ``keys``."""
    totals: dict[tuple, Counts] = defaultdict(Counts)
    for row in rows:
        totals[tuple(row[k] for k in keys)] += Counts(int(row["impressions"]), int(row["clicks"]))
    return dict(sorted(totals.items(), key=lambda item: tuple(map(str, item[0]))))


def ctr_table(rows: Iterable[Mapping[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """Impressions, clicks and CTR per value of ``keys`` (e.g. model_version, tier)."""
    return [
        {**dict(zip(keys, key, strict=True)), "impressions": c.impressions, "clicks": c.clicks,
         "ctr": round(c.ctr, 4)}
        for key, c in counts_by(list(rows), *keys).items()
    ]  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    decision: str  # ROLLBACK, KEEP or WAIT
    reason: str
    llr: float | None = None


@dataclass(frozen=True)
class SequentialTest:
    alpha: float = 0.05  # rolling back a champion whose CTR equals its predecessor's
    beta: float = 0.2  # keeping a champion whose CTR is ``drop`` lower
    drop: float = 0.2  # the relative CTR loss H1 names
    min_impressions: int = 2000  # of each model, before any verdict

    def judge(self, champion: Counts, previous: Counts) -> Verdict:
        short = [
            f"{name} has {c.impressions} impressions"
            for name, c in (("the champion", champion), ("the previous champion", previous))
            if c.impressions < self.min_impressions
        ]
        if short:
            return Verdict(WAIT, f"{'; '.join(short)} (at least {self.min_impressions})")
        p0 = previous.ctr
        if not 0 < p0 < 1:
            return Verdict(WAIT, f"the previous champion's CTR {p0:.4f} gives no test")
        p1 = p0 * (1 - self.drop)
        misses = champion.impressions - champion.clicks
        llr = champion.clicks * math.log(p1 / p0) + misses * math.log((1 - p1) / (1 - p0))
        seen = (
            f"CTR {champion.ctr:.4f} on {champion.impressions} impressions against the previous "
            f"champion's {p0:.4f} on {previous.impressions}; log-likelihood ratio {llr:.2f}"
        )
        upper = math.log((1 - self.beta) / self.alpha)
        lower = math.log(self.beta / (1 - self.alpha))
        if llr >= upper:
            return Verdict(
                ROLLBACK, f"{seen} >= {upper:.2f}: CTR at least {self.drop:.0%} lower", llr
            )
        if llr <= lower:
            return Verdict(KEEP, f"{seen} <= {lower:.2f}: no {self.drop:.0%} CTR loss", llr)
        return Verdict(WAIT, f"{seen}, between {lower:.2f} and {upper:.2f}", llr)


def judge_champion(
    s3: Any, layout: LakeLayout, rows: list[Mapping[str, Any]], test: SequentialTest
) -> dict[str, Any]:
    """Judge the serving champion on the staged counts against the champion before it; roll
    it back (``registry.rollback``, with the verdict as reason) when the test says so. A final
    verdict is recorded once per champion and never tested again."""
    pointer = registry.read_champion(s3, layout)
    if not pointer or not pointer["earlier"]:
        return {"decision": WAIT, "reason": "no earlier champion to compare with"}
    version, previous = pointer["version"], pointer["earlier"][0]
    verdicts = JsonStore(s3, layout.bucket, layout.FEEDBACK_VERDICTS_PREFIX)
    recorded = verdicts.get(f"{version}.json")
    if recorded:
        return {**recorded.body, "recorded_earlier": True}
    by_version = counts_by(rows, "model_version")
    verdict = test.judge(
        by_version.get((version,), Counts()), by_version.get((previous,), Counts())
    )
    result = {
        "champion": version,
        "previous": previous,
        "decision": verdict.decision,
        "reason": verdict.reason,
        "llr": verdict.llr,
    }
    if verdict.decision == ROLLBACK:
        try:
            result["pointer"] = registry.rollback(
                s3, layout, reason=verdict.reason, only_from=version
            )
        except registry.DamagedModel as error:  # judged again next cycle
            return {**result, "rollback_failed": str(error)}
        except registry.NothingToRollBack as error:  # another champion serves by now
            result["rollback_failed"] = str(error)
    if verdict.decision != WAIT:
        verdicts.create(f"{version}.json", result)
    return result


def report_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The feedback counts a staging run's summary carries (none before this loop existed)."""
    return list(summary.get("feedback", []))
