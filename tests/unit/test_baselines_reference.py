"""The baselines reproduce the data README's reference figures (±0.01) on the real data."""

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.slow]
BENCH = Path(__file__).parents[2] / "bench" / "baselines.py"


def test_baselines_match_the_published_reference(capsys):
    spec = importlib.util.spec_from_file_location("bench_baselines", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    if not (bench.DATA / "yoochoose-clicks-100k_train_tr.txt").exists():
        pytest.skip(f"{bench.DATA} is absent (the data is not redistributed)")
    bench.main()
    results = json.loads(capsys.readouterr().out)["baselines"]
    assert {name: r["within_0.01"] for name, r in results.items()} == dict.fromkeys(
        ["pop", "spop", "sr", "vsknn"], True
    )
    assert {r["predictions"] for r in results.values()} == {12455}
