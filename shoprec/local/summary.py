"""What a DAG run did with the data, in lines a person reads (``make demo``, ``make cycle``)."""

from __future__ import annotations

import os
from typing import Any

from shoprec import aws, cycles, feedback, registry, tiers
from shoprec.layout import LakeLayout
from shoprec.local import runtime


def _by_reason(counts: dict[str, int]) -> str:
    if not counts:
        return "0"
    listed = ", ".join(f"{reason} {n:,}" for reason, n in sorted(counts.items()))
    return f"{sum(counts.values()):,} ({listed})"


def reconciliation(report: dict[str, dict[str, Any]]) -> list[str]:
    """Lines → events → Kafka → staged rows, per source, as the run's reports count them."""
    staged, lines = report["stage_events"], []
    for name in sorted(n for n in report if n == "collect" or n.startswith("collect_")):
        collect = report[name]
        objects = ", ".join(f"{n} {outcome}" for outcome, n in sorted(collect["objects"].items()))
        lines += [
            f"[{collect['source']}] objects (arrived by the cutoff)  {objects}",
            f"lines read               {collect['lines']:>10,}  = events {collect['events']:,}"
            f" + quarantined {_by_reason(collect['quarantined'])}"
            f" + filtered {_by_reason(collect['filtered'])}",
            f"published to Kafka       {collect['published']:>10,}",
        ]
        if collect["pending"]:
            lines.append(f"still pending            {', '.join(collect['pending'])}")
    lines.append(
        f"staging read             {staged['read']:>10,}  = staged {staged['staged']:,}"
        f" + duplicates dropped {staged['duplicates']:,} + quarantined {staged['quarantined']:,}"
    )
    if products := staged.get("products"):  # runs before the product feed have none
        lines.append(
            f"product feeds            {products['staged']:>10,}  products staged"
            f" + quarantined rows {products['quarantined']:,}"
        )
    for check, ok in report.get("reconcile", {}).get("checks", {}).items():
        lines.append(f"  {'ok      ' if ok else 'MISMATCH'} {check}")
    return lines


def feedback_lines(reports: list[dict[str, dict[str, Any]]]) -> list[str]:
    """Impressions, clicks and CTR per model version (the last staging run's counts cover
    everything staged), and each verdict of the live CTR test."""
    staged = [r["stage_events"] for r in reports if "stage_events" in r]
    table = feedback.ctr_table(feedback.report_rows(staged[-1]) if staged else [], "model_version")
    lines = [
        f"  {row['model_version']}: {row['impressions']:>8,} impressions {row['clicks']:>6,} "
        f"clicks  CTR {row['ctr']:.4f}"
        for row in table
    ] or ["  no impressions staged yet"]
    judged = [r["judge_champion"] for r in reports if "judge_champion" in r]
    lines += [f"  judge: {j['decision']}: {j['reason']}" for j in judged[-1:]]
    return lines


def _scores(metrics: dict[str, Any], name: str) -> str:
    return (
        f"{metrics[name]['hr@20']:.3f} / {metrics[name]['mrr@20']:.3f}" if name in metrics else "-"
    )


def serving_line(promoted: dict[str, Any]) -> str:
    """Which version and tier serve, and why (the gate's reason)."""
    serving = promoted.get("serving")
    if not serving:
        return f"nothing serves yet ({promoted['reason']}): the API answers 503"
    why = promoted["reason"] if promoted["promoted"] else f"kept: {promoted['reason']}"
    return f"{serving['version']}, {serving['tier']} tier ({why})"


def cycle_table(runs: list[dict[str, Any]], reports: list[dict[str, dict[str, Any]]]) -> list[str]:
    """One row per DAG run: what arrived, what was staged, the training window, the model
    against V-SKNN on that cycle's validation split, the gate, and what the API serves after."""
    header = (
        f"{'cycle (interval end)':<21}{'new events':>11}{'staged':>9}  {'training window':<23}"
        f"{'model HR/MRR@20':<17}{'best V-SKNN':<16}{'gate':<9}API serves"
    )
    rows, serving = [header, "-" * len(header)], "-"
    for run, stages in zip(runs, reports, strict=True):
        window = stages.get("build_training_set", {}).get("window") or {}
        metrics = stages.get("train", {}).get("metrics", {})
        floor = registry.better_floor(metrics) if metrics else tiers.VSKNN
        promoted = stages.get("promote", {})
        if promoted.get("serving"):
            serving = f"{promoted['serving']['version']} ({promoted['serving']['tier']})"
        decided = stages.get("decide_training", {})
        decision = "promote" if promoted.get("promoted") else "reject" if promoted else "no train"
        rows.append(
            f"{run['data_interval_end'][:19]:<21}{stages['collect']['events']:>11,}"
            f"{stages.get('stage_events', {}).get('staged', 0):>9,}  "
            f"{window.get('from', '-')[:10]} → {window.get('to', '-')[:10]:<10}  "
            f"{_scores(metrics, 'model'):<17}{_scores(metrics, floor):<16}{decision:<9}{serving}"
        )
        reason = promoted.get("reason") or decided.get("reason") or "no new events"
        if reason:
            rows.append(f"{'':<21}  {reason}")
    return rows


def cycles_page() -> str:
    """The cross-cycle page (``shoprec.cycles``), published to the lake and copied here."""
    s3, layout = aws.client("s3"), LakeLayout(os.environ["SHOPREC_LAKE_BUCKET"])
    key = cycles.publish(s3, layout)
    local = runtime.RUN_DIR / "cycles.html"
    s3.download_file(layout.bucket, key, str(local))
    return f"{layout.uri(key)} (a copy: {local})"
