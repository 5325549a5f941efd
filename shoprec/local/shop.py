"""The shop's clock on the local cloud: its traffic arrives day by day, as its servers rotate.

A dataset (the YooChoose replay or the synthetic shop) is split into its days; ``deliver``
ships the next day's files (``incoming/source=weblog/<host>/access-<day>.log``) and, as
logrotate with ``delaycompress`` and a shipper would, the previous day again, gzipped: a
copy the collector counts as ``duplicate_object``. What has been delivered is kept in
``.run/shop/state.json``, so ``make cycle`` delivers the day after the demo's last.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from shoprec.local import runtime
from shoprec.local.deliver_logs import deliver
from shoprec.sources import LogFiles, generate_shop, replay_yoochoose

SYNTHETIC_DAYS = 5
_DAY = re.compile(r"access-(\d{4}-\d{2}-\d{2})\.log$")


def _state_file() -> Path:
    return runtime.RUN_DIR / "shop" / "state.json"


def by_day(logs: LogFiles) -> dict[str, LogFiles]:
    """The files of each day, days in order."""
    days: dict[str, LogFiles] = {}
    for name, text in sorted(logs.files.items(), key=lambda item: _DAY.search(item[0])[1]):
        day = days.setdefault(_DAY.search(name)[1], LogFiles())
        day.files[name] = text
        day.lines += text.count("\n")
    return days


@dataclass
class Shop:
    dataset: str | None  # a YooChoose-format file, or None for the synthetic shop
    delivered: list[str] = field(default_factory=list)  # days, in the order they arrived

    def days(self) -> dict[str, LogFiles]:
        if self.dataset:
            return by_day(replay_yoochoose(Path(self.dataset)))
        return by_day(generate_shop(days=SYNTHETIC_DAYS))

    @classmethod
    def load(cls) -> Shop | None:
        path = _state_file()
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self) -> None:
        _state_file().parent.mkdir(parents=True, exist_ok=True)
        _state_file().write_text(json.dumps({"dataset": self.dataset, "delivered": self.delivered}))

    def deliver(self, count: int, bucket: str) -> LogFiles:
        """The next ``count`` days (with the day before each, rotated and gzipped again)."""
        days = self.days()
        upcoming = [day for day in days if day not in self.delivered][:count]
        if not upcoming:
            raise SystemExit(f"the shop has no day left to deliver (delivered {self.delivered})")
        shipped = LogFiles()
        for day in upcoming:
            shipped.files |= days[day].files
            shipped.lines += days[day].lines
            if self.delivered:
                rotated = days[self.delivered[-1]].files
                deliver(LogFiles(rotated, 0), bucket, compress=set(rotated))
            deliver(days[day], bucket, compress=set())
            self.delivered.append(day)
        self.save()
        return shipped
