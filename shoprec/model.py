"""The session model (TensorFlow/Keras): a GRU over the clicked items, softmax over the catalogue.

Only the training image imports this module; serving uses ``shoprec.serving`` (NumPy).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def build_model(catalogue_size: int, embedding_dim: int, max_length: int) -> Any:
    """``catalogue_size`` counts the padding row 0; inputs are left-padded item indices."""
    import keras

    items = keras.Input(shape=(max_length,), dtype="int32", name="items")
    embedded = keras.layers.Embedding(
        catalogue_size, embedding_dim, mask_zero=True, name="item_embedding"
    )(items)
    state = keras.layers.GRU(embedding_dim, reset_after=True, name="gru")(embedded)
    logits = keras.layers.Dense(catalogue_size, name="scores")(state)
    return keras.Model(items, logits, name="session_gru")


def left_pad(prefixes: list[Any], max_length: int) -> np.ndarray:
    batch = np.zeros((len(prefixes), max_length), dtype=np.int32)
    for row, prefix in enumerate(prefixes):
        tail = list(prefix)[-max_length:]
        if tail:
            batch[row, -len(tail) :] = tail
    return batch


def serving_weights(model: Any) -> dict[str, np.ndarray]:
    """The arrays ``shoprec.serving`` needs, by name."""
    gru = model.get_layer("gru")
    kernel, recurrent, bias = (
        w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in gru.weights
    )
    dense_kernel, dense_bias = model.get_layer("scores").get_weights()
    return {
        "embedding": model.get_layer("item_embedding").get_weights()[0],
        "gru_kernel": kernel,
        "gru_recurrent": recurrent,
        "gru_bias": bias,
        "dense_kernel": dense_kernel,
        "dense_bias": dense_bias,
    }
