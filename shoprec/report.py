"""A training run's report: one self-contained HTML page (inline SVG, no scripts, no CDN).

Learning curves (training loss, validation HR@20 / MRR@20 per epoch) and the model beside the
baselines on the same split, from the run's manifest.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

WIDTH, HEIGHT, MARGIN = 440, 220, 40
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def line_chart(title: str, series: dict[str, Sequence[float]], x_label: str = "epochs") -> str:
    values = [v for points in series.values() for v in points]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    longest = max(len(points) for points in series.values())

    def xy(i: int, v: float) -> str:
        x = MARGIN + i * (WIDTH - 2 * MARGIN) / max(longest - 1, 1)
        y = HEIGHT - MARGIN - (v - low) * (HEIGHT - 2 * MARGIN) / span
        return f"{x:.1f},{y:.1f}"

    parts = [_axes(title, f"{high:.3f}", f"{low:.3f}", f"{x_label} 1..{longest}")]
    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        path = " ".join(xy(i, v) for i, v in enumerate(points))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        parts.append(_legend(n, name, colour))
    return _svg(parts)


def _bar_chart(title: str, bars: dict[str, float]) -> str:
    high = max(bars.values(), default=0.0) or 1.0
    slot = (WIDTH - 2 * MARGIN) / max(len(bars), 1)
    parts = [_axes(title, f"{high:.3f}", "0", "")]
    for n, (name, value) in enumerate(bars.items()):
        height = value * (HEIGHT - 2 * MARGIN) / high
        x, y = MARGIN + n * slot + slot * 0.15, HEIGHT - MARGIN - height
        colour = COLOURS[0] if name == "model" else "#999"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'fill="{colour}"><title>{html.escape(name)}: {value:.4f}</title></rect>'
        )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{value:.3f}</text>'
        )
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - MARGIN + 14}" font-size="11" '
            f'text-anchor="middle">{html.escape(name)}</text>'
        )
    return _svg(parts)


def _axes(title: str, top: str, bottom: str, x_label: str) -> str:
    return (
        f'<text x="{WIDTH / 2}" y="16" font-size="13" text-anchor="middle">{html.escape(title)}'
        f'</text><line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" '
        f'stroke="#333"/><line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#333"/>'
        f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" font-size="10" text-anchor="end">{top}</text>'
        f'<text x="{MARGIN - 4}" y="{HEIGHT - MARGIN}" font-size="10" text-anchor="end">'
        f'{bottom}</text><text x="{WIDTH / 2}" y="{HEIGHT - 6}" font-size="10" '
        f'text-anchor="middle">{x_label}</text>'
    )


def _legend(n: int, name: str, colour: str) -> str:
    y = MARGIN + 14 * n
    return (
        f'<rect x="{WIDTH - MARGIN - 90}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
        f'<text x="{WIDTH - MARGIN - 76}" y="{y + 1}" font-size="11">{html.escape(name)}</text>'
    )


def _svg(parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}">{"".join(parts)}</svg>'
    )


def _metrics_table(metrics: dict[str, dict[str, float]]) -> str:
    columns = ("hr@20", "mrr@20", "ndcg@20", "coverage@20", "popularity@20", "predictions")
    head = "".join(f"<th>{c}</th>" for c in ("recommender", *columns))
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{values.get(c, '')}</td>" for c in columns)
        + "</tr>"
        for name, values in metrics.items()
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def page(title: str, body: str) -> str:
    """A self-contained HTML page (inline styles; charts are inline SVG)."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        f"</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _interactions(manifest: dict[str, Any]) -> str:
    """The training window's interactions by event type (views, search clicks)."""
    training_set = manifest.get("lineage", {}).get("training_set") or {}
    counts = training_set.get("interactions", {})
    if not counts:
        return ""
    listed = ", ".join(f"{html.escape(kind)} {n:,}" for kind, n in sorted(counts.items()))
    return f"<p>interactions in the training window: {listed}</p>"


def render(manifest: dict[str, Any]) -> str:
    metrics: dict[str, dict[str, float]] = manifest["metrics"]
    curves = manifest.get("learning_curves", {})
    gate = manifest.get("gate", {})
    charts = [
        line_chart("training loss", {"loss": curves.get("loss", [])}),
        line_chart(
            "validation (same split as the baselines)",
            {k: curves.get(k, []) for k in ("hr@20", "mrr@20")},
        ),
        _bar_chart("HR@20", {name: m["hr@20"] for name, m in metrics.items()}),
        _bar_chart("MRR@20", {name: m["mrr@20"] for name, m in metrics.items()}),
    ]
    decision = (
        f"<p><b>Gate:</b> {html.escape(str(gate.get('decision')))}: "
        f"{html.escape(str(gate.get('reason', '')))}</p>"
        if gate
        else ""
    )
    return page(
        f"model {manifest['model_version']}",
        f"<p>training data run {html.escape(str(manifest.get('data_run')))}, code "
        f"{html.escape(str(manifest['lineage']['code_version']))}, "
        f"{manifest.get('train_seconds')} s training</p>{_interactions(manifest)}{decision}"
        f"{''.join(charts)}{_metrics_table(metrics)}",
    )
