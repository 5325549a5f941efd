"""The session model (TensorFlow/Keras), trained end to end on next-item prediction.

The model is an ensemble of a few members trained independently on the same examples (each
with its own seed and shuffling, ``shoprec.training``); it serves the mean of their next-item
probabilities. In each member a GRU reads the session's items (left-padded, masked) into a
state; the state scores the catalogue two ways, added as logits of one full softmax over the
catalogue:

* content: the state, projected into the item embedding space, scored against every item's
  embedding (the input embedding is the output one: an item's row learns from being clicked
  and from leading to clicks, which matters on a small catalogue with few clicks per item);
* repeats: the session's own items, each weighted per position by the state (a third of the
  next clicks in YooChoose go back to an item already in the session).

Only the training image imports Keras; serving runs the same equations in NumPy
(``shoprec.serving``) from the arrays ``serving_weights`` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

PADDING = "<pad>"  # the vocabulary's entry 0, never an item
# Serving array name → (layer, index of the layer's weight).
WEIGHTS = {
    "embedding": ("item_embedding", 0),
    "gru_kernel": ("gru", 0),
    "gru_recurrent": ("gru", 1),
    "gru_bias": ("gru", 2),
    "projection_kernel": ("projection", 0),
    "projection_bias": ("projection", 1),
    "item_bias": ("scores", 0),
    "repeat_kernel": ("repeat_weights", 0),
    "repeat_bias": ("repeat_weights", 1),
    "repeat_position": ("repeat_positions", 0),
}
ITEM_ROWS = ("embedding", "item_bias")  # the arrays with one row per item (axis 0)
MASKED = -1e9  # the logit of a sampled negative that is the next item itself


def _layers() -> tuple[type, type]:
    """The model's own layers (made where Keras is imported: serving never imports it)."""
    import keras

    class PositionScale(keras.layers.Layer):
        """A learned positive scale per input position (softplus of a free vector)."""

        def build(self, input_shape: Any) -> None:
            self.position = self.add_weight(shape=(input_shape[-1],), initializer="zeros")

        def call(self, inputs: Any) -> Any:
            return inputs * keras.ops.softplus(self.position)

    class ItemScores(keras.layers.Layer):
        """Logits of every item: a query in embedding space against the item embeddings
        (shared with the input), plus a learned bias per item."""

        def __init__(self, embedding: Any, **kwargs: Any):
            super().__init__(**kwargs)
            self.embedding = embedding

        def build(self, input_shape: Any) -> None:
            items = self.embedding.input_dim
            self.bias = self.add_weight(shape=(items,), initializer="zeros")

        def call(self, query: Any) -> Any:
            embeddings = keras.ops.transpose(self.embedding.embeddings)
            return keras.ops.matmul(query, embeddings) + self.bias

    return PositionScale, ItemScores


def _sampled_scores() -> type:
    """The sampled softmax's logits layer (made where Keras is imported)."""
    import keras
    from keras import ops

    class SampledScores(keras.layers.Layer):
        """The logits of the next item (column 0) and of ``negatives`` items drawn for the
        batch (columns 1…), scored as ``ItemScores`` and the repeats score them, each less
        the log of its expected count in the sample (the logQ correction: without it, the
        popular items the sample favours would be pushed down too hard). Negatives are
        drawn log-uniformly over the items' popularity ranks (Zipf-like, as clicks are), in
        O(negatives) per batch; one equal to the next item is masked (``MASKED``)."""

        def __init__(
            self,
            embedding: Any,
            scores: Any,
            by_rank: np.ndarray,
            negatives: int,
            seed: int,
            **kwargs: Any,
        ):
            super().__init__(**kwargs)
            self.embedding, self.scores, self.negatives = embedding, scores, negatives
            self.by_rank = np.asarray(by_rank, dtype=np.int32)  # item indices, most clicked first
            rank = np.zeros(embedding.input_dim, dtype=np.int32)
            rank[self.by_rank] = np.arange(len(self.by_rank), dtype=np.int32)
            self.rank = rank
            self.seed_generator = keras.random.SeedGenerator(seed)

        def _log_expected(self, rank: Any) -> Any:
            """log(negatives × Q(rank)), Q(r) = log((r + 2) / (r + 1)) / log(n + 1)."""
            rank = ops.cast(rank, "float32")
            q = ops.log((rank + 2.0) / (rank + 1.0)) / np.log(len(self.by_rank) + 1.0)
            return ops.log(self.negatives * q)

        def call(self, query: Any, weights: Any, items: Any, targets: Any) -> Any:
            n = len(self.by_rank)
            u = keras.random.uniform((self.negatives,), seed=self.seed_generator)
            rank = ops.cast(ops.floor(ops.exp(u * np.log(n + 1.0))), "int32") - 1
            rank = ops.clip(rank, 0, n - 1)
            sampled = ops.take(ops.convert_to_tensor(self.by_rank), rank)
            targets = ops.cast(ops.reshape(targets, (-1,)), "int32")
            embeddings, bias = self.embedding.embeddings, self.scores.bias
            target_rows = ops.take(embeddings, targets, axis=0)
            true = ops.sum(query * target_rows, axis=1) + ops.take(bias, targets)
            true += ops.sum(weights * ops.cast(ops.equal(items, targets[:, None]), "float32"), 1)
            true -= self._log_expected(ops.take(ops.convert_to_tensor(self.rank), targets))
            negative = ops.matmul(query, ops.transpose(ops.take(embeddings, sampled, axis=0)))
            negative += ops.take(bias, sampled)
            hits = ops.cast(ops.equal(items[:, :, None], sampled[None, None, :]), "float32")
            negative += ops.einsum("bl,bls->bs", weights, hits)
            negative -= self._log_expected(rank)
            accidental = ops.equal(targets[:, None], sampled[None, :])
            negative = ops.where(accidental, MASKED, negative)
            return ops.concatenate([true[:, None], negative], axis=1)

    return SampledScores


def build_member(catalogue_size: int, embedding_dim: int, max_length: int, dropout: float) -> Any:
    """One member, logits out. ``catalogue_size`` counts the padding row 0; inputs are
    left-padded item indices."""
    import keras
    from keras import ops

    PositionScale, ItemScores = _layers()  # noqa: N806 (classes)
    items = keras.Input(shape=(max_length,), dtype="int32", name="items")
    present = ops.cast(ops.greater(items, 0), "float32")
    embedding = keras.layers.Embedding(
        catalogue_size, embedding_dim, mask_zero=True, name="item_embedding"
    )
    embedded = keras.layers.Dropout(dropout)(embedding(items))
    state = keras.layers.GRU(embedding_dim, reset_after=True, name="gru")(embedded)
    state = keras.layers.Dropout(dropout)(state)

    query = keras.layers.Dense(embedding_dim, name="projection")(state)
    content = ItemScores(embedding, name="scores")(query)
    weights = keras.layers.Dense(max_length, activation="softplus", name="repeat_weights")(state)
    weights = PositionScale(name="repeat_positions")(weights) * present
    repeats = ops.einsum("bl,blv->bv", weights, ops.one_hot(items, catalogue_size))
    return keras.Model(items, content + repeats)


def sampled_trainer(member: Any, clicks: np.ndarray, negatives: int, seed: int) -> Any:
    """What trains ``member`` with a sampled softmax: the member's own layers (what it
    serves does not change), inputs the items and the next item, out the logits of the next
    item (column 0) and of ``negatives`` sampled items (``SampledScores``): the catalogue's
    full logits and the repeats' one-hot rows are never computed, so a step costs
    O(batch × negatives) instead of O(batch × catalogue). ``clicks[i]``: item ``i``'s
    clicks as a next item, which rank the items for sampling (padding, row 0, is never
    drawn)."""
    import keras
    from keras import ops

    items = member.input
    targets = keras.Input(shape=(), dtype="int32", name="next_item")
    present = ops.cast(ops.greater(items, 0), "float32")
    weights = member.get_layer("repeat_positions").output * present
    by_rank = 1 + np.argsort(-np.asarray(clicks[1:]), kind="stable")
    scores = _sampled_scores()(
        member.get_layer("item_embedding"), member.get_layer("scores"), by_rank, negatives, seed
    )
    logits = scores(member.get_layer("projection").output, weights, items, targets)
    return keras.Model([items, targets], logits)


def build_ensemble(members: Sequence[Any]) -> Any:
    """The served model: log of the members' mean probability (a softmax of it gives back
    the mean), one SavedModel for a SageMaker endpoint."""
    import keras
    from keras import ops

    items = keras.Input(shape=members[0].input_shape[1:], dtype="int32", name="items")
    padding = np.zeros(members[0].output_shape[-1], dtype=np.float32)
    padding[0] = -1e9  # index 0 is padding, never an item: probability 0
    probabilities = [ops.softmax(member(items) + padding) for member in members]
    mean = ops.mean(ops.stack(probabilities), axis=0) if len(members) > 1 else probabilities[0]
    return keras.Model(items, ops.log(mean), name="session_ensemble")


def left_pad(prefixes: Sequence[Sequence[int]], max_length: int) -> np.ndarray:
    batch = np.zeros((len(prefixes), max_length), dtype=np.int32)
    for row, prefix in enumerate(prefixes):
        tail = list(prefix)[-max_length:]
        if tail:
            batch[row, -len(tail) :] = tail
    return batch


def weight_name(member: int, name: str) -> str:
    return f"member{member}.{name}"


def serving_weights(members: Sequence[Any]) -> dict[str, np.ndarray]:
    """Every trained array of every member, by the names ``shoprec.serving`` reads."""
    return {
        weight_name(m, name): np.asarray(member.get_layer(layer).weights[i].numpy())
        for m, member in enumerate(members)
        for name, (layer, i) in WEIGHTS.items()
    }


def fits(member: Any, number: int, champion: dict[str, np.ndarray]) -> bool:
    """Whether the champion's member ``number`` can start ``member``: every array there, those
    with a row per item as wide, every other one no larger (``warm_start`` fills its leading
    corner). One trained with another embedding size cannot."""
    for name, (layer, i) in WEIGHTS.items():
        old = champion.get(weight_name(number, name))
        new = tuple(member.get_layer(layer).weights[i].shape)
        if old is None or len(old.shape) != len(new):
            return False
        if name in ITEM_ROWS and old.shape[1:] != new[1:]:
            return False
        if name not in ITEM_ROWS and any(o > n for o, n in zip(old.shape, new, strict=True)):
            return False
    return True


def warm_start(member: Any, number: int, champion: dict[str, np.ndarray], rows: np.ndarray) -> None:
    """Start member ``number`` from the champion's member of that number. ``rows[i]`` is the
    champion's row of this run's item ``i`` (-1 for an item new to it): carried items keep
    their learned rows, new items keep their fresh initialisation, and the champion's items
    that the window no longer holds are left behind."""
    carried = rows >= 0
    for name, (layer, i) in WEIGHTS.items():
        variable = member.get_layer(layer).weights[i]
        value = np.array(variable.numpy())
        old = champion[weight_name(number, name)]
        if name in ITEM_ROWS:
            value[carried] = old[rows[carried]]
        else:
            value[tuple(slice(0, n) for n in old.shape)] = old
        variable.assign(value)


def windowed_vocabulary(champion: Sequence[str], window: Sequence[str]) -> list[str]:
    """A run's vocabulary: padding, the champion's items that the window still holds (in the
    champion's order), then the window's new items (in its order). Items the window no
    longer holds age out, so the vocabulary follows the window instead of growing for ever."""
    current = dict.fromkeys(window)
    kept = [item for item in champion[1:] if item in current]
    known = set(kept)
    return [PADDING, *kept, *(item for item in current if item not in known)]


def champion_rows(champion: Sequence[str], item_ids: Sequence[str]) -> np.ndarray:
    """For each item of this run, its index in the champion's vocabulary (-1: new to it)."""
    index = {item: i for i, item in enumerate(champion)}
    return np.array([index.get(item, -1) for item in item_ids], dtype=np.int64)
