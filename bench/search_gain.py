"""Benchmark: does the model gain from search events? (issue 9), on the synthetic demo's data.

The demo's shop (``bench/search_shop.py``: its browsing sessions and its shoppers searching
through the real Solr and OpenSearch) is published as the web-log collector publishes it.
Then twice, with the training-set job's transform on local Spark (``bench/training_set.py``):
sessions made of product views and search-result clicks (``search_click``, the job's
``INTERACTIONS``), and of product views only. Each drops the shop's last day by the job's own
split rule (``--cut-days 1``), and ``train.py`` trains on the rest as SageMaker runs it, three
seeds. Both are served in process and scored on the same cases: the last day's sessions as
shoppers make them (views and search clicks), next item over the items of the views-and-clicks
window, HR@20 / MRR@20 (the data README's protocol). V-SKNN with idf, fitted on each window,
shows whether the baseline gains as well. JSON on stdout, progress on stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from next_day import (
    METRICS,
    REPO,
    SEEDS,
    NextDay,
    mean_std,
    rounded,
    run_step,
    train,
    training_set,
    training_window,
)

from shoprec import serving
from shoprec.baselines import Baselines
from shoprec.evaluation import evaluate
from shoprec.layout import TRAINING_SET_MANIFEST
from shoprec.schema import EventType
from shoprec.training import read_sessions

LAMBDA_PYTHON = REPO / ".venvs" / "lambda" / "bin" / "python"
VARIANTS = {  # name → the event types sessions are made of
    "views and search clicks": (EventType.VIEW.value, EventType.SEARCH_CLICK.value),
    "views only": (EventType.VIEW.value,),
}
BASELINE = "vsknn_idf"


def _progress(message: str) -> None:
    print(f"[bench search_gain] {message}", file=sys.stderr, flush=True)


def _baseline(day: NextDay, window: list[list[str]], ends: list[float]) -> dict[str, float]:
    """V-SKNN idf fitted on ``window`` (items outside the scored catalogue dropped)."""
    indexed = [[day.index[i] for i in s if i in day.index] for s in window]
    fitted = Baselines(indexed, len(day.item_ids), ends)
    scores = evaluate(lambda p, k: fitted.recommend(BASELINE, p, k), day.sessions, fitted.clicks)
    return {m: round(scores[m], 4) for m in METRICS}


def _variant(name: str, channels: Path, day: NextDay, root: Path) -> dict:
    window, ends = training_window(channels)
    baseline = _baseline(day, window, ends)
    _progress(f"{name}: {BASELINE} {baseline}")
    runs = []
    for seed in SEEDS:
        _progress(f"{name}: training seed {seed}")
        started = time.perf_counter()
        model_dir = train(channels, root, seed)
        seconds = round(time.perf_counter() - started, 1)
        served = serving.load(model_dir)
        scores = day.served(served)
        runs.append({"seed": seed, "tier": served.tier, "train_py_seconds": seconds}
                    | {m: scores[m.split("@")[0]] for m in METRICS})  # fmt: skip
        _progress(f"{name}: seed {seed}: {runs[-1]}")
    mean, std = mean_std(runs)
    return {
        "training_set_job": json.loads((channels / TRAINING_SET_MANIFEST).read_text()),
        "window_sessions": len(window),
        "window_clicks": sum(map(len, window)),
        "served": rounded(mean, std),
        "runs": [r | {m: round(r[m], 4) for m in METRICS} for r in runs],
        BASELINE: baseline,
        "mean": mean,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        run_step([LAMBDA_PYTHON, REPO / "bench" / "search_shop.py", work / "shop"],
                 work / "shop.log")  # fmt: skip
        shop = json.loads((work / "shop" / "counts.json").read_text())
        _progress(f"the shop published {shop}")
        channels = {}
        for name, interactions in VARIANTS.items():
            (work / name).mkdir()
            records = work / "shop" / "records"
            channels[name] = training_set(
                work / name, 1, records, "--records", "--interactions", *interactions
            )
        full = next(iter(VARIANTS))
        next_day = read_sessions(channels[full] / "next_day")[0]
        day = NextDay(training_window(channels[full])[0], next_day)
        _progress(f"next day: {len(day.sessions)} sessions")
        results = {name: _variant(name, channels[name], day, work / name) for name in VARIANTS}
    means = {name: result.pop("mean") for name, result in results.items()}
    without = list(VARIANTS)[1]
    gain = {m: round(means[full][m] / means[without][m], 3) for m in METRICS}
    std = {m: max(r["served"][m]["std"] for r in results.values()) for m in METRICS}
    summary = {
        "shop": shop,
        "next_day_sessions": len(day.sessions),
        "variants": results,
        "gain": gain,  # served with search clicks ÷ without, on the same cases
        "gain_exceeds_std": {  # the larger of the two seed stds
            m: abs(means[full][m] - means[without][m]) > std[m] for m in METRICS
        },
    }
    json.dump({"search_gain": summary}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
