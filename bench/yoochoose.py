"""The benchmarks' data: YooChoose train_tr → train_valid as the data README's protocol reads it.

Items are indexed over the training clicks; validation keeps known items and sessions with two
or more of them (12,455 predictions). Absent data (a user's fresh clone) is reported, not an
error: the data is not redistributed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from shoprec.sources import read_yoochoose

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "yoochoose_rsc15_100k"
TRAIN_FILE = DATA / "yoochoose-clicks-100k_train_tr.txt"
VALID_FILE = DATA / "yoochoose-clicks-100k_train_valid.txt"


@dataclass(frozen=True)
class Split:
    item_ids: list[str]  # index → item id; index 0 is padding
    train: list[list[int]]
    train_ends: list[float]  # each training session's last click, unix seconds
    validation: list[list[int]]
    clicks: int  # training clicks


def read_sessions(path: Path) -> tuple[list[list[str]], list[float]]:
    """A file's sessions (item ids in click order) and each session's last click (seconds)."""
    clicks: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for session, item, seconds in read_yoochoose(path):
        clicks[session].append((seconds, item))
    ordered = [sorted(c, key=lambda pair: pair[0]) for c in clicks.values()]
    return [[i for _, i in c] for c in ordered], [c[-1][0] for c in ordered]


def load_split() -> Split | None:
    """The tuning split, or None (after printing why) when the data is absent."""
    if not TRAIN_FILE.exists():
        print(json.dumps({"skipped": f"{DATA} is absent (the data is not redistributed)"}))
        return None
    train, ends = read_sessions(TRAIN_FILE)
    valid, _ = read_sessions(VALID_FILE)
    item_ids = ["<pad>", *sorted({i for s in train for i in s})]
    index = {item: n for n, item in enumerate(item_ids)}
    known = ([index[i] for i in s if i in index] for s in valid)
    return Split(
        item_ids=item_ids,
        train=[[index[i] for i in s] for s in train],
        train_ends=ends,
        validation=[s for s in known if len(s) >= 2],
        clicks=sum(len(s) for s in train),
    )
