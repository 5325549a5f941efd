"""Across cycles: what each run of the loop saw and did, on one page with charts.

Read from what the runs leave in the lake, whichever backend ran them: the collector's run
report (``state/collector/source=<s>/reports/<run>.json``), the staging job's counts
(``reports/stage_events/<run>.json``), the training set's manifest (window, sessions,
catalogue, novelty) and, when the cycle trained, the model's manifest (its metrics beside
the baselines on that cycle's validation split, the gate, training seconds); and the signals
the operations alarms watch (quarantine ratio, oldest pending object, Kafka lag), as the
runs put them on CloudWatch; the feedback loop: impressions, clicks and CTR per model
version (tier, position) as each staging run counted them, and the verdicts of the live CTR
test (``shoprec.feedback``). Written to ``analytics/reports/cycles.html``.
"""

from __future__ import annotations

import html
import json
from typing import Any

from shoprec import feedback, metrics, registry
from shoprec.ingest.status import CURSOR, state_store
from shoprec.ingest.store import JsonStore
from shoprec.layout import TRAINING_SET_MANIFEST, LakeLayout
from shoprec.report import line_chart, page

CYCLES_PAGE = "analytics/reports/cycles.html"


def _json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _models_by_run(s3: Any, layout: LakeLayout) -> dict[str, dict[str, Any]]:
    return {m["data_run"]: m for m in registry.manifests_since(s3, layout) if "data_run" in m}


def rows(s3: Any, layout: LakeLayout, source: str = "weblog") -> list[dict[str, Any]]:
    """One row per cycle, oldest first."""
    store, models = state_store(s3, layout.bucket, source), _models_by_run(s3, layout)
    names = [n for n in store.names("reports/") if n != CURSOR]
    collected = [doc.body for name in names if (doc := store.get(name)) is not None]
    result = []
    for collect in sorted(collected, key=lambda c: c["cutoff"]):
        run = collect["run_id"]
        result.append(
            {
                "run": run,
                "collect": collect,
                "staged": _json(s3, layout.bucket, layout.run_report_key("stage_events", run)),
                "training_set": _json(
                    s3, layout.bucket, layout.training_prefix(run) + TRAINING_SET_MANIFEST
                ),
                "model": models.get(run),
            }
        )
    return result


def _cell(value: Any) -> str:
    return f"<td>{html.escape(str(value))}</td>"


def _alarm_signals(cycles: list[dict[str, Any]]) -> list[str]:
    """What the operations alarms watch, per cycle: the values each run put on CloudWatch
    (``shoprec.metrics``, from the same reports), charted by name."""
    collected = [metrics.collect_values(c["collect"]) for c in cycles]
    staged = [metrics.staging_values(c["staged"]) for c in cycles if c["staged"]]
    signals = [
        ("QuarantineRatio", "quarantined lines, % of the cycle's", collected),
        ("OldestPendingAge", "oldest object not ingested yet, seconds", collected),
        ("KafkaLag", "messages on the topic not staged yet", staged),
    ]
    return [
        line_chart(f"{name}: {title}", {name: [v[name] for v in values]}, "cycles")
        for name, title, values in signals
    ]


def verdicts(s3: Any, layout: LakeLayout) -> list[dict[str, Any]]:
    """The live CTR test's final verdicts, one per judged champion."""
    store = JsonStore(s3, layout.bucket, layout.FEEDBACK_VERDICTS_PREFIX)
    return [doc.body for name in store.names() if (doc := store.get(name)) is not None]


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>no impressions staged yet</p>"
    head = "".join(f"<th>{html.escape(name)}</th>" for name in rows[0])
    body = "".join("<tr>" + "".join(map(_cell, row.values())) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _feedback(cycles: list[dict[str, Any]], judged: list[dict[str, Any]]) -> str:
    """Impressions, clicks and CTR per model version (each staging run counts everything
    staged by then: the last run's counts are the totals), the CTR of each version cycle by
    cycle, and the verdicts."""
    counted = [feedback.report_rows(c["staged"]) for c in cycles if c["staged"]]
    latest = counted[-1] if counted else []
    versions = [key[0] for key in feedback.counts_by(latest, "model_version")]
    by_cycle = [feedback.counts_by(rows, "model_version") for rows in counted]
    chart = line_chart(
        "CTR per model version (all its impressions by each cycle)",
        {v: [c[(v,)].ctr for c in by_cycle if (v,) in c] for v in versions},
        "cycles",
    )
    return (
        "<h2>Feedback: impressions, clicks and CTR</h2>"
        + chart
        + _table(feedback.ctr_table(latest, "model_version"))
        + "<h3>per tier</h3>"
        + _table(feedback.ctr_table(latest, "model_version", "tier"))
        + "<h3>per position</h3>"
        + _table(feedback.ctr_table(latest, "model_version", "position"))
        + "<h3>verdicts of the live CTR test</h3>"
        + _table([{k: v.get(k, "") for k in ("champion", "previous", "decision", "reason")}
                  for v in judged])
    )  # fmt: skip


def render(cycles: list[dict[str, Any]], judged: list[dict[str, Any]] = ()) -> str:
    trained = [c for c in cycles if c["model"]]
    built = [c for c in cycles if c["training_set"]]
    metric = {
        f"{who} {m}": [c["model"]["metrics"][who][m] for c in trained]
        for who in ("model", "vsknn")
        for m in ("hr@20", "mrr@20")
    }
    charts = [
        line_chart("model and V-SKNN, each cycle's validation split", metric, "trained cycles"),
        line_chart(
            "events per cycle",
            {
                "collected": [c["collect"]["events"] for c in cycles],
                "staged": [(c["staged"] or {}).get("staged", 0) for c in cycles],
            },
            "cycles",
        ),
        line_chart(
            "training window",
            {
                "sessions": [sum(c["training_set"]["sessions"].values()) for c in built],
                "catalogue (items)": [c["training_set"]["sessions"]["vocabulary"] for c in built],
            },
            "cycles with a training set",
        ),
        line_chart(
            "training seconds per cycle",
            {"train": [c["model"]["train_seconds"] for c in trained]},
            "trained cycles",
        ),
        *_alarm_signals(cycles),
    ]
    head = (
        "<tr><th>run</th><th>new events</th><th>staged</th><th>window</th><th>sessions</th>"
        "<th>items</th><th>new sessions / item drift</th><th>model HR / MRR @20</th>"
        "<th>V-SKNN</th><th>gate</th><th>train s</th></tr>"
    )
    body = []
    for c in cycles:
        ts, model = c["training_set"] or {}, c["model"] or {}
        window = ts.get("window") or {}
        novelty = ts.get("novelty") or {}
        metrics = model.get("metrics", {})
        scores = {
            name: f"{metrics[name]['hr@20']:.3f} / {metrics[name]['mrr@20']:.3f}"
            for name in ("model", "vsknn")
            if name in metrics
        }
        gate = model.get("gate", {})
        body.append(
            "<tr>"
            + _cell(c["run"])
            + _cell(c["collect"]["events"])
            + _cell((c["staged"] or {}).get("staged", "-"))
            + _cell(f"{window.get('from', '-')[:10]} → {window.get('to', '-')[:10]}")
            + _cell(sum(ts["sessions"].values()) if ts else "-")
            + _cell(ts["sessions"]["vocabulary"] if ts else "-")
            + _cell(f"{novelty.get('new_sessions', '-')} / {novelty.get('item_drift', '-')}")
            + _cell(scores.get("model", "-"))
            + _cell(scores.get("vsknn", "-"))
            + _cell(f"{gate.get('decision', '-')}: {gate.get('reason', '')}")
            + _cell(model.get("train_seconds", "-"))
            + "</tr>"
        )
    table = f"<table>{head}{''.join(body)}</table>"
    return page(
        "shoprec: the loop, cycle by cycle",
        "".join(charts) + table + _feedback(cycles, list(judged)),
    )


def publish(s3: Any, layout: LakeLayout) -> str:
    """Write the page to the analytics zone; its key."""
    s3.put_object(
        Bucket=layout.bucket,
        Key=CYCLES_PAGE,
        Body=render(rows(s3, layout), verdicts(s3, layout)).encode(),
        ContentType="text/html",
    )
    return CYCLES_PAGE
