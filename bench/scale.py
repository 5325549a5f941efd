"""Benchmark: a real shop's volume through every stage (issue 13), JSON on stdout.

The scale generator (``shoprec.local.scale_shop``: ``--events`` product views over
``--items`` items, 3 days) writes the web servers' logs; then each stage runs in its own
process, in its own runtime, on the previous stage's output, and reports its throughput, its
peak memory (the process's peak RSS; for Spark stages the JVM's as well) and an anchor
measured in the same run on the same rows:

* ``collect``: the web-log collector's work per line (parse, event JSON as published, landing
  CSV) against reading and writing the same lines raw. Kafka and S3 are not in this loop
  (``bench/collector.py`` measures the Lambda against a raw Kafka producer);
* ``stage``: the staging job's transform (``shoprec.spark.staging``: parse the records,
  validate, deduplicate, write partitioned Parquet) on the published records read from
  files, against plain Spark reading the landing CSV of the same events into the same
  partitioned Parquet. Kafka is not in this loop (the records come from files);
* ``training_set``: the training-set job's transform on the staged Parquet;
* ``baselines``: fitting every baseline, and the evaluation protocol (whole-catalogue
  ranking) over a sample of the validation prefixes, per baseline;
* ``training``: one member, two epochs over a sample of the examples, at the run's catalogue
  and at a tenth of it (the same examples, items folded), with the full softmax and with the
  sampled one (``full_softmax_items`` forced each way): examples/s of the second epoch
  (compiled), the seconds an epoch of all the examples would take at that rate, and whether
  the sampled epoch is sub-linear in the catalogue (``goal_met``; if not, the gap and why);
* ``serving``: the session model's NumPy scorer and top-k for one request at 100k and 1M
  items (random weights of the trained shapes), against the memory-bandwidth floor: copying
  the item embeddings the request reads.

    python bench/scale.py [--events 1000000] [--items 100000] [--work DIR]
    python bench/scale.py --stage NAME --work DIR ...   (one stage, as the driver runs it)
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shoprec.local.runtime import RUN_DIR, venv_python  # noqa: E402

STAGES = {  # stage → runtime
    "generate": "lambda",
    "collect": "lambda",
    "stage": "glue",
    "training_set": "glue",
    "baselines": "ml",
    "training": "ml",
    "serving": "ml",
}
MAX_BYTES_PER_NONZERO = 32  # a sparse entry (item, weight) and its row's share of the pointers
STAGE_ROUNDS = 2  # the staging transform and its anchor: each side's best, taking turns
EVALUATED_SESSIONS = 1_000  # validation sessions the evaluation ranks the catalogue for
TRAINING_EXAMPLES = 20_000  # examples of the training sample
GOAL_TRAINING_RATIO = 10  # epoch seconds at 10x the catalogue: less is sub-linear
SERVING_CATALOGUES = (100_000, 1_000_000)
SERVING_REQUESTS = 20
LANDING_BATCH = 20_000  # lines the collector parses, publishes and lands at a time


def _progress(message: str) -> None:
    print(f"[bench scale] {message}", file=sys.stderr, flush=True)


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(own / 1024, 1)


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def _timed(work) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - started, 2)


def _best_interleaved(rounds: int, *works) -> list[tuple[Any, float]]:
    """Each work's result and its fastest of ``rounds`` runs, the works taking turns: a burst
    of load on this shared machine then slows a round of each, not one side's only run (and
    the first round warms the JVM for both)."""
    best: list[tuple[Any, float] | None] = [None] * len(works)
    for _ in range(rounds):
        for n, work in enumerate(works):
            result, seconds = _timed(work)
            if best[n] is None or seconds < best[n][1]:
                best[n] = (result, seconds)
    return best


# --- stages (each runs in its own process) -----------------------------------------------


def generate(args: argparse.Namespace) -> dict[str, Any]:
    from shoprec.local.scale_shop import ScaleShop

    shop = ScaleShop(events=args.events, items=args.items, seed=args.seed)
    counts, seconds = _timed(lambda: shop.write(args.work / "logs"))
    lines = sum(counts.values())
    size = sum((args.work / "logs" / name).stat().st_size for name in counts)
    return {
        "views": args.events,
        "lines": lines,
        "files": len(counts),
        "megabytes": round(size / 1e6, 1),
        "seconds": seconds,
        "lines_per_second": _rate(lines, seconds),
    }


def _log_files(work: Path) -> list[Path]:
    return sorted((work / "logs").glob("*/*.log"))


def collect(args: argparse.Namespace) -> dict[str, Any]:
    from shoprec.ingest.engine import csv_text
    from shoprec.privacy import ClientHasher
    from shoprec.schema import Event
    from shoprec.weblog.parse import WebLogParser

    parse = WebLogParser.create("auto", ClientHasher(b"bench-scale"))
    for folder in ("records", "landing", "raw"):
        (args.work / folder).mkdir(exist_ok=True)

    def collector() -> tuple[int, int]:
        lines = events = 0
        for path in _log_files(args.work):
            key = f"incoming/source=weblog/{path.parent.name}/{path.name}"
            name, offset = f"{path.parent.name}-{path.stem}", 0
            with (
                path.open("rb") as handle,
                (args.work / "records" / f"{name}.jsonl").open("w") as records,
            ):
                for number, batch in enumerate(itertools.batched(handle, LANDING_BATCH)):
                    parsed = []
                    for raw in batch:
                        position = f"{key}@{offset}"
                        parsed.append(parse(raw.decode().rstrip("\n"), position, position))
                        offset += len(raw)
                    found = [event for event in parsed if isinstance(event, Event)]
                    records.writelines(event.to_json() + "\n" for event in found)
                    landing = args.work / "landing" / f"{name}-{number:04d}.csv"
                    landing.write_text(csv_text(found))
                    lines, events = lines + len(parsed), events + len(found)
        return lines, events

    def raw() -> int:
        lines = 0
        for path in _log_files(args.work):
            with path.open("rb") as handle, (args.work / "raw" / path.name).open("wb") as out:
                for line in handle:
                    out.write(line)
                    lines += 1
        return lines

    raw_lines, raw_seconds = _timed(raw)
    (lines, events), seconds = _timed(collector)
    assert raw_lines == lines
    return {
        "lines": lines,
        "events": events,
        "seconds": seconds,
        "events_per_second": _rate(events, seconds),
        "anchor": "the same lines read and written raw (no parsing)",
        "anchor_lines_per_second": _rate(lines, raw_seconds),
        "ratio_to_anchor": round(raw_seconds / seconds, 4) if seconds else None,
    }


def _spark(name: str):
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName(name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "3g")
        .getOrCreate()
    )


def _jvm_peak_rss_mb(spark) -> float:
    """The peak RSS (VmHWM) of the Spark driver JVM, read from /proc before it stops."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def stage(args: argparse.Namespace) -> dict[str, Any]:
    from pyspark.sql import functions as F

    from shoprec.schema import PARTITION_COLUMNS, spark_ddl
    from shoprec.spark.staging import new_events, parse_records

    spark = _spark("bench-scale-stage")
    partitions = [name for name, _ in PARTITION_COLUMNS]
    out = args.work / "parquet"

    def plain() -> int:
        rows = spark.read.option("header", True).schema(spark_ddl()).csv(str(args.work / "landing"))
        rows = rows.withColumn("event_date", F.date_format("event_time", "yyyy-MM-dd"))
        rows.write.mode("overwrite").partitionBy(*partitions).parquet(str(out / "plain"))
        return spark.read.parquet(str(out / "plain")).count()

    def kafka_records():  # the published records as the Kafka source's rows
        return spark.read.text(str(args.work / "records")).select(
            F.col("value"),
            F.lit("bench-scale").alias("topic"),
            F.lit(0).alias("partition"),
            F.monotonically_increasing_id().alias("offset"),
        )

    def staging() -> tuple[int, int]:
        batch = kafka_records().persist()
        events, rejected = parse_records(batch)
        fresh = new_events(events, None).persist()
        staged = fresh.count()
        fresh.write.mode("overwrite").partitionBy(*partitions).parquet(str(out / "staged"))
        quarantined = rejected.count()
        fresh.unpersist()
        batch.unpersist()
        return staged, quarantined

    def parse() -> int:  # the records' JSON parse alone: what staging cannot do without
        return parse_records(kafka_records())[0].count()

    timed = _best_interleaved(STAGE_ROUNDS, plain, staging, parse)
    (plain_rows, plain_seconds), ((staged, quarantined), seconds), (_, parse_seconds) = timed
    assert staged == plain_rows and quarantined == 0, (staged, plain_rows, quarantined)
    result = {
        "events": staged,
        "seconds": seconds,
        "events_per_second": _rate(staged, seconds),
        "anchor": "plain Spark: the landing CSV of the same events → the same partitioned Parquet",
        "anchor_events_per_second": _rate(plain_rows, plain_seconds),
        "ratio_to_anchor": round(plain_seconds / seconds, 3),
        "rounds": STAGE_ROUNDS,  # each side's best of these, taking turns
        "goal_ratio": 0.5,
        "kafka_in_loop": False,
        "jvm_peak_rss_mb": _jvm_peak_rss_mb(spark),
    }
    result["goal_met"] = result["ratio_to_anchor"] >= result["goal_ratio"]
    result["parse_seconds"] = parse_seconds
    if not result["goal_met"]:
        result["gap"] = round(result["goal_ratio"] / result["ratio_to_anchor"], 2)
        result["reason"] = (
            f"staging parses JSON records ({parse_seconds:.1f} s alone, "
            f"{parse_seconds / plain_seconds:.2f}x plain Spark's whole CSV -> Parquet run), then "
            "deduplicates them (a shuffle) and counts them before writing; the anchor rewrites CSV"
        )
    return result


def training_set(args: argparse.Namespace) -> dict[str, Any]:
    from shoprec.contracts import TrainingSetJobArgs
    from shoprec.layout import TRAINING_SET_CHANNELS
    from shoprec.spark.training_set import build

    defaults = TrainingSetJobArgs(lake_bucket="bench", run_id="bench")
    spark = _spark("bench-scale-training-set")
    out = args.work / "training_set"

    def run() -> tuple[int, dict[str, int]]:
        events = spark.read.parquet(str(args.work / "parquet" / "staged"))
        dataset = build(events, defaults.validation_days, defaults.min_item_support)
        counts = {}
        for name in TRAINING_SET_CHANNELS:
            getattr(dataset, name).write.mode("overwrite").parquet(str(out / name))
            counts[name] = spark.read.parquet(str(out / name)).count()
        return events.count(), counts

    (events, counts), seconds = _timed(run)
    return {
        "events": events,
        "sessions": counts,
        "seconds": seconds,
        "events_per_second": _rate(events, seconds),
        "rebuilt_from_all_history": True,
        "jvm_peak_rss_mb": _jvm_peak_rss_mb(spark),
    }


def _training_data(work: Path) -> tuple[list[list[int]], list[float], list[list[int]], int]:
    """Training sessions (item indices), their end times, validation sessions, catalogue."""
    import pyarrow.parquet as pq

    from shoprec.training import read_sessions

    vocabulary = pq.read_table(work / "training_set" / "vocabulary")
    index = dict(
        zip(
            vocabulary.column("item_id").to_pylist(),
            vocabulary.column("item_index").to_pylist(),
            strict=True,
        )
    )
    train, ends = read_sessions(work / "training_set" / "train")
    validation, _ = read_sessions(work / "training_set" / "validation")
    as_indices = [[index[i] for i in s] for s in train]
    return as_indices, ends, [[index[i] for i in s] for s in validation], len(index) + 1


def baselines(args: argparse.Namespace) -> dict[str, Any]:
    from shoprec.baselines import BASELINES, Baselines
    from shoprec.evaluation import evaluate, next_item_cases

    train, ends, validation, catalogue = _training_data(args.work)
    sample = validation[:EVALUATED_SESSIONS]
    fitted, seconds = _timed(lambda: Baselines(train, catalogue, ends))
    fit_rss = _peak_rss_mb()
    evaluated = {}
    for name in BASELINES:

        def recommend(prefixes, k, n=name):
            return fitted.recommend(n, prefixes, k)

        metrics, spent = _timed(lambda: evaluate(recommend, sample, fitted.clicks))
        evaluated[name] = {
            "hr@20": round(metrics["hr@20"], 4),
            "mrr@20": round(metrics["mrr@20"], 4),
            "seconds": spent,
            "prefixes_per_second": _rate(metrics["predictions"], spent),
        }
    clicks = sum(map(len, train))
    rules = fitted.rules
    rules_bytes = sum(a.nbytes for a in (rules.indptr, rules.followers, rules.weights))
    per_nonzero = rules_bytes / max(rules.nonzeros, 1)
    return {
        "training_sessions": len(train),
        "training_clicks": clicks,
        "catalogue": catalogue - 1,
        "fit_seconds": seconds,
        "fit_clicks_per_second": _rate(clicks, seconds),
        "fit_peak_rss_mb": fit_rss,
        "sr_rule_nonzeros": fitted.rules.nonzeros,
        "sr_dense_matrix_mb_before": round(8 * catalogue**2 / 2**20),
        "sr_rules_mb": round(rules_bytes / 2**20, 1),
        "sr_bytes_per_nonzero": round(per_nonzero, 1),  # dense: 8 x items^2 / non-zeros
        "goal": f"memory proportional to the non-zeros: at most {MAX_BYTES_PER_NONZERO} bytes each",
        "goal_met": per_nonzero <= MAX_BYTES_PER_NONZERO,
        "session_index_mb": round(sum(a.nbytes for a in vars(fitted.index).values()) / 2**20, 1),
        "evaluation": {
            "validation_sessions": len(sample),
            "prefixes": len(next_item_cases(sample)[1]),
            "baselines": evaluated,
        },
    }


def _epoch_seconds(hp, x, y, total: int, catalogue: int) -> dict[str, dict[str, float]]:
    """One member's two epochs on the sample at a tenth of the catalogue and at all of it
    (the same examples, items folded): examples/s of the second epoch (compiled already)
    and the seconds an epoch of all ``total`` examples takes at that rate."""
    import numpy as np

    from shoprec.training import build_members, fit

    measured = {}
    for size in (max(catalogue // 10, 2), catalogue):
        data = (np.where(x > 0, (x - 1) % (size - 1) + 1, 0), (y - 1) % (size - 1) + 1)
        with contextlib.redirect_stdout(sys.stderr):
            curves = fit(build_members(hp, size, None), data, hp)
        rate = len(y) / curves["seconds"][-1]
        measured[str(size - 1)] = {
            "examples_per_second": round(rate, 1),
            "epoch_seconds_all_examples": round(total / rate, 1),
        }
    small, large = (measured[str(size - 1)] for size in (max(catalogue // 10, 2), catalogue))
    ratio = large["epoch_seconds_all_examples"] / small["epoch_seconds_all_examples"]
    return {"by_catalogue": measured, "epoch_seconds_ratio_at_10x_catalogue": round(ratio, 2)}


def training(args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    import numpy as np

    from shoprec.contracts import TrainingHyperparameters
    from shoprec.training import examples

    train, _, _, catalogue = _training_data(args.work)
    hp = TrainingHyperparameters(model_version="bench", data_run="bench", epochs=2, members=1)
    total = 2 * sum(len(s) - 1 for s in train)  # examples(): each session both ways
    enough = int(np.searchsorted(np.cumsum([2 * (len(s) - 1) for s in train]), TRAINING_EXAMPLES))
    x, y = examples(train[: enough + 1], hp.max_length)
    losses = {  # the softmax forced over every item, and the sampled one forced on
        "full": dataclasses.replace(hp, full_softmax_items=catalogue),
        "sampled": dataclasses.replace(hp, full_softmax_items=0),
    }
    by_loss = {name: _epoch_seconds(h, x, y, total, catalogue) for name, h in losses.items()}
    ratio = by_loss["sampled"]["epoch_seconds_ratio_at_10x_catalogue"]
    result = {
        "examples": total,
        "sampled_examples": len(y),
        "members": hp.members,
        "sampled_negatives": hp.sampled_negatives,
        "by_loss": by_loss,
        "default_loss_by_catalogue": {
            str(size - 1): "sampled" if hp.sampled_softmax(size) else "full"
            for size in (max(catalogue // 10, 2), catalogue)
        },
        "goal": "epoch seconds sub-linear in the catalogue (ratio < 10 at 10x the items)",
        "goal_ratio": GOAL_TRAINING_RATIO,
        "goal_met": ratio < GOAL_TRAINING_RATIO,
    }
    if not result["goal_met"]:
        result["gap"] = round(ratio - GOAL_TRAINING_RATIO, 2)
        result["reason"] = (
            "the sampled softmax's step no longer reads the catalogue's logits, but Adam "
            "still updates every item's embedding row and bias at every step (dense moments): "
            "O(catalogue x embedding size) per step"
        )
    return result


def serving(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from shoprec.contracts import TrainingHyperparameters
    from shoprec.model import left_pad
    from shoprec.ranking import top_k
    from shoprec.serving import SessionScorer

    hp = TrainingHyperparameters(model_version="bench", data_run="bench")
    units, length = hp.embedding_dim, hp.max_length
    rng = np.random.default_rng(0)
    results = {}
    for items in SERVING_CATALOGUES:

        def array(*shape: int) -> np.ndarray:
            return (rng.standard_normal(shape, dtype=np.float32) * 0.1).astype(np.float32)

        weights = {}
        for member in range(hp.members):
            shapes = {
                "embedding": (items + 1, units),
                "gru_kernel": (units, 3 * units),
                "gru_recurrent": (units, 3 * units),
                "gru_bias": (2, 3 * units),
                "projection_kernel": (units, units),
                "projection_bias": (units,),
                "item_bias": (items + 1,),
                "repeat_kernel": (units, length),
                "repeat_bias": (length,),
                "repeat_position": (length,),
            }
            weights |= {f"member{member}.{n}": array(*s) for n, s in shapes.items()}
        scorer = SessionScorer(weights)
        popularity = np.arange(1, items + 1)
        latencies = []
        for _ in range(SERVING_REQUESTS):
            prefix = rng.integers(1, items + 1, rng.integers(1, 8)).tolist()
            started = time.perf_counter()
            top_k(scorer.scores(left_pad([prefix], length)), popularity, 20)
            latencies.append(time.perf_counter() - started)
        read = [weights[f"member{m}.embedding"] for m in range(hp.members)]
        copies = [np.empty_like(a) for a in read]
        floors = []
        for _ in range(5):
            started = time.perf_counter()
            for source, target in zip(read, copies, strict=True):
                np.copyto(target, source)
            floors.append(time.perf_counter() - started)
        p50, floor = float(np.median(latencies)), min(floors)
        results[str(items)] = {
            "p50_ms": round(1000 * p50, 2),
            "p99_ms": round(1000 * float(np.quantile(latencies, 0.99)), 2),
            "embedding_mb_read": round(sum(a.nbytes for a in read) / 2**20, 1),
            "floor_ms": round(1000 * floor, 2),
            "floor": "numpy copy of the item embeddings a request reads",
            "ratio_to_floor": round(p50 / floor, 2),
        }
        del weights, scorer, read, copies
    return {"members": hp.members, "embedding_dim": units, "by_catalogue": results}


# --- the driver ----------------------------------------------------------------------------


def _run_stage(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [venv_python(STAGES[name]), __file__, "--stage", name, "--work", str(args.work)]
    command += ["--events", str(args.events), "--items", str(args.items), "--seed", str(args.seed)]
    env = os.environ | {"PYTHONPATH": str(REPO)}
    log = args.work / f"{name}.log"
    _progress(f"{name} (log: {log})")
    with log.open("w") as errors:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
    if done.returncode:
        raise SystemExit(f"stage {name} failed; see {log}:\n{log.read_text()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _one_stage(args: argparse.Namespace) -> None:
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
        result = globals()[args.stage](args)
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=RUN_DIR / "bench-scale")
    parser.add_argument("--stage", choices=STAGES)
    parser.add_argument("--only", nargs="*", choices=STAGES, help="these stages (default: all)")
    args = parser.parse_args()
    if args.stage:
        _one_stage(args)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {"events": args.events, "items": args.items, "cores": os.cpu_count()}
    for name in args.only or STAGES:
        results[name] = _run_stage(name, args)
        _progress(f"{name}: {json.dumps(results[name])}")
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
