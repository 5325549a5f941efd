"""The session model (TensorFlow/Keras), trained end to end on next-item prediction.

A GRU reads the session's items (left-padded, masked) into a state; the state scores the
catalogue two ways, added as logits of one full softmax over the catalogue:

* content: a dense layer over the state (what sessions like this one click next);
* repeats: the session's own items, each weighted per position by the state (a third of the
  next clicks in YooChoose go back to an item already in the session).

Only the training image imports Keras; serving runs the same equations in NumPy
(``shoprec.serving``) from the arrays ``serving_weights`` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Serving array name → (layer, index of the layer's weight).
WEIGHTS = {
    "embedding": ("item_embedding", 0),
    "gru_kernel": ("gru", 0),
    "gru_recurrent": ("gru", 1),
    "gru_bias": ("gru", 2),
    "dense_kernel": ("scores", 0),
    "dense_bias": ("scores", 1),
    "repeat_kernel": ("repeat_weights", 0),
    "repeat_bias": ("repeat_weights", 1),
}


def build_model(catalogue_size: int, embedding_dim: int, max_length: int, dropout: float) -> Any:
    """``catalogue_size`` counts the padding row 0; inputs are left-padded item indices."""
    import keras
    from keras import ops

    items = keras.Input(shape=(max_length,), dtype="int32", name="items")
    present = ops.cast(ops.greater(items, 0), "float32")
    embedded = keras.layers.Embedding(
        catalogue_size, embedding_dim, mask_zero=True, name="item_embedding"
    )(items)
    embedded = keras.layers.Dropout(dropout)(embedded)
    state = keras.layers.GRU(embedding_dim, reset_after=True, name="gru")(embedded)
    state = keras.layers.Dropout(dropout)(state)

    content = keras.layers.Dense(catalogue_size, name="scores")(state)
    weights = keras.layers.Dense(max_length, activation="softplus", name="repeat_weights")(state)
    clicked = ops.one_hot(items, catalogue_size)
    repeats = ops.einsum("bl,blv->bv", weights * present, clicked)
    return keras.Model(items, content + repeats, name="session_model")


def left_pad(prefixes: Sequence[Sequence[int]], max_length: int) -> np.ndarray:
    batch = np.zeros((len(prefixes), max_length), dtype=np.int32)
    for row, prefix in enumerate(prefixes):
        tail = list(prefix)[-max_length:]
        if tail:
            batch[row, -len(tail) :] = tail
    return batch


def serving_weights(model: Any) -> dict[str, np.ndarray]:
    """Every trained array, by the names ``shoprec.serving`` reads."""
    return {
        name: np.asarray(model.get_layer(layer).weights[i].numpy())
        for name, (layer, i) in WEIGHTS.items()
    }


def warm_start(model: Any, champion: dict[str, np.ndarray]) -> None:
    """Start from the champion's arrays. The vocabulary only grows, so every item axis of the
    champion is a prefix of the new one: old items keep their rows and columns, new items
    keep their fresh initialisation."""
    for name, (layer, i) in WEIGHTS.items():
        variable = model.get_layer(layer).weights[i]
        value = np.array(variable.numpy())
        old = champion[name]
        value[tuple(slice(0, n) for n in old.shape)] = old
        variable.assign(value)


def grown_vocabulary(champion: Sequence[str], current: Sequence[str]) -> list[str]:
    """The champion's item ids in their order, then this run's new items in theirs."""
    known = set(champion)
    return [*champion, *(item for item in current if item not in known)]
