"""A training set as the training-set job writes it (SageMaker's input channels), with
learnable sessions: for train.py's tests, and as a script (ml runtime) for tests of other
runtimes that need one in S3: ``python tests/training_data.py <folder> <seed>``."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def sessions(rng: random.Random, count: int, items: range) -> list[list[str]]:
    """Learnable sessions: mostly walk to the next item."""
    result = []
    for _ in range(count):
        position = rng.randrange(len(items))
        session = []
        for _ in range(rng.randint(2, 6)):
            session.append(str(items[position]))
            position = (
                (position + 1) % len(items) if rng.random() < 0.9 else rng.randrange(len(items))
            )
        result.append(session)
    return result


def category(item: str) -> str:
    """An item's category in the product feed ``write_training_set`` writes."""
    return f"c{int(item) % 3}"


def channel(rows: list[list[str]], first_end: int = 0) -> pa.Table:
    """Sessions as the training-set job writes them: end times in seconds, one apart, as
    Spark's nanosecond timestamps."""
    seconds = np.arange(first_end, first_end + len(rows), dtype=np.int64)
    ends = pa.array(seconds * 1_000_000_000).cast(pa.timestamp("ns"))
    return pa.table({"items": rows, "end_time": ends})


def write_training_set(
    folder: Path, seed: str, items: range, fresh: range, data_until: str | None = None
) -> None:
    """``folder/<channel>/part-0.parquet`` and ``folder/manifest.json`` (the lineage channel).
    The latest day also walks over ``fresh``, items that no training session has; the product
    feed lists every item but the last, each in its ``category``;
    ``data_until``: the end of the training set's window, as its manifest says."""
    rng = random.Random(seed)
    train, validation = sessions(rng, 1500, items), sessions(rng, 200, items)
    latest = validation + sessions(rng, 300, range(items.start, fresh.stop))
    known = sorted({i for s in train for i in s})
    listed = [str(i) for i in range(items.start, fresh.stop - 1)]  # the feed lacks the last
    channels = {
        "train": channel(train),
        "validation": channel([[i for i in s if i in known] for s in validation], 10_000),
        "latest": channel(latest, 10_000),
        "vocabulary": pa.table(
            {"item_id": known, "item_index": range(1, len(known) + 1), "clicks": [1] * len(known)}
        ),
        "products": pa.table({"item_id": listed, "category": [category(i) for i in listed]}),
    }
    for name, table in channels.items():
        (folder / name).mkdir(parents=True)
        pq.write_table(table, folder / name / "part-0.parquet")
    training_set = {"source_partitions": ["event_date=x"]}
    if data_until:
        training_set["window"] = {"to": data_until}
    (folder / "manifest.json").write_text(json.dumps(training_set))


if __name__ == "__main__":
    write_training_set(Path(sys.argv[1]), sys.argv[2], range(1000, 1060), range(1060, 1065))
