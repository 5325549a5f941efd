"""The baselines reproduce the data README's reference figures (±0.01) on the real data."""

import json
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.slow]
sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))


def test_baselines_match_the_published_reference(capsys):
    import baselines as bench
    import yoochoose

    if not yoochoose.TRAIN_FILE.exists():
        pytest.skip(f"{yoochoose.DATA} is absent (the data is not redistributed)")
    bench.main()
    results = json.loads(capsys.readouterr().out)["baselines"]
    assert {name: r["within_0.01"] for name, r in results.items()} == dict.fromkeys(
        ["pop", "spop", "sr", "vsknn", "vsknn_idf"], True
    )
    assert {r["predictions"] for r in results.values()} == {12455}
