"""The sampled softmax: the rule that picks it by catalogue size, and that it trains a member
to rank the next item of learnable sessions over the whole catalogue, as the served model
then ranks it (the member's full logits, which the sampled loss never computes)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from training_data import sessions

from shoprec.contracts import TrainingHyperparameters
from shoprec.model import serving_weights
from shoprec.training import build_members, examples, fit, trainer

pytestmark = [pytest.mark.tf, pytest.mark.slow]
ITEMS = 400  # catalogue of the toy set; 64 negatives sample a sixth of it


def _hp(**fields) -> TrainingHyperparameters:
    return TrainingHyperparameters(
        model_version="sampled", data_run="toy", members=1, embedding_dim=32, **fields
    )


def test_full_softmax_up_to_the_threshold_sampled_above_it():
    hp = _hp(full_softmax_items=2_000)
    assert not hp.sampled_softmax(2_001)  # 2,000 items and the padding row
    assert hp.sampled_softmax(2_002)
    assert not TrainingHyperparameters("v", "r").sampled_softmax(2_934)  # YooChoose sample
    assert TrainingHyperparameters("v", "r").sampled_softmax(73_895)
    assert _hp(full_softmax_items=0).sampled_softmax(3)


def _hit_rate(member, prefixes: np.ndarray, targets: np.ndarray, k: int = 20) -> float:
    logits = member.predict(prefixes, batch_size=512, verbose=0)
    logits[:, 0] = -np.inf  # padding
    top = np.argsort(-logits, axis=1)[:, :k]
    return float(np.mean(np.any(top == targets[:, None], axis=1)))


def test_the_sampled_loss_trains_a_learnable_set_to_a_useful_hit_rate():
    rng = random.Random(3)
    items = range(1, ITEMS + 1)
    to_index = lambda rows: [[int(i) for i in s] for s in rows]  # noqa: E731
    train = to_index(sessions(rng, 3_000, items))
    held_out = to_index(sessions(rng, 300, items))
    hp = _hp(full_softmax_items=0, sampled_negatives=64, epochs=4, learning_rate=0.01)
    data, (prefixes, targets) = examples(train, hp.max_length), examples(held_out, hp.max_length)

    (member,) = build_members(hp, ITEMS + 1, None)
    model, (inputs, labels) = trainer(member, data, hp, seed=1)
    assert model is not member and model.output_shape == (None, 1 + hp.sampled_negatives)
    before = _hit_rate(member, prefixes, targets)
    curves = fit([member], data, hp)

    after = _hit_rate(member, prefixes, targets)
    # 90 % of next clicks walk to the next item: chance is 20 / 400 = 5 %
    assert before < 0.15 and after > 0.6, (before, after, curves["loss"])
    assert curves["loss"][-1] < curves["loss"][0]
    # what it serves keeps the full softmax's arrays, one row per item
    weights = serving_weights([member])
    assert weights["member0.embedding"].shape == (ITEMS + 1, 32)
    assert weights["member0.item_bias"].shape == (ITEMS + 1,)
