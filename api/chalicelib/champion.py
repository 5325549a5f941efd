"""The model in service: follows the champion pointer, re-reading it at most every N seconds.

The champion folder serves its deep model or, where the gate let it, the V-SKNN floor
(``shoprec.serving.load``).
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from shoprec import registry, serving
from shoprec.layout import LakeLayout


class NoChampion(RuntimeError):
    pass


class ChampionHolder:
    def __init__(self, s3: Any, layout: LakeLayout, refresh_seconds: float):
        self.s3, self.layout, self.refresh_seconds = s3, layout, refresh_seconds
        self._model: serving.Recommender | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._cache = Path(tempfile.gettempdir()) / "shoprec-models"

    def get(self) -> serving.Recommender:
        with self._lock:
            if time.monotonic() - self._checked_at >= self.refresh_seconds:
                self._refresh()
            if self._model is None:
                raise NoChampion("no model has been promoted yet")
            return self._model

    def _refresh(self) -> None:
        pointer = registry.read_champion(self.s3, self.layout)
        self._checked_at = time.monotonic()
        if pointer is None or (self._model and self._model.version == pointer["version"]):
            return
        directory = registry.download(
            self.s3, self.layout, pointer["version"], self._cache / pointer["version"]
        )
        self._model = serving.load(directory)
