"""Benchmark: what serving costs, per tier, on YooChoose train_tr → train_valid.

Trains once as the next-day benchmark does (the training-set job's split of train_tr,
``train.py`` as SageMaker runs it, seed 1), then sends the same train_valid prefixes, one
request at a time, to the model folder's two NumPy tiers (the session model and the V-SKNN
floor, ``shoprec.serving``) and to the TensorFlow SavedModel: per-request latency (p50 / p99),
cold start (import + load + first answer) and artifact size, with TensorFlow's library size
beside them; and the training seconds of that cycle. Then the same requests at k=20 from
``CLIENTS`` concurrent clients: in process (each tier), and over HTTP loopback to the local
API server (``shoprec.local.api_server``, the folder promoted in LocalStack; one keep-alive
connection per client). And the quality cost of storing the item table (each member's
``embedding``, what a request reads) as int8, one scale per row: the model served with the
int8 rows' values against its float32 self, on train_valid with the next-day protocol. Model
quality: ``bench/next_day.py``. JSON on stdout; progress on stderr.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from next_day import NextDay, train, training_set, training_window
from yoochoose import DATA, TRAIN_FILE, VALID_FILE, read_sessions

from shoprec import aws, registry, serving
from shoprec.evaluation import next_item_cases
from shoprec.layout import (
    KNN_FILE,
    MANIFEST_FILE,
    MODEL_FILES,
    VOCABULARY_FILE,
    WEIGHTS_FILE,
    LakeLayout,
)
from shoprec.local import process, services
from shoprec.local.runtime import Ports
from shoprec.model import left_pad

REPO = Path(__file__).resolve().parents[1]
LATENCY_REQUESTS = 1000
SHARED = (VOCABULARY_FILE, MANIFEST_FILE)  # both tiers read them
TIER_FILES = {"model": WEIGHTS_FILE, "vsknn": KNN_FILE}
CLIENTS = 8
K = 20


def _progress(message: str) -> None:
    print(f"[bench serving] {message}", file=sys.stderr, flush=True)


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def _cold_start(code: str) -> float:
    """Seconds from a new interpreter's first import to its first answer (as a Lambda's)."""
    timed = f"import time; t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    env = os.environ | {"PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", timed], env=env, capture_output=True, text=True, check=True
    )
    return round(float(done.stdout.strip().splitlines()[-1]), 2)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _timed(answer, requests: list[list[str]]) -> list[float]:
    seconds = []
    for items in requests:
        started = time.perf_counter()
        answer(items)
        seconds.append(time.perf_counter() - started)
    return seconds


def _concurrently(client: Callable[[], Callable[[list[str]], None]], requests) -> list[float]:
    """Per-request seconds with ``CLIENTS`` clients at once, each sending its share of the
    requests one after another; ``client()`` makes one client's answer function."""
    shares = [requests[n::CLIENTS] for n in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        timed = list(pool.map(lambda share: _timed(client(), share), shares))
    return [seconds for share in timed for seconds in share]


def _http_client(port: int) -> Callable[[list[str]], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def answer(items: list[str]) -> None:
        body = json.dumps({"session_items": items, "k": K})
        connection.request("POST", "/recommendations", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status

    return answer


@contextlib.contextmanager
def _served_over_http(model_dir: Path) -> Iterator[int]:
    """The folder promoted in a local lake (LocalStack) and the local API server serving it;
    yields the server's port."""
    ports = Ports.from_env()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
        os.environ.update(services.up(ports))
    api = services.api(ports)
    try:
        s3, layout = aws.client("s3"), LakeLayout(os.environ["SHOPREC_LAKE_BUCKET"])
        version = json.loads((model_dir / MANIFEST_FILE).read_text())["model_version"]
        registry.publish(s3, layout, model_dir, version)
        registry.promote(s3, layout, version, "bench")
        with contextlib.redirect_stdout(sys.stderr):
            process.start(api)
        yield ports.api
    finally:
        with contextlib.redirect_stdout(sys.stderr):
            services.down(ports)  # the API server too


def _concurrent(model_dir: Path, tiers: dict, requests: list[list[str]]) -> dict:
    """k=20 from ``CLIENTS`` clients at once: each tier in process, and the folder's served
    tier over HTTP loopback."""
    results = {
        f"in_process_{name}": _percentiles(
            _concurrently(lambda t=tier: lambda items: t.recommend(items, K), requests)
        )
        for name, tier in tiers.items()
    }
    with _served_over_http(model_dir) as port:
        _timed(_http_client(port), requests[:50])  # the first request loads the champion
        results["http_loopback"] = _percentiles(
            _concurrently(lambda: _http_client(port), requests)
        ) | {"tier": serving.load(model_dir).tier}
    return {"clients": CLIENTS, "k": K, "requests": len(requests)} | results


def _measure(model_dir: Path) -> dict:
    """The same train_valid prefixes (each with an item the model knows), one request at a
    time, through each tier and the SavedModel."""
    import tensorflow as tf

    tiers = {
        "model": serving.SessionRecommender.load(model_dir),
        "vsknn": serving.KnnRecommender.load(model_dir, idf=True),
    }
    model = tiers["model"]
    prefixes, _ = next_item_cases(read_sessions(VALID_FILE)[0])
    known = [p for p in prefixes if any(i in model.index for i in p)]
    picks = np.random.default_rng(0).choice(len(known), LATENCY_REQUESTS, replace=False)
    requests = [list(known[p]) for p in picks]
    results = {}
    for name, tier in tiers.items():
        cold = _cold_start(
            "from pathlib import Path\nfrom shoprec import serving\n"
            f"serving.{type(tier).__name__}.load(Path({str(model_dir)!r})"
            + (", idf=True" if name == "vsknn" else "")
            + f").recommend({json.dumps(requests[0])}, 20)"
        )
        results[name] = _percentiles(_timed(lambda items, t=tier: t.recommend(items, 20), requests))
        results[name] |= {
            "cold_start_seconds": cold,
            "artifact_bytes": sum(
                (model_dir / f).stat().st_size for f in (*SHARED, TIER_FILES[name])
            ),
        }
    exported = tf.saved_model.load(str(model_dir / "saved_model" / "1"))

    def tensorflow(items: list[str]) -> None:
        indices = [model.index[i] for i in items if i in model.index]
        logits = exported.serve(tf.constant(left_pad([indices], model.max_length))).numpy()[0]
        np.argpartition(-logits[1:], 19)[:20]

    results["tensorflow"] = _percentiles(_timed(tensorflow, requests)) | {
        "cold_start_seconds": _cold_start(
            "import tensorflow as tf\nfrom shoprec.model import left_pad\n"
            f"m = tf.saved_model.load({str(model_dir / 'saved_model' / '1')!r})\n"
            f"m.serve(tf.constant(left_pad([[1, 2]], {model.max_length})))"
        ),
        "artifact_bytes": _size(model_dir / "saved_model"),
        "library_bytes": _size(Path(tf.__file__).parent),
    }
    results["concurrent"] = _concurrent(model_dir, tiers, requests)
    return {"requests": LATENCY_REQUESTS, "served_files": list(MODEL_FILES)} | results


def int8_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row: (the int8 rows, each row's float32 scale)."""
    scale = np.abs(table).max(axis=1, keepdims=True) / 127
    scale[scale == 0] = 1.0
    return np.round(table / scale).astype(np.int8), scale.astype(np.float32)


def _quantization(model_dir: Path, channels: Path) -> dict:
    """The item tables stored as int8: their bytes, and the model's HR@20 / MRR@20 on
    train_valid served with the int8 rows' values against float32."""
    model = serving.SessionRecommender.load(model_dir)
    weights, stored = dict(model.scorer.weights), {"float32": 0, "int8_with_scales": 0}
    for name, table in model.scorer.weights.items():
        if name.endswith(".embedding"):
            rows, scale = int8_rows(table)
            weights[name] = rows.astype(np.float32) * scale
            stored["float32"] += table.nbytes
            stored["int8_with_scales"] += rows.nbytes + scale.nbytes
    quantized = serving.SessionRecommender(
        serving.SessionScorer(weights), model.item_ids, model.manifest
    )
    day = NextDay(training_window(channels)[0], read_sessions(VALID_FILE)[0])
    scores = {"float32": day.served(model), "int8": day.served(quantized)}
    metrics = {k: {m: round(v[m], 4) for m in ("hr", "mrr")} for k, v in scores.items()}
    return (
        {
            "item_table_bytes": stored,
            "floor_ratio": round(stored["int8_with_scales"] / stored["float32"], 3),
            "predictions": scores["float32"]["predictions"],
        }
        | metrics
        | {
            "int8_over_float32": {
                m: round(scores["int8"][m] / scores["float32"][m], 4) for m in ("hr", "mrr")
            }
        }
    )


def main() -> None:
    if not TRAIN_FILE.exists():
        print(json.dumps({"skipped": f"{DATA} is absent (the data is not redistributed)"}))
        return
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        _progress("training set (Spark) and one training cycle (seed 1)")
        channels = training_set(root, cuts=0)
        model_dir = train(channels, root, seed=1)
        manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
        _progress("int8 item tables: their quality cost")
        quantization = _quantization(model_dir, channels)
        _progress("latency and cold start per tier")
        measured = _measure(model_dir)
    results = {
        "split": "yoochoose_rsc15_100k train_tr (model folder) -> train_valid (requests)",
        "training": {
            "train_seconds": manifest["train_seconds"],  # for the gate, then with the latest day
            "epochs": len(manifest["learning_curves"]["seconds"]),
            "with_latest_day": manifest["served_training"]["with_latest_day"],
            "examples_per_epoch_and_member": manifest["examples"],
            "members": int(manifest["hyperparameters"]["members"]),
        },
        "serving": measured,
        "int8_item_tables": quantization,
    }
    json.dump({"serving": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
