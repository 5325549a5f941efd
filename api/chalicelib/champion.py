"""The model in service: follows the champion pointer, re-reading it at most every N seconds.

The champion folder serves its deep model or, where the gate let it, the V-SKNN floor
(``shoprec.serving.load``). A refresh that fails (S3 unreachable, the champion's files
missing or corrupt) keeps the model in memory serving, logs the error and retries with
exponential backoff. A new champion is downloaded to a scratch folder, loaded and answers
once before it replaces the model in memory; the scratch folder is removed at once, so
nothing of it stays under /tmp. While no champion has loaded, the packaged fallback
(``chalicelib.fallback``) serves where there is one; otherwise ``NoChampion`` says why.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from shoprec import registry, serving
from shoprec.layout import LakeLayout

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0


class NoChampion(RuntimeError):
    """Nothing to serve yet; the message says why (returned as a 503)."""


class ChampionHolder:
    def __init__(
        self,
        s3: Any,
        layout: LakeLayout,
        refresh_seconds: float,
        first_retry_seconds: float = FIRST_RETRY_SECONDS,
        fallback: serving.Recommender | None = None,
    ):
        self.s3, self.layout, self.refresh_seconds = s3, layout, refresh_seconds
        self.fallback = fallback
        self.first_retry_seconds = first_retry_seconds
        self._model: serving.Recommender | None = None
        self._why_none = "no model has been promoted yet"
        self._failures = 0
        self._next_check = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> serving.Recommender:
        """The model to serve (the fallback until a champion loads); a refresh under way
        elsewhere does not hold up an answer."""
        if self._due() and self._lock.acquire(blocking=self.current() is None):
            try:
                if self._due():
                    self._refresh()
            finally:
                self._lock.release()
        model = self.current()
        if model is None:
            raise NoChampion(self._why_none)
        return model

    def current(self) -> serving.Recommender | None:
        """The model serving now (the fallback until a champion loads), without a refresh."""
        return self._model or self.fallback

    def _due(self) -> bool:
        return time.monotonic() >= self._next_check

    def _refresh(self) -> None:
        try:
            self._follow_pointer()
        except Exception as error:  # whatever failed, the model in memory keeps serving
            self._failures += 1
            delay = min(self.first_retry_seconds * 2 ** (self._failures - 1), MAX_RETRY_SECONDS)
            delay = max(delay, self.refresh_seconds)
            current = self.current()
            serving_now = current.version if current else "nothing"
            logger.error(
                "champion refresh failed (%s: %s); %s keeps serving; next try in %.0f s",
                type(error).__name__,
                error,
                serving_now,
                delay,
                exc_info=True,
            )
            if self._model is None:
                self._why_none = (
                    f"the champion model could not be loaded ({type(error).__name__}); "
                    f"retrying in {delay:.0f} s"
                )
        else:
            self._failures, delay = 0, self.refresh_seconds
        self._next_check = time.monotonic() + delay

    def _follow_pointer(self) -> None:
        pointer = registry.read_champion(self.s3, self.layout)
        if pointer is None:
            self._why_none = "no model has been promoted yet"
            return
        if self._model and self._model.version == pointer["version"]:
            return
        with tempfile.TemporaryDirectory(prefix="shoprec-model-") as scratch:
            directory = registry.download(self.s3, self.layout, pointer["version"], Path(scratch))
            model = serving.load(directory)
        _answers(model)
        logger.info("serving %s (tier %s)", model.version, model.tier)
        self._model = model


def _answers(model: serving.Recommender) -> None:
    """Raise unless the loaded folder answers each kind of request (before it serves)."""
    some_item = model.item_ids[1]
    model.recommend([some_item], 1)
    model.recommend([], 1)
    model.similar(some_item, 1)
