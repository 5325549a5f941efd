"""What a DAG run did with the data, in lines a person reads (``make demo``, ``make cycle``)."""

from __future__ import annotations

from typing import Any


def _by_reason(counts: dict[str, int]) -> str:
    if not counts:
        return "0"
    listed = ", ".join(f"{reason} {n:,}" for reason, n in sorted(counts.items()))
    return f"{sum(counts.values()):,} ({listed})"


def reconciliation(report: dict[str, dict[str, Any]]) -> list[str]:
    """Log lines → events → Kafka → staged rows, as the run's reports count them."""
    collect, staged = report["collect"], report["stage_events"]
    objects = ", ".join(f"{n} {outcome}" for outcome, n in sorted(collect["objects"].items()))
    lines = [
        f"objects (arrived by the cutoff)  {objects}",
        f"log lines read           {collect['lines']:>10,}  = events {collect['events']:,}"
        f" + quarantined {_by_reason(collect['quarantined'])}"
        f" + filtered {_by_reason(collect['filtered'])}",
        f"published to Kafka       {collect['published']:>10,}",
        f"staging read             {staged['read']:>10,}  = staged {staged['staged']:,}"
        f" + duplicates dropped {staged['duplicates']:,} + quarantined {staged['quarantined']:,}",
    ]
    if collect["pending"]:
        lines.append(f"still pending            {', '.join(collect['pending'])}")
    for check, ok in report.get("reconcile", {}).get("checks", {}).items():
        lines.append(f"  {'ok      ' if ok else 'MISMATCH'} {check}")
    return lines
